"""Deliberation math: the Pol.is opinion-group pipeline, in pure numpy/scipy.

``analyze(matrix)`` runs the pipeline described in
``tests/data/polis/POLIS_MATH.md`` (the Pol.is ``math`` module):

1. participants "in the conversation": at least ``min(7, n_statements)``
   votes, sticky across updates, topped up to 15 with the top voters;
2. PCA of the column-mean-imputed matrix (exact eigenvectors, see
   :mod:`coauthor.analysis.opinion_pca`), sparsity-aware projection;
3. 100 base clusters (k-means, Pol.is init or warm start), then groups by
   weighted k-means of base-cluster centres for k = 2..max_k, k chosen by
   silhouette and smoothed over updates;
4. representative statements per group, consensus, group-informed
   consensus, statement projection/extremity and routing priority.

Pass the previous result as ``previous`` to warm-start and carry the k-smoother,
as Pol.is does between updates. Departures from Pol.is are listed in
``docs/deliberation.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from coauthor.analysis.opinion_cluster import (
    Clustering,
    ClusterSeed,
    KSmoother,
    clean_start,
    fresh_start,
    kmeans,
    max_group_k,
    silhouette,
)
from coauthor.analysis.opinion_matrix import VoteMatrix
from coauthor.analysis.opinion_partners import (
    BridgingStatement,
    FaultLine,
    FaultLineReport,
    PartnerAlignment,
    adjusted_rand_index,
    bridging_and_fault_lines,
    partner_alignment,
)
from coauthor.analysis.opinion_pca import (
    Centred,
    PcaFit,
    exact_pca,
    power_iteration_pca,
    project_participants,
    project_statements,
    start_vectors,
)
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

__all__ = [
    "POLIS_MEAN_IMPUTATION_SINCE",
    "BridgingStatement",
    "Consensus",
    "ConsensusStatement",
    "FaultLine",
    "FaultLineReport",
    "GroupSummary",
    "OpinionResult",
    "OpinionState",
    "PartnerAlignment",
    "RepresentativeStatement",
    "VoteMatrix",
    "adjusted_rand_index",
    "analyze",
    "analyze_from_state",
    "bridging_and_fault_lines",
    "partner_alignment",
    "replay",
]

MIN_VOTES_IN_CONV = 7
MIN_IN_CONV = 15
BASE_K = 100
BASE_ITERS = 100
GROUP_ITERS = 20
POLL_SECONDS = 1.0
PcaMethod = Literal["exact", "power"]
Imputation = Literal["mean", "zero"]
# Pol.is imputed missing votes with 0 until commit 90b5b9e62 of 2017-10-21, then with the
# column mean (its math's history, docs/deliberation.md): replays of older conversations use 0
# for the updates before it.
POLIS_MEAN_IMPUTATION_SINCE = 1_508_544_000.0  # 2017-10-21T00:00:00Z


@dataclass(frozen=True)
class GroupSummary:
    """An opinion group: Pol.is id, member count, centre and representative statements."""

    id: int
    size: int
    center: tuple[float, float]
    representative: tuple[RepresentativeStatement, ...]


@dataclass(frozen=True, eq=False)
class OpinionState:
    """What the next incremental :func:`analyze` needs from this one."""

    pca_statement_ids: tuple[str, ...]
    pca_comps: NDArray[np.float64]
    in_conv: frozenset[str]
    base_seed: ClusterSeed | None
    group_seeds: dict[int, ClusterSeed]
    smoother: KSmoother | None


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


@dataclass(frozen=True, eq=False)
class _Conversation:
    """The matrix as Pol.is's rating matrix sees it: columns = statements with a vote."""

    matrix: VoteMatrix
    columns: NDArray[np.int64]
    statement_ids: list[str]
    mod_out: NDArray[np.bool_]
    rows: NDArray[np.int64]
    cols: NDArray[np.int64]
    values: NDArray[np.int8]
    centered: sp.csr_matrix
    center: NDArray[np.float64]
    pca_input: Centred
    raw_vote_counts: NDArray[np.int64]
    projection_vote_counts: NDArray[np.int64]

    @property
    def n_statements(self) -> int:
        return len(self.statement_ids)


