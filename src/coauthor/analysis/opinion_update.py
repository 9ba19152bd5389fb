"""One update of Pol.is's math without its statistics: place everyone, then group them.

:func:`place` (PCA, projection, who is in the conversation) and
:func:`cluster` (base clusters, groups for every k, the k-smoother) are what
one update carries to the next. :func:`~coauthor.analysis.opinion.analyze`
runs them once and adds the statistics; a replay runs them for every update
and the statistics only at the end. Both use the same functions on the same
exact inputs (:class:`~coauthor.analysis.opinion_votes.RatingVotes`), so a
replay gives the groups of update-by-update analyses.

The previous update is passed as a :class:`Prior`, indexed by row (a
participant's position in the matrix) rather than by participant id;
:func:`prior_from_state` and :func:`state_of` convert to and from the
id-keyed :class:`OpinionState` kept in results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from coauthor.analysis.opinion_cluster import (
    Clustering,
    ClusterSeed,
    KSmoother,
    TrackedAssignment,
    WarmStart,
    fresh_start,
    kmeans,
    point_distances,
    settled_warm_starts,
    silhouettes,
    warm_start,
)
from coauthor.analysis.opinion_era import PolisMath
from coauthor.analysis.opinion_pca import (
    DEFLATE_ONCE_ABOVE_ITERS,
    PCA_ITERS,
    CrossCounts,
    PcaFit,
    dense_covariance,
    exact_pca,
    one_hot_cells,
    operator_covariance,
    power_iteration_pca,
    project_votes,
    start_vectors,
)
from coauthor.analysis.opinion_votes import RatingVotes

MIN_VOTES_IN_CONV = 7
MIN_IN_CONV = 15
PcaMethod = Literal["exact", "power"]


@dataclass(frozen=True, eq=False)
class OpinionState:
    """What the next incremental :func:`~coauthor.analysis.opinion.analyze` needs from this one."""

    pca_statement_ids: tuple[str, ...]
    pca_comps: NDArray[np.float64]
    in_conv: frozenset[str]
    base_seed: ClusterSeed | None
    group_seeds: dict[int, ClusterSeed]
    smoother: KSmoother | None


@dataclass(frozen=True, eq=False)
class GroupSeed:
    """A previous group clustering: ids, centres, and the group position of each base cluster id."""

    ids: NDArray[np.int64]
    centers: NDArray[np.float64]
    base_ids: NDArray[np.int64]
    base_group: NDArray[np.int64]

    def lookup(self, base_ids: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """Where each of ``base_ids`` is in ``self.base_ids`` (clipped), and whether it is there."""
        if self.base_ids.size == 0:
            return np.zeros(base_ids.size, dtype=np.int64), np.zeros(base_ids.size, dtype=bool)
        at = np.minimum(np.searchsorted(self.base_ids, base_ids), self.base_ids.size - 1)
        return at, self.base_ids[at] == base_ids


@dataclass(frozen=True, eq=False)
class Prior:
    """The previous update, by row: ``in_conv`` and ``base_labels`` cover its rows."""

    pca_statement_ids: tuple[str, ...]
    pca_comps: NDArray[np.float64]
    in_conv: NDArray[np.bool_]
    base_ids: NDArray[np.int64] | None
    base_centers: NDArray[np.float64] | None
    base_labels: NDArray[np.int64]
    groups: dict[int, GroupSeed] = field(default_factory=dict)
    smoother: KSmoother | None = None


@dataclass(frozen=True, eq=False)
class Placement:
    """PCA, everyone's place on the map, and who is in the conversation."""

    fit: PcaFit
    xy: NDArray[np.float64]
    in_conv: NDArray[np.bool_]
    zeroed: NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Grouping:
    """Group position of every row (-1 when not clustered) and the clusterings behind it."""

    group_position: NDArray[np.int64]
    group_ids: NDArray[np.int64]
    base: Clustering | None
    in_rows: NDArray[np.int64]
    clusterings: dict[int, Clustering]
    k: int
    silhouettes: dict[int, float]
    smoother: KSmoother | None


CarriedBounds = tuple[
    NDArray[np.int64],
    NDArray[np.float64],
    NDArray[np.int64],
    NDArray[np.float64],
    NDArray[np.int64],
    NDArray[np.float64],
    NDArray[np.float64],
]
"""A base clustering carried to the next update: its rows, places, ids, centres and bounds."""


