"""Pol.is PCA: column-mean imputation, two principal components, sparsity-aware projection.

Pol.is (``pca.clj``) imputes every missing vote with its column mean, centres
the columns, and finds two components by power iteration on ``XᵀX`` with
Gram-Schmidt deflation. After mean imputation a missing cell is exactly 0 once
centred, so the centred matrix ``X`` is as sparse as the votes: we keep it
sparse.

We compute the *same* eigenvectors exactly instead of iterating: Lanczos
(ARPACK ``eigsh`` to machine precision, fixed start vector) on the covariance
``XᵀX`` for up to 400 statements, on the operator ``v ↦ Xᵀ(Xv)`` above (the
covariance is never formed), a full symmetric eigendecomposition for a
handful of statements. Power iteration converges to the top eigenvector
with the sign of the start vector's component along it; we give the exact
vectors that sign, so the result is what power iteration converges to.
Pol.is stops after 100 iterations, so on a small eigengap it may stop short;
it also warm-starts from the previous update, so in a live conversation it
converges over updates to the exact vectors we return. The literal power
iteration is kept in :func:`power_iteration_pca` to check this (tests).

Before 2017-10-21 Pol.is imputed a missing vote with 0 instead (see
``docs/deliberation.md``); the centred matrix is then ``V − 1·cᵀ`` with
``V`` the sparse votes and ``c`` their column sums over *all* participants
divided by their number: dense, but its products and its covariance
``VᵀV − n·c·cᵀ`` still come from the sparse ``V``. :class:`Centred` holds
either form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray

N_COMPONENTS = 2
PCA_ITERS = 100
DENSE_EIGH_MAX_STATEMENTS = 400
DENSE_PRODUCT_MAX_CELLS = 4_000_000
TINY_STATEMENTS = 16
ZERO_EIGENVALUE = 1e-10


@dataclass(frozen=True, eq=False)
class Centred:
    """The centred rating matrix ``matrix − 1·shiftᵀ`` (``shift`` None: ``matrix`` itself)."""

    matrix: sp.csr_matrix
    shift: NDArray[np.float64] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def is_zero(self) -> bool:
        return not np.any(self.matrix.data) and (self.shift is None or not np.any(self.shift))

    def matvec(self, v: NDArray[np.float64]) -> NDArray[np.float64]:
        product = self.matrix @ v
        return product if self.shift is None else product - float(self.shift @ v)

    def rmatvec(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        product = self.matrix.T @ u
        return product if self.shift is None else product - self.shift * float(u.sum())

    def gram(self) -> NDArray[np.float64]:
        """``XᵀX``, through a dense product when the matrix is small enough to densify."""
        x = self.matrix
        if x.shape[0] * x.shape[1] <= DENSE_PRODUCT_MAX_CELLS:
            dense = x.toarray()
            gram = dense.T @ dense
        else:
            gram = (x.T @ x).toarray()
        if self.shift is not None:
            column_sums = np.asarray(x.sum(axis=0)).ravel()
            gram -= np.outer(column_sums, self.shift) + np.outer(self.shift, column_sums)
            gram += x.shape[0] * np.outer(self.shift, self.shift)
        return gram


def as_centred(centred: Centred | sp.csr_matrix) -> Centred:
    return centred if isinstance(centred, Centred) else Centred(centred)


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


def _covariance_eigvecs(centered: Centred, seed: int) -> tuple[NDArray, NDArray]:
    """Top eigenpairs of ``XᵀX``, largest first.

    Few statements: form the covariance and take its top eigenpairs with
    Lanczos (ARPACK ``eigsh``, to machine precision, fixed start vector;
    a full ``eigh`` when there are only a handful of statements). Many
    statements: Lanczos on ``v ↦ Xᵀ(Xv)``, which never forms the covariance
    and costs two sparse products per step.
    """
    n_statements = centered.shape[1]
    wanted = min(N_COMPONENTS, n_statements)
    if n_statements <= TINY_STATEMENTS or centered.is_zero():
        return _dense_eigvecs(centered.gram(), wanted)
    v0 = np.random.default_rng(seed).random(n_statements)
    if n_statements <= DENSE_EIGH_MAX_STATEMENTS:
        operator: spla.LinearOperator | NDArray = centered.gram()
    else:
        operator = spla.LinearOperator(
            (n_statements, n_statements),
            matvec=lambda v: centered.rmatvec(centered.matvec(v)),
            dtype=np.float64,
        )
    try:
        values, vectors = spla.eigsh(operator, k=wanted, which="LA", v0=v0, tol=0)
    except (spla.ArpackError, spla.ArpackNoConvergence):
        # Lanczos can break down on a (near) rank-deficient covariance; LAPACK cannot.
        return _dense_eigvecs(centered.gram(), wanted)
    order = np.argsort(values)[::-1]
    return values[order], vectors[:, order].T


def _dense_eigvecs(covariance: NDArray[np.float64], wanted: int) -> tuple[NDArray, NDArray]:
    values, vectors = np.linalg.eigh(covariance)
    return values[::-1][:wanted], vectors[:, ::-1][:, :wanted].T


def exact_pca(
    centered: Centred | sp.csr_matrix,
    center: NDArray[np.float64],
    starts: NDArray[np.float64],
    *,
    seed: int = 0,
) -> PcaFit:
    """The two components power iteration converges to from ``starts``, computed exactly."""
    centered = as_centred(centered)
    n_statements = centered.shape[1]
    comps = np.zeros((N_COMPONENTS, n_statements))
    eigenvalues = np.zeros(N_COMPONENTS)
    n_found = min(N_COMPONENTS, *centered.shape)
    if n_found == 0:
        return PcaFit(center=center, comps=comps, eigenvalues=eigenvalues)
    values, vectors = _covariance_eigvecs(centered, seed)
    for i in range(min(n_found, len(values))):
        if values[i] <= ZERO_EIGENVALUE * max(1.0, values[0]):
            continue
        sign = 1.0 if float(vectors[i] @ starts[i]) >= 0 else -1.0
        comps[i] = sign * vectors[i]
        eigenvalues[i] = values[i]
    return PcaFit(center=center, comps=comps, eigenvalues=eigenvalues)


def power_iteration_pca(
    centered: Centred | sp.csr_matrix,
    center: NDArray[np.float64],
    starts: NDArray[np.float64],
    *,
    iters: int = PCA_ITERS,
) -> PcaFit:
    """Pol.is's literal power iteration with deflation (``pca.clj`` powerit-pca).

    Each component: ``v ← XᵀXv / |XᵀXv|`` until the norm repeats exactly or
    ``iters`` runs out; then the component is factored out of every row.
    """
    centered = as_centred(centered)
    n_statements = centered.shape[1]
    comps = np.zeros((N_COMPONENTS, n_statements))
    eigenvalues = np.zeros(N_COMPONENTS)
    found: list[NDArray[np.float64]] = []
    for i in range(min(N_COMPONENTS, *centered.shape)):
        vector, eigval = _power_iteration(centered, found, starts[i], iters)
        comps[i], eigenvalues[i] = vector, eigval
        found.append(vector)
    return PcaFit(center=center, comps=comps, eigenvalues=eigenvalues)


def _deflated_product(
    centered: Centred, found: list[NDArray[np.float64]], vector: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``X'ᵀX'v`` where ``X'`` is ``X`` with the found components projected out of each row."""
    for pc in reversed(found):
        vector = vector - pc * (pc @ vector)
    product = centered.rmatvec(centered.matvec(vector))
    for pc in found:
        product = product - pc * (pc @ product)
    return product


