"""Read models of the ledger: my commitments, an alliance's ledger, one commitment's conversation.

Everything here reads; reading an alliance's ledger checks, through
``open_alliance``, that the actor may see it. "My commitments" reads only the
actor's own. Lists come a page at a time (keyset, see services/paging.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa

from coauthor import permissions
from coauthor.db.tables import commitment_parties
from coauthor.db.types import UTCDateTime
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.commitments import Act, Commitment, CommitmentParty
from coauthor.domain.errors import ValidationFailed
from coauthor.domain.ledger import (
    TERMINAL_STATES,
    CommitmentState,
    Move,
    Party,
    Phase,
    State,
    allowed_moves,
    replay,
)
from coauthor.services.ledger.commitments import Target, acts_of, open_commitment
from coauthor.services.ledger.inputs import LedgerQuery, MineFilter
from coauthor.services.mechanics import views as mechanics_views
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.services.paging import Page, PageRequest, keyset

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
TERMINAL = sorted(int(state) for state in TERMINAL_STATES)


def still_open() -> sa.ColumnElement[bool]:
    """Open: not closed by a move, nor released by a declaration (a waived obligation period)."""
    return sa.and_(Commitment.state.not_in(TERMINAL), Commitment.waived_by_declaration_id.is_(None))


def closed() -> sa.ColumnElement[bool]:
    return sa.or_(Commitment.state.in_(TERMINAL), Commitment.waived_by_declaration_id.is_not(None))


DUE_WINDOWS = {"week": timedelta(days=7), "month": timedelta(days=30)}


@dataclass(frozen=True)
class PersonRef:
    """Someone on a commitment: their name and the partner they speak for there."""

    id: str
    name: str
    partner_id: str
    partner: str


@dataclass(frozen=True)
class Row:
    """A commitment in a list, as the person looking at it sees it."""

    commitment: Commitment
    alliance: str
    customer: PersonRef
    performers: tuple[PersonRef, ...]
    my_side: Party | None
    now: datetime

    @property
    def overdue(self) -> bool:
        """Open, past its due date, and not a completion report waiting for the customer."""
        c = self.commitment
        return (
            c.is_open
            and c.waived_by_declaration_id is None
            and c.due_at is not None
            and c.due_at < self.now
            and c.phase is not Phase.REPORTED
        )

    @property
    def awaits_me(self) -> bool:
        return self.my_side is not None and self.commitment.awaits == self.my_side

    @property
    def counterparts(self) -> tuple[PersonRef, ...]:
        """The other side, for the person looking."""
        return self.performers if self.my_side is Party.CUSTOMER else (self.customer,)


def _names(uow: UnitOfWork, person_ids: Iterable[str]) -> dict[str, str]:
    ids = set(person_ids)
    if not ids:
        return {}
    rows = uow.session.execute(sa.select(m.Person.id, m.Person.name).where(m.Person.id.in_(ids)))
    return {key: value for key, value in rows}


def _partner_names(uow: UnitOfWork, partner_ids: Iterable[str]) -> dict[str, str]:
    ids = set(partner_ids)
    if not ids:
        return {}
    rows = uow.session.execute(
        sa.select(m.Partner.id, m.Organization.name)
        .join(m.Organization, m.Organization.id == m.Partner.organization_id)
        .where(m.Partner.id.in_(ids))
    )
    return {key: value for key, value in rows}


def partner_refs(uow: UnitOfWork, alliance_id: str) -> list[mechanics_views.PartnerRef]:
    """The alliance's partners by organization name; ``index`` picks each one's colour."""
    rows = uow.session.execute(
        sa.select(m.Partner.id, m.Organization.name)
        .join(m.Organization, m.Organization.id == m.Partner.organization_id)
        .where(m.Partner.alliance_id == alliance_id)
    ).all()
    named = sorted(rows, key=lambda row: (row[1].lower(), row[0]))
    return [
        mechanics_views.PartnerRef(partner_id, name, index)
        for index, (partner_id, name) in enumerate(named)
    ]


def _alliance_names(uow: UnitOfWork, alliance_ids: Iterable[str]) -> dict[str, str]:
    ids = set(alliance_ids)
    if not ids:
        return {}
    rows = uow.session.execute(
        sa.select(m.Alliance.id, m.Alliance.name).where(m.Alliance.id.in_(ids))
    )
    return {key: value for key, value in rows}


class _Party(NamedTuple):
    alliance_id: str
    commitment_id: str
    person_id: str
    side: Party
    partner_id: str


def _parties_of(uow: UnitOfWork, commitments: Sequence[Commitment]) -> dict[tuple, list[_Party]]:
    """The parties of these commitments, read as plain rows (a page may hold hundreds).

    Both halves of the key are given so the primary key's index finds them (by
    commitment id alone, the whole table would be read)."""
    keys = {(c.alliance_id, c.id) for c in commitments}
    query = sa.select(
        commitment_parties.c.alliance_id,
        commitment_parties.c.commitment_id,
        commitment_parties.c.person_id,
        commitment_parties.c.side,
        commitment_parties.c.partner_id,
    ).where(
        commitment_parties.c.alliance_id.in_({c.alliance_id for c in commitments}),
        commitment_parties.c.commitment_id.in_({c.id for c in commitments}),
    )
    found: dict[tuple, list[_Party]] = defaultdict(list)
    for row in uow.session.execute(query):
        party = _Party(*row)
        if (party.alliance_id, party.commitment_id) in keys:
            found[(party.alliance_id, party.commitment_id)].append(party)
    return found


def rows_of(uow: UnitOfWork, commitments: Sequence[Commitment], viewer_id: str | None) -> list[Row]:
    """The commitments with their parties' names, in the order given."""
    if not commitments:
        return []
    parties = _parties_of(uow, commitments)
    every = [p for rows in parties.values() for p in rows]
    names = _names(uow, (p.person_id for p in every))
    partners = _partner_names(uow, (p.partner_id for p in every))
    alliances = _alliance_names(uow, (c.alliance_id for c in commitments))
    now = uow.clock.now()

    def ref(party: _Party) -> PersonRef:
        return PersonRef(
            party.person_id,
            names.get(party.person_id, "a former member"),
            party.partner_id,
            partners.get(party.partner_id, "?"),
        )

    result = []
    for c in commitments:
        mine = parties[(c.alliance_id, c.id)]
        customer = next(p for p in mine if p.side == Party.CUSTOMER)
        performers = sorted(
            (ref(p) for p in mine if p.side == Party.PERFORMER), key=lambda r: r.name.lower()
        )
        side = next((Party(p.side) for p in mine if p.person_id == viewer_id), None)
        result.append(
            Row(c, alliances.get(c.alliance_id, ""), ref(customer), tuple(performers), side, now)
        )
    return result