class BaseTracker(Protocol):
    """Carries k-means distance bounds from one update's base clustering to the next."""

    def start(
        self, points: NDArray[np.float64], in_rows: NDArray[np.int64], start: WarmStart | None
    ) -> TrackedAssignment | None: ...

    def finish(
        self,
        points: NDArray[np.float64],
        in_rows: NDArray[np.int64],
        base: Clustering,
        tracked: TrackedAssignment | None,
    ) -> None: ...

    def carried(self) -> CarriedBounds:
        """The last base clustering's rows, places, ids, centres and bounds (no rows: none)."""
        ...


def place(
    votes: RatingVotes,
    math: PolisMath,
    prior: Prior | None,
    seed: int,
    pca_method: PcaMethod = "exact",
) -> Placement:
    """Centre, PCA, projection and inclusion, as Pol.is's math of ``math``'s era did them."""
    zeroed, scale_counts = placement_scaling(votes, math)
    xy: NDArray[np.float64] | None = None
    cross = votes.cross
    if cross is not None and (pca_method == "power" or prior is not None):
        fit, xy = _power_placement(
            votes, cross, zeroed, scale_counts, math, prior, seed, pca_method
        )
    else:
        fit = _pca(votes, zeroed, math, prior, seed, pca_method)
    if xy is None:
        xy = project_votes(
            votes.indptr, votes.codes, fit, zeroed, scale_counts, sparse=math.sparse_projection
        )
    before = prior.in_conv if prior is not None else None
    in_conv = in_conversation(votes, math, scale_counts, before)
    return Placement(fit=fit, xy=xy, in_conv=in_conv, zeroed=zeroed)


def placement_scaling(
    votes: RatingVotes, math: PolisMath
) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
    """The statements zeroed in the PCA, and each row's vote count the projection scales by."""
    zeroed = votes.zeroable & math.zero_moderated
    scale_counts = votes.row_counts
    if math.zero_moderated:
        scale_counts = votes.row_counts - votes.row_zeroable_counts + int(zeroed.sum())
    return zeroed, scale_counts


def in_conversation(
    votes: RatingVotes,
    math: PolisMath,
    scale_counts: NDArray[np.int64],
    before: NDArray[np.bool_] | None,
) -> NDArray[np.bool_]:
    """Who is in the conversation, given who was (``before``, None at a first update)."""
    in_conv_counts = scale_counts if math.in_conv_counts_moderated else votes.row_counts
    return _in_conv(in_conv_counts, votes.n_cols, before)


def _pca(
    votes: RatingVotes,
    zeroed: NDArray[np.bool_],
    math: PolisMath,
    prior: Prior | None,
    seed: int,
    pca_method: PcaMethod,
) -> PcaFit:
    """Exact components for a first analysis; Pol.is's power iteration from the previous ones."""
    mean_imputed = math.imputation == "mean"
    divisor = np.maximum(votes.column_counts if mean_imputed else votes.n_rows, 1)
    center = np.where(zeroed | (votes.column_counts == 0), 0.0, votes.column_sums / divisor)
    if votes.cross is not None:
        covariance = dense_covariance(
            votes.cross, center, zeroed, n_rows=votes.n_rows, mean_imputed=mean_imputed
        )
    else:
        one_hot = one_hot_cells(votes.indptr, votes.codes, votes.n_cols)
        covariance = operator_covariance(one_hot, center, zeroed, mean_imputed=mean_imputed)
    starts = start_vectors(votes.n_cols, seed, _previous_comps(votes.statement_ids, prior))
    iters = PCA_ITERS if pca_method == "power" else math.pca_iters
    if pca_method == "power" or prior is not None:
        fit = power_iteration_pca(covariance, center, starts, n_rows=votes.n_rows, iters=iters)
    else:
        fit = exact_pca(covariance, center, starts, n_rows=votes.n_rows, seed=seed)
    fit.comps[:, zeroed] = 0.0
    return fit


