"""One compiled call for a warm-started update's grouping (numba).

:func:`warm_grouping` runs what ``opinion_update.cluster`` does after the
first update, from plain arrays: the base k-means warm-started from the
previous base clusters (with the distance bounds a replay carries), the
group k-means of every k warm-started from the previous groups (or
recognised as settled), and the silhouette of every k. It calls the kernels
of :mod:`coauthor.analysis.opinion_kernels` in the order the step-by-step
functions do, so its numbers are theirs. The rare steps that are not
compiled (merging base clusters whose centres coincide, splitting clusters
off, a fresh start for a k the previous update did not try) are reported
back, and the caller runs those updates step by step.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from coauthor.analysis.opinion_cluster import LARGE_ASSIGNMENT
from coauthor.analysis.opinion_kernels import (
    carried_bounds,
    kmeans,
    point_distances,
    settled_warm_starts,
    silhouettes,
    warm_centres,
)

DONE = 0
BASE_NOT_COMPILED = 1
GROUPS_NOT_COMPILED = 2


@njit(cache=True)
def _positions_of(wanted: NDArray[np.int64], within: NDArray[np.int64]) -> NDArray[np.int64]:
    """Where each of the sorted ``wanted`` is in the sorted ``within``; -1s if one is missing."""
    at = np.empty(wanted.size, dtype=np.int64)
    cursor = 0
    for i in range(wanted.size):
        while cursor < within.size and within[cursor] < wanted[i]:
            cursor += 1
        if cursor >= within.size or within[cursor] != wanted[i]:
            at[:] = -1
            return at
        at[i] = cursor
    return at


@njit(cache=True)
def _warm_ids(seed_ids: NDArray[np.int64], present: NDArray[np.bool_]) -> NDArray[np.int64]:
    """The previous ids still present (a new id after the largest when none is)."""
    n_present = 0
    for j in range(present.size):
        if present[j]:
            n_present += 1
    if n_present == 0:
        ids = np.empty(1, dtype=np.int64)
        ids[0] = seed_ids.max() + 1 if seed_ids.size else 0
        return ids
    ids = np.empty(n_present, dtype=np.int64)
    n_present = 0
    for j in range(present.size):
        if present[j]:
            ids[n_present] = seed_ids[j]
            n_present += 1
    return ids


@njit(cache=True)
def _all_labelled(label: NDArray[np.int64]) -> bool:
    i = 0
    while i < label.size and label[i] >= 0:
        i += 1
    return i == label.size


@njit(cache=True)
def warm_grouping(
    points: NDArray[np.float64],
    in_rows: NDArray[np.int64],
    prior_label: NDArray[np.int64],
    base_seed_ids: NDArray[np.int64],
    base_k: int,
    base_iters: int,
    track: bool,
    old_rows: NDArray[np.int64],
    old_points: NDArray[np.float64],
    old_ids: NDArray[np.int64],
    old_centers: NDArray[np.float64],
    old_position: NDArray[np.int64],
    old_upper: NDArray[np.float64],
    old_lower: NDArray[np.float64],
    weighted: bool,
    k_offset: int,
    base_clusters_per_k: int,
    max_k: int,
    group_iters: int,
    group_seeded: NDArray[np.bool_],
    group_seed_ids: NDArray[np.int64],
    group_seed_widths: NDArray[np.int64],
    group_base_ids: NDArray[np.int64],
    group_base_counts: NDArray[np.int64],
    group_base_group: NDArray[np.int64],
) -> tuple:
    """``cluster``'s base and group clusterings for a warm start, in one call.

    ``points`` are the in-conversation participants' places (rows
    ``in_rows``), ``prior_label`` their previous base cluster position (-1:
    new), among ``base_seed_ids``. With ``track`` (a replay), ``old_*`` are the
    previous update's in-conversation rows, places, base ids, centres and
    distance bounds (no rows: none), carried over as ``BaseBounds`` does.
    Group seeds are given for ``k = 2 + g`` up to ``max_k`` (``g`` a row of
    the ``group_*`` arrays; ``group_seeded[g]`` whether the previous update
    had that k): its ids, and its group position of each of its base ids
    (sorted). The ks tried are those of ``PolisMath.max_group_k`` (from
    ``k_offset``, ``base_clusters_per_k`` and ``max_k``). Base problems large
    enough for ``opinion_cluster.kmeans`` to assign through a k-d tree are
    left to it.

    Returns a status (:data:`DONE`; :data:`BASE_NOT_COMPILED`: nothing was
    done; :data:`GROUPS_NOT_COMPILED`: only the base clustering was), the base
    ids, centres and labels, the bounds left for the next update (position,
    upper, lower), then for every k from 2 to the largest tried its ids,
    centres, number of groups, each base cluster's group and the silhouette.
    """
    n_points = points.shape[0]
    ones = np.ones(n_points)
    label, present, centers, duplicate = warm_centres(points, ones, prior_label, base_seed_ids.size)
    ids = _warm_ids(base_seed_ids, present)
    no_ids = np.zeros(0, dtype=np.int64)
    no_groups = np.zeros((0, 0), dtype=np.int64)
    no_centres = np.zeros((0, 0, 2))
    no_scores = np.zeros(0)
    if duplicate or ids.size < base_k or n_points * ids.size >= LARGE_ASSIGNMENT:
        return (
            BASE_NOT_COMPILED, no_ids, centers, no_ids, no_ids, no_scores, no_scores,
            no_groups, no_centres, no_ids, no_groups, no_scores,
        )  # fmt: skip
    position = np.zeros(n_points if track else 0, dtype=np.int64)
    upper = np.full(n_points if track else 0, np.inf)
    lower = np.zeros(n_points if track else 0)
    if track and old_rows.size:
        _carry_bounds(
            points, in_rows, label, ids, centers, old_rows, old_points, old_ids,
            old_centers, old_position, old_upper, old_lower, position, upper, lower,
        )  # fmt: skip
    warm_labels = label if _all_labelled(label) else no_ids
    base_ids, base_centers, base_labels = kmeans(
        points, ones, ids, centers, base_iters, warm_labels, track, position, upper, lower
    )
    n_base = base_ids.size
    if n_base < 2:
        return (
            GROUPS_NOT_COMPILED, base_ids, base_centers, base_labels, position, upper, lower,
            no_groups, no_centres, no_ids, no_groups, no_scores,
        )  # fmt: skip
    weights = np.zeros(n_base)
    if weighted:
        for i in range(base_labels.size):
            weights[base_labels[i]] += 1.0
    else:
        weights[:] = 1.0
    top_k = min(max_k, max(2, k_offset + n_base // base_clusters_per_k))  # PolisMath.max_group_k
    n_k = top_k - 1
    width = top_k
    group_ids = np.zeros((n_k, width), dtype=np.int64)
    group_centers = np.zeros((n_k, width, 2))
    group_widths = np.zeros(n_k, dtype=np.int64)
    group_labels = np.zeros((n_k, n_base), dtype=np.int64)
    seed_labels = np.full((n_k, n_base), -1, dtype=np.int64)
    candidate = np.zeros(n_k, dtype=np.bool_)
    for g in range(n_k):
        k = g + 2
        if not group_seeded[g]:
            return (
                GROUPS_NOT_COMPILED, base_ids, base_centers, base_labels, position, upper,
                lower, no_groups, no_centres, no_ids, no_groups, no_scores,
            )  # fmt: skip
        _lookup(
            base_ids, group_base_ids[g, : group_base_counts[g]], group_base_group[g], seed_labels[g]
        )
        candidate[g] = group_seed_widths[g] >= k and _all_labelled(seed_labels[g])
    n_candidates = 0
    for g in range(n_k):
        if candidate[g]:
            n_candidates += 1
    stays = np.zeros(n_k, dtype=np.bool_)
    if n_candidates:
        rows = np.empty(n_candidates, dtype=np.int64)
        widths = np.empty(n_candidates, dtype=np.int64)
        c = 0
        for g in range(n_k):
            if candidate[g]:
                rows[c] = g
                widths[c] = group_seed_widths[g]
                c += 1
        settled, grid = settled_warm_starts(base_centers, weights, seed_labels[rows], widths)
        for c in range(n_candidates):
            if settled[c]:
                g = rows[c]
                stays[g] = True
                group_widths[g] = widths[c]
                group_ids[g, : widths[c]] = group_seed_ids[g, : widths[c]]
                group_centers[g, : widths[c]] = grid[c, : widths[c]]
                group_labels[g] = seed_labels[g]
    for g in range(n_k):
        if stays[g]:
            continue
        k = g + 2
        seed_ids = group_seed_ids[g, : group_seed_widths[g]].copy()
        start_label, start_present, start_centers, start_duplicate = warm_centres(
            base_centers, weights, seed_labels[g], seed_ids.size
        )
        start_ids = _warm_ids(seed_ids, start_present)
        if start_duplicate or start_ids.size < k:
            return (
                GROUPS_NOT_COMPILED, base_ids, base_centers, base_labels, position, upper,
                lower, no_groups, no_centres, no_ids, no_groups, no_scores,
            )  # fmt: skip
        warm = start_label if _all_labelled(start_label) else no_ids
        k_ids, k_centers, k_labels = kmeans(
            base_centers, weights, start_ids, start_centers, group_iters, warm, False,
            no_ids, no_scores, no_scores,
        )  # fmt: skip
        group_widths[g] = k_ids.size
        group_ids[g, : k_ids.size] = k_ids
        group_centers[g, : k_ids.size] = k_centers
        group_labels[g] = k_labels
    scores = _silhouettes_of(base_centers, group_labels)
    return (
        DONE, base_ids, base_centers, base_labels, position, upper, lower,
        group_ids, group_centers, group_widths, group_labels, scores,
    )  # fmt: skip


@njit(cache=True)
def _carry_bounds(
    points: NDArray[np.float64],
    in_rows: NDArray[np.int64],
    label: NDArray[np.int64],
    ids: NDArray[np.int64],
    centers: NDArray[np.float64],
    old_rows: NDArray[np.int64],
    old_points: NDArray[np.float64],
    old_ids: NDArray[np.int64],
    old_centers: NDArray[np.float64],
    old_position: NDArray[np.int64],
    old_upper: NDArray[np.float64],
    old_lower: NDArray[np.float64],
    position: NDArray[np.int64],
    upper: NDArray[np.float64],
    lower: NDArray[np.float64],
) -> None:
    """``BaseBounds.start``: the previous bounds carried to the rows that had them, in place."""
    at = _positions_of(old_rows, in_rows)
    if at.size and at[0] < 0:
        return
    carried_label = np.empty(at.size, dtype=np.int64)
    carried_points = np.empty((at.size, 2))
    for i in range(at.size):
        carried_label[i] = label[at[i]]
        carried_points[i, 0] = points[at[i], 0]
        carried_points[i, 1] = points[at[i], 1]
        if carried_label[i] < 0:
            return
    id_position = _positions_of(ids, old_ids)
    if id_position.size and id_position[0] < 0:
        return
    carried_upper, carried_lower = carried_bounds(
        old_points, carried_points, carried_label, centers, old_centers, id_position,
        old_position, old_upper, old_lower,
    )  # fmt: skip
    for i in range(at.size):
        position[at[i]] = carried_label[i]
        upper[at[i]] = carried_upper[i]
        lower[at[i]] = carried_lower[i]


@njit(cache=True)
def _lookup(
    base_ids: NDArray[np.int64],
    seed_base_ids: NDArray[np.int64],
    seed_base_group: NDArray[np.int64],
    out: NDArray[np.int64],
) -> None:
    """``GroupSeed.lookup``: each base cluster's group in the seed (-1: not in it), in place."""
    for i in range(base_ids.size):
        at = np.searchsorted(seed_base_ids, base_ids[i])
        if at < seed_base_ids.size and seed_base_ids[at] == base_ids[i]:
            out[i] = seed_base_group[at]
        else:
            out[i] = -1


@njit(cache=True)
def _silhouettes_of(centers: NDArray[np.float64], labels: NDArray[np.int64]) -> NDArray[np.float64]:
    """``opinion_cluster.silhouettes`` of every labelling (0 for one with a single cluster)."""
    n_k = labels.shape[0]
    scores = np.zeros(n_k)
    widths = np.zeros(n_k, dtype=np.int64)
    scored = np.zeros(n_k, dtype=np.bool_)
    n_scored = 0
    for g in range(n_k):
        top = labels[g].max() if labels.shape[1] else 0
        widths[g] = top + 1
        if top >= 1:
            scored[g] = True
            n_scored += 1
    if n_scored == 0:
        return scores
    rows = np.empty(n_scored, dtype=np.int64)
    c = 0
    for g in range(n_k):
        if scored[g]:
            rows[c] = g
            c += 1
    values = silhouettes(point_distances(centers), labels[rows], widths[rows])
    for c in range(n_scored):
        scores[rows[c]] = values[c]
    return scores