# ------------------------------------------------------------ my commitments


def _mine_statement(person_id: str, which: MineFilter) -> tuple[sa.Select[Any], tuple, bool]:
    """(statement, keyset columns, descending) for one section of "my commitments"."""
    statement = (
        sa.select(Commitment)
        .join(
            CommitmentParty,
            sa.and_(
                CommitmentParty.alliance_id == Commitment.alliance_id,
                CommitmentParty.commitment_id == Commitment.id,
            ),
        )
        .where(CommitmentParty.person_id == person_id)
    )
    is_open = still_open()
    due = sa.func.coalesce(Commitment.due_at, sa.literal(FAR_FUTURE, UTCDateTime()))
    if which == "waiting":
        statement = statement.where(is_open, Commitment.awaits == CommitmentParty.side)
        return statement, (Commitment.last_move_at, Commitment.id), False
    if which == "closed":
        statement = statement.where(closed())
        return statement, (Commitment.last_move_at, Commitment.id), True
    side = Party.PERFORMER if which == "owe" else Party.CUSTOMER
    statement = statement.where(is_open, CommitmentParty.side == side)
    return statement, (due, Commitment.id), False


def _mine_key(which: MineFilter) -> Any:
    if which in ("waiting", "closed"):
        return lambda c: (c.last_move_at, c.id)
    return lambda c: (c.due_at or FAR_FUTURE, c.id)


def my_commitments(
    uow: UnitOfWork, actor: m.Person | None, which: MineFilter, request: PageRequest
) -> Page[Row]:
    """One section of the actor's commitments across their alliances.

    ``waiting``: open ones where the actor's side owes the next answer (oldest
    first); ``owe`` / ``owed``: open ones where the actor performs / is the
    customer (soonest due first, undated last); ``closed``: latest first.
    """
    person = permissions.require_signed_in(actor)
    statement, columns, descending = _mine_statement(person.id, which)
    page = keyset(uow.session, statement, columns, request, _mine_key(which), descending=descending)
    return Page(rows_of(uow, page.items, person.id), page.next_cursor)