def _power_iteration(
    centered: Centred,
    found: list[NDArray[np.float64]],
    start: NDArray[np.float64],
    iters: int,
) -> tuple[NDArray[np.float64], float]:
    vector, last_eigval, eigval = start.astype(np.float64), 0.0, 0.0
    for remaining in range(iters, -1, -1):
        product = _deflated_product(centered, found, vector)
        eigval = float(np.linalg.norm(product))
        vector = product / eigval if eigval > 0 else product
        if remaining == 0 or eigval == last_eigval:
            break
        last_eigval = eigval
    return vector, eigval


def project_participants(
    centered: sp.csr_matrix, comps: NDArray[np.float64], votes_counted: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Sparsity-aware projection (``pca.clj`` 134-157).

    ``p = Σ_voted (x - centre)·pc``, scaled by ``sqrt(n_statements / max(n_votes, 1))``
    so that people who voted little are not all piled up near the centre.
    """
    n_statements = centered.shape[1]
    projection = np.asarray(centered @ comps.T)
    scale = np.sqrt(n_statements / np.maximum(votes_counted, 1))
    return projection * scale[:, None]


def project_statements(fit: PcaFit) -> NDArray[np.float64]:
    """Each statement seen as a participant who agreed with it alone (``pca.clj`` 167-178)."""
    n_statements = fit.center.size
    return (np.sqrt(n_statements) * (1.0 - fit.center))[:, None] * fit.comps.T
