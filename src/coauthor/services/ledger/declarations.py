"""Declarations and the charter: decisions declared by a body within its decision rights.

A governance body declares at one of its meetings, under one of its decision
rights: the right must be the body's (else the refusal names the right it
lacks), the meeting's attendance must make the right's quorum, each seated
member's position is recorded (for, against, abstain — absent if they did not
attend) and must carry the decision under the right's rule, and whoever did
not vote for it may say why in their own words: the recorded dissent.

A deliberation's consensus statement is promoted through the same path when a
body declares it (``services.deliberation.acts.do_promote``); without a body,
the consensus itself is the partners' joint declaration (``declare_jointly``).
A declaration may add its text to the charter, repeal clauses, and waive
obligation periods in the ledger.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.commitments import Commitment, DeclarationPosition
from coauthor.domain.declarations import (
    DISSENTING,
    Position,
    Tally,
    quorum_refusal,
    rule_refusal,
)
from coauthor.domain.errors import FieldError, NotFound, ValidationFailed
from coauthor.ids import new_id
from coauthor.services import eventlog, inputs
from coauthor.services.ledger.inputs import DeclarationInput, PositionInput
from coauthor.services.ledger.obligations import period_status
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.services.paging import Page, PageRequest, keyset

DECLARATION_SOURCE = "declaration {declaration_id}"


@dataclass(frozen=True)
class _Setting:
    body: m.GovernanceBody
    right: m.DecisionRight
    meeting: m.Meeting
    seats: dict[str, str]
    """Seated member id → the person's name."""
    present: frozenset[str]


def _names_of_members(uow: UnitOfWork, alliance_id: str, member_ids: set[str]) -> dict[str, str]:
    if not member_ids:
        return {}
    rows = uow.session.execute(
        sa.select(m.Member.id, m.Person.name)
        .join(m.Person, m.Person.id == m.Member.person_id)
        .where(m.Member.alliance_id == alliance_id, m.Member.id.in_(member_ids))
    )
    return {member_id: name for member_id, name in rows}


def _setting(uow: UnitOfWork, alliance_id: str, data: DeclarationInput) -> _Setting:
    body = uow.get(m.GovernanceBody, alliance_id=alliance_id, id=data.body_id)
    if body is None:
        raise ValidationFailed.one("body_id", "no such governance body in this alliance")
    right = uow.get(m.DecisionRight, alliance_id=alliance_id, id=data.decision_right_id)
    if right is None:
        raise ValidationFailed.one("decision_right_id", "no such decision right in this alliance")
    if right.body_id != body.id:
        held = [
            r.decision_kind
            for r in uow.find(m.DecisionRight, alliance_id=alliance_id, body_id=body.id)
        ]
        listing = "; ".join(f"“{kind}”" for kind in sorted(held)) or "none"
        raise ValidationFailed.one(
            "decision_right_id",
            f"{body.name} does not hold the right to decide “{right.decision_kind}” "
            f"(its decision rights: {listing})",
        )
    meeting = uow.get(m.Meeting, alliance_id=alliance_id, id=data.meeting_id)
    if meeting is None or meeting.body_id != body.id:
        raise ValidationFailed.one("meeting_id", f"no such meeting of {body.name}")
    if meeting.starts_at > uow.clock.now():
        raise ValidationFailed.one("meeting_id", "this meeting has not taken place yet")
    seat_ids = {s.member_id for s in uow.find(m.BodySeat, alliance_id=alliance_id, body_id=body.id)}
    attended = {
        a.member_id for a in uow.find(m.Attendance, alliance_id=alliance_id, meeting_id=meeting.id)
    }
    return _Setting(
        body,
        right,
        meeting,
        _names_of_members(uow, alliance_id, seat_ids),
        frozenset(attended & seat_ids),
    )


