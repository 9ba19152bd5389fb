"""Pol.is PCA: imputation, two principal components, sparsity-aware projection.

Pol.is (``pca.clj``) imputes every missing vote (with the column mean since
2017-10-21, with 0 before), centres the columns, and finds two components by
power iteration on ``XᵀX`` with Gram-Schmidt deflation, warm-started from the
previous update's components.

The votes reach this module in two exact forms, from which everything is
computed (so an analysis from scratch and a replay that updates them vote by
vote compute the very same numbers):

* :class:`CrossCounts`, integer cross-products of the votes over pairs of
  statements: the covariance ``XᵀX`` of the centred matrix follows from them
  and the column centres in a few array operations (up to 400 statements);
* the one-hot cell matrix (participants × 3·statements, a 1 at ``3·j + vote
  + 1`` for every vote), from which ``Xv``, ``Xᵀu`` and the projection are
  sparse products with small tables (any size).

Where Pol.is iterated 100 times (since 2022-06-29), warm-started, the iteration
converges; we compute the same vectors exactly instead: Lanczos (ARPACK
``eigsh`` to machine precision, fixed start vector) on the covariance, or on
``v ↦ Xᵀ(Xv)`` above 400 statements, a full symmetric eigendecomposition for
a handful of statements, each vector with the sign power iteration converges
to from its start vector. Where Pol.is iterated 10 times per update (until
then), :func:`power_iteration_pca` runs those iterations literally.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import sqrt

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray

N_COMPONENTS = 2
PCA_ITERS = 100
GRAM_MAX_STATEMENTS = 400
DENSE_PRODUCT_MAX_CELLS = 4_000_000
TINY_STATEMENTS = 16
ZERO_EIGENVALUE = 1e-10
DEFLATE_ONCE_ABOVE_ITERS = 20
VOTE_CODES = 3  # disagree, pass, agree: code = 3·column + vote + 1


@dataclass(frozen=True, eq=False)
class CrossCounts:
    """Integer cross-products of the votes between statements (exact in float64).

    ``vv[j, k] = Σ x_ij·x_ik``, ``vm[j, k] = Σ x_ij·[i voted k]`` and
    ``mm[j, k] = Σ [i voted j]·[i voted k]`` over participants ``i``.
    """

    vv: NDArray[np.float64]
    vm: NDArray[np.float64]
    mm: NDArray[np.float64]


def cross_counts(
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    values: NDArray[np.int8],
    shape: tuple[int, int],
) -> CrossCounts:
    """:class:`CrossCounts` of the cells ``(rows, cols, values)`` of a ``shape`` matrix.

    Every partial sum is an integer no larger than the number of participants,
    so single precision products are exact below 2^24 participants (and
    faster); sparse products are used for large matrices.
    """
    n_rows, n_cols = shape
    if n_rows * n_cols <= DENSE_PRODUCT_MAX_CELLS and n_rows < 2**24:
        votes = np.zeros(shape, dtype=np.float32)
        voted = np.zeros(shape, dtype=np.float32)
        votes[rows, cols] = values
        voted[rows, cols] = 1.0
        with_votes = votes.T @ np.hstack([votes, voted])
        return CrossCounts(
            vv=with_votes[:, :n_cols].astype(np.float64),
            vm=with_votes[:, n_cols:].astype(np.float64),
            mm=(voted.T @ voted).astype(np.float64),
        )
    votes_sparse = sp.csr_matrix((values.astype(np.float64), (rows, cols)), shape=shape)
    voted_sparse = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=shape)
    return CrossCounts(
        vv=(votes_sparse.T @ votes_sparse).toarray(),
        vm=(votes_sparse.T @ voted_sparse).toarray(),
        mm=(voted_sparse.T @ voted_sparse).toarray(),
    )


def one_hot_cells(
    indptr: NDArray[np.int32], codes: NDArray[np.int32], n_cols: int
) -> sp.csr_matrix:
    """The one-hot cell matrix: a 1 at ``(i, 3·j + vote + 1)`` for every vote."""
    n_rows = indptr.size - 1
    return sp.csr_matrix(
        (_ones(codes.size), codes, indptr), shape=(n_rows, VOTE_CODES * n_cols), copy=False
    )


_shared_ones = np.ones(0)


def _ones(size: int) -> NDArray[np.float64]:
    """A read-only array of ``size`` ones, a view of one shared buffer (no allocation per call)."""
    global _shared_ones
    if _shared_ones.size < size:
        _shared_ones = np.ones(max(size, 2 * _shared_ones.size))
        _shared_ones.flags.writeable = False
    return _shared_ones[:size]


def _vote_table(center: NDArray[np.float64], zeroed: NDArray[np.bool_]) -> NDArray[np.float64]:
    """``x − centre`` for each (statement, vote) code; 0 in zeroed columns."""
    table = np.arange(-1.0, 2.0)[None, :] - center[:, None]
    table[zeroed] = 0.0
    return table


@dataclass(frozen=True, eq=False)
class Covariance:
    """``XᵀX`` of the centred rating matrix ``X``: dense, or as a product ``v ↦ XᵀXv``."""

    size: int
    dense: NDArray[np.float64] | None
    apply: Callable[[NDArray[np.float64]], NDArray[np.float64]]

    def is_zero(self) -> bool:
        return self.dense is not None and not np.any(self.dense)


def dense_covariance(
    cross: CrossCounts,
    center: NDArray[np.float64],
    zeroed: NDArray[np.bool_],
    *,
    n_rows: int,
    mean_imputed: bool,
) -> Covariance:
    """The covariance from the cross-counts.

    Mean imputation: a missing cell is 0 once centred, so ``XᵀX[j, k] =
    vv − c_k·vm[j, k] − c_j·vm[k, j] + c_j·c_k·mm``. Zero imputation: every
    cell is ``x − c`` (a blank is ``−c``) with ``c`` the column sums over all
    ``n`` participants, so ``XᵀX = vv − n·c·cᵀ``. Zeroed (moderated) columns
    hold 0 for everyone. One compiled call, the same bits as those terms in NumPy.
    """
    from coauthor.analysis import opinion_kernels

    gram = opinion_kernels.dense_covariance(
        cross.vv,
        cross.vm,
        cross.mm,
        np.ascontiguousarray(center, dtype=np.float64),
        np.ascontiguousarray(zeroed, dtype=np.bool_),
        n_rows,
        mean_imputed,
    )
    return Covariance(size=center.size, dense=gram, apply=gram.__matmul__)


def operator_covariance(
    one_hot: sp.csr_matrix,
    center: NDArray[np.float64],
    zeroed: NDArray[np.bool_],
    *,
    mean_imputed: bool,
) -> Covariance:
    """``v ↦ Xᵀ(Xv)`` through the one-hot cells, never forming the covariance."""
    n_cols = center.size
    n_rows = one_hot.shape[0]
    if mean_imputed:
        table = _vote_table(center, zeroed)
    else:
        table = np.broadcast_to(np.arange(-1.0, 2.0), (n_cols, VOTE_CODES)).copy()
        table[zeroed] = 0.0
    shift = center * ~zeroed
    transposed = one_hot.T.tocsr()

    def apply(vector: NDArray[np.float64]) -> NDArray[np.float64]:
        x_v = one_hot @ (table * vector[:, None]).ravel()
        if not mean_imputed:
            x_v = x_v - float(shift @ vector)
        folded = (transposed @ x_v).reshape(n_cols, VOTE_CODES)
        product = (folded * table).sum(axis=1)
        if not mean_imputed:
            product = product - shift * float(x_v.sum())
        return product

    del n_rows
    return Covariance(size=n_cols, dense=None, apply=apply)


@dataclass(frozen=True, eq=False)
class PcaFit:
    """Centre (column means) and components (``n_components × n_statements``)."""

    center: NDArray[np.float64]
    comps: NDArray[np.float64]
    eigenvalues: NDArray[np.float64]


def start_vectors(
    n_statements: int, seed: int, previous: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Power-iteration start vectors: the previous components, else uniform random (Pol.is)."""
    if previous is not None and np.any(previous):
        return previous
    rng = np.random.default_rng(seed)
    return rng.random((N_COMPONENTS, n_statements))


