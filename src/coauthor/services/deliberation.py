"""Deliberations: statements, votes, moderation, routing, results and promotion.

Votes are private. No function here returns one person's votes to anyone
else: the vote matrix is built for the analysis only, and the event log
records that a vote was cast on a statement, never its value or its voter.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, replace
from datetime import datetime
from threading import Lock
from typing import Any, Generic, TypeVar

import numpy as np
import sqlalchemy as sa
from pydantic import BaseModel

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
from coauthor.domain.errors import CoauthorError, Conflict, NotFound, ValidationFailed
from coauthor.ids import new_id
from coauthor.services import eventlog, inputs
from coauthor.services.alliances import Access, open_alliance, open_for_edit

OTHER_PARTNERS = "Other partners"
META_PRIORITY = 49.0
DIVISIVE_MAX = 5
DIVISIVE_MIN_SPREAD = 0.25
"""A statement is divisive when its agree rate differs by this much between two groups."""
SOURCE_PREFIX = "deliberation {deliberation_id}, statement "
T = TypeVar("T")
InputT = TypeVar("InputT", bound=BaseModel)


@dataclass(frozen=True)
class DeliberationAccess:
    access: Access
    deliberation: m.Deliberation

    @property
    def can_take_part(self) -> bool:
        """Whether the actor may vote and write statements (members, not observers)."""
        try:
            permissions.take_part(self.access.actor, self.access.membership)
        except CoauthorError:
            return False
        return True


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


@dataclass(frozen=True)
class DeliberationSummary:
    """A deliberation with its counts, for a list of them."""

    deliberation: m.Deliberation
    statements: int
    """Accepted statements."""
    pending: int
    participants: int


def summaries(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str
) -> list[DeliberationSummary]:
    """Every deliberation of the alliance, newest first, with its counts."""
    found = list_deliberations(uow, actor, alliance_id)
    by_state: dict[tuple[str, str], int] = {}
    for deliberation_id, state, count in uow.session.execute(
        sa.select(m.Statement.deliberation_id, m.Statement.moderation, sa.func.count())
        .where(m.Statement.alliance_id == alliance_id)
        .group_by(m.Statement.deliberation_id, m.Statement.moderation)
    ).all():
        by_state[(deliberation_id, str(state))] = count
    people = dict(
        uow.session.execute(
            sa.select(m.Participant.deliberation_id, sa.func.count())
            .where(m.Participant.alliance_id == alliance_id)
            .group_by(m.Participant.deliberation_id)
        ).all()
    )
    return [
        DeliberationSummary(
            deliberation=d,
            statements=by_state.get((d.id, str(m.Moderation.ACCEPTED)), 0),
            pending=by_state.get((d.id, str(m.Moderation.PENDING)), 0),
            participants=people.get(d.id, 0),
        )
        for d in found
    ]


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
    status: m.DeliberationStatus | str,
) -> m.Deliberation:
    """Close a deliberation (no more votes or statements) or open it again."""
    open_for_edit(uow, actor, alliance_id)
    deliberation = open_deliberation(uow, actor, alliance_id, deliberation_id).deliberation
    try:
        status = m.DeliberationStatus(status)
    except ValueError:
        raise ValidationFailed.one("status", "must be open or closed") from None
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


def _begin_act(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    model: type[InputT],
    payload: Any,
) -> tuple[DeliberationAccess, InputT]:
    """A member's act in a deliberation: they may take part, it is open, the input is valid.

    Checked in that order, so an observer hears "not allowed" before anything else.
    """
    target = open_deliberation(uow, actor, alliance_id, deliberation_id)
    permissions.take_part(actor, target.access.membership)
    _require_open(target.deliberation)
    return target, inputs.parse(model, payload)


def do_submit_statement(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    payload: Any,
) -> m.Statement:
    """A participant's statement; it waits for moderation when moderation is strict."""
    target, data = _begin_act(
        uow, actor, alliance_id, deliberation_id, inputs.StatementInput, payload
    )
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
    return _ordered(uow, alliance_id, deliberation_id, **criteria)


