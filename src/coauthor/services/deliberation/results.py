"""Deliberation results: the opinion analysis (cached), partner breakdown, divisive statements.

Anonymity is enforced here, at the query: groups and partners smaller than the
threshold are withheld before any page or API sees the results.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from threading import Lock
from typing import Any, Generic, NamedTuple, TypeVar

import numpy as np
import sqlalchemy as sa

from coauthor.analysis.anonymity import merge_small
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
from coauthor.services.deliberation.access import open_deliberation, ordered_statements

OTHER_PARTNERS = "Other partners"
DIVISIVE_MAX = 5
DIVISIVE_MIN_SPREAD = 0.25
"""A statement is divisive when its agree rate differs by this much between two groups."""
ALIGNED_P = 0.05
"""Below this permutation p-value, opinion groups are said to follow partner lines."""
T = TypeVar("T")


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
    every = ordered_statements(uow, deliberation.alliance_id, deliberation.id)
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

    @property
    def follows_partner_lines(self) -> bool:
        """Whether the opinion groups line up with partners more than chance would."""
        return self.alignment is not None and self.alignment.p_value < ALIGNED_P


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

    def put(self, key: tuple[str, str], fingerprint: _Fingerprint, value: T) -> None:
        with self._lock:
            self._entries[key] = (fingerprint, value)


@dataclass(frozen=True)
class _Analysis:
    """An analysis and the vote matrix it was computed from, kept together."""

    opinion: OpinionResult
    matrix: VoteMatrix


@dataclass(frozen=True)
class _Extras:
    partners: PartnerBreakdown
    divisive: tuple[DivisiveStatement, ...] = field(default_factory=tuple)


_cache: _Cache[_Analysis] = _Cache()
"""The last analysis per deliberation; it also warm-starts the next one, as Pol.is does."""
_extras_cache: _Cache[_Extras] = _Cache()


class _Fingerprint(NamedTuple):
    votes: int
    latest_vote: str
    value_sum: int
    statements: int
    moderated: tuple[tuple[str, str], ...]


def _fingerprint(uow: UnitOfWork, deliberation: m.Deliberation) -> _Fingerprint:
    """What the analysis depends on, cheaply: changes whenever a vote or a moderation does.

    The sum of the values catches a vote changed within the same clock tick
    (simulated time stands still); moderation is summed up by the statements
    that are not accepted or are meta, so swapping two decisions is seen too.
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
    moderated = uow.session.execute(
        sa.select(m.Statement.id, m.Statement.moderation, m.Statement.is_meta)
        .where(
            *where,
            sa.or_(m.Statement.moderation != m.Moderation.ACCEPTED, m.Statement.is_meta),
        )
        .order_by(m.Statement.id)
    ).all()
    return _Fingerprint(
        votes=votes[0],
        latest_vote=str(votes[1]),
        value_sum=int(votes[2] or 0),
        statements=total or 0,
        moderated=tuple(
            (sid, f"{state}{' meta' if is_meta else ''}") for sid, state, is_meta in moderated
        ),
    )


def _analysis(
    uow: UnitOfWork, deliberation: m.Deliberation, fingerprint: _Fingerprint
) -> _Analysis | None:
    """The cached analysis while ``fingerprint`` holds, else a fresh one; None without votes."""
    key = (deliberation.alliance_id, deliberation.id)
    cached = _cache.get(key)
    if cached and cached[0] == fingerprint:
        return cached[1]
    matrix = vote_matrix(uow, deliberation)
    if matrix.n_votes == 0:
        return None
    previous = cached[1].opinion if cached else None
    analysis = _Analysis(analyze(matrix, previous=previous), matrix)
    _cache.put(key, fingerprint, analysis)
    return analysis


def opinion_of(uow: UnitOfWork, deliberation: m.Deliberation) -> OpinionResult | None:
    """The (cached) opinion analysis, or None while there are no votes."""
    analysis = _analysis(uow, deliberation, _fingerprint(uow, deliberation))
    return analysis.opinion if analysis else None


def priorities_of(uow: UnitOfWork, deliberation: m.Deliberation) -> dict[str, float]:
    opinion = opinion_of(uow, deliberation)
    return dict(opinion.priorities) if opinion else {}


def _partner_names(uow: UnitOfWork, alliance_id: str) -> dict[str, str]:
    rows = uow.session.execute(
        sa.select(m.Partner.id, m.Organization.name)
        .join(m.Organization, m.Organization.id == m.Partner.organization_id)
        .where(m.Partner.alliance_id == alliance_id)
    ).all()
    return dict(rows)


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
    labels, withheld = merge_small(counted, threshold, OTHER_PARTNERS)
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
    analysis: _Analysis | None,
    threshold: int,
    fingerprint: _Fingerprint,
    participants: list[m.Participant],
) -> _Extras:
    """Partner breakdown and divisive statements, cached like the analysis."""
    key = (deliberation.alliance_id, deliberation.id)
    signature = tuple(sorted((p.id, p.partner_id or "") for p in participants))
    full = (fingerprint, threshold, hashlib.sha256(repr(signature).encode()).hexdigest())
    cached = _extras_cache.get(key)
    if cached and cached[0] == full:
        return cached[1]
    opinion = analysis.opinion if analysis else None
    matrix = analysis.matrix if analysis else None
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
    analysis = _analysis(uow, deliberation, fingerprint)
    shown = {
        s.id: s
        for s in ordered_statements(uow, alliance_id, deliberation_id)
        if s.moderation == m.Moderation.ACCEPTED
    }
    participants = uow.find(m.Participant, alliance_id=alliance_id, deliberation_id=deliberation_id)
    statement_votes = {
        sid: count
        for sid, count in uow.session.execute(
            sa.select(m.Vote.statement_id, sa.func.count())
            .where(m.Vote.alliance_id == alliance_id, m.Vote.deliberation_id == deliberation_id)
            .group_by(m.Vote.statement_id)
        ).all()
        if sid in shown
    }
    extras = _extras(uow, deliberation, analysis, anonymity_threshold, fingerprint, participants)
    opinion, divisive, small = _without_small_groups(
        analysis.opinion if analysis else None, extras.divisive, anonymity_threshold
    )
    version = hashlib.sha256(
        repr(
            (fingerprint, len(participants), deliberation.status.value, anonymity_threshold)
        ).encode()
    ).hexdigest()[:16]
    return DeliberationResults(
        deliberation=deliberation,
        opinion=opinion,
        statements=shown,
        participants=len(participants),
        votes=fingerprint.votes,
        partners=extras.partners,
        divisive=divisive,
        statement_votes=statement_votes,
        version=version,
        undescribed_groups=small,
    )
