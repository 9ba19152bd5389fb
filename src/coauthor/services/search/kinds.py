"""What can be searched: each kind of item with the words it is found by.

A ``Searchable`` names a kind ("risk"), the domain entity it indexes, and
how to write one item as a ``Document``: a title, a body, the item it belongs
to (``parent_id``: an obligation's agreement, a statement's deliberation),
and — for what only one partner may read — that partner (``partner_id``).
``follows`` lists other entities whose changes change this kind's documents
(a person's new name changes their member entries).

To make a new kind of item searchable (the ledger's commitments, the
emergence log's plot twists), write its ``Searchable`` beside its services
and add it to ``SEARCHABLE`` below; ``index.py`` then keeps its entries
current on every write, and ``coauthor search reindex`` rebuilds them. Pages
link a result through ``web/pages/search.py``'s ``LINKS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from coauthor.domain import model as m
from coauthor.domain.commitments import Commitment, DeclarationPosition
from coauthor.domain.emergence import Experiment, Learning, PlotTwist, Tension
from coauthor.domain.labels import label
from coauthor.domain.pulse import CustomItem

Key = tuple[str, str]
"""(alliance id, item id)."""


@dataclass(frozen=True)
class Document:
    title: str
    body: str = ""
    parent_id: str | None = None
    partner_id: str | None = None
    """Set for what only this partner's members may find (its private notes)."""


@dataclass(frozen=True)
class Follow:
    """Changes to ``entity`` rewrite the documents that ``affected`` names."""

    entity: type
    affected: Callable[[Session, Any], Iterable[Key]]


def _own_alliance(item: Any) -> str:
    return item.alliance_id


@dataclass(frozen=True)
class Searchable:
    kind: str
    entity: type
    label: str
    document: Callable[[Session, Any], Document | None]
    """The item as its document; None when it is not to be found (a rejected statement)."""
    follows: tuple[Follow, ...] = ()
    alliance_of: Callable[[Any], str] = _own_alliance
    reads_only_the_item: bool = False
    """Whether ``document`` reads nothing but the item (not the session): its entries can
    then be made away from the database (``index.entries_apart``)."""

    def key_of(self, item: Any) -> Key:
        return self.alliance_of(item), item.id


def _lines(*parts: str | None) -> str:
    return "\n".join(part for part in parts if part)


def _organization_name(session: Session, organization_id: str) -> str:
    organization = session.get(m.Organization, organization_id)
    return organization.name if organization else ""


def _partner_name(session: Session, alliance_id: str, partner_id: str) -> str:
    partner = session.get(m.Partner, {"alliance_id": alliance_id, "id": partner_id})
    return _organization_name(session, partner.organization_id) if partner else ""


def _rows(session: Session, entity: type, *criteria: Any) -> Iterable[Key]:
    statement = sa.select(entity.alliance_id, entity.id).where(*criteria)
    return [(row[0], row[1]) for row in session.execute(statement)]


def _alliance(session: Session, alliance: m.Alliance) -> Document:
    return Document(alliance.name, _lines(label(alliance.kind), alliance.purpose))


def _partner(session: Session, partner: m.Partner) -> Document:
    return Document(_organization_name(session, partner.organization_id), partner.description)


def _member(session: Session, member: m.Member) -> Document | None:
    person = session.get(m.Person, member.person_id)
    if person is None:
        return None
    partner = _partner_name(session, member.alliance_id, member.partner_id)
    details = " · ".join(part for part in (member.title, label(member.role), partner) if part)
    return Document(person.name, _lines(person.email, details), parent_id=member.partner_id)


def _note(session: Session, note: m.PartnerNote) -> Document:
    first_line = note.body.strip().splitlines()[0] if note.body.strip() else ""
    return Document(
        first_line[:120], note.body, parent_id=note.partner_id, partner_id=note.partner_id
    )


def _agreement(session: Session, agreement: m.Agreement) -> Document:
    return Document(agreement.title, _lines(label(agreement.kind), agreement.summary))


def _obligation(session: Session, obligation: m.Obligation) -> Document:
    return Document(
        obligation.title,
        _lines(obligation.description, label(obligation.recurrence)),
        parent_id=obligation.agreement_id,
    )


def _body(session: Session, body: m.GovernanceBody) -> Document:
    return Document(body.name, _lines(label(body.kind), body.purpose))


def _decision_right(session: Session, right: m.DecisionRight) -> Document:
    return Document(
        right.decision_kind, _lines(label(right.rule), right.description), parent_id=right.body_id
    )


def _meeting(session: Session, meeting: m.Meeting) -> Document:
    return Document(meeting.title, _lines(meeting.agenda, meeting.notes), parent_id=meeting.body_id)


def _risk(session: Session, risk: m.Risk) -> Document:
    return Document(risk.title, _lines(risk.description, risk.mitigation))


def _contribution(session: Session, contribution: m.Contribution) -> Document:
    amount = f"{contribution.amount} {contribution.unit}"
    return Document(
        contribution.description,
        _lines(label(contribution.kind), amount),
        parent_id=contribution.partner_id,
    )


def _deliberation(session: Session, deliberation: m.Deliberation) -> Document:
    return Document(deliberation.question, deliberation.description)


def _statement(session: Session, statement: m.Statement) -> Document | None:
    """Only accepted statements: the others are for moderators' eyes."""
    if statement.moderation != m.Moderation.ACCEPTED:
        return None
    return Document(statement.text, parent_id=statement.deliberation_id)


