"""An alliance at a glance: its figures, what is coming, open deliberations, and recent activity.

The activity feed tells each event as a sentence a person reads right — who
did what to which item, with the item's name — and never reveals what is
private: votes and statements are anonymous (no name, and consecutive
votes are told as one line with their number), and a partner's private
note is only said to exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from coauthor import permissions
from coauthor.db.tables import search_entries
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.invariants import risk_score
from coauthor.domain.labels import label
from coauthor.services.mechanics import views
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.services.paging import PageRequest
from coauthor.services.search.kinds import BY_KIND

DUE_SOON_DAYS = 30
NEXT_MEETINGS = 5
RECENT_EVENTS = 12
HIGH_RISK_SCORE = 15
EVENTS_SCANNED = 200
"""How far back the feed reads to find RECENT_EVENTS lines (votes are told together)."""

VERBS = {
    "created": "created",
    "added": "added",
    "updated": "changed",
    "deleted": "deleted",
    "removed": "removed",
    "imported": "imported",
    "promoted": "adopted",
}
ANONYMOUS = frozenset({"vote.cast", "statement.submitted"})
COMMITMENT_VERBS = {
    "request": "asked for",
    "offer": "offered",
    "promise": "promised",
    "accept": "accepted",
    "counter_offer": "proposed other terms for",
    "accept_counter": "accepted the new terms of",
    "counter": "proposed other terms for",
    "decline": "declined",
    "reject": "rejected",
    "commit_to_commit": "promised an answer on",
    "report_completion": "reported as done",
    "renegotiate": "asked to renegotiate",
    "renege": "reneged on",
    "cancel": "cancelled",
    "declare_satisfied": "accepted the work on",
    "declare_not_satisfied": "did not accept the work on",
    "withdraw": "withdrew",
    "progress_note": "noted progress on",
}
"""A commitment's moves (domain/ledger.py) as the feed tells them: "Ann promised the commitment"."""


@dataclass(frozen=True)
class DueObligation:
    view: views.ObligationView
    due_on: date


@dataclass(frozen=True)
class Figure:
    """One figure at a glance: a number, what it counts, a remark, where to see more."""

    value: int
    what: str
    section: str
    remark: str = ""


@dataclass(frozen=True)
class OpenDeliberation:
    deliberation: m.Deliberation
    statements: int
    participants: int
    to_vote: int | None
    """Statements the viewer has yet to vote on; None when they do not vote."""
    to_moderate: int | None
    """Statements waiting for moderation, for those who moderate."""


@dataclass(frozen=True)
class Activity:
    """One line of the feed: ``actor`` (None: anonymous) ``verb`` the ``noun`` ``title``."""

    at: datetime
    actor: str | None
    verb: str
    noun: str
    kind: str
    item_id: str | None
    title: str
    parent_id: str | None = None
    count: int = 1
    exists: bool = True
    """False for an item since deleted: named, but not linked."""


@dataclass(frozen=True)
class Overview:
    partners: list[views.PartnerRef]
    figures: list[Figure]
    next_meetings: list[views.MeetingView]
    due_soon: list[DueObligation]
    deliberations: list[OpenDeliberation]
    activity: list[Activity] = field(default_factory=list)


def _count(uow: UnitOfWork, entity: type, alliance_id: str, *criteria: object) -> int:
    statement = (
        sa.select(sa.func.count())
        .select_from(entity)
        .where(entity.alliance_id == alliance_id, *criteria)
    )
    return uow.session.scalar(statement) or 0


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _figures(
    uow: UnitOfWork, alliance_id: str, due: list[DueObligation], next_meeting: datetime | None
) -> list[Figure]:
    risks = uow.find(m.Risk, m.Risk.status != m.RiskStatus.CLOSED, alliance_id=alliance_id)
    high = sum(1 for risk in risks if risk_score(risk.likelihood, risk.impact) >= HIGH_RISK_SCORE)
    meeting = f"next on {next_meeting.day} {next_meeting:%b}" if next_meeting else "none planned"
    return [
        Figure(_count(uow, m.Partner, alliance_id), "partners", "partners",
               _plural(_count(uow, m.Member, alliance_id), "person", "people")),
        Figure(_count(uow, m.Agreement, alliance_id), "agreements", "agreements",
               _plural(_count(uow, m.Obligation, alliance_id), "obligation", "obligations")),
        Figure(len(due), "due in 30 days", "agreements", "obligations falling due"),
        Figure(len(risks), "open risks", "risks", f"{high} rated high (15 or more)"),
        Figure(_count(uow, m.Meeting, alliance_id), "meetings", "governance", meeting),
        Figure(_count(uow, m.Contribution, alliance_id), "contributions", "contributions",
               "put in and value received"),
    ]  # fmt: skip