def _prepare(matrix: VoteMatrix, imputation: Imputation = "mean") -> _Conversation:
    """The rating matrix, centred.

    ``centered`` holds ``x − centre`` on the voted cells: the sparsity-aware
    projection sums over those only. With mean imputation a missing cell is
    exactly 0 once centred, so it is also the PCA's input; with Pol.is's older
    zero imputation the centre is the column sum over *all* participants and
    every missing cell is ``−centre``, which the PCA gets as a shift.
    """
    rows, all_cols, values = matrix.cells()
    votes_per_statement = np.bincount(all_cols, minlength=matrix.shape[1])
    columns = np.flatnonzero(votes_per_statement > 0)
    remap = np.full(matrix.shape[1], -1, dtype=np.int64)
    remap[columns] = np.arange(columns.size)
    cols = remap[all_cols]
    statement_ids = [matrix.statement_ids[c] for c in columns.tolist()]
    excluded = matrix.moderated_out | matrix.meta
    mod_out = np.array([sid in excluded for sid in statement_ids], dtype=bool)
    counts = np.bincount(cols, minlength=columns.size)
    sums = np.bincount(cols, weights=values, minlength=columns.size)
    divisor = np.maximum(counts if imputation == "mean" else matrix.shape[0], 1)
    center = np.where(mod_out | (counts == 0), 0.0, sums / divisor)
    active = ~mod_out[cols]
    shape = (matrix.shape[0], columns.size)
    centered = sp.csr_matrix(
        (values[active] - center[cols[active]], (rows[active], cols[active])), shape=shape
    )
    if imputation == "mean":
        pca_input = Centred(centered)
    else:
        raw = sp.csr_matrix((values[active], (rows[active], cols[active])), shape=shape)
        pca_input = Centred(raw.astype(np.float64), shift=center)
    raw_vote_counts = np.bincount(rows, minlength=matrix.shape[0])
    active_vote_counts = np.bincount(rows[active], minlength=matrix.shape[0])
    return _Conversation(
        matrix=matrix,
        columns=columns,
        statement_ids=statement_ids,
        mod_out=mod_out,
        rows=rows,
        cols=cols,
        values=values,
        centered=centered,
        center=center,
        pca_input=pca_input,
        raw_vote_counts=raw_vote_counts,
        projection_vote_counts=active_vote_counts + int(mod_out.sum()),
    )


def _pca(
    conv: _Conversation, seed: int, previous: OpinionState | None, method: PcaMethod
) -> PcaFit:
    starts = start_vectors(conv.n_statements, seed, _previous_comps(conv, previous))
    if method == "power":
        return power_iteration_pca(conv.pca_input, conv.center, starts)
    fit = exact_pca(conv.pca_input, conv.center, starts, seed=seed)
    fit.comps[:, conv.mod_out] = 0.0
    return fit


def _previous_comps(conv: _Conversation, previous: OpinionState | None) -> NDArray | None:
    """Previous components aligned on today's statements, new ones padded with 1 (Pol.is)."""
    if previous is None:
        return None
    position = {sid: i for i, sid in enumerate(previous.pca_statement_ids)}
    comps = np.ones((previous.pca_comps.shape[0], conv.n_statements))
    for j, sid in enumerate(conv.statement_ids):
        if sid in position:
            comps[:, j] = previous.pca_comps[:, position[sid]]
    return comps


def _in_conv(conv: _Conversation, previous: OpinionState | None) -> NDArray[np.bool_]:
    counts = conv.raw_vote_counts
    in_conv = counts >= min(MIN_VOTES_IN_CONV, conv.n_statements)
    in_conv &= counts > 0
    if previous is not None and previous.in_conv:
        in_conv |= np.array([pid in previous.in_conv for pid in conv.matrix.participant_ids])
    missing = MIN_IN_CONV - int(in_conv.sum())
    if missing > 0:
        candidates = np.flatnonzero(~in_conv & (counts > 0))
        top = candidates[np.argsort(-counts[candidates], kind="stable")][:missing]
        in_conv[top] = True
    return in_conv


