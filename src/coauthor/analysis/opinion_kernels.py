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


@njit(cache=True)
def dense_power_iteration(
    matrix: NDArray[np.float64],
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
    ``matrix`` is already deflated.
    """
    n = matrix.shape[0]
    vector = start.copy()
    product = np.empty(n)
    last_eigval = 0.0
    eigval = 0.0
    for remaining in range(iters, -1, -1):
        for f in range(found.shape[0] - 1, -1, -1):
            _factor_out(vector, found[f], found_norm2[f])
        for j in range(n):
            total = 0.0
            for k in range(n):
                total += matrix[j, k] * vector[k]
            product[j] = total
        for f in range(found.shape[0]):
            _factor_out(product, found[f], found_norm2[f])
        squared = 0.0
        for j in range(n):
            squared += product[j] * product[j]
        eigval = sqrt(squared)
        vector = product / eigval if eigval > 0 else product.copy()
        if remaining == 0 or eigval == last_eigval:
            break
        last_eigval = eigval
    return vector, eigval


@njit(cache=True)
def _factor_out(vector: NDArray[np.float64], pc: NDArray[np.float64], norm2: float) -> None:
    """``vector ← vector − pc·(pc·vector / norm2)``, in place."""
    along = 0.0
    for j in range(vector.size):
        along += pc[j] * vector[j]
    along /= norm2
    for j in range(vector.size):
        vector[j] = vector[j] - pc[j] * along


@njit(cache=True)
def deflate_dense(
    matrix: NDArray[np.float64], pc: NDArray[np.float64], norm2: float
) -> NDArray[np.float64]:
    """``(I − P)·M·(I − P)`` for a symmetric ``M`` and ``P`` the projector on ``pc``.

    ``M − a·sᵀ − s·aᵀ + (pc·a / norm2²)·pc·pcᵀ`` with ``a = M·pc`` and
    ``s = pc / norm2``: the covariance of the rows with ``pc`` factored out.
    """
    n = matrix.shape[0]
    along = np.empty(n)
    for j in range(n):
        total = 0.0
        for k in range(n):
            total += matrix[j, k] * pc[k]
        along[j] = total
    weight = 0.0
    for j in range(n):
        weight += pc[j] * along[j]
    weight /= norm2 * norm2
    deflated = np.empty_like(matrix)
    for j in range(n):
        scaled_j = pc[j] / norm2
        for k in range(n):
            value = matrix[j, k] - along[j] * (pc[k] / norm2)
            value -= scaled_j * along[k]
            deflated[j, k] = value + pc[j] * pc[k] * weight
    return deflated


@njit(cache=True)
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
    for c in range(n_comps):
        for i in range(n_rows):
            total = 0.0
            for cell in range(indptr[i], indptr[i + 1]):
                total += weights[c, codes[cell]]
            projection[i, c] = total
    return projection


@njit(cache=True)
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


@njit(cache=True)
def silhouettes(
    distances: NDArray[np.float64], labels: NDArray[np.int64], widths: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Mean silhouette of each labelling (a row of ``labels``, ``widths[c]`` clusters).

    ``(b − a) / max(a, b)`` per point, ``a`` the mean distance to the rest of
    its cluster, ``b`` the smallest mean distance to another cluster (an
    empty one counting as 0); 0 for a member of a singleton cluster.
    """
    n = distances.shape[0]
    scores = np.zeros(labels.shape[0])
    for c in range(labels.shape[0]):
        width = widths[c]
        sizes = np.zeros(width)
        for i in range(n):
            sizes[labels[c, i]] += 1.0
        sums = np.zeros((n, width))
        for i in range(n):
            for p in range(n):
                sums[i, labels[c, p]] += distances[i, p]
        total = 0.0
        for i in range(n):
            own = labels[c, i]
            if sizes[own] <= 1.0:
                continue
            a = sums[i, own] / (sizes[own] - 1.0)
            b = np.inf
            for g in range(width):
                if g != own:
                    b = min(b, sums[i, g] / max(sizes[g], 1.0))
            denominator = max(a, b)
            if denominator > 0:
                total += (b - a) / denominator
        scores[c] = total / n
    return scores
