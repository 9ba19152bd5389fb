"""Pol.is k-means, its warm start, silhouette and the k-smoother (``clusters.clj``).

Two levels, as in Pol.is: 100 *base clusters* of participants' 2-D
projections, then *groups*: a weighted k-means of the base-cluster centres
(weights = base-cluster sizes) for each k in ``2..max_k``, the k chosen by
silhouette over base-cluster centres.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

SAME_CLUSTERING_THRESHOLD = 0.01
TIE_MARGIN = 1e-9
"""Relative and absolute margin under which two distances count as a tie (see
``TrackedAssignment``)."""
GROUP_K_BUFFER = 4
MAX_GROUP_K = 5
BASE_CLUSTERS_PER_EXTRA_K = 12
LARGE_ASSIGNMENT = 250_000


@dataclass(frozen=True, eq=False)
class Clustering:
    """k-means result: cluster ids, their centres, and each point's cluster *position*.

    ``labels[i]`` indexes ``ids``/``centers``; ids are Pol.is's cluster ids
    (stable across warm-started updates), sorted ascending.
    """

    ids: NDArray[np.int64]
    centers: NDArray[np.float64]
    labels: NDArray[np.int64]

    @property
    def sizes(self) -> NDArray[np.int64]:
        return np.bincount(self.labels, minlength=self.ids.size)


@dataclass(frozen=True, eq=False)
class ClusterSeed:
    """A previous clustering to warm-start from: ids, centres and member names."""

    ids: NDArray[np.int64]
    centers: NDArray[np.float64]
    members: tuple[tuple[Hashable, ...], ...]


@dataclass(frozen=True)
class KSmoother:
    """Pol.is's group-count smoother (``conversation.clj`` 451-468)."""

    last_k: int
    last_k_count: int
    smoothed_k: int

    def update(self, this_k: int, buffer: int = GROUP_K_BUFFER) -> KSmoother:
        """Count ``this_k``'s consecutive wins; adopt it after ``buffer`` of them."""
        count = self.last_k_count + 1 if this_k == self.last_k else 1
        smoothed = this_k if count >= buffer else self.smoothed_k
        return KSmoother(last_k=this_k, last_k_count=count, smoothed_k=smoothed)

    @staticmethod
    def first(this_k: int) -> KSmoother:
        return KSmoother(last_k=this_k, last_k_count=1, smoothed_k=this_k)


