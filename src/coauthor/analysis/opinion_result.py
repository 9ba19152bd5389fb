"""One update of the Pol.is pipeline with its statistics: :func:`analyze` and its result.

See :mod:`coauthor.analysis.opinion` for the pipeline; :mod:`.opinion_update`
places and groups participants, this module adds what a reader sees:
representative statements per group, consensus, group-informed consensus,
statement projections and routing priorities.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coauthor.analysis.opinion_era import CURRENT, PolisMath
from coauthor.analysis.opinion_matrix import VoteMatrix
from coauthor.analysis.opinion_pca import project_statements
from coauthor.analysis.opinion_stats import (
    META_PRIORITY,
    Consensus,
    ConsensusStatement,
    RepresentativeStatement,
    VoteCounts,
    group_informed_consensus,
    priorities,
    repness_stats,
    select_consensus,
    select_representative,
)
from coauthor.analysis.opinion_update import (
    Grouping,
    OpinionState,
    PcaMethod,
    Placement,
    cluster,
    next_prior,
    place,
    prior_from_state,
    state_of,
)
from coauthor.analysis.opinion_votes import RatingVotes, rating_votes


@dataclass(frozen=True)
class GroupSummary:
    """An opinion group: Pol.is id, member count, centre and representative statements."""

    id: int
    size: int
    center: tuple[float, float]
    representative: tuple[RepresentativeStatement, ...]


@dataclass(frozen=True, eq=False)
class OpinionResult:
    """Everything the pipeline computes, keyed by participant and statement ids.

    ``participant_groups[i]`` is the group id of ``participant_ids[i]``, or None
    when that participant is not in the conversation (too few votes).
    """

    participant_ids: list[str]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    participant_groups: list[int | None]
    in_conv: NDArray[np.bool_]
    groups: tuple[GroupSummary, ...]
    consensus: Consensus
    group_informed_consensus: dict[str, float]
    statement_projections: dict[str, tuple[float, float]]
    statement_extremity: dict[str, float]
    priorities: dict[str, float]
    k: int
    silhouettes: dict[int, float]
    moderated_out: frozenset[str] = field(default_factory=frozenset)
    state: OpinionState | None = None

    def group_of(self) -> dict[str, int | None]:
        """Participant id → group id (None when not clustered)."""
        return dict(zip(self.participant_ids, self.participant_groups, strict=True))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (the ``deliberation analyze --json`` schema)."""
        return {
            "k": self.k,
            "silhouettes": {str(k): float(v) for k, v in self.silhouettes.items()},
            "participants": [
                {"id": pid, "group": group, "x": float(x), "y": float(y), "in_conv": bool(inc)}
                for pid, group, x, y, inc in zip(
                    self.participant_ids,
                    self.participant_groups,
                    self.x.tolist(),
                    self.y.tolist(),
                    self.in_conv.tolist(),
                    strict=True,
                )
            ],
            "groups": [_group_to_dict(group) for group in self.groups],
            "consensus": {
                "agree": [_consensus_to_dict(c) for c in self.consensus.agree],
                "disagree": [_consensus_to_dict(c) for c in self.consensus.disagree],
            },
            "group_informed_consensus": dict(self.group_informed_consensus),
            "statements": [
                {
                    "id": sid,
                    "x": float(xy[0]),
                    "y": float(xy[1]),
                    "extremity": float(self.statement_extremity[sid]),
                    "priority": float(self.priorities[sid]),
                    "moderated_out": sid in self.moderated_out,
                }
                for sid, xy in self.statement_projections.items()
            ],
        }


def _group_to_dict(group: GroupSummary) -> dict[str, Any]:
    return {
        "id": group.id,
        "size": group.size,
        "center": [float(group.center[0]), float(group.center[1])],
        "representative": [
            {
                "statement_id": r.statement_id,
                "direction": r.direction,
                "n_success": r.n_success,
                "n_trials": r.n_trials,
                "p_success": float(r.p_success),
                "p_test": float(r.p_test),
                "repness": float(r.repness),
                "repness_test": float(r.repness_test),
                "n_agree": r.n_agree,
                "n_disagree": r.n_disagree,
                "pa": float(r.pa),
                "pd": float(r.pd),
                "best_agree": r.best_agree,
            }
            for r in group.representative
        ],
    }


def _consensus_to_dict(statement: ConsensusStatement) -> dict[str, Any]:
    return {
        "statement_id": statement.statement_id,
        "n_success": statement.n_success,
        "n_trials": statement.n_trials,
        "p_success": float(statement.p_success),
        "p_test": float(statement.p_test),
    }