def _ordered(
    uow: UnitOfWork, alliance_id: str, deliberation_id: str, **criteria: Any
) -> list[m.Statement]:
    """Statements in the order they were written (as stored, when written at once)."""
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
    open_deliberation(uow, actor, alliance_id, deliberation_id)
    statement = _statement_at(uow, alliance_id, deliberation_id, statement_id)
    data = inputs.parse(inputs.ModerationInput, payload)
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
    """A statement named in the input: an unknown one is an error of that field (422)."""
    statement = uow.get(m.Statement, alliance_id=alliance_id, id=statement_id)
    if statement is None or statement.deliberation_id != deliberation_id:
        raise ValidationFailed.one(loc, "no such statement in this deliberation")
    return statement


def _statement_at(
    uow: UnitOfWork, alliance_id: str, deliberation_id: str, statement_id: str
) -> m.Statement:
    """A statement named in the path: an unknown one is not found (404)."""
    statement = uow.get(m.Statement, alliance_id=alliance_id, id=statement_id)
    if statement is None or statement.deliberation_id != deliberation_id:
        raise NotFound("no such statement in this deliberation")
    return statement


def do_vote(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    payload: Any,
) -> m.Vote:
    """Record (or change) the actor's vote; the newest vote is the one that counts."""
    target, data = _begin_act(uow, actor, alliance_id, deliberation_id, inputs.VoteInput, payload)
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
    every = _ordered(uow, deliberation.alliance_id, deliberation.id)
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
class DivisiveStatement:
    """A statement the opinion groups answer differently: its agree rate in each group.

    ``agree_rates`` maps a group id to the share of that group's votes on the
    statement that agree (passes count as votes); groups that did not vote on
    it are left out.
    """

    statement_id: str
    variance: float
    spread: float
    agree_rates: dict[int, float]


@dataclass(frozen=True)
class DeliberationResults:
    deliberation: m.Deliberation
    opinion: OpinionResult | None
    statements: dict[str, m.Statement]
    participants: int
    votes: int
    partners: PartnerBreakdown
    divisive: tuple[DivisiveStatement, ...] = ()
    statement_votes: dict[str, int] = field(default_factory=dict)
    """How many people voted on each statement (passes included)."""
    version: str = ""
    """Changes whenever anything shown in the results does (for polling clients)."""
    undescribed_groups: frozenset[int] = frozenset()
    """Groups smaller than the anonymity threshold: their votes are not described."""


def _without_small_groups(
    opinion: OpinionResult | None, divisive: tuple[DivisiveStatement, ...], threshold: int
) -> tuple[OpinionResult | None, tuple[DivisiveStatement, ...], frozenset[int]]:
    """Strip what a group smaller than the anonymity threshold voted.

    A group of one or two is one or two people's votes: its representative
    statements and its agree rates on divisive statements are withheld here,
    at the query, so no page or API can show them.
    """
    if opinion is None:
        return None, divisive, frozenset()
    small = frozenset(g.id for g in opinion.groups if g.size < threshold)
    if not small:
        return opinion, divisive, small
    groups = tuple(replace(g, representative=()) if g.id in small else g for g in opinion.groups)
    kept = []
    for statement in divisive:
        rates = {g: r for g, r in statement.agree_rates.items() if g not in small}
        if len(rates) >= 2 and max(rates.values()) - min(rates.values()) >= DIVISIVE_MIN_SPREAD:
            kept.append(replace(statement, agree_rates=rates))
    return replace(opinion, groups=groups), tuple(kept), small


