"""Compiled kernels (numba) for the per-update steps of the opinion math.

A replay runs one update per second of a conversation's history, and each
update is a few hundred small steps on arrays of a few hundred numbers: as
NumPy calls, the call overhead outweighs the arithmetic. These kernels run
such a step in one compiled call, with plain loops in a fixed order (no
``fastmath``: every sum is taken in the order written, so a kernel gives the
same bits on every call).

The update-by-update path (``analyze(previous=...)``) and the replay call the
same kernels, so they agree bit for bit. Where a comparison with another
implementation depends on NumPy's summation order (the first analysis's exact
PCA, compared with red-dwarf), NumPy is kept.

Compiled code is cached on disk (``cache=True``, next to this module in
``__pycache__``, or under ``NUMBA_CACHE_DIR``); this module is imported only
by the analysis, never by commands that do not run it.
"""

from __future__ import annotations

from math import hypot, sqrt

import numpy as np
from numba import njit
from numpy.typing import NDArray

from coauthor.analysis.opinion_cluster import (
    LARGE_ASSIGNMENT,
    SAME_CLUSTERING_THRESHOLD,
    TIE_MARGIN,
)


@njit(cache=True, nogil=True)
def dense_power_iteration(
    columns: NDArray[np.float64],
    start: NDArray[np.float64],
    iters: int,
    found: NDArray[np.float64],
    found_norm2: NDArray[np.float64],
) -> tuple[NDArray[np.float64], float]:
    """Pol.is's power iteration ``v ← Mv / |Mv|`` on a dense ``M``, deflating the vector.

    Stops when the norm repeats exactly or after ``iters + 1`` products.
    Before each product the ``found`` components are factored out of the
    vector (last found first) and after it out of the product (first found
    first): ``v ↦ (I − P)·M·(I − P)·v`` with ``P`` the projector on them
    (``found_norm2`` their squared norms). Pass no rows in ``found`` when
    ``M`` is already deflated. ``M`` is given by its columns (``columns[k]``
    is the k-th column, contiguous: ``Mᵀ`` in C order).
    """
    n = columns.shape[0]
    vector = start.copy()
    product = np.empty(n)
    last_eigval = 0.0
    eigval = 0.0
    for remaining in range(iters, -1, -1):
        for f in range(found.shape[0] - 1, -1, -1):
            _factor_out(vector, found[f], found_norm2[f])
        _matrix_vector(columns, vector, product)
        for f in range(found.shape[0]):
            _factor_out(product, found[f], found_norm2[f])
        squared = 0.0
        for j in range(n):
            squared += product[j] * product[j]
        eigval = sqrt(squared)
        for j in range(n):
            vector[j] = product[j] / eigval if eigval > 0 else product[j]
        if remaining == 0 or eigval == last_eigval:
            break
        last_eigval = eigval
    return vector, eigval


@njit(cache=True, nogil=True)
def _matrix_vector(
    columns: NDArray[np.float64], vector: NDArray[np.float64], product: NDArray[np.float64]
) -> None:
    """``product ← M·vector`` given the columns of ``M`` as rows of ``columns``.

    ``product[j] = Σ_k M[j, k]·vector[k]``, each sum in the order of ``k``;
    the inner loop runs along contiguous columns, element by element (no
    reduction to reorder), so it compiles to vector instructions; four
    columns are added per pass, still one after the other for every ``j``.
    """
    n = product.size
    for j in range(n):
        product[j] = 0.0
    m = columns.shape[0]
    k = 0
    while k + 4 <= m:  # four columns per pass over ``product``: a quarter of its loads and stores
        w0, w1, w2, w3 = vector[k], vector[k + 1], vector[k + 2], vector[k + 3]
        c0, c1, c2, c3 = columns[k], columns[k + 1], columns[k + 2], columns[k + 3]
        for j in range(n):
            total = product[j] + c0[j] * w0
            total = total + c1[j] * w1
            total = total + c2[j] * w2
            product[j] = total + c3[j] * w3
        k += 4
    for rest in range(k, m):
        weight = vector[rest]
        column = columns[rest]
        for j in range(n):
            product[j] += column[j] * weight


@njit(cache=True, nogil=True)
def _factor_out(vector: NDArray[np.float64], pc: NDArray[np.float64], norm2: float) -> None:
    """``vector ← vector − pc·(pc·vector / norm2)``, in place."""
    along = 0.0
    for j in range(vector.size):
        along += pc[j] * vector[j]
    along /= norm2
    for j in range(vector.size):
        vector[j] = vector[j] - pc[j] * along


@njit(cache=True, nogil=True)
def deflated_columns(
    columns: NDArray[np.float64], pc: NDArray[np.float64], norm2: float
) -> NDArray[np.float64]:
    """The columns of ``(I − P)·M·(I − P)`` from those of ``M``, ``P`` the projector on ``pc``.

    ``M − a·sᵀ − s·aᵀ + (pc·a / norm2²)·pc·pcᵀ`` with ``a = M·pc`` and
    ``s = pc / norm2``: the covariance of the rows with ``pc`` factored out.
    """
    n = columns.shape[0]
    along = np.empty(n)
    _matrix_vector(columns, pc, along)
    weight = 0.0
    for j in range(n):
        weight += pc[j] * along[j]
    weight /= norm2 * norm2
    scaled = np.empty(n)  # pc / norm2, divided once per entry of pc rather than per entry of M
    for j in range(n):
        scaled[j] = pc[j] / norm2
    deflated = np.empty_like(columns)
    for k in range(n):
        scaled_k = scaled[k]
        along_k = along[k]
        pc_k = pc[k]
        row = columns[k]
        out = deflated[k]
        for j in range(n):
            value = row[j] - along[j] * scaled_k
            value -= scaled[j] * along_k
            out[j] = value + pc[j] * pc_k * weight
    return deflated