def analyze(
    matrix: VoteMatrix,
    *,
    seed: int = 0,
    previous: OpinionResult | None = None,
    pca_method: PcaMethod = "exact",
    math: PolisMath = CURRENT,
    moderated_at: Mapping[str, float] | None = None,
) -> OpinionResult:
    """Run the Pol.is pipeline on ``matrix`` (see :mod:`coauthor.analysis.opinion`).

    ``seed`` fixes the PCA start vectors (hence component signs); the result
    is deterministic for a given matrix, seed, ``previous`` and ``math``.
    ``math`` is the version of Pol.is's math to follow (default: today's;
    :func:`~coauthor.analysis.opinion_era.polis_math_at` gives the one of a
    date). ``pca_method="power"`` runs Pol.is's literal power iteration
    (100 iterations) instead of the exact eigenvectors (slower; for validation).
    ``moderated_at`` (seconds) says when moderated statements were moderated,
    for the eras in which Pol.is's math knew of some moderations only.
    """
    state = previous.state if previous is not None else None
    return analyze_from_state(
        matrix,
        seed=seed,
        state=state,
        pca_method=pca_method,
        math=math,
        moderated_at=moderated_at,
    )


def analyze_from_state(
    matrix: VoteMatrix,
    *,
    seed: int = 0,
    state: OpinionState | None = None,
    math: PolisMath = CURRENT,
    pca_method: PcaMethod = "exact",
    moderated_at: Mapping[str, float] | None = None,
) -> OpinionResult:
    """:func:`analyze` with the previous update given by its state alone (stored, say)."""
    votes = rating_votes(matrix, math, moderated_at)
    prior = prior_from_state(state, matrix.participant_ids[: votes.n_rows]) if state else None
    placement = place(votes, math, prior, seed, pca_method)
    grouping = cluster(placement.xy, placement.in_conv, math, prior)
    return _assemble(matrix, votes, placement, grouping)


@dataclass(frozen=True, eq=False)
class _Cells:
    """The votes of the rating matrix as (row, column, value) arrays, for the statistics."""

    rows: NDArray[np.int64]
    cols: NDArray[np.int64]
    values: NDArray[np.int8]
    statement_ids: list[str]
    zeroed: NDArray[np.bool_]

    @property
    def n_statements(self) -> int:
        return len(self.statement_ids)


def _group_counts(cells: _Cells, grouping: Grouping) -> VoteCounts:
    """Per-group agree/disagree/all-votes counts on the raw matrix (in-conv members only)."""
    n_groups, n_statements = grouping.group_ids.size, cells.n_statements
    group_of_vote = grouping.group_position[cells.rows]
    counted = group_of_vote >= 0
    cell = group_of_vote[counted] * n_statements + cells.cols[counted]
    values = cells.values[counted]
    size = n_groups * n_statements

    def count(selected: NDArray[np.bool_]) -> NDArray[np.float64]:
        return np.bincount(cell[selected], minlength=size).reshape(n_groups, n_statements)

    return VoteCounts(
        agree=count(values == 1).astype(np.float64),
        disagree=count(values == -1).astype(np.float64),
        seen=count(np.ones(values.size, dtype=bool)).astype(np.float64),
    )


def _rating_counts(cells: _Cells, raw: VoteCounts, group_sizes: NDArray) -> VoteCounts:
    """Counts on Pol.is's rating matrix: zeroed (moderated) columns are a pass for everyone."""
    agree, disagree, seen = raw.agree.copy(), raw.disagree.copy(), raw.seen.copy()
    agree[:, cells.zeroed] = 0
    disagree[:, cells.zeroed] = 0
    seen[:, cells.zeroed] = group_sizes[:, None]
    return VoteCounts(agree=agree, disagree=disagree, seen=seen)