class _Cache(Generic[T]):
    """The last value per deliberation, reused while its fingerprint is unchanged."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[tuple, T]] = {}
        self._lock = Lock()

    def get(self, key: tuple[str, str]) -> tuple[tuple, T] | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: tuple[str, str], fingerprint: tuple, value: T) -> None:
        with self._lock:
            self._entries[key] = (fingerprint, value)


class _ResultCache(_Cache[OpinionResult]):
    """The last analysis per deliberation, reused while no vote or moderation changed.

    The previous result also warm-starts the next analysis, as Pol.is does.
    """


@dataclass(frozen=True)
class _Extras:
    partners: PartnerBreakdown
    divisive: tuple[DivisiveStatement, ...] = field(default_factory=tuple)


_cache = _ResultCache()
_extras_cache: _Cache[_Extras] = _Cache()


def _fingerprint(uow: UnitOfWork, deliberation: m.Deliberation) -> tuple:
    """What the analysis depends on, cheaply: changes whenever a vote or a moderation does.

    The sum of the values catches a vote changed within the same clock tick
    (simulated time stands still); moderation is summed up by the statements
    that are not accepted, so swapping two decisions is seen too.
    """
    votes = uow.session.execute(
        sa.select(sa.func.count(), sa.func.max(m.Vote.at), sa.func.sum(m.Vote.value)).where(
            m.Vote.alliance_id == deliberation.alliance_id,
            m.Vote.deliberation_id == deliberation.id,
        )
    ).one()
    where = (
        m.Statement.alliance_id == deliberation.alliance_id,
        m.Statement.deliberation_id == deliberation.id,
    )
    total = uow.session.scalar(sa.select(sa.func.count()).where(*where))
    unaccepted = uow.session.execute(
        sa.select(m.Statement.id, m.Statement.moderation)
        .where(*where, m.Statement.moderation != m.Moderation.ACCEPTED)
        .order_by(m.Statement.id)
    ).all()
    return (
        votes[0],
        str(votes[1]),
        int(votes[2] or 0),
        total,
        tuple((sid, str(state)) for sid, state in unaccepted),
    )


def _opinion(
    uow: UnitOfWork, deliberation: m.Deliberation, fingerprint: tuple
) -> OpinionResult | None:
    key = (deliberation.alliance_id, deliberation.id)
    cached = _cache.get(key)
    if cached and cached[0] == fingerprint:
        return cached[1]
    matrix = vote_matrix(uow, deliberation)
    if matrix.n_votes == 0:
        return None
    result = analyze(matrix, previous=cached[1] if cached else None)
    _cache.put(key, fingerprint, result)
    return result


def opinion_of(uow: UnitOfWork, deliberation: m.Deliberation) -> OpinionResult | None:
    """The (cached) opinion analysis, or None while there are no votes."""
    return _opinion(uow, deliberation, _fingerprint(uow, deliberation))


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
    uow: UnitOfWork,
    deliberation: m.Deliberation,
    opinion: OpinionResult | None,
    threshold: int,
    participants: list[m.Participant],
    matrix: VoteMatrix | None,
) -> PartnerBreakdown:
    """Partners are counted by the participants placed in an opinion group.

    Those are the people in the groups × partners table, so every partner
    column it shows holds at least ``threshold`` people. Fault lines need
    ``threshold`` votes (and at least 5) from each partner they compare, and a
    bridging statement is reported only when every partner gave it that many.
    """
    names = _partner_names(uow, deliberation.alliance_id)
    placed = opinion.group_of() if opinion is not None else {}
    counted = {p.id: p.partner_id for p in participants if placed.get(p.id) is not None}
    labels, withheld = merge_small_partners(counted, threshold)
    reported = {p: (names.get(label, label)) for p, label in labels.items()}
    withheld_names = [names.get(w, w) for w in withheld]
    if opinion is None or matrix is None or len(set(reported.values())) < 2:
        return PartnerBreakdown(None, None, names, withheld_names)
    alignment = partner_alignment(placed, reported, permutations=1000)
    lines = bridging_and_fault_lines(matrix, reported, min_votes_per_partner=max(5, threshold))
    counts = _partner_counts(
        matrix, reported, [x.statement_id for x in (*lines.bridging, *lines.fault_lines)]
    )
    partners = set(reported.values())
    bridging = tuple(
        replace(b, agree_rates=_shares(counts, b.statement_id, b.agree_rates))
        for b in lines.bridging
        if all(counts.get((b.statement_id, p), (0, 0))[0] >= threshold for p in partners)
    )
    fault_lines = tuple(
        replace(f, agree_rates=_shares(counts, f.statement_id, f.agree_rates))
        for f in lines.fault_lines
    )
    lines = FaultLineReport(bridging=bridging, fault_lines=fault_lines)
    return PartnerBreakdown(alignment, lines, names, withheld_names)


def _partner_counts(
    matrix: VoteMatrix, reported: dict[str, str], statement_ids: list[str]
) -> dict[tuple[str, str], tuple[int, int]]:
    """(statement, partner) → (votes, agrees), for the statements asked about."""
    if not statement_ids:
        return {}
    column = {sid: i for i, sid in enumerate(matrix.statement_ids)}
    wanted = np.array([column[sid] for sid in set(statement_ids)], dtype=np.int64)
    rows, cols, values = matrix.cells()
    keep = np.isin(cols, wanted)
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    for row, col, value in zip(
        rows[keep].tolist(), cols[keep].tolist(), values[keep].tolist(), strict=True
    ):
        label = reported.get(matrix.participant_ids[row])
        if label is not None:
            key = (matrix.statement_ids[col], label)
            votes, agrees = counts.get(key, (0, 0))
            counts[key] = (votes + 1, agrees + (value == 1))
    return counts


def _shares(
    counts: dict[tuple[str, str], tuple[int, int]], statement_id: str, rates: dict
) -> dict[Any, float]:
    """Each partner's plain share of agree votes (the analysis smooths its rates for testing)."""
    shares = {}
    for partner in rates:
        votes, agrees = counts.get((statement_id, partner), (0, 0))
        shares[partner] = agrees / votes if votes else 0.0
    return shares