def _base_clusters(
    xy: NDArray[np.float64], names: list[str], previous: OpinionState | None
) -> Clustering:
    if previous is not None and previous.base_seed is not None:
        ids, centers = clean_start(xy, names, previous.base_seed, BASE_K)
    else:
        ids, centers = fresh_start(xy, BASE_K)
    return kmeans(xy, ids, centers, max_iters=BASE_ITERS)


def _group_clusterings(base: Clustering, previous: OpinionState | None) -> dict[int, Clustering]:
    weights = base.sizes.astype(np.float64)
    names = base.ids.tolist()
    clusterings: dict[int, Clustering] = {}
    for k in range(2, max_group_k(base.ids.size) + 1):
        seed = previous.group_seeds.get(k) if previous is not None else None
        if seed is not None:
            ids, centers = clean_start(base.centers, names, seed, k, weights=weights)
        else:
            ids, centers = fresh_start(base.centers, k)
        clusterings[k] = kmeans(base.centers, ids, centers, weights=weights, max_iters=GROUP_ITERS)
    return clusterings


def _choose_k(
    silhouettes: dict[int, float], previous: OpinionState | None
) -> tuple[int, KSmoother]:
    """Argmax silhouette (ties → larger k, as Clojure's max-key), then the smoother."""
    this_k = max(silhouettes, key=lambda k: (silhouettes[k], k))
    if previous is not None and previous.smoother is not None:
        smoother = previous.smoother.update(this_k)
    else:
        smoother = KSmoother.first(this_k)
    k = smoother.smoothed_k if smoother.smoothed_k in silhouettes else this_k
    return k, smoother


@dataclass(frozen=True, eq=False)
class _Grouping:
    """Group position of every participant (-1 when not clustered) and the group clustering."""

    group_position: NDArray[np.int64]
    group_ids: NDArray[np.int64]
    base: Clustering | None
    base_names: list[str]
    clusterings: dict[int, Clustering]
    k: int
    silhouettes: dict[int, float]
    smoother: KSmoother | None


def _cluster(
    conv: _Conversation, xy: NDArray, in_conv: NDArray, previous: OpinionState | None
) -> _Grouping:
    n_participants = conv.matrix.shape[0]
    in_rows = np.flatnonzero(in_conv)
    names = [conv.matrix.participant_ids[i] for i in in_rows.tolist()]
    group_position = np.full(n_participants, -1, dtype=np.int64)
    if in_rows.size == 0:
        return _Grouping(group_position, np.zeros(0, np.int64), None, names, {}, 0, {}, None)
    base = _base_clusters(xy[in_rows], names, previous)
    if base.ids.size < 2:
        group_position[in_rows] = 0
        return _Grouping(group_position, np.zeros(1, np.int64), base, names, {}, 1, {}, None)
    clusterings = _group_clusterings(base, previous)
    silhouettes = {k: silhouette(base.centers, c.labels) for k, c in clusterings.items()}
    k, smoother = _choose_k(silhouettes, previous)
    chosen = clusterings[k]
    group_position[in_rows] = chosen.labels[base.labels]
    return _Grouping(group_position, chosen.ids, base, names, clusterings, k, silhouettes, smoother)


def _group_counts(conv: _Conversation, grouping: _Grouping) -> VoteCounts:
    """Per-group agree/disagree/all-votes counts on the raw matrix (in-conv members only)."""
    n_groups, n_statements = grouping.group_ids.size, conv.n_statements
    group_of_vote = grouping.group_position[conv.rows]
    counted = group_of_vote >= 0
    cell = group_of_vote[counted] * n_statements + conv.cols[counted]
    values = conv.values[counted]
    size = n_groups * n_statements

    def count(selected: NDArray[np.bool_]) -> NDArray[np.float64]:
        return np.bincount(cell[selected], minlength=size).reshape(n_groups, n_statements)

    return VoteCounts(
        agree=count(values == 1).astype(np.float64),
        disagree=count(values == -1).astype(np.float64),
        seen=count(np.ones(values.size, dtype=bool)).astype(np.float64),
    )