@njit(cache=True, nogil=True)
def dense_covariance(
    vv: NDArray[np.float64],
    vm: NDArray[np.float64],
    mm: NDArray[np.float64],
    center: NDArray[np.float64],
    zeroed: NDArray[np.bool_],
    n_rows: int,
    mean_imputed: bool,
) -> NDArray[np.float64]:
    """``XᵀX`` from the cross-counts, term by term as ``opinion_pca.dense_covariance`` states it.

    Mean imputation: ``vv − vm[j, k]·c_k − vm[k, j]·c_j + c_j·c_k·mm``; zero
    imputation: ``vv − c_j·c_k·n``; zeroed rows and columns 0.
    """
    n = center.size
    gram = np.empty((n, n))
    for j in range(n):
        for k in range(n):
            if zeroed[j] or zeroed[k]:
                gram[j, k] = 0.0
            elif mean_imputed:
                value = vv[j, k] - vm[j, k] * center[k]
                value -= vm[k, j] * center[j]
                gram[j, k] = value + center[j] * center[k] * mm[j, k]
            else:
                gram[j, k] = vv[j, k] - center[j] * center[k] * n_rows
    return gram


@njit(cache=True, nogil=True)
def covariance_columns(
    vv: NDArray[np.float64],
    vm: NDArray[np.float64],
    mm: NDArray[np.float64],
    center: NDArray[np.float64],
    zeroed: NDArray[np.bool_],
    n_rows: int,
    mean_imputed: bool,
) -> NDArray[np.float64]:
    """The columns of :func:`dense_covariance`'s matrix (``columns[k, j] = gram[j, k]``).

    Every entry is the very expression ``dense_covariance`` computes, written
    straight into the layout the power iteration reads (no transposed copy).
    The loop repeats ``dense_covariance``'s on purpose: both calling one
    per-entry function made the whole replay three times slower. It runs along
    the rows it writes; ``vv`` and ``mm`` are symmetric (integer counts, exact
    in float64), so their entries are read along rows too and only ``vm[j, k]``
    is read down a column.
    """
    n = center.size
    columns = np.empty((n, n))
    for k in range(n):
        out = columns[k]
        same = vv[k]  # vv[j, k] == vv[k, j]
        both = mm[k]  # mm[j, k] == mm[k, j]
        across = vm[k]
        center_k = center[k]
        if mean_imputed:
            for j in range(n):
                value = same[j] - vm[j, k] * center_k
                value -= across[j] * center[j]
                out[j] = value + center[j] * center_k * both[j]
        else:
            for j in range(n):
                out[j] = same[j] - center[j] * center_k * n_rows
        for j in range(n):
            if zeroed[j] or zeroed[k]:
                out[j] = 0.0
    return columns