def _power_placement(
    votes: RatingVotes,
    cross: CrossCounts,
    zeroed: NDArray[np.bool_],
    scale_counts: NDArray[np.int64],
    math: PolisMath,
    prior: Prior | None,
    seed: int,
    pca_method: PcaMethod,
) -> tuple[PcaFit, NDArray[np.float64] | None]:
    """:func:`_pca` by power iteration on the cross-counts, and the projection, in one call.

    What a warm-started update runs (the replay's and ``analyze(previous=...)``'s
    hot path): centre, covariance, both components and, for the sparsity-aware
    projection, everyone's place, in one compiled call
    (:func:`coauthor.analysis.opinion_kernels.power_placement`, the same
    expressions in the same order as the step-by-step functions). The
    projection of the earliest era (``sparse_projection`` off) is left to
    :func:`project_votes` (None is returned for it).
    """
    from coauthor.analysis.opinion_kernels import power_placement

    starts = start_vectors(votes.n_cols, seed, _previous_comps(votes.statement_ids, prior))
    iters = PCA_ITERS if pca_method == "power" else math.pca_iters
    center, comps, eigenvalues, xy = power_placement(
        cross.vv,
        cross.vm,
        cross.mm,
        votes.column_sums,
        votes.column_counts,
        np.ascontiguousarray(zeroed, dtype=np.bool_),
        votes.n_rows,
        math.imputation == "mean",
        np.ascontiguousarray(starts, dtype=np.float64),
        iters,
        iters > DEFLATE_ONCE_ABOVE_ITERS,
        votes.indptr,
        votes.codes,
        np.ascontiguousarray(scale_counts, dtype=np.int64),
        math.sparse_projection,
    )
    fit = PcaFit(center=center, comps=comps, eigenvalues=eigenvalues)
    return fit, xy if math.sparse_projection else None


def _previous_comps(statement_ids: Sequence[str], prior: Prior | None) -> NDArray | None:
    """Previous components aligned on today's statements, new ones padded with 1 (Pol.is)."""
    if prior is None:
        return None
    return aligned_comps(statement_ids, prior.pca_statement_ids, prior.pca_comps)


