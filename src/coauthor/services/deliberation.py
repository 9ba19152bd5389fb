"""Deliberations: statements, votes, moderation, routing, results and promotion.

Votes are private. No function here returns one person's votes to anyone
else: the vote matrix is built for the analysis only, and the event log
records that a vote was cast on a statement, never its value or its voter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from threading import Lock
from typing import Any

import sqlalchemy as sa

from coauthor import permissions
from coauthor.analysis.opinion import (
    FaultLineReport,
    OpinionResult,
    PartnerAlignment,
    VoteMatrix,
    analyze,
    bridging_and_fault_lines,
    partner_alignment,
)
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import Conflict, NotFound, ValidationFailed
from coauthor.ids import new_id
from coauthor.services import eventlog, inputs
from coauthor.services.alliances import Access, open_alliance, open_for_edit

OTHER_PARTNERS = "Other partners"
META_PRIORITY = 49.0


@dataclass(frozen=True)
class DeliberationAccess:
    access: Access
    deliberation: m.Deliberation


def open_deliberation(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, deliberation_id: str
) -> DeliberationAccess:
    access = open_alliance(uow, actor, alliance_id)
    deliberation = uow.get(m.Deliberation, alliance_id=alliance_id, id=deliberation_id)
    if deliberation is None:
        raise NotFound("no such deliberation")
    return DeliberationAccess(access, deliberation)


def list_deliberations(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str
) -> list[m.Deliberation]:
    open_alliance(uow, actor, alliance_id)
    return uow.find(
        m.Deliberation, order_by=m.Deliberation.created_at.desc(), alliance_id=alliance_id
    )


def do_create_deliberation(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, payload: Any
) -> m.Deliberation:
    open_for_edit(uow, actor, alliance_id)
    data = inputs.parse(inputs.DeliberationInput, payload)
    deliberation = m.Deliberation(
        alliance_id=alliance_id,
        id=new_id("dl"),
        question=data.question,
        description=data.description,
        status=m.DeliberationStatus.OPEN,
        strict_moderation=data.strict_moderation,
        created_at=uow.clock.now(),
    )
    uow.add(deliberation)
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "deliberation.created",
        data.model_dump(mode="json") | {"id": deliberation.id},
    )
    return deliberation


def do_set_status(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    status: m.DeliberationStatus,
) -> m.Deliberation:
    open_for_edit(uow, actor, alliance_id)
    deliberation = open_deliberation(uow, actor, alliance_id, deliberation_id).deliberation
    deliberation.status = status
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "deliberation.status_set",
        {"id": deliberation_id, "status": status.value},
    )
    return deliberation


def _require_open(deliberation: m.Deliberation) -> None:
    if deliberation.status != m.DeliberationStatus.OPEN:
        raise Conflict("this deliberation is closed")


def _participant(
    uow: UnitOfWork, target: DeliberationAccess, *, create: bool
) -> m.Participant | None:
    """The acting member's participant record, created on their first act."""
    membership = permissions.take_part(target.access.actor, target.access.membership)
    deliberation = target.deliberation
    found = uow.find_one(
        m.Participant,
        alliance_id=deliberation.alliance_id,
        deliberation_id=deliberation.id,
        person_id=membership.person_id,
    )
    if found or not create:
        return found
    participant = m.Participant(
        alliance_id=deliberation.alliance_id,
        id=new_id("pt"),
        deliberation_id=deliberation.id,
        person_id=membership.person_id,
        partner_id=membership.partner_id,
        external_id=None,
        joined_at=uow.clock.now(),
    )
    uow.add(participant)
    uow.flush()
    return participant


def do_submit_statement(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    payload: Any,
) -> m.Statement:
    """A participant's statement; it waits for moderation when moderation is strict."""
    target = open_deliberation(uow, actor, alliance_id, deliberation_id)
    _require_open(target.deliberation)
    data = inputs.parse(inputs.StatementInput, payload)
    participant = _participant(uow, target, create=True)
    assert participant is not None
    duplicate = uow.find_one(
        m.Statement, alliance_id=alliance_id, deliberation_id=deliberation_id, text=data.text
    )
    if duplicate is not None:
        raise Conflict("this statement has already been written", ("text",))
    statement = m.Statement(
        alliance_id=alliance_id,
        id=new_id("st"),
        deliberation_id=deliberation_id,
        text=data.text,
        moderation=(
            m.Moderation.PENDING if target.deliberation.strict_moderation else m.Moderation.ACCEPTED
        ),
        is_meta=False,
        author_participant_id=participant.id,
        external_id=None,
        created_at=uow.clock.now(),
    )
    uow.add(statement)
    eventlog.append(
        uow,
        alliance_id,
        None,
        "statement.submitted",
        {"deliberation_id": deliberation_id, "id": statement.id, "text": statement.text},
    )
    return statement