def max_group_k(n_base_clusters: int) -> int:
    """Largest k tried for groups: ``min(5, 2 + floor(n_base / 12))`` (max-k-fn)."""
    return min(MAX_GROUP_K, 2 + n_base_clusters // BASE_CLUSTERS_PER_EXTRA_K)


def first_distinct_rows(points: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """The first ``k`` distinct rows in data order (Pol.is ``init-clusters``)."""
    if points.shape[0] == 0:
        return points[:0]
    _, first_index = np.unique(points, axis=0, return_index=True)
    return points[np.sort(first_index)[:k]]


def squared_distances(points: NDArray[np.float64], centers: NDArray[np.float64]) -> NDArray:
    dx = points[:, 0, None] - centers[None, :, 0]
    dy = points[:, 1, None] - centers[None, :, 1]
    return dx * dx + dy * dy


def nearest_center(
    points: NDArray[np.float64], centers: NDArray[np.float64], n_points: int | None = None
) -> NDArray:
    """Index of the nearest centre (the first one on exact ties).

    Large problems (``n_points``, default all the points given, times the
    centres) query a k-d tree of the centres instead of computing every
    distance; it may break an exact tie differently. Each point's answer
    depends only on that point and the centres, so assigning a subset of the
    points with the full problem's ``n_points`` gives those points' answers.
    """
    if _brute_force(points.shape[0] if n_points is None else n_points, centers.shape[0]):
        return np.argmin(squared_distances(points, centers), axis=1)
    return cKDTree(centers).query(points)[1].astype(np.int64)


def _brute_force(n_points: int, n_centers: int) -> bool:
    return n_points * n_centers < LARGE_ASSIGNMENT


def _two_nearest(
    points: NDArray[np.float64], centers: NDArray[np.float64], n_points: int
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Nearest centre as :func:`nearest_center` picks it, its distance, the second distance."""
    squared = squared_distances(points, centers)
    if _brute_force(n_points, centers.shape[0]):
        nearest = np.argmin(squared, axis=1)
    else:
        nearest = nearest_center(points, centers, n_points)
    rows = np.arange(points.shape[0])
    first = squared[rows, nearest]
    squared[rows, nearest] = np.inf
    second = squared.min(axis=1) if centers.shape[0] > 1 else np.full(rows.size, np.inf)
    return nearest, np.sqrt(first), np.sqrt(second)


def _weighted_means(
    points: NDArray[np.float64], weights: NDArray[np.float64], labels: NDArray[np.int64], k: int
) -> NDArray[np.float64]:
    """Weighted mean of each cluster's points (0 for a cluster without weight)."""
    totals = np.bincount(labels, weights=weights, minlength=k)
    sums = np.empty((k, 2))
    sums[:, 0] = np.bincount(labels, weights=weights * points[:, 0], minlength=k)
    sums[:, 1] = np.bincount(labels, weights=weights * points[:, 1], minlength=k)
    return np.divide(sums, totals[:, None], out=np.zeros((k, 2)), where=totals[:, None] > 0)


def _same_clustering(old: NDArray[np.float64], new: NDArray[np.float64]) -> bool:
    """Every centre moved less than 0.01, centres compared in sorted order (zip truncates)."""
    n = min(len(old), len(new))
    old_sorted = old[np.lexsort((old[:, 1], old[:, 0]))[:n]]
    new_sorted = new[np.lexsort((new[:, 1], new[:, 0]))[:n]]
    gap = old_sorted - new_sorted
    moved = np.sqrt(gap[:, 0] * gap[:, 0] + gap[:, 1] * gap[:, 1])
    return bool((moved < SAME_CLUSTERING_THRESHOLD).all())


def _recentre(
    points: NDArray[np.float64],
    weights: NDArray[np.float64],
    ids: NDArray[np.int64],
    labels: NDArray[np.int64],
) -> tuple[Clustering, NDArray[np.bool_]]:
    """Drop empty clusters and move each centre to its members' weighted mean."""
    counts = np.bincount(labels, minlength=ids.size)
    new_centers = _weighted_means(points, weights, labels, ids.size)
    kept = counts > 0
    if kept.all():
        return Clustering(ids=ids, centers=new_centers, labels=labels), kept
    position = np.cumsum(kept) - 1
    clustering = Clustering(ids=ids[kept], centers=new_centers[kept], labels=position[labels])
    return clustering, kept


class TrackedAssignment:
    """Distance bounds that let k-means skip points whose nearest centre cannot have changed.

    For each point: the position of its assigned centre, an upper bound on
    the distance to it and a lower bound on the distance to every other
    centre (Hamerly's bounds). A point whose upper bound is clearly below its
    lower bound keeps its centre without any distance being computed; any
    other point is assigned exactly as :func:`nearest_center` would. The
    margin (``TIE_MARGIN``, relative and absolute) is far above rounding, so
    the assignment is the one :func:`nearest_center` computes for every point.
    A replay carries these bounds from one update to the next; ``unknown()``
    starts without any.
    """

    def __init__(
        self, position: NDArray[np.int64], upper: NDArray[np.float64], lower: NDArray[np.float64]
    ) -> None:
        self.position = position
        self.upper = upper
        self.lower = lower

    @classmethod
    def unknown(cls, n_points: int) -> TrackedAssignment:
        return cls(
            np.zeros(n_points, dtype=np.int64),
            np.full(n_points, np.inf),
            np.zeros(n_points),
        )

    def _settled(self, upper: NDArray, lower: NDArray) -> NDArray[np.bool_]:
        return upper * (1 + TIE_MARGIN) + TIE_MARGIN < lower

    def assign(self, points: NDArray[np.float64], centers: NDArray[np.float64]) -> NDArray:
        """Every point's nearest centre; the bounds are exact again for recomputed points."""
        unsure = np.flatnonzero(~self._settled(self.upper, self.lower))
        if unsure.size:
            known = unsure[np.isfinite(self.upper[unsure])]
            if known.size:
                gap = points[known] - centers[self.position[known]]
                self.upper[known] = np.sqrt(gap[:, 0] * gap[:, 0] + gap[:, 1] * gap[:, 1])
                unsure = unsure[~self._settled(self.upper[unsure], self.lower[unsure])]
        if unsure.size:
            nearest, first, second = _two_nearest(points[unsure], centers, points.shape[0])
            self.position[unsure] = nearest
            self.upper[unsure] = first
            self.lower[unsure] = second
        return self.position.copy()

    def moved(self, shift: NDArray[np.float64]) -> None:
        """Each point moved by ``shift`` (a distance per point)."""
        self.upper += shift
        self.lower -= shift

    def centres_moved(self, shift: NDArray[np.float64], kept: NDArray[np.bool_]) -> None:
        """Centre ``j`` moved by ``shift[j]``; centres not ``kept`` are gone (no point had them)."""
        self.upper += shift[self.position]
        self.lower -= shift.max() if shift.size else 0.0
        self.position = (np.cumsum(kept) - 1)[self.position]

    def reorder(self, rank: NDArray[np.int64]) -> None:
        """The centres were reordered: centre ``j`` is now at ``rank[j]``."""
        self.position = rank[self.position]


def kmeans(
    points: NDArray[np.float64],
    ids: NDArray[np.int64],
    centers: NDArray[np.float64],
    *,
    weights: NDArray[np.float64] | None = None,
    max_iters: int,
    tracked: TrackedAssignment | None = None,
    labels: NDArray[np.int64] | None = None,
) -> Clustering:
    """Lloyd's k-means from the given centres, stopping as Pol.is does.

    At most ``max_iters + 1`` steps; stops early once no sorted centre moved
    0.01 or more. ``labels``, when given, are the clusters of every point
    that ``centers`` are the weighted means of (a warm start's): if the
    first assignment gives them back, the centres stay as they are and
    k-means stops there, as the full step would. With ``tracked`` (bounds
    valid for ``centers``), points whose centre cannot have changed are not
    measured again, and the bounds are left valid for the returned
    clustering; the result is the same. Where every distance is computed
    (below ``LARGE_ASSIGNMENT``), the whole loop is one compiled call
    (:func:`coauthor.analysis.opinion_kernels.kmeans`, the same steps and bits);
    larger problems assign through a k-d tree, in NumPy.
    """
    if _brute_force(points.shape[0], centers.shape[0]):
        return _compiled_kmeans(points, ids, centers, weights, max_iters, tracked, labels)
    w: NDArray[np.float64] | None = None
    current = centers
    for remaining in range(max_iters, -1, -1):
        assigned = (
            nearest_center(points, current) if tracked is None else tracked.assign(points, current)
        )
        if labels is not None and np.array_equal(assigned, labels):
            return _sorted_by_id(Clustering(ids=ids, centers=current, labels=labels), tracked)
        labels = None
        if w is None:
            w = np.ones(points.shape[0]) if weights is None else np.asarray(weights, np.float64)
        step, kept = _recentre(points, w, ids, assigned)
        if tracked is not None:
            gap = step.centers - current[kept]
            shift = np.zeros(kept.size)
            shift[kept] = np.sqrt(gap[:, 0] * gap[:, 0] + gap[:, 1] * gap[:, 1])
            tracked.centres_moved(shift, kept)
        if remaining == 0 or _same_clustering(current, step.centers):
            break
        ids, current = step.ids, step.centers
    return _sorted_by_id(step, tracked)


def _compiled_kmeans(
    points: NDArray[np.float64],
    ids: NDArray[np.int64],
    centers: NDArray[np.float64],
    weights: NDArray[np.float64] | None,
    max_iters: int,
    tracked: TrackedAssignment | None,
    labels: NDArray[np.int64] | None,
) -> Clustering:
    """:func:`kmeans` in one compiled call (the same steps, assignments and stops)."""
    from coauthor.analysis import opinion_kernels

    n = points.shape[0]
    bounds = tracked if tracked is not None else TrackedAssignment.unknown(0)
    result_ids, result_centers, result_labels = opinion_kernels.kmeans(
        np.ascontiguousarray(points, dtype=np.float64),
        np.ones(n) if weights is None else np.ascontiguousarray(weights, dtype=np.float64),
        np.ascontiguousarray(ids, dtype=np.int64),
        np.ascontiguousarray(centers, dtype=np.float64),
        max_iters,
        _NO_LABELS if labels is None else np.ascontiguousarray(labels, dtype=np.int64),
        tracked is not None,
        bounds.position,
        bounds.upper,
        bounds.lower,
    )
    return Clustering(ids=result_ids, centers=result_centers, labels=result_labels)


_NO_LABELS = np.zeros(0, dtype=np.int64)


def _sorted_by_id(clustering: Clustering, tracked: TrackedAssignment | None) -> Clustering:
    """The clustering with its clusters in id order (and the bounds following them)."""
    ids = clustering.ids
    if ids.size < 2 or bool((ids[1:] > ids[:-1]).all()):
        return clustering
    order = np.argsort(ids, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    if tracked is not None:
        tracked.reorder(rank)
    return Clustering(
        ids=ids[order], centers=clustering.centers[order], labels=rank[clustering.labels]
    )


def fresh_start(points: NDArray[np.float64], k: int) -> tuple[NDArray[np.int64], NDArray]:
    centers = first_distinct_rows(points, k)
    return np.arange(centers.shape[0], dtype=np.int64), centers


@dataclass(frozen=True, eq=False)
class WarmStart:
    """Pol.is ``clean-start-clusters``: ids and centres to start k-means from.

    ``label`` is each point's cluster position (-1 for a point no previous
    cluster had); ``split`` says whether clusters were split off.
    """

    ids: NDArray[np.int64]
    centers: NDArray[np.float64]
    label: NDArray[np.int64]
    split: bool


def clean_start(
    points: NDArray[np.float64],
    names: Sequence[Hashable],
    seed: ClusterSeed,
    k: int,
    *,
    weights: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Warm start from a previous clustering whose members are named (see :func:`warm_start`)."""
    start = warm_start(points, _seed_labels(names, seed), seed.ids, k, weights=weights)
    return start.ids, start.centers


def warm_start(
    points: NDArray[np.float64],
    label: NDArray[np.int64],
    seed_ids: NDArray[np.int64],
    k: int,
    *,
    weights: NDArray[np.float64] | None = None,
) -> WarmStart:
    """Warm start from a previous clustering (Pol.is ``clean-start-clusters``).

    ``label`` is each point's position in ``seed_ids`` (-1: new). Recentre
    each previous cluster on its members still present, merge clusters with
    identical centres, then split off the most distal point until there are
    ``min(k, distinct points)`` clusters.
    """
    from coauthor.analysis import opinion_kernels

    w = np.ones(points.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    label, present, centers, duplicate = opinion_kernels.warm_centres(
        np.ascontiguousarray(points, dtype=np.float64),
        np.ascontiguousarray(w),
        np.ascontiguousarray(label, dtype=np.int64),
        seed_ids.size,
    )
    if present.any():
        ids = seed_ids[present].tolist()
    else:
        ids = [int(seed_ids.max()) + 1 if seed_ids.size else 0]
    if duplicate:
        assigned = label >= 0
        ids, label = _merge_identical(
            centers, np.bincount(label[assigned], minlength=len(ids)), ids, label
        )
        centers = _weighted_means(points, w * (label >= 0), np.maximum(label, 0), len(ids))
    if len(ids) >= k:
        return WarmStart(np.asarray(ids, dtype=np.int64), centers, label, False)
    return _split_off(points, w, ids, label, min(k, np.unique(points, axis=0).shape[0]))


def settled_warm_starts(
    points: NDArray[np.float64],
    weights: NDArray[np.float64] | None,
    starts: dict[int, tuple[NDArray[np.int64], NDArray[np.int64]]],
) -> dict[int, Clustering]:
    """The k-means of each warm start that its first assignment would leave as it is.

    ``starts`` maps k to (each point's position in the previous clustering,
    the previous ids, sorted). A warm start in which every point has a
    cluster, every previous cluster is present, no two centres coincide and
    there are at least k clusters has centres that are its clusters' weighted
    means (:func:`warm_start`); if every point's nearest centre is its own
    cluster's, k-means (:func:`kmeans`) stops at once with that clustering.
    Those are returned, computed together for all k in one compiled call (the
    same numbers as one by one); any other k is left to :func:`warm_start` and :func:`kmeans`.
    """
    candidates = [
        (k, label, ids)
        for k, (label, ids) in starts.items()
        if ids.size >= k and label.size and int(label.min()) >= 0
    ]
    if not candidates:
        return {}
    from coauthor.analysis import opinion_kernels

    widths = np.array([ids.size for _, _, ids in candidates], dtype=np.int64)
    labels = np.stack([label for _, label, _ in candidates]).astype(np.int64, copy=False)
    w = np.ones(points.shape[0]) if weights is None else weights
    stays, grid = opinion_kernels.settled_warm_starts(
        np.ascontiguousarray(points, dtype=np.float64),
        np.ascontiguousarray(w, dtype=np.float64),
        labels,
        widths,
    )
    settled: dict[int, Clustering] = {}
    for block in np.flatnonzero(stays).tolist():
        k, label, ids = candidates[block]
        settled[k] = Clustering(ids=ids, centers=grid[block, : ids.size], labels=label)
    return settled


def _split_off(
    points: NDArray[np.float64],
    weights: NDArray[np.float64],
    ids: list[int],
    label: NDArray[np.int64],
    wanted: int,
) -> WarmStart:
    """Split off the point farthest from every centre (the last one on ties) until ``wanted``."""
    split = False
    while True:
        centers = _weighted_means(points, weights * (label >= 0), np.maximum(label, 0), len(ids))
        if wanted <= len(ids):
            break
        nearest = squared_distances(points, centers).min(axis=1)
        outlier = int(nearest.size - 1 - np.argmax(nearest[::-1]))
        if nearest[outlier] <= 0:
            break
        split = True
        label[outlier] = len(ids)
        ids.append(max(ids) + 1)
        kept = np.bincount(label[label >= 0], minlength=len(ids)) > 0
        if not kept.all():
            position = np.cumsum(kept) - 1
            label = np.where(label >= 0, position[np.maximum(label, 0)], -1)
            ids = [i for i, keep in zip(ids, kept.tolist(), strict=True) if keep]
    return WarmStart(np.asarray(ids, dtype=np.int64), centers, label, split)


def _seed_labels(names: Sequence[Hashable], seed: ClusterSeed) -> NDArray[np.int64]:
    """Position in ``seed`` of the cluster each current point was in (-1 if new)."""
    row_of = {name: i for i, name in enumerate(names)}
    label = np.full(len(names), -1, dtype=np.int64)
    for position, members in enumerate(seed.members):
        rows = [row_of[m] for m in members if m in row_of]
        label[rows] = position
    return label


def _merge_identical(
    centers: NDArray[np.float64], counts: NDArray[np.int64], ids: list[int], label: NDArray
) -> tuple[list[int], NDArray[np.int64]]:
    """Pol.is ``uniqify-clusters``: clusters whose centres coincide become one.

    The merged cluster keeps the id of the one with more members (the later
    one on a tie).
    """
    assigned = label >= 0
    kept_of: dict[tuple[float, float], int] = {}
    target = np.arange(len(ids))
    kept_ids: list[int] = []
    kept_counts: list[int] = []
    for position, center in enumerate(map(tuple, centers.tolist())):
        j = kept_of.get(center)
        if j is None:
            kept_of[center] = target[position] = len(kept_ids)
            kept_ids.append(ids[position])
            kept_counts.append(int(counts[position]))
            continue
        target[position] = j
        if counts[position] >= kept_counts[j]:
            kept_ids[j] = ids[position]
        kept_counts[j] += int(counts[position])
    return kept_ids, np.where(assigned, target[np.maximum(label, 0)], -1)


def point_distances(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Euclidean distances between every two points.

    ``hypot`` runs on the upper triangle only; the lower one is its mirror,
    exactly: ``a − b = −(b − a)`` in floating point and ``hypot`` depends on
    the absolute values of its arguments. One compiled call.
    """
    from coauthor.analysis import opinion_kernels

    return opinion_kernels.point_distances(np.ascontiguousarray(points, dtype=np.float64))


def silhouette(
    points: NDArray[np.float64],
    labels: NDArray[np.int64],
    distances: NDArray[np.float64] | None = None,
) -> float:
    """Mean silhouette over points (unweighted); a member of a singleton cluster scores 0."""
    if distances is None:
        distances = point_distances(points)
    return silhouettes(distances, [labels])[0]


def silhouettes(
    distances: NDArray[np.float64], labelings: Sequence[NDArray[np.int64]]
) -> list[float]:
    """The silhouette of several clusterings of the same points, from their distances.

    Each is the mean over points of ``(b − a) / max(a, b)``, ``a`` the mean
    distance to the rest of the point's cluster, ``b`` the smallest mean
    distance to another cluster; a member of a singleton cluster scores 0, a
    clustering with fewer than two clusters 0. All clusterings are scored in
    one compiled call.
    """
    largest = [int(labels.max()) if labels.size else 0 for labels in labelings]
    scored = [i for i, top in enumerate(largest) if top >= 1]
    result = [0.0] * len(labelings)
    if not scored:
        return result
    from coauthor.analysis import opinion_kernels

    labels = np.stack([np.asarray(labelings[i], dtype=np.int64) for i in scored])
    widths = np.array([largest[i] + 1 for i in scored], dtype=np.int64)
    scores = opinion_kernels.silhouettes(np.ascontiguousarray(distances), labels, widths)
    for i, value in zip(scored, scores.tolist(), strict=True):
        result[i] = value
    return result