def aligned_comps(
    statement_ids: Sequence[str],
    previous_ids: tuple[str, ...],
    previous: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Components on ``previous_ids`` aligned on ``statement_ids``, new ones padded with 1."""
    if previous_ids == tuple(statement_ids):
        return previous
    position = {sid: i for i, sid in enumerate(previous_ids)}
    at = np.array([position.get(sid, -1) for sid in statement_ids], dtype=np.int64)
    comps = np.ones((previous.shape[0], len(statement_ids)))
    known = at >= 0
    comps[:, known] = previous[:, at[known]]
    return comps


_NO_FLAGS = np.zeros(0, dtype=np.bool_)


def _in_conv(
    counts: NDArray[np.int64], n_statements: int, before: NDArray[np.bool_] | None
) -> NDArray:
    """At least ``min(7, statements)`` votes; once in, always in; topped up to 15 top voters."""
    from coauthor.analysis.opinion_kernels import voted_enough

    in_conv, n_in = voted_enough(
        counts,
        min(MIN_VOTES_IN_CONV, n_statements),
        before if before is not None else _NO_FLAGS,
    )
    return topped_up(in_conv, n_in, counts)


def topped_up(
    in_conv: NDArray[np.bool_], n_in: int, counts: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """``in_conv`` (``n_in`` rows) topped up, in place, to 15 with the top voters by ``counts``."""
    missing = MIN_IN_CONV - n_in
    if missing > 0:
        candidates = np.flatnonzero(~in_conv & (counts > 0))
        top = candidates[np.argsort(-counts[candidates], kind="stable")][:missing]
        in_conv[top] = True
    return in_conv


def cluster(
    xy: NDArray[np.float64],
    in_conv: NDArray[np.bool_],
    math: PolisMath,
    prior: Prior | None,
    tracker: BaseTracker | None = None,
) -> Grouping:
    """Base clusters of the in-conversation participants, then the groups and the chosen k."""
    in_rows = np.flatnonzero(in_conv)
    group_position = np.full(xy.shape[0], -1, dtype=np.int64)
    if in_rows.size == 0:
        return Grouping(group_position, np.zeros(0, np.int64), None, in_rows, {}, 0, {}, None)
    points = xy.take(in_rows, axis=0)  # xy[in_rows], without NumPy's slower fancy indexing
    compiled = _warm_grouping(points, in_rows, math, prior, tracker)
    if compiled is not None:
        base, groups = compiled
    else:
        base, groups = _base_clusters(points, in_rows, math, prior, tracker), None
    if base.ids.size < 2:
        group_position[in_rows] = 0
        return Grouping(group_position, np.zeros(1, np.int64), base, in_rows, {}, 1, {}, None)
    if groups is not None:
        clusterings, scores = groups
    else:
        clusterings = _group_clusterings(base, math, prior)
        scores = silhouettes(
            point_distances(base.centers), [c.labels for c in clusterings.values()]
        )
    by_k = dict(zip(clusterings, scores, strict=True))
    k, smoother = choose_k(by_k, prior.smoother if prior is not None else None, math.k_buffer)
    chosen = clusterings[k]
    group_position[in_rows] = chosen.labels[base.labels]
    return Grouping(group_position, chosen.ids, base, in_rows, clusterings, k, by_k, smoother)


def _warm_grouping(
    points: NDArray[np.float64],
    in_rows: NDArray[np.int64],
    math: PolisMath,
    prior: Prior | None,
    tracker: BaseTracker | None,
) -> tuple[Clustering, tuple[dict[int, Clustering], list[float]] | None] | None:
    """A warm-started update's base and group clusterings in one compiled call.

    :func:`coauthor.analysis.opinion_kernels.warm_grouping` runs the
    steps of :func:`_base_clusters`, :func:`_group_clusterings` and the
    silhouettes for the usual case of a warm start; this builds its arrays
    and the :class:`Clustering` objects back. None when it did not run the
    base clustering (a first update, or a step it leaves to NumPy); the base
    clustering alone when it left the groups to :func:`_group_clusterings`.
    """
    if prior is None or prior.base_ids is None:
        return None
    from coauthor.analysis import opinion_kernels as kernel

    label = _prior_labels(prior, in_rows)
    old = tracker.carried() if tracker is not None else NOTHING_CARRIED
    seeds = packed_group_seeds(prior, math.max_k)
    result = kernel.warm_grouping(
        np.ascontiguousarray(points, dtype=np.float64),
        in_rows,
        label,
        np.ascontiguousarray(prior.base_ids, dtype=np.int64),
        math.base_k,
        math.base_iters,
        tracker is not None,
        *old,
        math.weighted_groups,
        math.k_offset,
        math.base_clusters_per_k,
        math.max_k,
        math.group_iters,
        *seeds,
    )
    status, base_ids, base_centers, base_labels, position, upper, lower = result[:7]
    if status == kernel.BASE_NOT_COMPILED:
        return None
    base = Clustering(ids=base_ids, centers=base_centers, labels=base_labels)
    if tracker is not None:
        tracker.finish(points, in_rows, base, TrackedAssignment(position, upper, lower))
    if status == kernel.GROUPS_NOT_COMPILED:
        return base, None
    group_ids, group_centers, group_widths, group_labels, scores = result[7:]
    clusterings = {
        g + 2: Clustering(
            ids=group_ids[g, :width], centers=group_centers[g, :width], labels=group_labels[g]
        )
        for g, width in enumerate(group_widths.tolist())
    }
    return base, (clusterings, scores.tolist())


PackedGroupSeeds = tuple[
    NDArray[np.bool_], NDArray[np.int64], NDArray[np.int64], NDArray, NDArray, NDArray
]
"""A prior's groups for every k as ``warm_grouping`` reads them (see :func:`packed_group_seeds`)."""

_NO_ROWS = np.zeros(0, dtype=np.int64)
_NO_POINTS = np.zeros((0, 2))
NOTHING_CARRIED: CarriedBounds = (
    _NO_ROWS,
    _NO_POINTS,
    _NO_ROWS,
    _NO_POINTS,
    _NO_ROWS,
    np.zeros(0),
    np.zeros(0),
)


def _prior_labels(prior: Prior, in_rows: NDArray[np.int64]) -> NDArray[np.int64]:
    """Each in-conversation row's previous base cluster position (-1: a new row)."""
    if in_rows.size and in_rows[-1] < prior.base_labels.size:  # no row is new
        return prior.base_labels[in_rows]
    label = np.full(in_rows.size, -1, dtype=np.int64)
    known = in_rows < prior.base_labels.size
    label[known] = prior.base_labels[in_rows[known]]
    return label


def packed_group_seeds(prior: Prior, max_k: int) -> PackedGroupSeeds:
    """The previous groups for k = 2..``max_k`` as padded arrays (see ``warm_grouping``)."""
    n_k = max(max_k - 1, 0)
    seeds = [prior.groups.get(g + 2) for g in range(n_k)]
    longest = max((s.base_ids.size for s in seeds if s is not None), default=0)
    widest = max((s.ids.size for s in seeds if s is not None), default=0)
    seeded = np.zeros(n_k, dtype=np.bool_)
    ids = np.zeros((n_k, widest), dtype=np.int64)
    widths = np.zeros(n_k, dtype=np.int64)
    base_ids = np.zeros((n_k, longest), dtype=np.int64)
    base_counts = np.zeros(n_k, dtype=np.int64)
    base_group = np.zeros((n_k, longest), dtype=np.int64)
    for g, seed in enumerate(seeds):
        if seed is None:
            continue
        seeded[g] = True
        widths[g] = seed.ids.size
        ids[g, : seed.ids.size] = seed.ids
        base_counts[g] = seed.base_ids.size
        base_ids[g, : seed.base_ids.size] = seed.base_ids
        base_group[g, : seed.base_ids.size] = seed.base_group
    return seeded, ids, widths, base_ids, base_counts, base_group


def _base_clusters(
    points: NDArray[np.float64],
    in_rows: NDArray[np.int64],
    math: PolisMath,
    prior: Prior | None,
    tracker: BaseTracker | None,
) -> Clustering:
    start: WarmStart | None = None
    if prior is not None and prior.base_ids is not None:
        start = warm_start(points, _prior_labels(prior, in_rows), prior.base_ids, math.base_k)
        ids, centers = start.ids, start.centers
    else:
        ids, centers = fresh_start(points, math.base_k)
    tracked = tracker.start(points, in_rows, start) if tracker is not None else None
    base = kmeans(
        points,
        ids,
        centers,
        max_iters=math.base_iters,
        tracked=tracked,
        labels=_warm_labels(start),
    )
    if tracker is not None:
        tracker.finish(points, in_rows, base, tracked)
    return base


def _group_clusterings(
    base: Clustering, math: PolisMath, prior: Prior | None
) -> dict[int, Clustering]:
    """Weighted k-means of the base clusters for every k tried, each warm-started."""
    weights = base.sizes.astype(np.float64) if math.weighted_groups else None
    ks = range(2, math.max_group_k(base.ids.size) + 1)
    seeds = {k: prior.groups[k] for k in ks if prior is not None and k in prior.groups}
    labels = _seed_labels(seeds, base.ids)
    settled = settled_warm_starts(
        base.centers, weights, {k: (labels[k], seed.ids) for k, seed in seeds.items()}
    )
    clusterings: dict[int, Clustering] = {}
    for k in ks:
        if k in settled:
            clusterings[k] = settled[k]
            continue
        start = None
        if k in seeds:
            start = warm_start(base.centers, labels[k], seeds[k].ids, k, weights=weights)
            ids, centers = start.ids, start.centers
        else:
            ids, centers = fresh_start(base.centers, k)
        clusterings[k] = kmeans(
            base.centers,
            ids,
            centers,
            weights=weights,
            max_iters=math.group_iters,
            labels=_warm_labels(start),
        )
    return clusterings


def _seed_labels(
    seeds: dict[int, GroupSeed], base_ids: NDArray[np.int64]
) -> dict[int, NDArray[np.int64]]:
    """Each seed's group position of every current base cluster (-1: not in it)."""
    labels: dict[int, NDArray[np.int64]] = {}
    shared: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]] | None = None
    for k, seed in seeds.items():
        if shared is None or not (
            shared[0] is seed.base_ids or np.array_equal(shared[0], seed.base_ids)
        ):
            at, found = seed.lookup(base_ids)
            shared = (seed.base_ids, at, found)
        labels[k] = np.where(shared[2], seed.base_group[shared[1]], -1)
    return labels