def _rating_counts(conv: _Conversation, raw: VoteCounts, group_sizes: NDArray) -> VoteCounts:
    """Counts on Pol.is's rating matrix: moderated-out columns are 0 (a pass) for everyone."""
    agree, disagree, seen = raw.agree.copy(), raw.disagree.copy(), raw.seen.copy()
    agree[:, conv.mod_out] = 0
    disagree[:, conv.mod_out] = 0
    seen[:, conv.mod_out] = group_sizes[:, None]
    return VoteCounts(agree=agree, disagree=disagree, seen=seen)


def analyze(
    matrix: VoteMatrix,
    *,
    seed: int = 0,
    previous: OpinionResult | None = None,
    pca_method: PcaMethod = "exact",
    imputation: Imputation = "mean",
) -> OpinionResult:
    """Run the Pol.is pipeline on ``matrix`` (see the module docstring).

    ``seed`` fixes the PCA start vectors (hence component signs); the result
    is deterministic for a given matrix, seed and ``previous``.
    ``pca_method="power"`` runs Pol.is's literal power iteration instead of
    the exact eigenvectors (slower; for validation). ``imputation="zero"``
    fills missing votes with 0 before the PCA, as Pol.is did until 2017-10-21
    (for replaying conversations of that time).
    """
    state = previous.state if previous is not None else None
    return _analyze(matrix, seed, state, pca_method, imputation)


def analyze_from_state(
    matrix: VoteMatrix, *, seed: int = 0, state: OpinionState | None = None
) -> OpinionResult:
    """:func:`analyze` with the previous update given by its state alone (stored, say)."""
    return _analyze(matrix, seed, state)


def _analyze(
    matrix: VoteMatrix,
    seed: int,
    state: OpinionState | None,
    pca_method: PcaMethod = "exact",
    imputation: Imputation = "mean",
) -> OpinionResult:
    conv, fit, xy, in_conv, grouping = _place_and_cluster(
        matrix, seed, state, pca_method, imputation
    )
    raw_counts = _group_counts(conv, grouping)
    group_sizes = np.bincount(
        grouping.group_position[grouping.group_position >= 0], minlength=grouping.group_ids.size
    )
    statement_xy = project_statements(fit)
    extremity = np.linalg.norm(statement_xy, axis=1)
    return _assemble(
        conv, fit, xy, in_conv, grouping, raw_counts, group_sizes, statement_xy, extremity
    )


def _place_and_cluster(
    matrix: VoteMatrix,
    seed: int,
    state: OpinionState | None,
    pca_method: PcaMethod,
    imputation: Imputation,
) -> tuple[_Conversation, PcaFit, NDArray, NDArray, _Grouping]:
    """PCA, projection, who is in, and the groups: all an update carries to the next."""
    conv = _prepare(matrix, imputation)
    fit = _pca(conv, seed, state, pca_method)
    xy = project_participants(conv.centered, fit.comps, conv.projection_vote_counts)
    in_conv = _in_conv(conv, state)
    grouping = _cluster(conv, xy, in_conv, state)
    return conv, fit, xy, in_conv, grouping


def _next_update_state(
    matrix: VoteMatrix, seed: int, state: OpinionState | None, imputation: Imputation
) -> OpinionState:
    """One update's state without its statistics: a replay needs them only at the end."""
    conv, fit, _, in_conv, grouping = _place_and_cluster(matrix, seed, state, "exact", imputation)
    return _next_state(conv, fit, in_conv, grouping)