@njit(cache=True, nogil=True)
def power_placement(
    vv: NDArray[np.float64],
    vm: NDArray[np.float64],
    mm: NDArray[np.float64],
    column_sums: NDArray[np.int64],
    column_counts: NDArray[np.int64],
    zeroed: NDArray[np.bool_],
    n_rows: int,
    mean_imputed: bool,
    starts: NDArray[np.float64],
    iters: int,
    deflate_once: bool,
    indptr: NDArray[np.int32],
    codes: NDArray[np.int32],
    scale_counts: NDArray[np.int64],
    project: bool,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """A warm-started update's placement in one call: centre, PCA and projection.

    The steps of ``opinion_update.place`` for a dense covariance and power
    iteration, in the same order and with the same expressions:
    :func:`placement_covariance`, :func:`power_components` and, when
    ``project``, :func:`sparse_projection`. A pipelined replay calls the three
    separately, on two threads; these are the same calls, so both give the
    same bits. Returns the centre, the components, their eigenvalues and every
    row's place (no rows unless ``project``).
    """
    center, columns = placement_covariance(
        vv, vm, mm, column_sums, column_counts, zeroed, n_rows, mean_imputed
    )
    comps, eigenvalues, xy = power_projection(
        columns, starts, iters, deflate_once, n_rows, zeroed, project,
        indptr, codes, center, scale_counts,
    )  # fmt: skip
    return center, comps, eigenvalues, xy


@njit(cache=True, nogil=True)
def power_projection(
    columns: NDArray[np.float64],
    starts: NDArray[np.float64],
    iters: int,
    deflate_once: bool,
    n_rows: int,
    zeroed: NDArray[np.bool_],
    project: bool,
    indptr: NDArray[np.int32],
    codes: NDArray[np.int32],
    center: NDArray[np.float64],
    scale_counts: NDArray[np.int64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """:func:`power_components` then, when ``project``, :func:`sparse_projection`, in one call.

    A pipelined replay's second thread runs an update's power iteration and
    projection in this call when it projects too (few power iterations per
    update, ``opinion_pipeline.PROJECTED_BESIDE_UP_TO_ITERS``), so that it
    needs the interpreter lock once per update rather than between the two.
    Returns the components, their eigenvalues and every row's place (no rows
    unless ``project``).
    """
    comps, eigenvalues = power_components(columns, starts, iters, deflate_once, n_rows, zeroed)
    if not project:
        return comps, eigenvalues, np.zeros((0, starts.shape[0]))
    return comps, eigenvalues, sparse_projection(indptr, codes, center, comps, zeroed, scale_counts)


@njit(cache=True, nogil=True)
def placement_covariance(
    vv: NDArray[np.float64],
    vm: NDArray[np.float64],
    mm: NDArray[np.float64],
    column_sums: NDArray[np.int64],
    column_counts: NDArray[np.int64],
    zeroed: NDArray[np.bool_],
    n_rows: int,
    mean_imputed: bool,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The column centres and the covariance (as its columns) of a warm-started update."""
    n = column_sums.size
    center = np.zeros(n)
    for j in range(n):
        if not zeroed[j] and column_counts[j] != 0:
            divisor = max(column_counts[j] if mean_imputed else n_rows, 1)
            center[j] = column_sums[j] / divisor
    return center, covariance_columns(vv, vm, mm, center, zeroed, n_rows, mean_imputed)


@njit(cache=True, nogil=True)
def pipelined_inputs(
    vv: NDArray[np.float64],
    vm: NDArray[np.float64],
    mm: NDArray[np.float64],
    column_sums: NDArray[np.int64],
    column_counts: NDArray[np.int64],
    zeroable: NDArray[np.bool_],
    row_counts: NDArray[np.int64],
    row_zeroable_counts: NDArray[np.int64],
    indptr: NDArray[np.int32],
    codes: NDArray[np.int32],
    n_rows: int,
    zero_moderated: bool,
    mean_imputed: bool,
    in_conv_counts_moderated: bool,
    least: int,
    before: NDArray[np.bool_],
) -> tuple:
    """A pipelined update's share on the calling thread, before its power iteration, in one call.

    ``opinion_update.placement_scaling``, :func:`placement_covariance` and
    :func:`voted_enough` (``least`` votes, sticky from ``before``) on the
    votes as they are now, and copies of what the projection reads of them
    (the next batch changes them in place). Returns the zeroed statements,
    each row's scaling count, the centre, the covariance's columns, who voted
    enough and how many, the counts that rule read, and the copies of
    ``indptr`` and ``codes``. All integers but the centre and covariance,
    which are :func:`placement_covariance`'s.
    """
    n_cols = zeroable.size
    zeroed = np.empty(n_cols, dtype=np.bool_)
    n_zeroed = 0
    for j in range(n_cols):
        zeroed[j] = zeroable[j] and zero_moderated
        if zeroed[j]:
            n_zeroed += 1
    scale_counts = row_counts.copy()
    if zero_moderated:
        for i in range(scale_counts.size):
            scale_counts[i] = row_counts[i] - row_zeroable_counts[i] + n_zeroed
    center, columns = placement_covariance(
        vv, vm, mm, column_sums, column_counts, zeroed, n_rows, mean_imputed
    )
    counts = scale_counts if in_conv_counts_moderated else row_counts.copy()
    in_conv, n_in = voted_enough(counts, least, before)
    return (
        zeroed,
        scale_counts,
        center,
        columns,
        in_conv,
        n_in,
        counts,
        indptr.copy(),
        codes.copy(),
    )


@njit(cache=True, nogil=True)
def power_components(
    columns: NDArray[np.float64],
    starts: NDArray[np.float64],
    iters: int,
    deflate_once: bool,
    n_rows: int,
    zeroed: NDArray[np.bool_],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The components of the covariance ``columns`` by power iteration, and their eigenvalues.

    Each component from its start vector, the found ones deflated out of the
    matrix when ``deflate_once``, else out of the vector at every product;
    components zeroed on ``zeroed`` statements. A component's squared norm is
    ``np.dot`` (BLAS, as NumPy's ``@`` takes it). Reads ``columns`` and
    ``starts`` only.
    """
    n = columns.shape[0]
    n_comps = starts.shape[0]
    comps = np.zeros((n_comps, n))
    eigenvalues = np.zeros(n_comps)
    found = np.zeros((n_comps, n))
    found_norm2 = np.zeros(n_comps)
    n_found = 0
    for i in range(min(n_comps, n_rows, n)):
        vector, eigenvalues[i] = dense_power_iteration(
            columns, starts[i], iters, found[:n_found], found_norm2[:n_found]
        )
        comps[i] = vector
        norm2 = np.dot(comps[i], comps[i])
        if norm2 == 0:
            continue
        if deflate_once:
            columns = deflated_columns(columns, comps[i], norm2)
        else:
            found[n_found] = comps[i]
            found_norm2[n_found] = norm2
            n_found += 1
    for j in range(n):
        if zeroed[j]:
            comps[:, j] = 0.0
    return comps, eigenvalues


@njit(cache=True, nogil=True)
def sparse_projection(
    indptr: NDArray[np.int32],
    codes: NDArray[np.int32],
    center: NDArray[np.float64],
    comps: NDArray[np.float64],
    zeroed: NDArray[np.bool_],
    scale_counts: NDArray[np.int64],
) -> NDArray[np.float64]:
    """The sparsity-aware projection, scaled by ``sqrt(n_statements / max(scale_counts, 1))``."""
    n = center.size
    table = np.zeros((n, 3))
    for j in range(n):
        if not zeroed[j]:
            for v in range(3):
                table[j, v] = (v - 1.0) - center[j]
    xy = project_cells(indptr, codes, table, comps)
    for i in range(xy.shape[0]):
        scale = sqrt(n / max(scale_counts[i], 1))
        for c in range(comps.shape[0]):
            xy[i, c] = xy[i, c] * scale
    return xy


@njit(cache=True, nogil=True)
def voted_enough(
    counts: NDArray[np.int64], least: int, before: NDArray[np.bool_]
) -> tuple[NDArray[np.bool_], int]:
    """Rows with at least ``least`` votes (and one), or in ``before`` (sticky); and how many."""
    in_conv = np.empty(counts.size, dtype=np.bool_)
    n_in = 0
    for i in range(counts.size):
        in_conv[i] = (counts[i] >= least and counts[i] > 0) or (i < before.size and before[i])
        if in_conv[i]:
            n_in += 1
    return in_conv, n_in


@njit(cache=True, nogil=True)
def project_cells(
    indptr: NDArray[np.int32],
    codes: NDArray[np.int32],
    table: NDArray[np.float64],
    comps: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Each row's ``Σ table[j, vote]·comp[j]`` over its cells, for every component.

    ``codes`` are ``3·j + vote + 1`` (CSR with ``indptr``); the sum runs over a
    row's cells in order, as a sparse product of the one-hot cells does.
    """
    n_rows = indptr.size - 1
    n_comps = comps.shape[0]
    n_codes = table.shape[0] * table.shape[1]
    weights = np.empty((n_comps, n_codes))
    for c in range(n_comps):
        for j in range(table.shape[0]):
            for v in range(table.shape[1]):
                weights[c, j * table.shape[1] + v] = table[j, v] * comps[c, j]
    projection = np.empty((n_rows, n_comps))
    first = 0
    if n_comps == 2:  # both components' sums side by side, each in the same order
        first = 2
        for i in range(n_rows):
            total_x = 0.0
            total_y = 0.0
            for cell in range(indptr[i], indptr[i + 1]):
                total_x += weights[0, codes[cell]]
                total_y += weights[1, codes[cell]]
            projection[i, 0] = total_x
            projection[i, 1] = total_y
    for c in range(first, n_comps):
        for i in range(n_rows):
            total = 0.0
            for cell in range(indptr[i], indptr[i + 1]):
                total += weights[c, codes[cell]]
            projection[i, c] = total
    return projection


@njit(cache=True, nogil=True)
def point_distances(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Euclidean distances between every two points (``hypot``, the lower triangle mirrored)."""
    n = points.shape[0]
    distances = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            distance = hypot(points[i, 0] - points[j, 0], points[i, 1] - points[j, 1])
            distances[i, j] = distance
            distances[j, i] = distance
    return distances


@njit(cache=True, nogil=True)
def silhouettes(
    distances: NDArray[np.float64], labels: NDArray[np.int64], widths: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Mean silhouette of each labelling (a row of ``labels``, ``widths[c]`` clusters).

    ``(b − a) / max(a, b)`` per point, ``a`` the mean distance to the rest of
    its cluster, ``b`` the smallest mean distance to another cluster (an
    empty one counting as 0); 0 for a member of a singleton cluster.
    """
    return _silhouettes_by_column(np.ascontiguousarray(distances.T), labels, widths)


@njit(cache=True, nogil=True)
def _silhouettes_by_column(
    by_column: NDArray[np.float64], labels: NDArray[np.int64], widths: NDArray[np.int64]
) -> NDArray[np.float64]:
    """:func:`silhouettes` from the distances' columns (``by_column[p, i] = distances[i, p]``).

    A cluster's distance sums add one point's column of distances to every
    point at once (contiguous, in vector instructions), each sum still taken
    in the order of the points. :func:`point_distances` is symmetric to the
    bit, so its rows are its columns and need no transposed copy.
    """
    n = by_column.shape[0]
    scores = np.zeros(labels.shape[0])
    for c in range(labels.shape[0]):
        width = widths[c]
        sizes = np.zeros(width)
        for i in range(n):
            sizes[labels[c, i]] += 1.0
        sums = np.zeros((width, n))  # sums[g, i]: point i's distances to cluster g, p in order
        for p in range(n):
            row = sums[labels[c, p]]
            column = by_column[p]
            for i in range(n):
                row[i] += column[i]
        total = 0.0
        for i in range(n):
            own = labels[c, i]
            if sizes[own] <= 1.0:
                continue
            a = sums[own, i] / (sizes[own] - 1.0)
            b = np.inf
            for g in range(width):
                if g != own:
                    b = min(b, sums[g, i] / max(sizes[g], 1.0))
            denominator = max(a, b)
            if denominator > 0:
                total += (b - a) / denominator
        scores[c] = total / n
    return scores


@njit(cache=True, nogil=True)
def kmeans(
    points: NDArray[np.float64],
    weights: NDArray[np.float64],
    ids: NDArray[np.int64],
    centers: NDArray[np.float64],
    max_iters: int,
    warm_labels: NDArray[np.int64],
    tracked: bool,
    position: NDArray[np.int64],
    upper: NDArray[np.float64],
    lower: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Lloyd's k-means as :func:`coauthor.analysis.opinion_cluster.kmeans` runs it.

    At most ``max_iters + 1`` steps, stopping once no sorted centre moved
    0.01 or more; empty clusters are dropped; the result is in id order.
    ``warm_labels`` (or an empty array) are the clusters ``centers`` are the
    means of: if the first assignment gives them back, nothing moves. With
    ``tracked``, ``position``/``upper``/``lower`` are Hamerly bounds valid for
    ``centers`` (see ``TrackedAssignment``), updated in place and left valid
    for the result. Returns ids, centres and each point's cluster position.
    """
    n = points.shape[0]
    current_ids = ids.copy()
    current = centers.copy()
    assigned = np.empty(n, dtype=np.int64)
    check_warm = warm_labels.size == n
    for remaining in range(max_iters, -1, -1):
        if tracked:
            _assign_tracked(points, current, position, upper, lower)
            assigned[:] = position
        else:
            _assign_nearest(points, current, assigned)
        if check_warm:
            same = True
            for i in range(n):
                if assigned[i] != warm_labels[i]:
                    same = False
                    break
            if same:
                return _in_id_order(current_ids, current, warm_labels.copy(), tracked, position)
            check_warm = False
        k = current.shape[0]
        counts = np.zeros(k, dtype=np.int64)
        totals = np.zeros(k)
        sums = np.zeros((k, 2))
        for i in range(n):
            g = assigned[i]
            counts[g] += 1
            totals[g] += weights[i]
        for i in range(n):
            sums[assigned[i], 0] += weights[i] * points[i, 0]
        for i in range(n):
            sums[assigned[i], 1] += weights[i] * points[i, 1]
        renumber = np.empty(k, dtype=np.int64)
        n_kept = 0
        for j in range(k):
            renumber[j] = n_kept
            if counts[j] > 0:
                n_kept += 1
        next_ids = np.empty(n_kept, dtype=np.int64)
        following = np.zeros((n_kept, 2))
        shift = np.zeros(k)
        for j in range(k):
            if counts[j] == 0:
                continue
            if totals[j] > 0:
                following[renumber[j], 0] = sums[j, 0] / totals[j]
                following[renumber[j], 1] = sums[j, 1] / totals[j]
            next_ids[renumber[j]] = current_ids[j]
            gx = following[renumber[j], 0] - current[j, 0]
            gy = following[renumber[j], 1] - current[j, 1]
            shift[j] = sqrt(gx * gx + gy * gy)
        labels = np.empty(n, dtype=np.int64)
        for i in range(n):
            labels[i] = renumber[assigned[i]]
        if tracked:
            largest = shift.max() if k > 0 else 0.0
            for i in range(n):
                upper[i] += shift[position[i]]
                lower[i] -= largest
                position[i] = renumber[position[i]]
        if remaining == 0 or _same_clustering(current, following):
            return _in_id_order(next_ids, following, labels, tracked, position)
        current_ids = next_ids
        current = following
    return _in_id_order(current_ids, current, assigned, tracked, position)


@njit(cache=True, nogil=True)
def _assign_nearest(
    points: NDArray[np.float64], centers: NDArray[np.float64], assigned: NDArray[np.int64]
) -> None:
    """Each point's nearest centre (the first one on exact ties)."""
    for i in range(points.shape[0]):
        best = np.inf
        nearest = 0
        for j in range(centers.shape[0]):
            dx = points[i, 0] - centers[j, 0]
            dy = points[i, 1] - centers[j, 1]
            squared = dx * dx + dy * dy
            if squared < best:
                best = squared
                nearest = j
        assigned[i] = nearest


@njit(cache=True, nogil=True)
def _settled(upper: float, lower: float) -> bool:
    return upper * (1 + TIE_MARGIN) + TIE_MARGIN < lower


@njit(cache=True, nogil=True)
def _assign_tracked(
    points: NDArray[np.float64],
    centers: NDArray[np.float64],
    position: NDArray[np.int64],
    upper: NDArray[np.float64],
    lower: NDArray[np.float64],
) -> None:
    """``TrackedAssignment.assign``: measure only the points whose bounds do not settle them."""
    k = centers.shape[0]
    for i in range(points.shape[0]):
        if _settled(upper[i], lower[i]):
            continue
        if np.isfinite(upper[i]):
            gx = points[i, 0] - centers[position[i], 0]
            gy = points[i, 1] - centers[position[i], 1]
            upper[i] = sqrt(gx * gx + gy * gy)
            if _settled(upper[i], lower[i]):
                continue
        first = np.inf
        nearest = 0
        for j in range(k):
            dx = points[i, 0] - centers[j, 0]
            dy = points[i, 1] - centers[j, 1]
            squared = dx * dx + dy * dy
            if squared < first:
                first = squared
                nearest = j
        second = np.inf
        for j in range(k):
            if j != nearest:
                dx = points[i, 0] - centers[j, 0]
                dy = points[i, 1] - centers[j, 1]
                second = min(second, dx * dx + dy * dy)
        position[i] = nearest
        upper[i] = sqrt(first)
        lower[i] = sqrt(second)


@njit(cache=True, nogil=True)
def _same_clustering(old: NDArray[np.float64], new: NDArray[np.float64]) -> bool:
    """Every centre moved less than 0.01, centres compared in (x, y) order (zip truncates)."""
    old_order = _xy_order(old)
    new_order = _xy_order(new)
    for r in range(min(old.shape[0], new.shape[0])):
        gx = old[old_order[r], 0] - new[new_order[r], 0]
        gy = old[old_order[r], 1] - new[new_order[r], 1]
        if not sqrt(gx * gx + gy * gy) < SAME_CLUSTERING_THRESHOLD:
            return False
    return True


@njit(cache=True, nogil=True)
def _xy_order(centers: NDArray[np.float64]) -> NDArray[np.int64]:
    """Stable order of the rows by x, then y (insertion sort: a few dozen rows)."""
    order = np.arange(centers.shape[0])
    for r in range(1, order.size):
        row = order[r]
        s = r
        while s > 0 and (
            centers[order[s - 1], 0] > centers[row, 0]
            or (
                centers[order[s - 1], 0] == centers[row, 0]
                and centers[order[s - 1], 1] > centers[row, 1]
            )
        ):
            order[s] = order[s - 1]
            s -= 1
        order[s] = row
    return order


@njit(cache=True, nogil=True)
def _in_id_order(
    ids: NDArray[np.int64],
    centers: NDArray[np.float64],
    labels: NDArray[np.int64],
    tracked: bool,
    position: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """The clusters in id order, labels and tracked positions following them."""
    ascending = True
    for j in range(1, ids.size):
        if ids[j] <= ids[j - 1]:
            ascending = False
            break
    if ascending:
        return ids, centers, labels
    order = np.argsort(ids, kind="mergesort")
    rank = np.empty(ids.size, dtype=np.int64)
    for r in range(ids.size):
        rank[order[r]] = r
    for i in range(labels.size):
        labels[i] = rank[labels[i]]
    if tracked:
        for i in range(position.size):
            position[i] = rank[position[i]]
    return ids[order], centers[order], labels


@njit(cache=True, nogil=True)
def settled_warm_starts(
    points: NDArray[np.float64],
    weights: NDArray[np.float64],
    labels: NDArray[np.int64],
    widths: NDArray[np.int64],
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Which warm starts k-means would leave as they are, and their centres.

    Row ``c`` of ``labels`` gives every point's cluster among ``widths[c]``:
    the centres are the clusters' weighted means, and the start is settled
    when every cluster has a point and every point's nearest centre (the first
    on ties) is its own cluster's. No two centres of a settled start coincide:
    the points of the later of two equal centres would be nearest the earlier.
    """
    n = points.shape[0]
    n_starts = labels.shape[0]
    width = 0
    for c in range(n_starts):
        width = max(width, widths[c])
    stays = np.zeros(n_starts, dtype=np.bool_)
    grid = np.zeros((n_starts, width, 2))
    for c in range(n_starts):
        k = widths[c]
        counts = np.zeros(k, dtype=np.int64)
        totals = np.zeros(k)
        sums = np.zeros((k, 2))
        for i in range(n):
            counts[labels[c, i]] += 1
            totals[labels[c, i]] += weights[i]
        for i in range(n):
            sums[labels[c, i], 0] += weights[i] * points[i, 0]
        for i in range(n):
            sums[labels[c, i], 1] += weights[i] * points[i, 1]
        settled = True
        for j in range(k):
            if totals[j] > 0:
                grid[c, j, 0] = sums[j, 0] / totals[j]
                grid[c, j, 1] = sums[j, 1] / totals[j]
            if counts[j] == 0:
                settled = False
        nearest = np.empty(n, dtype=np.int64)
        _assign_nearest(points, grid[c, :k], nearest)
        for i in range(n):
            if nearest[i] != labels[c, i]:
                settled = False
                break
        stays[c] = settled
    return stays, grid


@njit(cache=True, nogil=True)
def add_votes(
    rows: NDArray[np.int64],
    statements: NDArray[np.int64],
    votes: NDArray[np.int64],
    column_of: NDArray[np.int64],
    zeroable: NDArray[np.bool_],
    codes: NDArray[np.int32],
    n_codes: int,
    indptr: NDArray[np.int32],
    row_counts: NDArray[np.int64],
    row_zeroable: NDArray[np.int64],
    column_counts: NDArray[np.int64],
    column_sums: NDArray[np.int64],
    cross: NDArray[np.float64],
    has_cross: bool,
) -> int:
    """Apply votes in order to ``LiveVotes``'s arrays, in place; returns the new cell count.

    Every row and column exists already (``column_of[statement]`` is the
    statement's column; ``zeroable[statement]`` whether the math knows it is
    moderated) and ``codes`` has room for every new cell. A cell's code is
    ``3·column + vote + 1``, each row's cells sorted;
    the cross-counts (``vv``, ``vm``, ``mm`` stacked) change along the row
    and the column of the cell. Everything is an integer: the result does
    not depend on the order of the sums.
    """
    n = n_codes
    for v in range(rows.size):
        row, column, vote = rows[v], column_of[statements[v]], votes[v]
        lo, hi = indptr[row], indptr[row + 1]
        at = lo
        while at < hi and codes[at] < 3 * column:
            at += 1
        present = at < hi and codes[at] // 3 == column
        old = codes[at] % 3 - 1 if present else 0
        if has_cross:
            _update_cross(cross, codes, lo, hi, at if present else -1, column, old, vote)
        if present:
            codes[at] = 3 * column + vote + 1
        else:
            for moved in range(n, at, -1):
                codes[moved] = codes[moved - 1]
            codes[at] = 3 * column + vote + 1
            n += 1
            for later in range(row + 1, indptr.size):
                indptr[later] += 1
            row_counts[row] += 1
            row_zeroable[row] += 1 if zeroable[statements[v]] else 0
            column_counts[column] += 1
        column_sums[column] += vote - old
    return n


@njit(cache=True, nogil=True)
def _update_cross(
    cross: NDArray[np.float64],
    codes: NDArray[np.int32],
    lo: int,
    hi: int,
    own: int,
    column: int,
    old: int,
    new: int,
) -> None:
    """Cross-counts after the cell (row, ``column``) went from ``old`` to ``new``.

    ``codes[lo:hi]`` are the row's cells, ``own`` the cell's own position
    (-1: newly voted, so ``mm`` and ``vm`` change along the column too).
    """
    change = float(new - old)
    if own >= 0 and change == 0:
        return
    for cell in range(lo, hi):
        if cell == own:
            continue
        other = codes[cell] // 3
        other_vote = float(codes[cell] % 3 - 1)
        cross[0, column, other] += change * other_vote
        cross[0, other, column] += change * other_vote
        cross[1, column, other] += change
        if own < 0:
            cross[1, other, column] += other_vote
            cross[2, column, other] += 1.0
            cross[2, other, column] += 1.0
    cross[0, column, column] += float(new * new - old * old)
    cross[1, column, column] += change
    if own < 0:
        cross[2, column, column] += 1.0


@njit(cache=True, nogil=True)
def warm_centres(
    points: NDArray[np.float64],
    weights: NDArray[np.float64],
    label: NDArray[np.int64],
    n_seed: int,
) -> tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.float64], bool]:
    """The first steps of a warm start (``opinion_cluster.warm_start``).

    ``label`` is each point's position among ``n_seed`` previous clusters
    (-1: new). Returns the labels among the clusters still present (all
    points in one cluster when none is), which previous clusters are present,
    the weighted mean of each present cluster's points (new points weigh 0,
    summed in point order) and whether two of those centres coincide.
    """
    n = points.shape[0]
    present = np.zeros(n_seed, dtype=np.bool_)
    for i in range(n):
        if label[i] >= 0:
            present[label[i]] = True
    position = np.empty(n_seed, dtype=np.int64)
    k = 0
    for j in range(n_seed):
        position[j] = k
        if present[j]:
            k += 1
    relabelled = np.empty(n, dtype=np.int64)
    mask = np.empty(n)
    for i in range(n):
        if k == 0:
            relabelled[i] = 0
            mask[i] = 1.0
        elif label[i] >= 0:
            relabelled[i] = position[label[i]]
            mask[i] = 1.0
        else:
            relabelled[i] = -1
            mask[i] = 0.0
    k = max(k, 1)
    totals = np.zeros(k)
    sums = np.zeros((k, 2))
    for i in range(n):
        totals[max(relabelled[i], 0)] += weights[i] * mask[i]
    for i in range(n):
        sums[max(relabelled[i], 0), 0] += weights[i] * mask[i] * points[i, 0]
    for i in range(n):
        sums[max(relabelled[i], 0), 1] += weights[i] * mask[i] * points[i, 1]
    centers = np.zeros((k, 2))
    for j in range(k):
        if totals[j] > 0:
            centers[j, 0] = sums[j, 0] / totals[j]
            centers[j, 1] = sums[j, 1] / totals[j]
    duplicate = False
    for j in range(k):
        for other in range(j + 1, k):
            if centers[j, 0] == centers[other, 0] and centers[j, 1] == centers[other, 1]:
                duplicate = True
    return relabelled, present, centers, duplicate


@njit(cache=True, nogil=True)
def carried_bounds(
    old_points: NDArray[np.float64],
    points: NDArray[np.float64],
    label: NDArray[np.int64],
    centers: NDArray[np.float64],
    old_centers: NDArray[np.float64],
    id_position: NDArray[np.int64],
    old_position: NDArray[np.int64],
    old_upper: NDArray[np.float64],
    old_lower: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Hamerly bounds carried from one update's base k-means to the next (``BaseBounds``).

    Point ``i`` moved from ``old_points[i]`` to ``points[i]`` and starts in
    cluster ``label[i]`` (centre ``centers[label[i]]``), where it had been
    in ``old_position[i]``; previous cluster ``id_position[j]`` is the new
    cluster ``j``. The upper bound grows by the point's move plus the move of
    its centre, the lower one shrinks by the point's move plus the largest
    move of any centre (triangle inequality).
    """
    largest = -np.inf
    for j in range(centers.shape[0]):
        gx = centers[j, 0] - old_centers[id_position[j], 0]
        gy = centers[j, 1] - old_centers[id_position[j], 1]
        largest = max(largest, sqrt(gx * gx + gy * gy))
    n = points.shape[0]
    upper = np.empty(n)
    lower = np.empty(n)
    for i in range(n):
        mx = old_points[i, 0] - points[i, 0]
        my = old_points[i, 1] - points[i, 1]
        moved = sqrt(mx * mx + my * my)
        gx = centers[label[i], 0] - old_centers[old_position[i], 0]
        gy = centers[label[i], 1] - old_centers[old_position[i], 1]
        upper[i] = old_upper[i] + moved + sqrt(gx * gx + gy * gy)
        lower[i] = old_lower[i] - moved - largest
    return upper, lower


# One compiled call for a warm-started update's grouping. ``warm_grouping``
# runs what ``opinion_update.cluster`` does after the first update, from plain
# arrays, calling the kernels above in the order the step-by-step functions
# do, so its numbers are theirs. The rare steps it does not compile (merging
# base clusters whose centres coincide, splitting clusters off, a fresh start
# for a k the previous update did not try, a base problem large enough for a
# k-d tree) are reported back and run step by step. It lives in this module
# so that numba's cache, invalidated per source file, never keeps it compiled
# against older versions of the kernels it calls.

DONE = 0
BASE_NOT_COMPILED = 1
GROUPS_NOT_COMPILED = 2


@njit(cache=True, nogil=True)
def _sorted_positions(wanted: NDArray[np.int64], within: NDArray[np.int64]) -> NDArray[np.int64]:
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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def _all_labelled(label: NDArray[np.int64]) -> bool:
    i = 0
    while i < label.size and label[i] >= 0:
        i += 1
    return i == label.size


@njit(cache=True, nogil=True)
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
        _group_lookup(
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


@njit(cache=True, nogil=True)
def grouping_by_row(
    xy: NDArray[np.float64],
    in_conv: NDArray[np.bool_],
    row_labels: NDArray[np.int64],
    base_seed_ids: NDArray[np.int64],
    base_k: int,
    base_iters: int,
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
    """:func:`warm_grouping` from every row's place, and what the next update starts from.

    A pipelined replay's grouping of one update, in one call: the
    in-conversation rows (``in_conv``) and their places in ``xy`` (what
    ``opinion_update.cluster`` selects), each one's previous base cluster
    position from ``row_labels`` (``Prior.base_labels``; -1 beyond it, as
    ``_prior_labels`` reads it), then :func:`warm_grouping` with ``track``.
    Returns the in-conversation rows, their places, warm_grouping's result
    and, when it is :data:`DONE`, each row's base cluster position (-1 when
    not clustered: ``next_prior``'s ``base_labels``) and the groups packed as
    the next update's seeds for the same ``max_k`` (``_packed_group_seeds``
    of ``next_prior``'s groups); otherwise empty arrays in their place.
    """
    in_rows = np.flatnonzero(in_conv)
    n = in_rows.size
    points = np.empty((n, 2))
    label = np.empty(n, dtype=np.int64)
    for i in range(n):
        row = in_rows[i]
        points[i, 0] = xy[row, 0]
        points[i, 1] = xy[row, 1]
        label[i] = row_labels[row] if row < row_labels.size else -1
    result = warm_grouping(
        points, in_rows, label, base_seed_ids, base_k, base_iters, True, old_rows, old_points,
        old_ids, old_centers, old_position, old_upper, old_lower, weighted, k_offset,
        base_clusters_per_k, max_k, group_iters, group_seeded, group_seed_ids,
        group_seed_widths, group_base_ids, group_base_counts, group_base_group,
    )  # fmt: skip
    status, base_ids, base_labels = result[0], result[1], result[3]
    group_ids, group_widths, group_labels = result[7], result[9], result[10]
    next_labels = np.full(in_conv.size if status == DONE else 0, -1, dtype=np.int64)
    if status == DONE:
        for i in range(n):
            next_labels[in_rows[i]] = base_labels[i]
    n_k = max(max_k - 1, 0) if status == DONE else 0
    n_seeded = min(n_k, group_widths.size)
    widest = 0
    for g in range(n_seeded):
        widest = max(widest, group_widths[g])
    longest = base_ids.size if n_seeded else 0
    seeded = np.zeros(n_k, dtype=np.bool_)
    ids = np.zeros((n_k, widest), dtype=np.int64)
    widths = np.zeros(n_k, dtype=np.int64)
    seed_base_ids = np.zeros((n_k, longest), dtype=np.int64)
    base_counts = np.zeros(n_k, dtype=np.int64)
    base_group = np.zeros((n_k, longest), dtype=np.int64)
    for g in range(n_seeded):
        seeded[g] = True
        widths[g] = group_widths[g]
        ids[g, : group_widths[g]] = group_ids[g, : group_widths[g]]
        base_counts[g] = longest
        seed_base_ids[g] = base_ids
        base_group[g] = group_labels[g]
    seeds = (seeded, ids, widths, seed_base_ids, base_counts, base_group)
    return in_rows, points, result, next_labels, seeds


@njit(cache=True, nogil=True)
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
    at = _sorted_positions(old_rows, in_rows)
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
    id_position = _sorted_positions(ids, old_ids)
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


@njit(cache=True, nogil=True)
def _group_lookup(
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


@njit(cache=True, nogil=True)
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
    values = _silhouettes_by_column(point_distances(centers), labels[rows], widths[rows])
    for c in range(n_scored):
        scores[rows[c]] = values[c]
    return scores