def _top_eigenpairs(covariance: Covariance, seed: int) -> tuple[NDArray, NDArray]:
    """Top eigenpairs of ``XᵀX``, largest first.

    Lanczos (ARPACK ``eigsh``, to machine precision, fixed start vector) on
    the dense covariance or on the product; a full ``eigh`` when there are
    only a handful of statements, or when Lanczos breaks down on a (near)
    rank-deficient covariance.
    """
    n_statements = covariance.size
    wanted = min(N_COMPONENTS, n_statements)
    if covariance.dense is not None and (n_statements <= TINY_STATEMENTS or covariance.is_zero()):
        return _dense_eigvecs(covariance.dense, wanted)
    v0 = np.random.default_rng(seed).random(n_statements)
    operator: spla.LinearOperator | NDArray = (
        covariance.dense
        if covariance.dense is not None
        else spla.LinearOperator(
            (n_statements, n_statements), matvec=covariance.apply, dtype=np.float64
        )
    )
    try:
        values, vectors = spla.eigsh(operator, k=wanted, which="LA", v0=v0, tol=0)
    except (spla.ArpackError, spla.ArpackNoConvergence):
        return _dense_eigvecs(_densify(covariance), wanted)
    order = np.argsort(values)[::-1]
    return values[order], vectors[:, order].T