def statements(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    moderation: m.Moderation | None = m.Moderation.ACCEPTED,
) -> list[m.Statement]:
    """Statements of a deliberation; only managers may list pending or rejected ones."""
    target = open_deliberation(uow, actor, alliance_id, deliberation_id)
    if moderation != m.Moderation.ACCEPTED:
        permissions.edit_mechanics(actor, target.access.membership)
    criteria = {"moderation": moderation} if moderation is not None else {}
    return uow.find(
        m.Statement,
        order_by=m.Statement.created_at,
        alliance_id=alliance_id,
        deliberation_id=deliberation_id,
        **criteria,
    )


def do_moderate(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    statement_id: str,
    payload: Any,
) -> m.Statement:
    open_for_edit(uow, actor, alliance_id)
    data = inputs.parse(inputs.ModerationInput, payload)
    statement = _statement(uow, alliance_id, deliberation_id, statement_id)
    statement.moderation = m.Moderation(data.decision)
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "statement.moderated",
        {"deliberation_id": deliberation_id, "id": statement_id, "decision": data.decision},
    )
    return statement


def _statement(
    uow: UnitOfWork,
    alliance_id: str,
    deliberation_id: str,
    statement_id: str,
    loc: str = "statement_id",
) -> m.Statement:
    statement = uow.get(m.Statement, alliance_id=alliance_id, id=statement_id)
    if statement is None or statement.deliberation_id != deliberation_id:
        raise ValidationFailed.one(loc, "no such statement in this deliberation")
    return statement


def do_vote(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    payload: Any,
) -> m.Vote:
    """Record (or change) the actor's vote; the newest vote is the one that counts."""
    target = open_deliberation(uow, actor, alliance_id, deliberation_id)
    _require_open(target.deliberation)
    data = inputs.parse(inputs.VoteInput, payload)
    statement = _statement(uow, alliance_id, deliberation_id, data.statement_id)
    if statement.moderation != m.Moderation.ACCEPTED:
        raise ValidationFailed.one("statement_id", "this statement is not open for votes")
    participant = _participant(uow, target, create=True)
    assert participant is not None
    key = {
        "alliance_id": alliance_id,
        "deliberation_id": deliberation_id,
        "participant_id": participant.id,
        "statement_id": statement.id,
    }
    vote = uow.get(m.Vote, **key)
    if vote is None:
        vote = m.Vote(**key, value=data.value, at=uow.clock.now())
        uow.add(vote)
    else:
        vote.value, vote.at = data.value, uow.clock.now()
    eventlog.append(
        uow,
        alliance_id,
        None,
        "vote.cast",
        {"deliberation_id": deliberation_id, "statement_id": statement.id},
    )
    return vote


@dataclass(frozen=True)
class NextStatement:
    statement: m.Statement | None
    remaining: int
    voted: int


def next_statement(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    rng: random.Random | None = None,
) -> NextStatement:
    """The next statement for the actor, drawn with probability ∝ Pol.is priority."""
    target = open_deliberation(uow, actor, alliance_id, deliberation_id)
    participant = _participant(uow, target, create=False)
    accepted = statements(uow, actor, alliance_id, deliberation_id)
    voted_ids = _voted_statement_ids(uow, participant) if participant else set()
    unvoted = [s for s in accepted if s.id not in voted_ids]
    if not unvoted:
        return NextStatement(None, 0, len(voted_ids))
    priorities = _cached_priorities(uow, target.deliberation)
    weights = [META_PRIORITY if s.is_meta else priorities.get(s.id, 1.0) or 1e-9 for s in unvoted]
    chosen = (rng or random.Random()).choices(unvoted, weights=weights, k=1)[0]
    return NextStatement(chosen, len(unvoted), len(voted_ids))


def _voted_statement_ids(uow: UnitOfWork, participant: m.Participant) -> set[str]:
    rows = uow.session.scalars(
        sa.select(m.Vote.statement_id).where(
            m.Vote.alliance_id == participant.alliance_id,
            m.Vote.participant_id == participant.id,
        )
    )
    return set(rows)


