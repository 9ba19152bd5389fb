"""Calendar feeds: a person's due dates, reply-by dates and meetings at a private URL.

The URL carries a random token; only its SHA-256 is stored, so the database
cannot hand it out again. A person has at most one feed at a time: making a
new one revokes the old, and a revoked (or unknown) token is simply not found.
The feed lists the commitments the person is a party to — the due dates of
open ones, the reply-by date a commit-to-commit promised, and the due dates
of closed ones from a quarter ago on, marked as closed — and the meetings of
every alliance they belong to from a quarter ago on.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.commitments import CalendarFeed, Commitment, CommitmentParty
from coauthor.domain.errors import NotFound
from coauthor.domain.ledger import TERMINAL_STATES, Party
from coauthor.ids import new_id
from coauthor.services import eventlog

TERMINAL = [int(state) for state in TERMINAL_STATES]
FEED_PREFIX = "cal_"
MEETINGS_SINCE = timedelta(days=90)
"""How far back the feed reaches for meetings and closed commitments."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def current_feed(uow: UnitOfWork, actor: m.Person | None) -> CalendarFeed | None:
    person = permissions.require_signed_in(actor)
    return uow.find_one(CalendarFeed, person_id=person.id, revoked_at=None)


def _revoke(uow: UnitOfWork, actor: m.Person, feed: CalendarFeed) -> None:
    feed.revoked_at = uow.clock.now()
    eventlog.append(uow, eventlog.SITE_CHAIN, actor, "calendar_feed.revoked", {"id": feed.id})


def do_create_feed(uow: UnitOfWork, actor: m.Person | None) -> tuple[CalendarFeed, str]:
    """A new private feed URL's token (shown once); any earlier feed stops working."""
    person = permissions.require_signed_in(actor)
    for old in uow.find(CalendarFeed, person_id=person.id, revoked_at=None):
        _revoke(uow, person, old)
    token = FEED_PREFIX + secrets.token_urlsafe(32)
    feed = CalendarFeed(new_id("cf"), person.id, _digest(token), uow.clock.now())
    uow.add(feed)
    eventlog.append(
        uow,
        eventlog.SITE_CHAIN,
        person,
        "calendar_feed.created",
        {"id": feed.id, "person": person.id},
    )
    return feed, token


def do_revoke_feed(uow: UnitOfWork, actor: m.Person | None) -> None:
    """Stop the person's feed: its URL is not found from now on."""
    person = permissions.require_signed_in(actor)
    feed = current_feed(uow, person)
    if feed is None:
        raise NotFound("you have no calendar feed")
    _revoke(uow, person, feed)


@dataclass(frozen=True)
class Due:
    """A moment on the person's calendar from a commitment: its due date or a reply-by date."""

    commitment: Commitment
    alliance: str
    at: datetime
    kind: str
    """"due" or "reply_by"."""
    side: Party


@dataclass(frozen=True)
class MeetingItem:
    meeting: m.Meeting
    alliance: str
    body: str


@dataclass(frozen=True)
class Calendar:
    person: m.Person
    dues: list[Due]
    meetings: list[MeetingItem]


def _alliance_names(uow: UnitOfWork, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = uow.session.execute(
        sa.select(m.Alliance.id, m.Alliance.name).where(m.Alliance.id.in_(ids))
    )
    return {key: name for key, name in rows}


def _dues(uow: UnitOfWork, person_id: str, since: datetime) -> list[Due]:
    """Open commitments' due and reply-by dates; closed ones' due dates from ``since`` on."""
    rows = uow.session.execute(
        sa.select(Commitment, CommitmentParty.side)
        .join(
            CommitmentParty,
            sa.and_(
                CommitmentParty.alliance_id == Commitment.alliance_id,
                CommitmentParty.commitment_id == Commitment.id,
            ),
        )
        .where(
            CommitmentParty.person_id == person_id,
            Commitment.waived_by_declaration_id.is_(None),
            sa.or_(
                sa.and_(Commitment.state.not_in(TERMINAL), Commitment.due_at.is_not(None)),
                Commitment.reply_by.is_not(None),
                Commitment.due_at >= since,
            ),
        )
    ).all()
    names = _alliance_names(uow, {c.alliance_id for c, _ in rows})
    dues = []
    for commitment, side in rows:
        for kind, moment in (("due", commitment.due_at), ("reply_by", commitment.reply_by)):
            if moment is not None:
                dues.append(
                    Due(commitment, names[commitment.alliance_id], moment, kind, Party(side))
                )
    return sorted(dues, key=lambda due: (due.at, due.commitment.id, due.kind))


def _meetings(uow: UnitOfWork, person_id: str, since: datetime) -> list[MeetingItem]:
    alliance_ids = {x.alliance_id for x in uow.find(m.Member, person_id=person_id)}
    if not alliance_ids:
        return []
    meetings = uow.find(
        m.Meeting,
        m.Meeting.alliance_id.in_(alliance_ids),
        m.Meeting.starts_at >= since,
        order_by=m.Meeting.starts_at,
    )
    bodies = {
        (b.alliance_id, b.id): b.name
        for b in uow.find(m.GovernanceBody, m.GovernanceBody.alliance_id.in_(alliance_ids))
    }
    names = _alliance_names(uow, alliance_ids)
    return [
        MeetingItem(x, names[x.alliance_id], bodies.get((x.alliance_id, x.body_id), ""))
        for x in meetings
    ]


def calendar_for_token(uow: UnitOfWork, token: str) -> Calendar:
    """What a feed URL shows; an unknown or revoked token is not found."""
    feed = (
        uow.find_one(CalendarFeed, token_hash=_digest(token))
        if token.startswith(FEED_PREFIX)
        else None
    )
    person = uow.get(m.Person, id=feed.person_id) if feed and feed.revoked_at is None else None
    if person is None:
        raise NotFound("no such calendar")
    since = uow.clock.now() - MEETINGS_SINCE
    return Calendar(person, _dues(uow, person.id, since), _meetings(uow, person.id, since))
