"""Signing in: credentials checked, failures counted and limited, a session started.

Failures are counted twice: per account (the email, whatever address the
guesses come from) and per client address (whatever emails it tries). Either
count reaching its limit within the window refuses the next attempt. An
unknown email is counted and answered exactly like a wrong password, and the
same argon2 verification runs for it (against a dummy hash), so neither the
answer nor the time it takes tells whether an account exists.

A success clears the account's count but not the address's: otherwise an
attacker could reset their address's count by signing in to an account of
their own between guesses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from coauthor.db.tables import login_failures
from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import (
    CoauthorError,
    PermissionDenied,
    TooManyAttempts,
    ValidationFailed,
)
from coauthor.domain.model import Person
from coauthor.services.accounts.people import (
    hash_password,
    password_hasher,
    password_matches,
    person_by_email,
)
from coauthor.services.accounts.sessions import Client, SessionRules, start_session

WRONG = "email or password is not right"


@dataclass(frozen=True)
class LoginLimits:
    per_account: int
    per_address: int
    window_seconds: int


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: the person and their new session, or why not.

    A refusal is returned rather than raised, so that the write which records
    the failed attempt commits: the count of failures is what makes the limit
    hold. ``person_or_refusal`` raises it once the write is done.
    """

    person: Person | None
    refusal: CoauthorError | None = None
    session_secret: str = ""
    session_id: str = ""

    def person_or_refusal(self) -> Person:
        if self.refusal is not None:
            raise self.refusal
        assert self.person is not None
        return self.person


def account_key(email: str) -> str:
    return "account:" + email.strip().lower()


def address_key(address: str) -> str:
    return "address:" + address


def _failures_since(uow: UnitOfWork, key: str, since: datetime) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(login_failures)
        .where(login_failures.c.key == key, login_failures.c.at >= since)
    )
    return uow.session.scalar(query) or 0


def _record_failure(uow: UnitOfWork, keys: tuple[str, ...], since: datetime) -> None:
    """Count one failed attempt under each key, and forget those older than the window."""
    now = uow.clock.now()
    for key in keys:
        uow.session.execute(sa.insert(login_failures).values(key=key[:300], at=now))
    uow.session.execute(sa.delete(login_failures).where(login_failures.c.at < since))


@dataclass(frozen=True)
class Verdict:
    """A password checked before the write that records the attempt.

    argon2 takes tens of milliseconds by design; inside the write it would
    hold SQLite's write lock that long, and every other write would wait. So
    the page checks the password in a read first (``check_before_write``), and
    the write uses the verdict if the stored hash is still the one checked.
    """

    stored_hash: str | None
    matched: bool


def _limited(uow: UnitOfWork, email: str, address: str, limits: LoginLimits) -> bool:
    since = uow.clock.now() - timedelta(seconds=limits.window_seconds)
    return (
        _failures_since(uow, account_key(email), since) >= limits.per_account
        or _failures_since(uow, address_key(address), since) >= limits.per_address
    )


def check_before_write(
    uow: UnitOfWork, email: str, password: str, address: str, limits: LoginLimits
) -> Verdict | None:
    """The password's verdict, read outside the write; None when the limits refuse anyway
    (then no argon2 runs: a locked-out guesser costs the server nothing)."""
    if _limited(uow, email, address, limits):
        return None
    person = person_by_email(uow, email)
    stored = person.password_hash if person else None
    return Verdict(stored, password_matches(stored, password))


def _matches(person: Person | None, password: str, verdict: Verdict | None) -> bool:
    stored = person.password_hash if person else None
    if verdict is not None and verdict.stored_hash == stored:
        return verdict.matched
    return password_matches(stored, password)


def check_password_limited(
    uow: UnitOfWork,
    email: str,
    person: Person | None,
    password: str,
    address: str,
    limits: LoginLimits,
    field: str = "password",
    wrong: str = WRONG,
    verdict: Verdict | None = None,
) -> CoauthorError | None:
    """Why ``password`` does not open ``email``'s account from ``address``, or None if it does.

    Shared by signing in and by changing one's password (which asks for the
    current one), so both are limited by the same counts. ``verdict``: see
    ``Verdict``; the limits are checked here again either way.
    """
    since = uow.clock.now() - timedelta(seconds=limits.window_seconds)
    account, from_address = account_key(email), address_key(address)
    if _limited(uow, email, address, limits):
        return TooManyAttempts("too many failed sign-ins; wait a few minutes and try again")
    if not _matches(person, password, verdict):
        _record_failure(uow, (account, from_address), since)
        return ValidationFailed.one(field, wrong)
    uow.session.execute(sa.delete(login_failures).where(login_failures.c.key == account))
    return None


def do_sign_in(
    uow: UnitOfWork,
    email: str,
    password: str,
    client: Client,
    limits: LoginLimits,
    rules: SessionRules,
    verdict: Verdict | None = None,
) -> SignIn:
    """Check credentials and start a session; see the module docstring for the limits.

    ``verdict``, from ``check_before_write``, spares the write the argon2 time.
    """
    person = person_by_email(uow, email)
    refusal = check_password_limited(
        uow, email, person, password, client.address, limits, verdict=verdict
    )
    if refusal is not None:
        return SignIn(None, refusal)
    assert person is not None
    if not person.active:
        return SignIn(
            None, PermissionDenied("this account is deactivated; a site administrator can help")
        )
    if password_hasher.check_needs_rehash(person.password_hash):
        person.password_hash = hash_password(password)
    session, secret = start_session(uow, person, client, rules)
    return SignIn(person, session_secret=secret, session_id=session.id)