def vote_matrix(uow: UnitOfWork, deliberation: m.Deliberation) -> VoteMatrix:
    """Every current vote, for the analysis only (never shown per person)."""
    rows = uow.session.execute(
        sa.select(m.Vote.participant_id, m.Vote.statement_id, m.Vote.value)
        .where(
            m.Vote.alliance_id == deliberation.alliance_id,
            m.Vote.deliberation_id == deliberation.id,
        )
        .order_by(m.Vote.at)
    ).all()
    every = uow.find(
        m.Statement,
        order_by=m.Statement.created_at,
        alliance_id=deliberation.alliance_id,
        deliberation_id=deliberation.id,
    )
    shown = [s for s in every if s.moderation != m.Moderation.PENDING]
    shown_ids = {s.id for s in shown}
    return VoteMatrix.from_votes(
        [row for row in rows if row[1] in shown_ids],
        moderated_out=[s.id for s in shown if s.moderation == m.Moderation.REJECTED or s.is_meta],
        statement_ids=[s.id for s in shown],
        meta=[s.id for s in shown if s.is_meta],
    )


@dataclass(frozen=True)
class PartnerBreakdown:
    """Partner alignment with small partners merged so no one can be singled out."""

    alignment: PartnerAlignment | None
    lines: FaultLineReport | None
    labels: dict[str, str]
    withheld: list[str]


@dataclass(frozen=True)
class DeliberationResults:
    deliberation: m.Deliberation
    opinion: OpinionResult | None
    statements: dict[str, m.Statement]
    participants: int
    votes: int
    partners: PartnerBreakdown