def _densify(covariance: Covariance) -> NDArray[np.float64]:
    if covariance.dense is not None:
        return covariance.dense
    return np.column_stack([covariance.apply(e) for e in np.eye(covariance.size)])


def _dense_eigvecs(covariance: NDArray[np.float64], wanted: int) -> tuple[NDArray, NDArray]:
    values, vectors = np.linalg.eigh(covariance)
    return values[::-1][:wanted], vectors[:, ::-1][:, :wanted].T


def exact_pca(
    covariance: Covariance,
    center: NDArray[np.float64],
    starts: NDArray[np.float64],
    *,
    n_rows: int,
    seed: int = 0,
) -> PcaFit:
    """The two components power iteration converges to from ``starts``, computed exactly."""
    n_statements = covariance.size
    comps = np.zeros((N_COMPONENTS, n_statements))
    eigenvalues = np.zeros(N_COMPONENTS)
    n_found = min(N_COMPONENTS, n_rows, n_statements)
    if n_found == 0:
        return PcaFit(center=center, comps=comps, eigenvalues=eigenvalues)
    values, vectors = _top_eigenpairs(covariance, seed)
    for i in range(min(n_found, len(values))):
        if values[i] <= ZERO_EIGENVALUE * max(1.0, values[0]):
            continue
        sign = 1.0 if float(vectors[i] @ starts[i]) >= 0 else -1.0
        comps[i] = sign * vectors[i]
        eigenvalues[i] = values[i]
    return PcaFit(center=center, comps=comps, eigenvalues=eigenvalues)


def power_iteration_pca(
    covariance: Covariance,
    center: NDArray[np.float64],
    starts: NDArray[np.float64],
    *,
    n_rows: int,
    iters: int = PCA_ITERS,
) -> PcaFit:
    """Pol.is's literal power iteration with deflation (``pca.clj`` powerit-pca).

    Each component: ``v ← XᵀXv / |XᵀXv|`` until the norm repeats exactly or
    ``iters`` runs out (``iters + 1`` products at most); then the component
    is factored out of every row (``factor-matrix``: ``row − (row·pc / pc·pc)·pc``),
    which turns ``XᵀX`` into ``(I − P)·XᵀX·(I − P)`` with ``P`` the projector on
    ``pc``; a component of norm 0 leaves the rows as they are.
    """
    n_statements = covariance.size
    if covariance.dense is not None:
        return _dense_power_iteration_pca(covariance.dense, center, starts, n_rows, iters)
    comps = np.zeros((N_COMPONENTS, n_statements))
    eigenvalues = np.zeros(N_COMPONENTS)
    found: list[tuple[NDArray[np.float64], float]] = []
    for i in range(min(N_COMPONENTS, n_rows, n_statements)):
        product = _deflated(covariance, found)
        comps[i], eigenvalues[i] = _power_iteration(product, starts[i], iters)
        norm2 = float(comps[i] @ comps[i])
        if norm2 > 0:
            found.append((comps[i], norm2))
    return PcaFit(center=center, comps=comps, eigenvalues=eigenvalues)