def _assemble(
    conv: _Conversation,
    fit: PcaFit,
    xy: NDArray,
    in_conv: NDArray,
    grouping: _Grouping,
    raw_counts: VoteCounts,
    group_sizes: NDArray,
    statement_xy: NDArray,
    extremity: NDArray,
) -> OpinionResult:
    matrix = conv.matrix
    candidates = ~conv.mod_out
    groups = _group_summaries(conv, grouping, raw_counts, group_sizes, xy, candidates)
    consensus = _consensus(conv, candidates)
    is_meta = np.array([sid in matrix.meta for sid in conv.statement_ids], dtype=bool)
    priority = priorities(raw_counts, extremity, is_meta)
    gac = group_informed_consensus(raw_counts)
    ids = grouping.group_ids
    participant_groups = [int(ids[p]) if p >= 0 else None for p in grouping.group_position.tolist()]
    by_statement = _statement_values(conv, statement_xy, extremity, priority, gac, len(ids))
    return OpinionResult(
        participant_ids=list(matrix.participant_ids),
        x=xy[:, 0].copy(),
        y=xy[:, 1].copy(),
        participant_groups=participant_groups,
        in_conv=in_conv,
        groups=groups,
        consensus=consensus,
        group_informed_consensus=by_statement["gac"],
        statement_projections=by_statement["xy"],
        statement_extremity=by_statement["extremity"],
        priorities=by_statement["priority"],
        k=grouping.k,
        silhouettes=grouping.silhouettes,
        moderated_out=matrix.moderated_out | matrix.meta,
        state=_next_state(conv, fit, in_conv, grouping),
    )


def _group_summaries(
    conv: _Conversation,
    grouping: _Grouping,
    raw_counts: VoteCounts,
    group_sizes: NDArray,
    xy: NDArray,
    candidates: NDArray,
) -> tuple[GroupSummary, ...]:
    if grouping.group_ids.size == 0:
        return ()
    stats = repness_stats(_rating_counts(conv, raw_counts, group_sizes))
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
                    stats, position, conv.statement_ids, candidates
                ),
            )
        )
    return tuple(summaries)


def _consensus(conv: _Conversation, candidates: NDArray) -> Consensus:
    """Consensus over every participant's row of the rating matrix."""
    n = conv.n_statements
    agree = np.bincount(conv.cols[conv.values == 1], minlength=n).astype(np.float64)
    disagree = np.bincount(conv.cols[conv.values == -1], minlength=n).astype(np.float64)
    seen = np.bincount(conv.cols, minlength=n).astype(np.float64)
    return select_consensus(agree, disagree, seen, conv.statement_ids, candidates)


def _statement_values(
    conv: _Conversation,
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
    matrix = conv.matrix
    zero_counts = VoteCounts(*(np.zeros((max(n_groups, 1), 1)) for _ in range(3)))
    unvoted_priority = float(priorities(zero_counts, np.zeros(1), np.zeros(1, bool))[0])
    unvoted_gac = 0.5**n_groups
    out: dict[str, dict[str, Any]] = {"xy": {}, "extremity": {}, "priority": {}, "gac": {}}
    position = {sid: i for i, sid in enumerate(conv.statement_ids)}
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


def _members(names: NDArray, labels: NDArray[np.int64], n_clusters: int) -> tuple[tuple, ...]:
    """Names grouped by cluster position, in data order within each cluster."""
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n_clusters + 1))
    grouped = names[order].tolist()
    return tuple(tuple(grouped[bounds[i] : bounds[i + 1]]) for i in range(n_clusters))


def _next_state(
    conv: _Conversation, fit: PcaFit, in_conv: NDArray, grouping: _Grouping
) -> OpinionState:
    base = grouping.base
    base_seed = None
    group_seeds = {}
    if base is not None:
        names = np.asarray(grouping.base_names, dtype=object)
        base_seed = ClusterSeed(
            ids=base.ids, centers=base.centers, members=_members(names, base.labels, base.ids.size)
        )
        for k, clustering in grouping.clusterings.items():
            group_seeds[k] = ClusterSeed(
                ids=clustering.ids,
                centers=clustering.centers,
                members=_members(base.ids, clustering.labels, clustering.ids.size),
            )
    participant_ids = conv.matrix.participant_ids
    return OpinionState(
        pca_statement_ids=tuple(conv.statement_ids),
        pca_comps=fit.comps.copy(),
        in_conv=frozenset(participant_ids[i] for i in np.flatnonzero(in_conv).tolist()),
        base_seed=base_seed,
        group_seeds=group_seeds,
        smoother=grouping.smoother,
    )