def _open_deliberations(
    uow: UnitOfWork, actor: m.Person | None, access_member: m.Member | None, alliance_id: str
) -> list[OpenDeliberation]:
    found = uow.find(
        m.Deliberation,
        order_by=m.Deliberation.created_at.desc(),
        alliance_id=alliance_id,
        status=m.DeliberationStatus.OPEN,
    )
    votes_by_statement = permissions.can_take_part(actor, access_member)
    moderates = permissions.can_edit_mechanics(actor, access_member)
    result = []
    for deliberation in found:
        counts = dict(
            uow.session.execute(
                sa.select(m.Statement.moderation, sa.func.count())
                .where(
                    m.Statement.alliance_id == alliance_id,
                    m.Statement.deliberation_id == deliberation.id,
                )
                .group_by(m.Statement.moderation)
            ).all()
        )
        accepted = counts.get(m.Moderation.ACCEPTED, 0)
        participants = _count(
            uow, m.Participant, alliance_id, m.Participant.deliberation_id == deliberation.id
        )
        to_vote = None
        if votes_by_statement and actor is not None:
            to_vote = accepted - _my_votes(uow, actor, deliberation)
        to_moderate = counts.get(m.Moderation.PENDING, 0) if moderates else None
        result.append(OpenDeliberation(deliberation, accepted, participants, to_vote, to_moderate))
    return result


def _my_votes(uow: UnitOfWork, actor: m.Person, deliberation: m.Deliberation) -> int:
    statement = (
        sa.select(sa.func.count())
        .select_from(m.Vote)
        .join(
            m.Participant,
            sa.and_(
                m.Participant.alliance_id == m.Vote.alliance_id,
                m.Participant.id == m.Vote.participant_id,
            ),
        )
        .join(
            m.Statement,
            sa.and_(
                m.Statement.alliance_id == m.Vote.alliance_id,
                m.Statement.id == m.Vote.statement_id,
            ),
        )
        .where(
            m.Vote.alliance_id == deliberation.alliance_id,
            m.Vote.deliberation_id == deliberation.id,
            m.Participant.person_id == actor.id,
            m.Statement.moderation == m.Moderation.ACCEPTED,
        )
    )
    return uow.session.scalar(statement) or 0