def _dense_power_iteration_pca(
    dense: NDArray[np.float64],
    center: NDArray[np.float64],
    starts: NDArray[np.float64],
    n_rows: int,
    iters: int,
) -> PcaFit:
    """:func:`power_iteration_pca` on a dense covariance, each component in one compiled call.

    The covariance is deflated once per component found when there are many
    iterations, else the vector at every product (as :func:`_deflated`).
    """
    from coauthor.analysis.opinion_kernels import deflated_columns, dense_power_iteration

    n_statements = center.size
    comps = np.zeros((N_COMPONENTS, n_statements))
    eigenvalues = np.zeros(N_COMPONENTS)
    once = iters > DEFLATE_ONCE_ABOVE_ITERS
    columns = np.ascontiguousarray(dense.T, dtype=np.float64)  # transposed once per update
    found = np.zeros((0, n_statements))
    found_norm2 = np.zeros(0)
    for i in range(min(N_COMPONENTS, n_rows, n_statements)):
        start = np.ascontiguousarray(starts[i], dtype=np.float64)
        comps[i], eigenvalues[i] = dense_power_iteration(columns, start, iters, found, found_norm2)
        norm2 = float(comps[i] @ comps[i])
        if norm2 == 0:
            continue
        if once:
            columns = deflated_columns(columns, comps[i], norm2)
        else:
            found = np.vstack([found, comps[i][None, :]])
            found_norm2 = np.append(found_norm2, norm2)
    return PcaFit(center=center, comps=comps, eigenvalues=eigenvalues)


Product = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def _deflated(covariance: Covariance, found: list[tuple[NDArray[np.float64], float]]) -> Product:
    """``v ↦ X'ᵀX'v`` where ``X'`` has the ``found`` components factored out of every row.

    With ``P`` the projector on a component, ``X'ᵀX' = (I − P)·XᵀX·(I − P)``,
    applied by deflating the vector at every product (a dense covariance goes
    through :func:`_dense_power_iteration_pca` instead).
    """
    if not found:
        return covariance.apply
    apply = covariance.apply

    def deflated_apply(vector: NDArray[np.float64]) -> NDArray[np.float64]:
        for pc, norm2 in reversed(found):
            vector = vector - pc * (float(pc @ vector) / norm2)
        product = apply(vector)
        for pc, norm2 in found:
            product = product - pc * (float(pc @ product) / norm2)
        return product

    return deflated_apply


def _power_iteration(
    apply: Product, start: NDArray[np.float64], iters: int
) -> tuple[NDArray[np.float64], float]:
    vector, last_eigval, eigval = start.astype(np.float64), 0.0, 0.0
    for remaining in range(iters, -1, -1):
        product = apply(vector)
        eigval = sqrt(product @ product)
        vector = product / eigval if eigval > 0 else product
        if remaining == 0 or eigval == last_eigval:
            break
        last_eigval = eigval
    return vector, eigval


def project_votes(
    indptr: NDArray[np.int32],
    codes: NDArray[np.int32],
    fit: PcaFit,
    zeroed: NDArray[np.bool_],
    votes_counted: NDArray[np.int64],
    *,
    sparse: bool,
) -> NDArray[np.float64]:
    """Each participant's place on the map, from the cell codes (CSR, ``3·j + vote + 1``).

    Sparsity-aware (``pca.clj`` 134-157, Pol.is since 2014-10-03):
    ``p = Σ_voted (x − centre)·pc``, scaled by ``sqrt(n_statements /
    max(n_votes, 1))`` so that people who voted little are not piled up near
    the centre. Before that (``sparse=False``) the plain projection of the
    zero-imputed row: ``Σ_all (x − centre)·pc`` with a blank as 0. The sums
    over each row's cells run in one compiled call, in the order a sparse
    product of the one-hot cells takes them.
    """
    from coauthor.analysis.opinion_kernels import project_cells

    n_statements = fit.center.size
    if sparse:
        table = _vote_table(fit.center, zeroed)
    else:
        table = np.broadcast_to(np.arange(-1.0, 2.0), (n_statements, VOTE_CODES)).copy()
        table[zeroed] = 0.0
    projection = project_cells(
        indptr, codes, table, np.ascontiguousarray(fit.comps, dtype=np.float64)
    )
    if not sparse:
        return projection - (fit.center * ~zeroed) @ fit.comps.T
    scale = np.sqrt(n_statements / np.maximum(votes_counted, 1))
    return projection * scale[:, None]


def project_statements(fit: PcaFit) -> NDArray[np.float64]:
    """Each statement seen as a participant who agreed with it alone (``pca.clj`` 167-178)."""
    n_statements = fit.center.size
    return (np.sqrt(n_statements) * (1.0 - fit.center))[:, None] * fit.comps.T