def _position_errors(setting: _Setting, positions: Sequence[PositionInput]) -> list[FieldError]:
    """Each seated member once: present ones for, against or abstaining; absent ones absent."""
    errors: list[FieldError] = []
    counts = Counter(p.member_id for p in positions)
    for index, given in enumerate(positions):
        where = ("positions", index)
        name = setting.seats.get(given.member_id)
        if name is None:
            errors.append(
                FieldError((*where, "member_id"), f"is not seated on {setting.body.name}")
            )
            continue
        if counts[given.member_id] > 1:
            errors.append(FieldError((*where, "member_id"), f"{name} is listed twice"))
        attended = given.member_id in setting.present
        if attended and given.position is Position.ABSENT:
            errors.append(
                FieldError((*where, "position"), f"{name} attended: for, against or abstain")
            )
        if not attended and given.position is not Position.ABSENT:
            errors.append(
                FieldError((*where, "position"), f"{name} did not attend the meeting: absent")
            )
        if given.position is Position.AGAINST and not given.reason.strip():
            errors.append(
                FieldError((*where, "reason"), f"say why {name} is against, in their own words")
            )
    missing = sorted(name for mid, name in setting.seats.items() if mid not in counts)
    if missing:
        errors.append(FieldError(("positions",), f"no position for {', '.join(missing)}"))
    return errors


def _check_outcome(setting: _Setting, positions: Sequence[PositionInput]) -> None:
    tally = Tally.of(p.position for p in positions)
    refusal = quorum_refusal(tally, setting.right.quorum_percent)
    if refusal is not None:
        raise ValidationFailed.one("meeting_id", refusal)
    refusal = rule_refusal(setting.right.rule, tally)
    if refusal is not None:
        raise ValidationFailed.one("positions", f"not carried by {setting.right.rule}: {refusal}")


def _waived(uow: UnitOfWork, alliance_id: str, ids: Sequence[str]) -> list[Commitment]:
    found, errors = [], []
    for index, commitment_id in enumerate(ids):
        commitment = uow.get(Commitment, alliance_id=alliance_id, id=commitment_id)
        if commitment is None or commitment.obligation_id is None:
            errors.append(
                FieldError(("waives", index), "is not an obligation period of this alliance")
            )
        elif commitment.waived_by_declaration_id is not None:
            errors.append(FieldError(("waives", index), "is waived already"))
        else:
            found.append(commitment)
    if errors:
        raise ValidationFailed(errors)
    return found


def _repealed(uow: UnitOfWork, alliance_id: str, ids: Sequence[str]) -> list[m.CharterClause]:
    found, errors = [], []
    for index, clause_id in enumerate(ids):
        clause = uow.get(m.CharterClause, alliance_id=alliance_id, id=clause_id)
        if clause is None:
            errors.append(FieldError(("repeals", index), "no such clause in the charter"))
        elif clause.repealed_by_declaration_id is not None:
            errors.append(FieldError(("repeals", index), "is repealed already"))
        else:
            found.append(clause)
    if errors:
        raise ValidationFailed(errors)
    return found


def _add_clause(uow: UnitOfWork, alliance_id: str, text: str, source: str) -> m.CharterClause:
    clause = m.CharterClause(
        alliance_id=alliance_id, id=new_id("cc"), text=text, added_at=uow.clock.now(), source=source
    )
    uow.add(clause)
    return clause