def _entries(
    uow: UnitOfWork, alliance_id: str, ids: Iterable[str]
) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(kind, item id) → (title, parent id) of the items named that still exist.

    Entries private to a partner (its notes) are left out: the feed, which
    every member reads, says a note was written, never what it says.
    """
    ids = set(ids)
    if not ids:
        return {}
    rows = uow.session.execute(
        sa.select(
            search_entries.c.kind,
            search_entries.c.item_id,
            search_entries.c.title,
            search_entries.c.parent_id,
        ).where(
            search_entries.c.alliance_id == alliance_id,
            search_entries.c.item_id.in_(ids),
            search_entries.c.partner_id.is_(None),
        )
    )
    return {(row.kind, row.item_id): (row.title, row.parent_id) for row in rows}


def _noun(kind: str) -> str:
    searchable = BY_KIND.get(kind)
    return searchable.label.lower() if searchable else label(kind).lower()


def _line(
    event: m.Event,
    actors: dict[str, str],
    entries: dict[tuple[str, str], tuple[str, str | None]],
    alliance_id: str,
) -> Activity:
    subject, _, action = event.kind.partition(".")
    payload = event.payload or {}
    actor = None if event.kind in ANONYMOUS else actors.get(event.actor_id or "", "the operator")
    if event.kind == "vote.cast":
        subject, item_id = "deliberation", payload.get("deliberation_id")
        verb = "voted in"
    elif event.kind == "statement.submitted":
        subject, item_id = "deliberation", payload.get("deliberation_id")
        verb = "wrote a statement in"
    elif event.kind == "deliberation.status_set":
        item_id = payload.get("id")
        verb = "closed" if payload.get("status") == "closed" else "reopened"
    elif event.kind == "statement.moderated":
        subject, item_id = "deliberation", payload.get("deliberation_id")
        verb = f"{payload.get('decision', 'moderated')} a statement in"
    elif subject == "commitment" and action in ("opened", "moved"):
        act = payload.get("act") or payload
        item_id, move = act.get("commitment_id"), str(act.get("move", ""))
        verb = COMMITMENT_VERBS.get(move, label(move).lower() or "moved")
    else:
        item_id = alliance_id if subject == "alliance" else payload.get("id")
        verb = VERBS.get(action, label(action).lower())
    if subject in ("declaration", "charter"):
        subject = "charter_clause" if subject == "charter" else subject
    entry = None if subject == "partner_note" else entries.get((subject, item_id or ""))
    title = entry[0] if entry else _fallback_title(subject, payload)
    return Activity(
        at=event.at,
        actor=actor,
        verb=verb,
        noun=_noun(subject),
        kind=subject,
        item_id=item_id,
        title=title,
        parent_id=entry[1] if entry else None,
        exists=entry is not None and subject != "partner_note",
    )


def _fallback_title(kind: str, payload: dict) -> str:
    """The name an event itself carries, for an item since deleted (or never indexed)."""
    if kind == "partner_note":
        return ""
    for key in ("title", "name", "decision_kind", "description", "question", "email"):
        if payload.get(key):
            return str(payload[key])
    return ""


def _told_together(lines: list[Activity]) -> list[Activity]:
    """Consecutive votes in one deliberation become one line with their number."""
    merged: list[Activity] = []
    for line in lines:
        last = merged[-1] if merged else None
        if (
            last is not None
            and line.actor is None
            and last.actor is None
            and (line.verb, line.item_id) == (last.verb, last.item_id)
        ):
            merged[-1] = replace(last, count=last.count + 1)
            continue
        merged.append(line)
    return merged


def recent_activity(
    uow: UnitOfWork, alliance_id: str, limit: int = RECENT_EVENTS
) -> list[Activity]:
    """The latest events as lines of the feed, newest first."""
    statement = (
        sa.select(m.Event)
        .where(m.Event.chain_id == alliance_id)
        .order_by(m.Event.seq.desc())
        .limit(EVENTS_SCANNED)
    )
    events = list(uow.session.scalars(statement))
    actor_ids = {e.actor_id for e in events if e.actor_id and e.kind not in ANONYMOUS}
    actors = (
        {p.id: p.name for p in uow.find(m.Person, m.Person.id.in_(actor_ids))} if actor_ids else {}
    )
    named = {alliance_id}
    for event in events:
        named.update(
            str(event.payload[key]) for key in ("id", "deliberation_id") if key in event.payload
        )
    entries = _entries(uow, alliance_id, named)
    lines = [_line(event, actors, entries, alliance_id) for event in events]
    return _told_together(lines)[:limit]


def overview(uow: UnitOfWork, actor: m.Person | None, alliance_id: str) -> Overview:
    """The alliance at a glance, as of the runtime clock."""
    access = open_alliance(uow, actor, alliance_id)
    today = uow.clock.now().date()
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    refs = views.partner_refs(uow, alliance_id)
    by_id = {ref.id: ref for ref in refs}
    due = sorted(
        (
            DueObligation(view, view.next_due)
            for view in views.obligation_views(uow, alliance_id, today, by_id)
            if view.next_due is not None and view.next_due <= horizon
        ),
        key=lambda item: item.due_on,
    )
    meetings = views.upcoming_meetings(uow, alliance_id, PageRequest(NEXT_MEETINGS), by_id)
    next_meeting = meetings[0].meeting.starts_at if meetings else None
    return Overview(
        partners=refs,
        figures=_figures(uow, alliance_id, due, next_meeting),
        next_meetings=meetings,
        due_soon=due,
        deliberations=_open_deliberations(uow, actor, access.membership, alliance_id),
        activity=recent_activity(uow, alliance_id),
    )
