"""Server-side sign-in sessions: start, look up, touch, end, list.

A session is a row; the browser's cookie carries a random secret whose
SHA-256 digest is the row's key, so the table alone lets nobody in. A session
lives until the first of: sign-out, ``lifetime`` after sign-in, ``idle``
without use, a password change, "sign out everywhere", or the person's
deactivation. Ending a session is a write that needs no event in the log:
the row itself (``ended_at``, ``ended_because``) is the record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain.accounts import SessionEnd, SignInSession
from coauthor.domain.errors import NotFound
from coauthor.domain.model import Person
from coauthor.ids import new_id
from coauthor.services.accounts.links import digest, new_secret

TOUCH_EVERY = timedelta(minutes=1)
"""How stale ``last_seen_at`` may get before a request writes it again."""
MAX_USER_AGENT = 200


@dataclass(frozen=True)
class SessionRules:
    lifetime: timedelta
    idle: timedelta


@dataclass(frozen=True)
class Client:
    """Who is at the other end, as far as we can tell: shown in one's list of sessions."""

    address: str
    user_agent: str = ""


@dataclass(frozen=True)
class Live:
    """A live session and its person, as the web layer needs them for one request."""

    session: SignInSession
    person: Person


def start_session(
    uow: UnitOfWork, person: Person, client: Client, rules: SessionRules
) -> tuple[SignInSession, str]:
    """A new session for ``person`` (whose credentials were just checked) and its secret.

    The person's sessions that can no longer be used are deleted first, so the
    table holds each person's live sessions and those of the last ``lifetime``.
    """
    now, secret = uow.clock.now(), new_secret()
    _forget_old_sessions(uow, person.id, now - rules.lifetime)
    session = SignInSession(
        id=new_id("se"),
        person_id=person.id,
        secret_hash=digest(secret),
        created_at=now,
        last_seen_at=now,
        expires_at=now + rules.lifetime,
        user_agent=client.user_agent[:MAX_USER_AGENT],
        address=client.address[:64],
    )
    uow.add(session)
    return session, secret


def _forget_old_sessions(uow: UnitOfWork, person_id: str, before: datetime) -> None:
    for old in uow.find(SignInSession, SignInSession.expires_at < before, person_id=person_id):
        uow.delete(old)


def live_session(uow: UnitOfWork, secret: str, rules: SessionRules) -> Live | None:
    """The live session the cookie's secret opens, with its active person; else None."""
    session = uow.find_one(SignInSession, secret_hash=digest(secret))
    if session is None or not session.is_live(uow.clock.now(), rules.idle):
        return None
    person = uow.get(Person, id=session.person_id)
    if person is None or not person.active:
        return None
    return Live(session, person)


def live_sessions(
    uow: UnitOfWork, secrets: Iterable[str], rules: SessionRules
) -> dict[str, Live | None]:
    """``live_session`` of each of these secrets, the sessions and their people found in
    ONE query (the vote layer finds the people of a group of votes at once)."""
    found: dict[str, Live | None] = dict.fromkeys(secrets)
    digests = {digest(secret): secret for secret in found}
    if not digests:
        return found
    now = uow.clock.now()
    rows = uow.session.execute(_sessions_and_people(), {"digests": list(digests)})
    for session, person in rows:
        secret = digests.pop(session.secret_hash, None)  # the first row, as ``find_one``
        if secret is None or not session.is_live(now, rules.idle):
            continue
        if person is not None and person.active:
            found[secret] = Live(session, person)
    return found


@cache
def _sessions_and_people() -> sa.Select:
    return (
        sa.select(SignInSession, Person)
        .outerjoin(Person, Person.id == SignInSession.person_id)
        .where(SignInSession.secret_hash.in_(sa.bindparam("digests", expanding=True)))
    )


def do_touch_session(uow: UnitOfWork, session_id: str) -> None:
    """Record that the session was used now, which keeps it from idling out."""
    session = uow.get(SignInSession, id=session_id)
    if session is not None and session.ended_at is None:
        session.last_seen_at = uow.clock.now()


def stale(session: SignInSession, now: datetime) -> bool:
    """Whether a request at ``now`` should write ``last_seen_at`` (at most once a minute)."""
    return now - session.last_seen_at >= TOUCH_EVERY


def end_sessions_of(
    uow: UnitOfWork, person_id: str, because: SessionEnd, keep: str | None = None
) -> int:
    """End every live session of a person but ``keep``; how many were ended."""
    now, ended = uow.clock.now(), 0
    for session in uow.find(SignInSession, person_id=person_id, ended_at=None):
        if session.id != keep:
            session.end(now, because)
            ended += 1
    return ended


def do_end_session(uow: UnitOfWork, actor: Person | None, session_id: str) -> SignInSession:
    """End one of one's own sessions (signing out here, or a browser left elsewhere)."""
    person = permissions.require_signed_in(actor)
    session = uow.get(SignInSession, id=session_id)
    if session is None or session.person_id != person.id:
        raise NotFound("no such session")
    session.end(uow.clock.now(), SessionEnd.SIGNED_OUT)
    return session


def do_sign_out_everywhere(uow: UnitOfWork, actor: Person | None, keep: str | None = None) -> int:
    """End all of one's sessions (but ``keep``, the one asking, if given)."""
    person = permissions.require_signed_in(actor)
    return end_sessions_of(uow, person.id, SessionEnd.SIGNED_OUT_ELSEWHERE, keep)


def my_sessions(uow: UnitOfWork, actor: Person | None, rules: SessionRules) -> list[SignInSession]:
    """One's live sessions, the most recently used first."""
    person = permissions.require_signed_in(actor)
    now = uow.clock.now()
    found = uow.find(SignInSession, person_id=person.id, ended_at=None)
    live = [session for session in found if session.is_live(now, rules.idle)]
    return sorted(live, key=lambda session: session.last_seen_at, reverse=True)