def divisive_statements(
    matrix: VoteMatrix, opinion: OpinionResult, limit: int = DIVISIVE_MAX
) -> tuple[DivisiveStatement, ...]:
    """Statements whose agree rate varies most between opinion groups.

    Over the groups that voted on a statement (at least two), the variance of
    their agree rates; a statement counts when two groups differ by at least
    ``DIVISIVE_MIN_SPREAD``. Moderated-out and meta statements are ignored.
    """
    group_of = opinion.group_of()
    group_ids = sorted({g for g in group_of.values() if g is not None})
    if len(group_ids) < 2:
        return ()
    position = {gid: i for i, gid in enumerate(group_ids)}
    row_group = np.array(
        [position.get(group_of.get(p), -1) for p in matrix.participant_ids], dtype=np.int64
    )
    rows, cols, values = matrix.cells()
    group = row_group[rows] if rows.size else np.zeros(0, dtype=np.int64)
    keep = group >= 0
    n_s = matrix.shape[1]
    cell = group[keep] * n_s + cols[keep]
    size = len(group_ids) * n_s
    seen = np.bincount(cell, minlength=size).reshape(len(group_ids), n_s)
    agree = np.bincount(cell[values[keep] == 1], minlength=size).reshape(len(group_ids), n_s)
    excluded = matrix.moderated_out | matrix.meta
    found = []
    for s, sid in enumerate(matrix.statement_ids):
        voted = np.flatnonzero(seen[:, s] > 0)
        if sid in excluded or voted.size < 2:
            continue
        rates = agree[voted, s] / seen[voted, s]
        spread = float(rates.max() - rates.min())
        if spread < DIVISIVE_MIN_SPREAD:
            continue
        found.append(
            DivisiveStatement(
                statement_id=sid,
                variance=float(rates.var()),
                spread=spread,
                agree_rates={
                    group_ids[g]: float(r)
                    for g, r in zip(voted.tolist(), rates.tolist(), strict=True)
                },
            )
        )
    found.sort(key=lambda d: (-d.variance, d.statement_id))
    return tuple(found[:limit])


def _extras(
    uow: UnitOfWork,
    deliberation: m.Deliberation,
    opinion: OpinionResult | None,
    threshold: int,
    fingerprint: tuple,
) -> _Extras:
    """Partner breakdown and divisive statements, cached like the analysis."""
    participants = uow.find(
        m.Participant, alliance_id=deliberation.alliance_id, deliberation_id=deliberation.id
    )
    key = (deliberation.alliance_id, deliberation.id)
    signature = tuple(sorted((p.id, p.partner_id or "") for p in participants))
    full = (fingerprint, threshold, hashlib.sha256(repr(signature).encode()).hexdigest())
    cached = _extras_cache.get(key)
    if cached and cached[0] == full:
        return cached[1]
    matrix = vote_matrix(uow, deliberation) if opinion is not None else None
    extras = _Extras(
        partners=_partner_breakdown(uow, deliberation, opinion, threshold, participants, matrix),
        divisive=divisive_statements(matrix, opinion) if matrix and opinion else (),
    )
    _extras_cache.put(key, full, extras)
    return extras