def do_declare(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    payload: Any,
    *,
    source: str = "",
) -> m.Declaration:
    """A body's declaration, refused unless within its rights, quorate and carried by its rule."""
    access = open_alliance(uow, actor, alliance_id)
    data = inputs.parse(DeclarationInput, payload)
    seated = bool(
        access.membership
        and uow.get(
            m.BodySeat,
            alliance_id=alliance_id,
            body_id=data.body_id,
            member_id=access.membership.id,
        )
    )
    permissions.require_record_declaration(actor, access.membership, seated)
    setting = _setting(uow, alliance_id, data)
    errors = _position_errors(setting, data.positions)
    if errors:
        raise ValidationFailed(errors)
    _check_outcome(setting, data.positions)
    waived = _waived(uow, alliance_id, data.waives)
    repealed = _repealed(uow, alliance_id, data.repeals)
    declaration = m.Declaration(
        alliance_id=alliance_id,
        id=new_id("de"),
        text=data.text,
        rationale=data.rationale,
        body_id=setting.body.id,
        rule=setting.right.rule,
        declared_at=uow.clock.now(),
        declared_by_person_id=actor.id if actor else None,
        source=source,
        decision_right_id=setting.right.id,
        meeting_id=setting.meeting.id,
        quorum_percent=setting.right.quorum_percent,
    )
    uow.add(declaration)
    uow.flush()
    uow.add_all(
        DeclarationPosition(alliance_id, declaration.id, p.member_id, p.position, p.reason.strip())
        for p in data.positions
    )
    for commitment in waived:
        commitment.waived_by_declaration_id = declaration.id
    for old in repealed:
        old.repealed_by_declaration_id = declaration.id
    clause = None
    if data.charter:
        clause = _add_clause(
            uow, alliance_id, data.text, DECLARATION_SOURCE.format(declaration_id=declaration.id)
        )
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "declaration.declared",
        data.model_dump(mode="json")
        | {"id": declaration.id, "source": source, "clause_id": clause.id if clause else None},
    )
    return declaration


def declare_jointly(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    text: str,
    rationale: str,
    rule: m.DecisionRule | None,
    source: str,
) -> m.Declaration:
    """The partners' joint declaration of a deliberation's consensus (no body, no seats).

    The caller has checked that the statement is in the consensus and that the
    actor may promote it.
    """
    declaration = m.Declaration(
        alliance_id=alliance_id,
        id=new_id("de"),
        text=text,
        rationale=rationale,
        body_id=None,
        rule=rule,
        declared_at=uow.clock.now(),
        declared_by_person_id=actor.id if actor else None,
        source=source,
    )
    uow.add(declaration)
    return declaration


# --------------------------------------------------------------- reading


@dataclass(frozen=True)
class PositionView:
    member_id: str
    name: str
    partner: str
    position: Position
    reason: str


@dataclass(frozen=True)
class DeclarationView:
    declaration: m.Declaration
    body: str | None
    decision_kind: str | None
    meeting: m.Meeting | None
    positions: list[PositionView]
    declared_by: str | None
    clauses: list[m.CharterClause]
    waived: list[Commitment]

    @property
    def tally(self) -> Tally | None:
        return Tally.of(p.position for p in self.positions) if self.positions else None

    @property
    def dissent(self) -> list[PositionView]:
        """Who did not vote for it and said why (or not), in their own words."""
        return [p for p in self.positions if p.position in DISSENTING]


