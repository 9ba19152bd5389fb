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

    def update(self, this_k: int) -> KSmoother:
        count = self.last_k_count + 1 if this_k == self.last_k else 1
        smoothed = this_k if count >= GROUP_K_BUFFER else self.smoothed_k
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


def nearest_center(points: NDArray[np.float64], centers: NDArray[np.float64]) -> NDArray:
    """Index of the nearest centre (the first one on exact ties).

    Large inputs query a k-d tree of the centres instead of computing every
    distance; it may break an exact tie differently.
    """
    if points.shape[0] * centers.shape[0] < LARGE_ASSIGNMENT:
        return np.argmin(squared_distances(points, centers), axis=1)
    return cKDTree(centers).query(points)[1].astype(np.int64)


def _weighted_means(
    points: NDArray[np.float64], weights: NDArray[np.float64], labels: NDArray[np.int64], k: int
) -> NDArray[np.float64]:
    totals = np.bincount(labels, weights=weights, minlength=k)
    sums_x = np.bincount(labels, weights=weights * points[:, 0], minlength=k)
    sums_y = np.bincount(labels, weights=weights * points[:, 1], minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.column_stack([sums_x / totals, sums_y / totals])


def _same_clustering(old: NDArray[np.float64], new: NDArray[np.float64]) -> bool:
    """Every centre moved less than 0.01, centres compared in sorted order (zip truncates)."""
    old_sorted = old[np.lexsort((old[:, 1], old[:, 0]))]
    new_sorted = new[np.lexsort((new[:, 1], new[:, 0]))]
    n = min(len(old_sorted), len(new_sorted))
    moved = np.linalg.norm(old_sorted[:n] - new_sorted[:n], axis=1)
    return bool(np.all(moved < SAME_CLUSTERING_THRESHOLD))


def _lloyd_step(
    points: NDArray[np.float64],
    weights: NDArray[np.float64],
    ids: NDArray[np.int64],
    centers: NDArray[np.float64],
) -> Clustering:
    """Assign to the nearest centre, drop empty clusters, recentre (weighted mean)."""
    labels = nearest_center(points, centers)
    counts = np.bincount(labels, minlength=ids.size)
    new_centers = _weighted_means(points, weights, labels, ids.size)
    kept = counts > 0
    position = np.cumsum(kept) - 1
    return Clustering(ids=ids[kept], centers=new_centers[kept], labels=position[labels])


def kmeans(
    points: NDArray[np.float64],
    ids: NDArray[np.int64],
    centers: NDArray[np.float64],
    *,
    weights: NDArray[np.float64] | None = None,
    max_iters: int,
) -> Clustering:
    """Lloyd's k-means from the given centres, stopping as Pol.is does.

    At most ``max_iters + 1`` steps; stops early once no sorted centre moved
    0.01 or more.
    """
    w = np.ones(points.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    current = centers
    for remaining in range(max_iters, -1, -1):
        step = _lloyd_step(points, w, ids, current)
        if remaining == 0 or _same_clustering(current, step.centers):
            break
        ids, current = step.ids, step.centers
    return _sorted_by_id(step)


def _sorted_by_id(clustering: Clustering) -> Clustering:
    order = np.argsort(clustering.ids, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return Clustering(
        ids=clustering.ids[order],
        centers=clustering.centers[order],
        labels=rank[clustering.labels],
    )


def fresh_start(points: NDArray[np.float64], k: int) -> tuple[NDArray[np.int64], NDArray]:
    centers = first_distinct_rows(points, k)
    return np.arange(centers.shape[0], dtype=np.int64), centers


def clean_start(
    points: NDArray[np.float64],
    names: Sequence[Hashable],
    seed: ClusterSeed,
    k: int,
    *,
    weights: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Warm start from a previous clustering (Pol.is ``clean-start-clusters``).

    Recentre each previous cluster on its members still present, merge
    clusters with identical centres, then split off the most distal point
    until there are ``min(k, distinct points)`` clusters.
    """
    w = np.ones(points.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    label = _seed_labels(names, seed)
    present = np.bincount(label[label >= 0], minlength=seed.ids.size) > 0
    if present.any():
        position = np.cumsum(present) - 1
        label = np.where(label >= 0, position[np.maximum(label, 0)], -1)
        ids = [int(i) for i in seed.ids[present].tolist()]
    else:
        label = np.zeros(points.shape[0], dtype=np.int64)
        ids = [int(seed.ids.max()) + 1 if seed.ids.size else 0]
    ids, label = _merge_identical(points, w, ids, label)
    # Counting distinct points (a row-wise sort) only matters when there are fewer clusters than k.
    possible = k if len(ids) >= k else min(k, np.unique(points, axis=0).shape[0])
    while True:
        centers = _weighted_means(points, w * (label >= 0), np.maximum(label, 0), len(ids))
        if possible <= len(ids):
            return np.asarray(ids, dtype=np.int64), centers
        nearest = squared_distances(points, centers).min(axis=1)
        outlier = int(nearest.size - 1 - np.argmax(nearest[::-1]))
        if nearest[outlier] <= 0:
            return np.asarray(ids, dtype=np.int64), centers
        label[outlier] = len(ids)
        ids.append(max(ids) + 1)
        kept = np.bincount(label[label >= 0], minlength=len(ids)) > 0
        if not kept.all():
            position = np.cumsum(kept) - 1
            label = np.where(label >= 0, position[np.maximum(label, 0)], -1)
            ids = [i for i, keep in zip(ids, kept.tolist(), strict=True) if keep]


def _seed_labels(names: Sequence[Hashable], seed: ClusterSeed) -> NDArray[np.int64]:
    """Position in ``seed`` of the cluster each current point was in (-1 if new)."""
    row_of = {name: i for i, name in enumerate(names)}
    label = np.full(len(names), -1, dtype=np.int64)
    for position, members in enumerate(seed.members):
        rows = [row_of[m] for m in members if m in row_of]
        label[rows] = position
    return label


def _merge_identical(
    points: NDArray[np.float64], weights: NDArray[np.float64], ids: list[int], label: NDArray
) -> tuple[list[int], NDArray[np.int64]]:
    """Pol.is ``uniqify-clusters``: clusters whose centres coincide become one.

    The merged cluster keeps the id of the one with more members (the later
    one on a tie).
    """
    assigned = label >= 0
    centers = _weighted_means(points, weights * assigned, np.maximum(label, 0), len(ids))
    counts = np.bincount(label[assigned], minlength=len(ids))
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


def silhouette(points: NDArray[np.float64], labels: NDArray[np.int64]) -> float:
    """Mean silhouette over points (unweighted); a member of a singleton cluster scores 0."""
    n_clusters = int(labels.max()) + 1 if labels.size else 0
    if n_clusters < 2:
        return 0.0
    distances = np.sqrt(squared_distances(points, points))
    one_hot = np.zeros((labels.size, n_clusters))
    one_hot[np.arange(labels.size), labels] = 1.0
    sizes = one_hot.sum(axis=0)
    sums = distances @ one_hot
    own = np.arange(labels.size), labels
    own_size = sizes[labels]
    with np.errstate(invalid="ignore", divide="ignore"):
        a = sums[own] / (own_size - 1)
        mean_to = sums / sizes
    mean_to[own] = np.inf
    b = mean_to.min(axis=1)
    denominator = np.maximum(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(denominator > 0, (b - a) / denominator, 0.0)
    scores[own_size <= 1] = 0.0
    return float(scores.mean())