def _assemble(
    matrix: VoteMatrix, votes: RatingVotes, placement: Placement, grouping: Grouping
) -> OpinionResult:
    rows, cols, values = votes.cells()
    cells = _Cells(rows, cols, values, votes.statement_ids, placement.zeroed)
    raw_counts = _group_counts(cells, grouping)
    group_sizes = np.bincount(
        grouping.group_position[grouping.group_position >= 0], minlength=grouping.group_ids.size
    )
    statement_xy = project_statements(placement.fit)
    extremity = np.linalg.norm(statement_xy, axis=1)
    candidates = ~votes.excluded
    xy = _all_rows(placement.xy, matrix.shape[0], 0.0)
    groups = _group_summaries(cells, grouping, raw_counts, group_sizes, placement.xy, candidates)
    consensus = _consensus(cells, candidates)
    is_meta = np.array([sid in matrix.meta for sid in votes.statement_ids], dtype=bool)
    priority = priorities(raw_counts, extremity, is_meta)
    gac = group_informed_consensus(raw_counts)
    ids = grouping.group_ids
    positions = _all_rows(grouping.group_position, matrix.shape[0], -1)
    participant_groups = [int(ids[p]) if p >= 0 else None for p in positions.tolist()]
    by_statement = _statement_values(
        matrix, cells, statement_xy, extremity, priority, gac, len(ids)
    )
    prior = next_prior(votes.statement_ids, placement, grouping)
    return OpinionResult(
        participant_ids=list(matrix.participant_ids),
        x=xy[:, 0].copy(),
        y=xy[:, 1].copy(),
        participant_groups=participant_groups,
        in_conv=_all_rows(placement.in_conv, matrix.shape[0], False),
        groups=groups,
        consensus=consensus,
        group_informed_consensus=by_statement["gac"],
        statement_projections=by_statement["xy"],
        statement_extremity=by_statement["extremity"],
        priorities=by_statement["priority"],
        k=grouping.k,
        silhouettes=grouping.silhouettes,
        moderated_out=matrix.moderated_out | matrix.meta,
        state=state_of(prior, matrix.participant_ids[: votes.n_rows]),
    )


def _all_rows(values: NDArray, n_rows: int, fill: object) -> NDArray:
    """``values`` for every participant of the matrix: those beyond Pol.is's cap get ``fill``."""
    if values.shape[0] == n_rows:
        return values
    padded = np.full((n_rows, *values.shape[1:]), fill, dtype=values.dtype)
    padded[: values.shape[0]] = values
    return padded


def _group_summaries(
    cells: _Cells,
    grouping: Grouping,
    raw_counts: VoteCounts,
    group_sizes: NDArray,
    xy: NDArray,
    candidates: NDArray,
) -> tuple[GroupSummary, ...]:
    if grouping.group_ids.size == 0:
        return ()
    stats = repness_stats(_rating_counts(cells, raw_counts, group_sizes))
    summaries = []
    for position, gid in enumerate(grouping.group_ids.tolist()):
        members = grouping.group_position == position
        center = xy[members].mean(axis=0) if members.any() else np.zeros(2)
        summaries.append(
            GroupSummary(
                id=int(gid),
                size=int(group_sizes[position]),
                center=(float(center[0]), float(center[1])),
                representative=select_representative(
                    stats, position, cells.statement_ids, candidates
                ),
            )
        )
    return tuple(summaries)


def _consensus(cells: _Cells, candidates: NDArray) -> Consensus:
    """Consensus over every participant's row of the rating matrix."""
    n = cells.n_statements
    agree = np.bincount(cells.cols[cells.values == 1], minlength=n).astype(np.float64)
    disagree = np.bincount(cells.cols[cells.values == -1], minlength=n).astype(np.float64)
    seen = np.bincount(cells.cols, minlength=n).astype(np.float64)
    return select_consensus(agree, disagree, seen, cells.statement_ids, candidates)


def _statement_values(
    matrix: VoteMatrix,
    cells: _Cells,
    statement_xy: NDArray,
    extremity: NDArray,
    priority: NDArray,
    gac: NDArray,
    n_groups: int,
) -> dict[str, dict[str, Any]]:
    """Per-statement outputs for every statement of the matrix.

    Statements nobody voted on are not in Pol.is's matrix; they get what the
    formulas give with zero votes: projection (0, 0), extremity 0, GAC 2^-k
    and the zero-vote priority (which ranks new statements high).
    """
    zero_counts = VoteCounts(*(np.zeros((max(n_groups, 1), 1)) for _ in range(3)))
    unvoted_priority = float(priorities(zero_counts, np.zeros(1), np.zeros(1, bool))[0])
    unvoted_gac = 0.5**n_groups
    out: dict[str, dict[str, Any]] = {"xy": {}, "extremity": {}, "priority": {}, "gac": {}}
    position = {sid: i for i, sid in enumerate(cells.statement_ids)}
    xy_list, ext_list = statement_xy.tolist(), extremity.tolist()
    priority_list, gac_list = priority.tolist(), gac.tolist()
    for sid in matrix.statement_ids:
        i = position.get(sid)
        if i is None:
            out["xy"][sid], out["extremity"][sid] = (0.0, 0.0), 0.0
            meta = sid in matrix.meta
            out["priority"][sid] = META_PRIORITY**2 if meta else unvoted_priority
            out["gac"][sid] = unvoted_gac
            continue
        out["xy"][sid] = (xy_list[i][0], xy_list[i][1])
        out["extremity"][sid] = ext_list[i]
        out["priority"][sid] = priority_list[i]
        out["gac"][sid] = gac_list[i]
    return out