def results(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    anonymity_threshold: int,
) -> DeliberationResults:
    target = open_deliberation(uow, actor, alliance_id, deliberation_id)
    deliberation = target.deliberation
    fingerprint = _fingerprint(uow, deliberation)
    opinion = _opinion(uow, deliberation, fingerprint)
    shown = {
        s.id: s
        for s in _ordered(uow, alliance_id, deliberation_id)
        if s.moderation == m.Moderation.ACCEPTED
    }
    participants = uow.session.scalar(
        sa.select(sa.func.count()).where(
            m.Participant.alliance_id == alliance_id,
            m.Participant.deliberation_id == deliberation_id,
        )
    )
    statement_votes = {
        sid: count
        for sid, count in uow.session.execute(
            sa.select(m.Vote.statement_id, sa.func.count())
            .where(m.Vote.alliance_id == alliance_id, m.Vote.deliberation_id == deliberation_id)
            .group_by(m.Vote.statement_id)
        ).all()
        if sid in shown
    }
    votes = uow.session.scalar(
        sa.select(sa.func.count()).where(
            m.Vote.alliance_id == alliance_id, m.Vote.deliberation_id == deliberation_id
        )
    )
    extras = _extras(uow, deliberation, opinion, anonymity_threshold, fingerprint)
    opinion, divisive, small = _without_small_groups(opinion, extras.divisive, anonymity_threshold)
    version = hashlib.sha256(
        repr((fingerprint, participants, deliberation.status.value, anonymity_threshold)).encode()
    ).hexdigest()[:16]
    return DeliberationResults(
        deliberation=deliberation,
        opinion=opinion,
        statements=shown,
        participants=participants or 0,
        votes=votes or 0,
        partners=extras.partners,
        divisive=divisive,
        statement_votes=statement_votes,
        version=version,
        undescribed_groups=small,
    )


@dataclass(frozen=True)
class Promotion:
    """A declaration or charter clause made from one of this deliberation's statements."""

    target: str
    """"declaration" or "charter"."""
    item: m.Declaration | m.CharterClause
    statement_id: str

    @property
    def at(self) -> datetime:
        item = self.item
        return item.declared_at if isinstance(item, m.Declaration) else item.added_at


def _source(deliberation_id: str, statement_id: str) -> str:
    return SOURCE_PREFIX.format(deliberation_id=deliberation_id) + statement_id


def promoted_from(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, deliberation_id: str
) -> list[Promotion]:
    """The declarations and charter clauses promoted from this deliberation, oldest first."""
    open_deliberation(uow, actor, alliance_id, deliberation_id)
    prefix = SOURCE_PREFIX.format(deliberation_id=deliberation_id)
    found: list[Promotion] = []
    for target, cls in (("declaration", m.Declaration), ("charter", m.CharterClause)):
        column = cls.source  # type: ignore[attr-defined]
        for item in uow.find(
            cls, column.startswith(prefix, autoescape=True), alliance_id=alliance_id
        ):
            found.append(Promotion(target, item, item.source.removeprefix(prefix)))
    return sorted(found, key=lambda p: (p.at, p.item.id))


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
    statement = _statement_at(uow, alliance_id, deliberation_id, statement_id)
    data = inputs.parse(inputs.PromotionInput, payload)
    opinion = opinion_of(uow, target.deliberation)
    consensus_ids = {c.statement_id for c in opinion.consensus.agree} if opinion else set()
    if statement.id not in consensus_ids or statement.moderation != m.Moderation.ACCEPTED:
        raise Conflict("only a statement in the agreed consensus can be promoted")
    if data.body_id and uow.get(m.GovernanceBody, alliance_id=alliance_id, id=data.body_id) is None:
        raise ValidationFailed.one("body_id", "no such governance body in this alliance")
    source = _source(deliberation_id, statement_id)
    kind: type[m.Declaration] | type[m.CharterClause] = (
        m.Declaration if data.target == "declaration" else m.CharterClause
    )
    if uow.find_one(kind, alliance_id=alliance_id, source=source) is not None:
        where = "a declaration" if data.target == "declaration" else "in the charter"
        raise Conflict(f"this statement is already {where}", ("target",))
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