def _views(uow: UnitOfWork, alliance_id: str, found: list[m.Declaration]) -> list[DeclarationView]:
    if not found:
        return []
    ids = [d.id for d in found]
    positions = uow.find(
        DeclarationPosition, DeclarationPosition.declaration_id.in_(ids), alliance_id=alliance_id
    )
    members = {x.id: x for x in uow.find(m.Member, alliance_id=alliance_id)}
    names = dict(
        uow.session.execute(
            sa.select(m.Person.id, m.Person.name).where(
                m.Person.id.in_(
                    {x.person_id for x in members.values()}
                    | {d.declared_by_person_id for d in found if d.declared_by_person_id}
                )
            )
        ).all()
    )
    partners = dict(
        uow.session.execute(
            sa.select(m.Partner.id, m.Organization.name)
            .join(m.Organization, m.Organization.id == m.Partner.organization_id)
            .where(m.Partner.alliance_id == alliance_id)
        ).all()
    )
    bodies = {b.id: b.name for b in uow.find(m.GovernanceBody, alliance_id=alliance_id)}
    rights = {r.id: r.decision_kind for r in uow.find(m.DecisionRight, alliance_id=alliance_id)}
    meeting_ids = {d.meeting_id for d in found if d.meeting_id}
    meetings = (
        {
            x.id: x
            for x in uow.find(m.Meeting, m.Meeting.id.in_(meeting_ids), alliance_id=alliance_id)
        }
        if meeting_ids
        else {}
    )
    sources = {DECLARATION_SOURCE.format(declaration_id=i): i for i in ids}
    clauses: dict[str, list[m.CharterClause]] = {}
    for clause in uow.find(
        m.CharterClause, m.CharterClause.source.in_(sources), alliance_id=alliance_id
    ):
        clauses.setdefault(sources[clause.source], []).append(clause)
    waived: dict[str, list[Commitment]] = {}
    for commitment in uow.find(
        Commitment, Commitment.waived_by_declaration_id.in_(ids), alliance_id=alliance_id
    ):
        waived.setdefault(commitment.waived_by_declaration_id or "", []).append(commitment)
    by_declaration: dict[str, list[PositionView]] = {}
    for p in positions:
        member = members.get(p.member_id)
        by_declaration.setdefault(p.declaration_id, []).append(
            PositionView(
                p.member_id,
                names.get(member.person_id, "a former member") if member else "a former member",
                partners.get(member.partner_id, "") if member else "",
                Position(p.position),
                p.reason,
            )
        )
    return [
        DeclarationView(
            declaration=d,
            body=bodies.get(d.body_id) if d.body_id else None,
            decision_kind=rights.get(d.decision_right_id) if d.decision_right_id else None,
            meeting=meetings.get(d.meeting_id) if d.meeting_id else None,
            positions=sorted(by_declaration.get(d.id, []), key=lambda v: (v.partner, v.name)),
            declared_by=names.get(d.declared_by_person_id) if d.declared_by_person_id else None,
            clauses=clauses.get(d.id, []),
            waived=waived.get(d.id, []),
        )
        for d in found
    ]


def declarations(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, request: PageRequest
) -> Page[DeclarationView]:
    """The declarations log: newest first, each with its body, right, meeting and positions."""
    open_alliance(uow, actor, alliance_id)
    statement = sa.select(m.Declaration).where(m.Declaration.alliance_id == alliance_id)
    columns = (m.Declaration.declared_at, m.Declaration.id)
    page = keyset(
        uow.session, statement, columns, request, lambda d: (d.declared_at, d.id), descending=True
    )
    return Page(_views(uow, alliance_id, page.items), page.next_cursor)


def declaration(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, declaration_id: str
) -> DeclarationView:
    open_alliance(uow, actor, alliance_id)
    found = uow.get(m.Declaration, alliance_id=alliance_id, id=declaration_id)
    if found is None:
        raise NotFound("no such declaration in this alliance")
    [view] = _views(uow, alliance_id, [found])
    return view


@dataclass(frozen=True)
class ClauseView:
    clause: m.CharterClause
    origin: str
    """"declaration", "deliberation" or "" (written in directly)."""
    origin_id: str | None
    repealed_by: m.Declaration | None


def _origin(source: str) -> tuple[str, str | None]:
    if source.startswith("declaration "):
        return "declaration", source.removeprefix("declaration ")
    if source.startswith("deliberation "):
        return "deliberation", source.removeprefix("deliberation ").split(",", 1)[0]
    return "", None


@dataclass(frozen=True)
class Charter:
    in_force: list[ClauseView]
    repealed: list[ClauseView]


def charter(uow: UnitOfWork, actor: m.Person | None, alliance_id: str) -> Charter:
    """The charter's clauses in force, oldest first, each with where it came from."""
    open_alliance(uow, actor, alliance_id)
    clauses = uow.find(m.CharterClause, order_by=m.CharterClause.added_at, alliance_id=alliance_id)
    repealers = {
        d.id: d
        for d in uow.find(
            m.Declaration,
            m.Declaration.id.in_({c.repealed_by_declaration_id for c in clauses} - {None}),
            alliance_id=alliance_id,
        )
    }
    views = [
        ClauseView(c, *_origin(c.source), repealers.get(c.repealed_by_declaration_id or ""))
        for c in clauses
    ]
    return Charter([v for v in views if v.repealed_by is None], [v for v in views if v.repealed_by])