def _warm_labels(start: WarmStart | None) -> NDArray[np.int64] | None:
    """A warm start's labels when its centres are the means of every point's cluster."""
    if start is None or start.split or (start.label < 0).any():
        return None
    return start.label


def choose_k(
    scores: dict[int, float], before: KSmoother | None, buffer: int
) -> tuple[int, KSmoother]:
    """Argmax silhouette (ties → larger k, as Clojure's max-key), then the smoother (``before``)."""
    this_k = max(scores, key=lambda k: (scores[k], k))
    smoother = before.update(this_k, buffer) if before is not None else KSmoother.first(this_k)
    k = smoother.smoothed_k if smoother.smoothed_k in scores else this_k
    return k, smoother


def next_prior(statement_ids: Sequence[str], placement: Placement, grouping: Grouping) -> Prior:
    """This update as the next one's :class:`Prior`."""
    base = grouping.base
    base_labels = np.full(placement.xy.shape[0], -1, dtype=np.int64)
    groups: dict[int, GroupSeed] = {}
    if base is not None:
        base_labels[grouping.in_rows] = base.labels
        groups = {
            k: GroupSeed(
                ids=clustering.ids,
                centers=clustering.centers,
                base_ids=base.ids,
                base_group=clustering.labels,
            )
            for k, clustering in grouping.clusterings.items()
        }
    return Prior(
        pca_statement_ids=tuple(statement_ids),
        pca_comps=placement.fit.comps.copy(),
        in_conv=placement.in_conv,
        base_ids=base.ids if base is not None else None,
        base_centers=base.centers if base is not None else None,
        base_labels=base_labels,
        groups=groups,
        smoother=grouping.smoother,
    )