def _declaration(session: Session, declaration: m.Declaration) -> Document:
    """The decision, its rationale and the dissent: a body's seats give theirs one by one."""
    reasons = session.scalars(
        sa.select(DeclarationPosition.reason).where(
            DeclarationPosition.alliance_id == declaration.alliance_id,
            DeclarationPosition.declaration_id == declaration.id,
            DeclarationPosition.reason != "",
        )
    )
    return Document(
        declaration.text,
        _lines(declaration.rationale, declaration.dissent, *reasons),
        parent_id=declaration.body_id,
    )


def _declaration_of_position(session: Session, position: DeclarationPosition) -> Iterable[Key]:
    return [(position.alliance_id, position.declaration_id)]


def _commitment(session: Session, commitment: Commitment) -> Document:
    """What was asked or offered, and the terms now on the table."""
    return Document(commitment.what, commitment.conditions)


def _plot_twist(session: Session, twist: PlotTwist) -> Document:
    """What happened, how it was described, and how it was resolved."""
    return Document(twist.title, _lines(twist.description, twist.resolution))


def _tension(session: Session, tension: Tension) -> Document:
    """The tension's subject, its description and, once closed, its outcome."""
    return Document(tension.about, _lines(tension.description, tension.outcome))


def _experiment(session: Session, experiment: Experiment) -> Document:
    """The hypothesis, what we try, the signal we watch, the result and the adjustment."""
    return Document(
        experiment.hypothesis,
        _lines(experiment.action, experiment.signal, experiment.result, experiment.adjustment),
    )


def _learning(session: Session, learning: Learning) -> Document:
    return Document(learning.text, parent_id=learning.experiment_id)


def _own_question(session: Session, item: CustomItem) -> Document | None:
    """An alliance's own pulse question while waves still ask it (what members are shown)."""
    if item.retired_at is not None:
        return None
    return Document(item.text)


def _clause(session: Session, clause: m.CharterClause) -> Document:
    return Document(clause.text)


def _partners_of_organization(session: Session, organization: m.Organization) -> Iterable[Key]:
    return _rows(session, m.Partner, m.Partner.organization_id == organization.id)


def _members_of_person(session: Session, person: m.Person) -> Iterable[Key]:
    return _rows(session, m.Member, m.Member.person_id == person.id)


def _members_of_partner(session: Session, partner: m.Partner) -> Iterable[Key]:
    return _rows(
        session,
        m.Member,
        m.Member.alliance_id == partner.alliance_id,
        m.Member.partner_id == partner.id,
    )


def _members_of_organization(session: Session, organization: m.Organization) -> Iterable[Key]:
    partners = sa.select(m.Partner.id).where(m.Partner.organization_id == organization.id)
    return _rows(session, m.Member, m.Member.partner_id.in_(partners))


SEARCHABLE: tuple[Searchable, ...] = (
    Searchable(
        "alliance", m.Alliance, "Alliance", _alliance, alliance_of=lambda alliance: alliance.id
    ),
    Searchable(
        "partner",
        m.Partner,
        "Partner",
        _partner,
        follows=(Follow(m.Organization, _partners_of_organization),),
    ),
    Searchable(
        "member",
        m.Member,
        "Person",
        _member,
        follows=(
            Follow(m.Person, _members_of_person),
            Follow(m.Partner, _members_of_partner),
            Follow(m.Organization, _members_of_organization),
        ),
    ),
    Searchable("partner_note", m.PartnerNote, "Private note", _note),
    Searchable("agreement", m.Agreement, "Agreement", _agreement),
    Searchable("obligation", m.Obligation, "Obligation", _obligation),
    Searchable("body", m.GovernanceBody, "Governance body", _body),
    Searchable("decision_right", m.DecisionRight, "Decision right", _decision_right),
    Searchable("meeting", m.Meeting, "Meeting", _meeting),
    Searchable("risk", m.Risk, "Risk", _risk),
    Searchable("contribution", m.Contribution, "Contribution", _contribution),
    Searchable("deliberation", m.Deliberation, "Deliberation", _deliberation),
    Searchable("statement", m.Statement, "Statement", _statement),
    Searchable(
        "declaration",
        m.Declaration,
        "Declaration",
        _declaration,
        follows=(Follow(DeclarationPosition, _declaration_of_position),),
    ),
    Searchable("charter_clause", m.CharterClause, "Charter clause", _clause),
    Searchable("commitment", Commitment, "Commitment", _commitment, reads_only_the_item=True),
    Searchable("pulse_item", CustomItem, "Pulse question", _own_question),
    Searchable("plot_twist", PlotTwist, "Plot twist", _plot_twist),
    Searchable("tension", Tension, "Tension", _tension),
    Searchable("experiment", Experiment, "Experiment", _experiment),
    Searchable("learning", Learning, "Learning", _learning),
)

BY_KIND: dict[str, Searchable] = {searchable.kind: searchable for searchable in SEARCHABLE}
BY_ENTITY: dict[type, Searchable] = {searchable.entity: searchable for searchable in SEARCHABLE}
FOLLOWERS: dict[type, list[tuple[Searchable, Follow]]] = {}
for _searchable in SEARCHABLE:
    for _follow in _searchable.follows:
        FOLLOWERS.setdefault(_follow.entity, []).append((_searchable, _follow))