def waiting_count(uow: UnitOfWork, person_id: str) -> int:
    """How many open commitments wait on this person's answer (the header's notice)."""
    statement = (
        sa.select(sa.func.count())
        .select_from(CommitmentParty)
        .join(
            Commitment,
            sa.and_(
                CommitmentParty.alliance_id == Commitment.alliance_id,
                CommitmentParty.commitment_id == Commitment.id,
            ),
        )
        .where(
            CommitmentParty.person_id == person_id,
            still_open(),
            Commitment.awaits == CommitmentParty.side,
        )
    )
    return uow.session.scalar(statement) or 0


# --------------------------------------------------------- the alliance ledger


@dataclass(frozen=True)
class LedgerPage:
    rows: Page[Row]
    query: LedgerQuery
    partners: list[mechanics_views.Choice]
    bodies: list[mechanics_views.Choice]
    members: list[mechanics_views.Choice]
    """Who may be asked or offered to: the alliance's members who take part."""
    meetings: list[mechanics_views.Choice]
    can_take_part: bool


def _filtered(
    statement: sa.Select[Any], alliance_id: str, query: LedgerQuery, now: datetime
) -> sa.Select[Any]:
    if query.partner_id:
        parties = sa.select(CommitmentParty.commitment_id).where(
            CommitmentParty.alliance_id == alliance_id,
            CommitmentParty.partner_id == query.partner_id,
        )
        statement = statement.where(Commitment.id.in_(parties))
    states = {
        "open": still_open(),
        "waiting": sa.and_(still_open(), Commitment.awaits.is_not(None)),
        "promised": sa.and_(still_open(), Commitment.state == int(State.PROMISED)),
        "reported": sa.and_(still_open(), Commitment.state == int(State.REPORTED_COMPLETE)),
        "closed": closed(),
    }
    if query.state in states:
        statement = statement.where(states[query.state])
    if query.due == "overdue":
        statement = statement.where(
            still_open(), Commitment.phase != Phase.REPORTED, Commitment.due_at < now
        )
    elif query.due in DUE_WINDOWS:
        statement = statement.where(
            Commitment.due_at >= now, Commitment.due_at < now + DUE_WINDOWS[query.due]
        )
    elif query.due == "none":
        statement = statement.where(Commitment.due_at.is_(None))
    if query.body_id:
        statement = statement.where(Commitment.body_id == query.body_id)
    return statement


def _meeting_choices(uow: UnitOfWork, alliance_id: str) -> list[mechanics_views.Choice]:
    meetings = uow.find(m.Meeting, order_by=m.Meeting.starts_at.desc(), alliance_id=alliance_id)
    return [mechanics_views.Choice(x.id, f"{x.title} ({x.starts_at:%d %b %Y})") for x in meetings]


def ledger(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    query: LedgerQuery,
    request: PageRequest,
) -> LedgerPage:
    """The alliance's commitments, newest first, filtered by partner, state, due date and body."""
    access = open_alliance(uow, actor, alliance_id)
    choices = mechanics_views.choices(uow, actor, alliance_id)
    known = {choice.id for choice in choices.partners}
    if query.partner_id and query.partner_id not in known:
        raise ValidationFailed.one("partner_id", "no such partner in this alliance")
    if query.body_id and query.body_id not in {choice.id for choice in choices.bodies}:
        raise ValidationFailed.one("body_id", "no such governance body in this alliance")
    statement = _filtered(
        sa.select(Commitment).where(Commitment.alliance_id == alliance_id),
        alliance_id,
        query,
        uow.clock.now(),
    )
    columns = (Commitment.opened_at, Commitment.id)
    page = keyset(
        uow.session, statement, columns, request, lambda c: (c.opened_at, c.id), descending=True
    )
    viewer = actor.id if actor else None
    return LedgerPage(
        rows=Page(rows_of(uow, page.items, viewer), page.next_cursor),
        query=query,
        partners=choices.partners,
        bodies=choices.bodies,
        members=takers(uow, alliance_id, viewer),
        meetings=_meeting_choices(uow, alliance_id),
        can_take_part=permissions.can_take_part(actor, access.membership),
    )