# ------------------------------------------------------------ the form


@dataclass(frozen=True)
class Seat:
    member_id: str
    name: str
    partner: str
    attended: bool | None
    """None until a meeting is chosen."""


@dataclass(frozen=True)
class Setup:
    """What the form to record a declaration offers, once a body (and a meeting) is chosen."""

    bodies: list[tuple[str, str]]
    body: m.GovernanceBody | None
    rights: list[m.DecisionRight]
    meetings: list[m.Meeting]
    meeting: m.Meeting | None
    seats: list[Seat]
    clauses: list[m.CharterClause]
    late_periods: list[Commitment]
    can_record: bool


def setup(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    body_id: str | None,
    meeting_id: str | None,
) -> Setup:
    """The choices of the declaration form: the body's rights, past meetings and seats."""
    access = open_alliance(uow, actor, alliance_id)
    bodies = uow.find(m.GovernanceBody, order_by=m.GovernanceBody.name, alliance_id=alliance_id)
    body = next((b for b in bodies if b.id == body_id), None)
    if body_id and body is None:
        raise ValidationFailed.one("body_id", "no such governance body in this alliance")
    now = uow.clock.now()
    rights = meetings = []
    seats: list[Seat] = []
    meeting = None
    if body is not None:
        rights = uow.find(
            m.DecisionRight,
            order_by=m.DecisionRight.decision_kind,
            alliance_id=alliance_id,
            body_id=body.id,
        )
        meetings = uow.find(
            m.Meeting,
            m.Meeting.starts_at <= now,
            order_by=m.Meeting.starts_at.desc(),
            alliance_id=alliance_id,
            body_id=body.id,
        )
        meeting = next((x for x in meetings if x.id == meeting_id), None)
        seats = _seats(uow, alliance_id, body.id, meeting)
    seated = any(
        access.membership is not None and s.member_id == access.membership.id for s in seats
    )
    late = [
        c
        for c in uow.find(
            Commitment,
            Commitment.obligation_id.is_not(None),
            Commitment.waived_by_declaration_id.is_(None),
            order_by=Commitment.period_due_on,
            alliance_id=alliance_id,
        )
        if period_status(c, None, now) == "late"
    ]
    return Setup(
        bodies=[(b.id, b.name) for b in bodies],
        body=body,
        rights=rights,
        meetings=meetings,
        meeting=meeting,
        seats=seats,
        clauses=uow.find(
            m.CharterClause,
            m.CharterClause.repealed_by_declaration_id.is_(None),
            order_by=m.CharterClause.added_at,
            alliance_id=alliance_id,
        ),
        late_periods=late,
        can_record=permissions.can_record_declaration(actor, access.membership, seated),
    )


def _seats(
    uow: UnitOfWork, alliance_id: str, body_id: str, meeting: m.Meeting | None
) -> list[Seat]:
    seat_ids = {s.member_id for s in uow.find(m.BodySeat, alliance_id=alliance_id, body_id=body_id)}
    members = (
        {x.id: x for x in uow.find(m.Member, m.Member.id.in_(seat_ids), alliance_id=alliance_id)}
        if seat_ids
        else {}
    )
    names = _names_of_members(uow, alliance_id, seat_ids)
    partners = dict(
        uow.session.execute(
            sa.select(m.Partner.id, m.Organization.name)
            .join(m.Organization, m.Organization.id == m.Partner.organization_id)
            .where(m.Partner.alliance_id == alliance_id)
        ).all()
    )
    present = (
        {
            a.member_id
            for a in uow.find(m.Attendance, alliance_id=alliance_id, meeting_id=meeting.id)
        }
        if meeting
        else set()
    )
    return sorted(
        (
            Seat(
                mid,
                names.get(mid, "?"),
                partners.get(members[mid].partner_id, "") if mid in members else "",
                (mid in present) if meeting else None,
            )
            for mid in seat_ids
        ),
        key=lambda seat: (seat.partner, seat.name),
    )