def prior_from_state(state: OpinionState, participant_ids: Sequence[str]) -> Prior:
    """An id-keyed state as a row-indexed :class:`Prior` for a matrix with these participants."""
    row_of = {pid: i for i, pid in enumerate(participant_ids)}
    n_rows = len(participant_ids)
    in_conv = np.zeros(n_rows, dtype=bool)
    in_conv[[row_of[p] for p in state.in_conv if p in row_of]] = True
    base_labels = np.full(n_rows, -1, dtype=np.int64)
    base = state.base_seed
    if base is not None:
        for position, members in enumerate(base.members):
            base_labels[[row_of[m] for m in members if m in row_of]] = position
    groups = {}
    for k, seed in state.group_seeds.items():
        member_ids = [int(m) for members in seed.members for m in members]
        positions = [i for i, members in enumerate(seed.members) for _ in members]
        order = np.argsort(member_ids, kind="stable")
        groups[k] = GroupSeed(
            ids=seed.ids,
            centers=seed.centers,
            base_ids=np.asarray(member_ids, dtype=np.int64)[order],
            base_group=np.asarray(positions, dtype=np.int64)[order],
        )
    return Prior(
        pca_statement_ids=state.pca_statement_ids,
        pca_comps=state.pca_comps,
        in_conv=in_conv,
        base_ids=base.ids if base is not None else None,
        base_centers=base.centers if base is not None else None,
        base_labels=base_labels,
        groups=groups,
        smoother=state.smoother,
    )


def state_of(prior: Prior, participant_ids: Sequence[str]) -> OpinionState:
    """A row-indexed :class:`Prior` as the id-keyed :class:`OpinionState` results carry."""
    names = np.asarray(participant_ids, dtype=object)
    base_seed = None
    group_seeds = {}
    if prior.base_ids is not None and prior.base_centers is not None:
        labelled = np.flatnonzero(prior.base_labels >= 0)
        base_seed = ClusterSeed(
            ids=prior.base_ids,
            centers=prior.base_centers,
            members=_members(names[labelled], prior.base_labels[labelled], prior.base_ids.size),
        )
        for k, seed in prior.groups.items():
            group_seeds[k] = ClusterSeed(
                ids=seed.ids,
                centers=seed.centers,
                members=_members(seed.base_ids, seed.base_group, seed.ids.size),
            )
    in_rows = np.flatnonzero(prior.in_conv)
    return OpinionState(
        pca_statement_ids=prior.pca_statement_ids,
        pca_comps=prior.pca_comps,
        in_conv=frozenset(names[in_rows].tolist()),
        base_seed=base_seed,
        group_seeds=group_seeds,
        smoother=prior.smoother,
    )


def _members(names: NDArray, labels: NDArray[np.int64], n_clusters: int) -> tuple[tuple, ...]:
    """Names grouped by cluster position, in data order within each cluster."""
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n_clusters + 1))
    grouped = names[order].tolist()
    return tuple(tuple(grouped[bounds[i] : bounds[i + 1]]) for i in range(n_clusters))