def takers(
    uow: UnitOfWork, alliance_id: str, except_person: str | None
) -> list[mechanics_views.Choice]:
    """Members who take part (not observers), with their partner, by name."""
    members = uow.find(
        m.Member, m.Member.role.in_(permissions.ACTING_ROLES), alliance_id=alliance_id
    )
    names = _names(uow, (x.person_id for x in members))
    partners = _partner_names(uow, (x.partner_id for x in members))
    choices = [
        mechanics_views.Choice(x.person_id, f"{names[x.person_id]} ({partners[x.partner_id]})")
        for x in members
        if x.person_id != except_person
    ]
    return sorted(choices, key=lambda choice: choice.label.lower())


# ------------------------------------------------------- one commitment


@dataclass(frozen=True)
class Line:
    """One act of the conversation, with who said it."""

    act: Act
    speaker: str
    partner: str
    party: Party


@dataclass(frozen=True)
class Conversation:
    row: Row
    lines: list[Line]
    state: CommitmentState
    my_moves: tuple[Move, ...]
    """The moves the person looking may make now (none if they are not a party)."""
    can_reassign: bool
    colleagues: dict[str, list[mechanics_views.Choice]]
    """Party's person id → who of the same partner could take their place (managers only)."""
    setting: str
    """Where it was made: a meeting, a body, an obligation's period, or nothing."""
    waived_by: m.Declaration | None


def _setting(uow: UnitOfWork, c: Commitment) -> str:
    if c.obligation_id:
        obligation = uow.get(m.Obligation, alliance_id=c.alliance_id, id=c.obligation_id)
        period = f", due {c.period_due_on:%d %b %Y}" if c.period_due_on else ""
        return f"the obligation “{obligation.title}”{period}" if obligation else ""
    if c.meeting_id:
        meeting = uow.get(m.Meeting, alliance_id=c.alliance_id, id=c.meeting_id)
        return f"the meeting “{meeting.title}”" if meeting else ""
    if c.body_id:
        body = uow.get(m.GovernanceBody, alliance_id=c.alliance_id, id=c.body_id)
        return body.name if body else ""
    return ""


def _my_moves(target: Target, actor: m.Person | None, state: CommitmentState) -> tuple[Move, ...]:
    if actor is None or target.commitment.waived_by_declaration_id is not None:
        return ()
    side = target.side_of(actor.id)
    if side is None or not permissions.can_act_as(
        actor, target.access.membership, target.sides, side.value
    ):
        return ()
    return allowed_moves(state, side)


def _colleagues(
    uow: UnitOfWork, target: Target, names: dict[str, str]
) -> dict[str, list[mechanics_views.Choice]]:
    alliance_id = target.commitment.alliance_id
    members = uow.find(
        m.Member, m.Member.role.in_(permissions.ACTING_ROLES), alliance_id=alliance_id
    )
    on_it = {p.person_id for p in target.parties}
    every = _names(uow, (x.person_id for x in members)) | names
    result: dict[str, list[mechanics_views.Choice]] = {}
    for party in target.parties:
        result[party.person_id] = sorted(
            (
                mechanics_views.Choice(x.person_id, every[x.person_id])
                for x in members
                if x.partner_id == party.partner_id and x.person_id not in on_it
            ),
            key=lambda choice: choice.label.lower(),
        )
    return result


def conversation(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, commitment_id: str
) -> Conversation:
    """One commitment as the conversation it was: every act, who said it, and where it stands."""
    target = open_commitment(uow, actor, alliance_id, commitment_id)
    acts = acts_of(uow, alliance_id, commitment_id)
    state = replay(act.speech_act() for act in acts)
    [row] = rows_of(uow, [target.commitment], actor.id if actor else None)
    sides = {p.person_id: p for p in target.parties}
    names = _names(uow, {a.actor_person_id for a in acts} | set(sides))
    partners = _partner_names(uow, (p.partner_id for p in target.parties))
    lines = [
        Line(
            act,
            names.get(act.actor_person_id, "a former member"),
            partners.get(sides[act.actor_person_id].partner_id, "")
            if act.actor_person_id in sides
            else "",
            Party(act.party),
        )
        for act in acts
    ]
    can_reassign = permissions.can_reassign(actor, target.access.membership)
    waived = target.commitment.waived_by_declaration_id
    return Conversation(
        row=row,
        lines=lines,
        state=state,
        my_moves=_my_moves(target, actor, state),
        can_reassign=can_reassign and target.commitment.is_open,
        colleagues=_colleagues(uow, target, names) if can_reassign else {},
        setting=_setting(uow, target.commitment),
        waived_by=uow.get(m.Declaration, alliance_id=alliance_id, id=waived) if waived else None,
    )