def replay(
    ptpt_idx: ArrayLike,
    stmt_idx: ArrayLike,
    vote: ArrayLike,
    timestamps: ArrayLike,
    *,
    participant_ids: Sequence[str],
    statement_ids: Sequence[str],
    moderated_out: Iterable[str] = (),
    meta: Iterable[str] = (),
    batch_seconds: float = POLL_SECONDS,
    max_updates: int | None = None,
    seed: int = 0,
    mean_imputation_since: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> OpinionResult:
    """Replay a timestamped vote log the way Pol.is computed it: update after update.

    Pol.is groups are path-dependent (warm-started k-means, sticky inclusion,
    the k-smoother), so the groups of a finished conversation depend on its
    history, not only on its final votes. This replays that history: votes
    closer than ``batch_seconds`` (Pol.is polls for votes every second) form
    one update; each batch is appended in Pol.is's order (statement index,
    then participant index, then time) and analysed with ``previous`` set to
    the last result, every batch (the default), or, when ``max_updates`` is
    given and there are more batches, consecutive batches merged evenly
    down to that many updates to bound the cost (an approximation).
    Moderation is applied from the first update on, since an export does not
    say when it happened. ``timestamps`` are in seconds. An
    update whose newest vote is older than ``mean_imputation_since`` imputes
    missing votes with 0, as Pol.is did before
    :data:`POLIS_MEAN_IMPUTATION_SINCE` (None: the column mean throughout).
    ``progress(done, total)`` is called before each update. Only the last
    update computes the statistics (representative statements, consensus…).
    """
    rows = np.asarray(ptpt_idx, dtype=np.int64).reshape(-1)
    cols = np.asarray(stmt_idx, dtype=np.int64).reshape(-1)
    values = np.asarray(vote).reshape(-1)
    times = np.asarray(timestamps, dtype=np.float64).reshape(-1)
    batch = _replay_batches(times, batch_seconds, max_updates)
    order = np.lexsort((times, rows, cols, batch))
    rows, cols, values, batch, times = (
        rows[order],
        cols[order],
        values[order],
        batch[order],
        times[order],
    )
    first_seen = np.full(len(participant_ids), rows.size, dtype=np.int64)
    np.minimum.at(first_seen, rows, np.arange(rows.size))
    appearance = np.argsort(first_seen, kind="stable")
    rank = np.empty_like(appearance)
    rank[appearance] = np.arange(appearance.size)
    ordered_ids = [participant_ids[i] for i in appearance.tolist()]
    rows = rank[rows]
    ends = [*np.flatnonzero(np.diff(batch)).tolist(), rows.size - 1]
    newest = np.maximum.accumulate(times) if times.size else times
    last_row = np.maximum.accumulate(rows) if rows.size else rows
    state: OpinionState | None = None
    for position, end in enumerate(ends):
        old_era = mean_imputation_since is not None and newest[end] < mean_imputation_since
        imputation: Imputation = "zero" if old_era else "mean"
        matrix = VoteMatrix.from_arrays(
            rows[: end + 1],
            cols[: end + 1],
            values[: end + 1],
            participant_ids=ordered_ids[: int(last_row[end]) + 1],
            statement_ids=statement_ids,
            moderated_out=moderated_out,
            meta=meta,
        )
        if progress is not None:
            progress(position + 1, len(ends))
        if position < len(ends) - 1:
            state = _next_update_state(matrix, seed, state, imputation)
        else:
            return _analyze(matrix, seed, state, imputation=imputation)
    empty = VoteMatrix.from_arrays(
        [],
        [],
        [],
        participant_ids=[],
        statement_ids=statement_ids,
        moderated_out=moderated_out,
        meta=meta,
    )
    return analyze(empty, seed=seed)


def _replay_batches(
    times: NDArray[np.float64], batch_seconds: float, max_updates: int | None
) -> NDArray[np.int64]:
    """Batch number of each vote: a new batch after a pause longer than ``batch_seconds``."""
    if times.size == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(times, kind="stable")
    sorted_batch = np.concatenate([[0], np.cumsum(np.diff(times[order]) > batch_seconds)])
    n_batches = int(sorted_batch[-1]) + 1
    if max_updates is not None and n_batches > max_updates:
        sorted_batch = sorted_batch // int(np.ceil(n_batches / max_updates))
    batch = np.empty_like(sorted_batch)
    batch[order] = sorted_batch
    return batch