class _ResultCache:
    """The last analysis per deliberation, reused while no vote or moderation changed.

    The previous result also warm-starts the next analysis, as Pol.is does.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[tuple, OpinionResult]] = {}
        self._lock = Lock()

    def get(self, key: tuple[str, str]) -> tuple[tuple, OpinionResult] | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: tuple[str, str], fingerprint: tuple, result: OpinionResult) -> None:
        with self._lock:
            self._entries[key] = (fingerprint, result)


_cache = _ResultCache()


def _fingerprint(uow: UnitOfWork, deliberation: m.Deliberation) -> tuple:
    votes = uow.session.execute(
        sa.select(sa.func.count(), sa.func.max(m.Vote.at)).where(
            m.Vote.alliance_id == deliberation.alliance_id,
            m.Vote.deliberation_id == deliberation.id,
        )
    ).one()
    moderation = uow.session.execute(
        sa.select(m.Statement.moderation, sa.func.count())
        .where(
            m.Statement.alliance_id == deliberation.alliance_id,
            m.Statement.deliberation_id == deliberation.id,
        )
        .group_by(m.Statement.moderation)
        .order_by(m.Statement.moderation)
    ).all()
    return (votes[0], str(votes[1]), tuple((str(k), n) for k, n in moderation))


def opinion_of(uow: UnitOfWork, deliberation: m.Deliberation) -> OpinionResult | None:
    """The (cached) opinion analysis, or None while there are no votes."""
    key = (deliberation.alliance_id, deliberation.id)
    fingerprint = _fingerprint(uow, deliberation)
    cached = _cache.get(key)
    if cached and cached[0] == fingerprint:
        return cached[1]
    matrix = vote_matrix(uow, deliberation)
    if matrix.n_votes == 0:
        return None
    result = analyze(matrix, previous=cached[1] if cached else None)
    _cache.put(key, fingerprint, result)
    return result


def _cached_priorities(uow: UnitOfWork, deliberation: m.Deliberation) -> dict[str, float]:
    opinion = opinion_of(uow, deliberation)
    return dict(opinion.priorities) if opinion else {}


def _partner_names(uow: UnitOfWork, alliance_id: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for partner in uow.find(m.Partner, alliance_id=alliance_id):
        organization = uow.get(m.Organization, id=partner.organization_id)
        names[partner.id] = organization.name if organization else partner.id
    return names


def merge_small_partners(
    partner_by_participant: dict[str, str | None], threshold: int
) -> tuple[dict[str, str], list[str]]:
    """Fold partners with fewer than ``threshold`` participants into one "other" bucket.

    Returns the participant → reported label map and the partners withheld
    altogether (when even the merged bucket is below the threshold).
    """
    sizes: dict[str, int] = {}
    for partner in partner_by_participant.values():
        if partner is not None:
            sizes[partner] = sizes.get(partner, 0) + 1
    small = {partner for partner, size in sizes.items() if size < threshold}
    merged_size = sum(sizes[partner] for partner in small)
    withheld = sorted(small) if 0 < merged_size < threshold else []
    labels: dict[str, str] = {}
    for participant, partner in partner_by_participant.items():
        if partner is None or partner in withheld:
            continue
        labels[participant] = OTHER_PARTNERS if partner in small else partner
    return labels, withheld


def _partner_breakdown(
    uow: UnitOfWork, deliberation: m.Deliberation, opinion: OpinionResult | None, threshold: int
) -> PartnerBreakdown:
    participants = uow.find(
        m.Participant, alliance_id=deliberation.alliance_id, deliberation_id=deliberation.id
    )
    names = _partner_names(uow, deliberation.alliance_id)
    labels, withheld = merge_small_partners({p.id: p.partner_id for p in participants}, threshold)
    reported = {p: (names.get(label, label)) for p, label in labels.items()}
    if opinion is None or len(set(reported.values())) < 2:
        return PartnerBreakdown(None, None, names, [names.get(w, w) for w in withheld])
    alignment = partner_alignment(opinion.group_of(), reported, permutations=1000)
    lines = bridging_and_fault_lines(vote_matrix(uow, deliberation), reported)
    return PartnerBreakdown(alignment, lines, names, [names.get(w, w) for w in withheld])


def results(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    anonymity_threshold: int,
) -> DeliberationResults:
    target = open_deliberation(uow, actor, alliance_id, deliberation_id)
    deliberation = target.deliberation
    opinion = opinion_of(uow, deliberation)
    shown = {
        s.id: s
        for s in uow.find(m.Statement, alliance_id=alliance_id, deliberation_id=deliberation_id)
        if s.moderation == m.Moderation.ACCEPTED
    }
    participants = uow.session.scalar(
        sa.select(sa.func.count()).where(
            m.Participant.alliance_id == alliance_id,
            m.Participant.deliberation_id == deliberation_id,
        )
    )
    votes = uow.session.scalar(
        sa.select(sa.func.count()).where(
            m.Vote.alliance_id == alliance_id, m.Vote.deliberation_id == deliberation_id
        )
    )
    return DeliberationResults(
        deliberation=deliberation,
        opinion=opinion,
        statements=shown,
        participants=participants or 0,
        votes=votes or 0,
        partners=_partner_breakdown(uow, deliberation, opinion, anonymity_threshold),
    )


def do_promote(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    statement_id: str,
    payload: Any,
) -> m.Declaration | m.CharterClause:
    """Turn a consensus statement into a declaration or a clause of the charter."""
    open_for_edit(uow, actor, alliance_id)
    target = open_deliberation(uow, actor, alliance_id, deliberation_id)
    data = inputs.parse(inputs.PromotionInput, payload)
    statement = _statement(uow, alliance_id, deliberation_id, statement_id)
    opinion = opinion_of(uow, target.deliberation)
    consensus_ids = {c.statement_id for c in opinion.consensus.agree} if opinion else set()
    if statement.id not in consensus_ids:
        raise Conflict("only a statement in the agreed consensus can be promoted")
    if data.body_id and uow.get(m.GovernanceBody, alliance_id=alliance_id, id=data.body_id) is None:
        raise ValidationFailed.one("body_id", "no such governance body in this alliance")
    source = f"deliberation {deliberation_id}, statement {statement_id}"
    now = uow.clock.now()
    promoted: m.Declaration | m.CharterClause
    if data.target == "declaration":
        promoted = m.Declaration(
            alliance_id=alliance_id,
            id=new_id("de"),
            text=statement.text,
            rationale=data.rationale,
            body_id=data.body_id,
            rule=data.rule,
            declared_at=now,
            declared_by_person_id=actor.id if actor else None,
            source=source,
        )
    else:
        promoted = m.CharterClause(
            alliance_id=alliance_id,
            id=new_id("cc"),
            text=statement.text,
            added_at=now,
            source=source,
        )
    uow.add(promoted)
    eventlog.append(
        uow,
        alliance_id,
        actor,
        f"{data.target}.promoted",
        {"id": promoted.id, "statement_id": statement_id, "text": statement.text},
    )
    return promoted
