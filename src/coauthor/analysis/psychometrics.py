"""Pulse survey statistics: reliability, within-group agreement and ICC.

Pure numerics on numpy arrays of answers, respondents × items, ``NaN`` for a
missing answer. ``docs/pulse.md`` gives each definition with its reference;
``data/psychometrics/REFERENCE.md`` holds the published values the tests use.
Perception gaps between two groups are in :mod:`coauthor.analysis.psychometrics_gap`.

Each statistic has one implementation: a vectorised kernel (``*_arrays``) over
a stack ``(..., respondents, items)`` of groups, where a smaller group is
padded with rows of NaN, and a function for one group that returns a frozen
dataclass of plain floats. A statistic the data leave undefined (one
respondent, an item without variance, ...) is NaN, never a made-up 0 or 1;
each function lists its cases. Inputs a caller can get wrong (a scale of one
point, an answer off the scale, a ragged array) raise
:class:`~coauthor.domain.errors.ValidationFailed`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import fdtrc

from coauthor.domain.errors import ValidationFailed

Missing = Literal["pairwise", "listwise"]
MISSING_POLICIES: tuple[Missing, ...] = ("pairwise", "listwise")

ROUNDING_LEVEL = 1e-20
"""A variance below this fraction of the squared spread of the data is floating-point
rounding of a true 0 (e.g. a mean of equal decimals that is off in its last bit)."""

OMEGA_TOLERANCE = 1e-10
OMEGA_MAX_SWEEPS = 10_000
POWER_ITERATIONS = 30

Floats = NDArray[np.float64]


# ---------------------------------------------------------------- input checks


def answers(x: ArrayLike, name: str = "x", *, ndim: int | tuple[int, ...] | None = 2) -> Floats:
    """``x`` as a float array; ValidationFailed if it is ragged, not numbers, or infinite.

    ``ndim`` is the number of dimensions wanted (or a choice of them), or None
    for "at least 2" (a stack of groups).
    """
    try:
        array = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationFailed.one(name, "must be an array of numbers (NaN for missing)") from None
    if ndim is None and array.ndim < 2:
        raise ValidationFailed.one(name, "must be a stack of respondents × items arrays")
    wanted = (ndim,) if isinstance(ndim, int) else ndim
    if wanted is not None and array.ndim not in wanted:
        shape = " or ".join(
            "a list of answers" if d == 1 else "a respondents × items array" for d in wanted
        )
        raise ValidationFailed.one(name, f"must be {shape}, not {array.ndim}-dimensional")
    if np.isinf(array).any():
        raise ValidationFailed.one(name, "must hold finite numbers, NaN for a missing answer")
    return array


def scale(scale_points: int) -> int:
    """``scale_points`` checked: a whole number of response options, at least 2."""
    if (
        isinstance(scale_points, bool)
        or not isinstance(scale_points, int | np.integer)
        or scale_points < 2
    ):
        raise ValidationFailed.one("scale_points", "must be a whole number of at least 2")
    return int(scale_points)


def null_variance(scale_points: int) -> float:
    """Variance of the uniform null on ``scale_points`` options, (A² − 1) / 12."""
    return (scale(scale_points) ** 2 - 1) / 12


def check_on_scale(x: Floats, scale_points: int, name: str) -> None:
    """Every answer is on the 1..``scale_points`` scale; ValidationFailed names one that is not."""
    off = (x < 1) | (x > scale_points)
    if off.any():
        where = tuple(int(i) for i in np.argwhere(off)[0])
        raise ValidationFailed.one(
            (name, *where), f"{x[where]:g} is off the 1–{scale_points} scale"
        )


def _check_missing(missing: str) -> None:
    if missing not in MISSING_POLICIES:
        raise ValidationFailed.one("missing", "must be 'pairwise' or 'listwise'")


# ---------------------------------------------------------------- moments


def _first_answers(x: Floats) -> Floats:
    """Each item's first answer, shape ``(..., 1, items)``; 0 for an item nobody answered.

    Items are shifted by it before their moments are summed: variances do
    not change under a shift, and shifting by an answer rather than by the
    mean keeps an item of equal answers at exactly 0, so its variance is
    exactly 0 rather than rounding noise.
    """
    present = ~np.isnan(x)
    first = np.take_along_axis(x, np.argmax(present, axis=-2)[..., None, :], axis=-2)
    return np.where(np.isnan(first), 0.0, first)


def column_moments(x: Floats) -> tuple[NDArray[np.int64], Floats, Floats]:
    """Per item over the respondents who answered it: count, mean, variance (n − 1).

    The mean is NaN without answers and the variance NaN with fewer than two.
    """
    present = ~np.isnan(x)
    count = present.sum(axis=-2)
    first = _first_answers(x)
    shifted = np.where(present, x - first, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        shifted_mean = shifted.sum(axis=-2) / count
        deviation = np.where(present, shifted - shifted_mean[..., None, :], 0.0)
        variance = (deviation**2).sum(axis=-2) / (count - 1)
    return count, shifted_mean + first[..., 0, :], np.where(count >= 2, variance, np.nan)


@dataclass(frozen=True, eq=False)
class PairwiseMoments:
    """Pairwise-complete statistics of every pair of items, shape ``(..., items, items)``.

    ``count[i, j]`` respondents answered both; ``covariance[i, j]`` is over
    them (the diagonal: each item's variance over all who answered it);
    ``correlation[i, j]`` is Pearson's r over them, with both standard
    deviations taken over the same respondents (as R's
    ``cor(use = "pairwise.complete.obs")``). NaN where fewer than two
    respondents answered both, or where either item has no variance among them.
    """

    count: Floats
    covariance: Floats
    correlation: Floats


def pairwise_moments(x: Floats) -> PairwiseMoments:
    """Pairwise-complete covariances and correlations, all pairs at once by matrix products."""
    present = ~np.isnan(x)
    shifted = np.where(present, x - _first_answers(x), 0.0)
    weights = present.astype(np.float64)
    shifted_t = np.swapaxes(shifted, -1, -2)
    count = np.swapaxes(weights, -1, -2) @ weights
    sums = shifted_t @ weights  # [i, j]: sum of item i over those who answered i and j
    squares = (shifted_t * shifted_t) @ weights
    cross = shifted_t @ shifted
    spread = np.abs(shifted).max(axis=-2)  # per item; shifted values span its range
    with np.errstate(invalid="ignore", divide="ignore"):
        covariance = (cross - sums * np.swapaxes(sums, -1, -2) / count) / (count - 1)
        variance_within = (squares - sums**2 / count) / (count - 1)
        variance_within = np.where(
            variance_within <= ROUNDING_LEVEL * spread[..., :, None] ** 2, 0.0, variance_within
        )
        correlation = covariance / np.sqrt(variance_within * np.swapaxes(variance_within, -1, -2))
    enough = count >= 2
    correlation = np.where(enough & np.isfinite(correlation), correlation, np.nan)
    return PairwiseMoments(
        count=count,
        covariance=np.where(enough, covariance, np.nan),
        correlation=np.clip(correlation, -1.0, 1.0),
    )


def listwise(x: Floats) -> Floats:
    """``x`` with every respondent who skipped an item blanked (rows of NaN)."""
    return np.where(np.isnan(x).any(axis=-1, keepdims=True), np.nan, x)


def _respondents(x: Floats) -> NDArray[np.int64]:
    """Respondents with at least one answer."""
    return (~np.isnan(x)).any(axis=-1).sum(axis=-1)


def _off_diagonal_mean(matrix: Floats) -> Floats:
    k = matrix.shape[-1]
    off = ~np.eye(k, dtype=bool)
    return matrix[..., off].mean(axis=-1) if k >= 2 else np.full(matrix.shape[:-2], np.nan)


# ---------------------------------------------------------------- Cronbach's alpha


@dataclass(frozen=True, eq=False)
class AlphaArrays:
    alpha: Floats
    standardized: Floats
    mean_inter_item_r: Floats
    n: NDArray[np.int64]


def alpha_arrays(x: ArrayLike, missing: Missing = "pairwise") -> AlphaArrays:
    """Cronbach's alpha of every group of a stack ``(..., respondents, items)``."""
    _check_missing(missing)
    x = answers(x, ndim=None)
    if missing == "listwise":
        x = listwise(x)
    k = x.shape[-1]
    moments = pairwise_moments(x)
    item_variances = np.trace(moments.covariance, axis1=-2, axis2=-1)
    total_variance = moments.covariance.sum(axis=(-2, -1))
    mean_r = _off_diagonal_mean(moments.correlation)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = k / (k - 1) * (1 - item_variances / total_variance) if k >= 2 else np.nan
        standardized = k * mean_r / (1 + (k - 1) * mean_r)
    alpha = np.where((total_variance > 0) & np.isfinite(total_variance), alpha, np.nan)
    return AlphaArrays(
        alpha=np.asarray(alpha, dtype=np.float64),
        standardized=np.where(np.isfinite(standardized), standardized, np.nan),
        mean_inter_item_r=mean_r,
        n=_respondents(x),
    )


@dataclass(frozen=True)
class Alpha:
    """Cronbach's alpha, raw and standardised, of one set of items.

    ``n`` counts the respondents used: with ``listwise``, those who answered
    every item; with ``pairwise``, those who answered at least one.
    """

    alpha: float
    standardized: float
    mean_inter_item_r: float
    n: int
    items: int
    missing: Missing


def cronbach_alpha(x: ArrayLike, missing: Missing = "pairwise") -> Alpha:
    """Cronbach's alpha, k/(k−1) · (1 − Σ var_i / var(total)), and the standardised alpha.

    ``pairwise``: every item variance and inter-item covariance over the
    respondents who answered it (both items), and var(total) as the sum of
    the covariance matrix (as R's psych::alpha with pairwise data);
    ``listwise``: only respondents who answered every item. Standardised
    alpha is k·r̄ / (1 + (k−1)·r̄), r̄ the mean inter-item correlation.

    NaN when: fewer than two items; some pair of items answered together by
    fewer than two respondents; the total score has no variance (or, with
    pairwise covariances, a total variance that is not positive). The
    standardised alpha is also NaN when an item has no variance (its
    correlations are undefined). Alpha is not bounded below: a negative
    value means items that contradict each other (a reverse-keyed item not
    reversed) and is returned as is.
    """
    arrays = alpha_arrays(answers(x), missing)
    return Alpha(
        alpha=float(arrays.alpha),
        standardized=float(arrays.standardized),
        mean_inter_item_r=float(arrays.mean_inter_item_r),
        n=int(arrays.n),
        items=int(np.shape(x)[1]),
        missing=missing,
    )


# ---------------------------------------------------------------- McDonald's omega


def principal_loadings(correlation: Floats, iterations: int = POWER_ITERATIONS) -> Floats:
    """Loadings of the first principal component, √e₁·v₁, by power iteration (the minres start).

    Power iteration from equal weights rather than an eigendecomposition:
    a start need not be exact, and LAPACK's batched ``eigh`` on a shared
    2-core machine spends most of its time on thread contention.
    """
    vector = np.ones(correlation.shape[:-1]) / np.sqrt(correlation.shape[-1])
    for _ in range(iterations):
        vector = np.einsum("...ij,...j->...i", correlation, vector)
        norm = np.linalg.norm(vector, axis=-1, keepdims=True)
        vector = np.divide(vector, norm, out=np.zeros_like(vector), where=norm > 0)
    value = np.einsum("...i,...ij,...j->...", vector, correlation, vector)
    loadings = vector * np.sqrt(np.maximum(value, 0.0))[..., None]
    return loadings * np.where(loadings.sum(axis=-1, keepdims=True) < 0, -1.0, 1.0)


@dataclass(frozen=True, eq=False)
class MinresFit:
    loadings: Floats
    sweeps: int
    converged: NDArray[np.bool_]


def minres_one_factor(
    correlation: Floats, *, tolerance: float = OMEGA_TOLERANCE, max_sweeps: int = OMEGA_MAX_SWEEPS
) -> MinresFit:
    """One-factor loadings by minimum residual (minres): least squares off the diagonal.

    Minimises F(λ) = Σ_{i<j} (r_ij − λ_i λ_j)², the squared residual
    correlations, which leaves the diagonal (the unique variances) free, as
    Harman & Jones's (1966) minres and R's ``psych::fa(fm = "minres")``.

    Algorithm (Harman & Jones's coordinate descent, here over a whole stack
    of matrices at once): start from the first principal component's
    loadings (:func:`principal_loadings`); then, item by item, set λ_i to
    the value that minimises F with the other loadings held fixed — F is a
    quadratic in λ_i, with minimum at
    Σ_{j≠i} r_ij λ_j / Σ_{j≠i} λ_j² — clipped to [−1, 1] so that no unique
    variance 1 − λ_i² is negative (a Heywood case then sits on the bound).
    Each step can only lower F, so sweeps over the items converge; they stop
    when no loading moves by more than ``tolerance`` in a sweep. Where every
    other loading is 0, F does not depend on λ_i and λ_i is set to 0. The
    loadings are signed so that they sum to ≥ 0.
    """
    loadings = principal_loadings(correlation)
    k = correlation.shape[-1]
    diagonal = np.diagonal(correlation, axis1=-2, axis2=-1)
    unconverged = np.ones(loadings.shape[:-1], dtype=bool)
    sweeps = 0
    with np.errstate(invalid="ignore", divide="ignore"):
        while unconverged.any() and sweeps < max_sweeps:
            sweeps += 1
            previous = loadings.copy()
            squares = (loadings**2).sum(axis=-1)
            for i in range(k):
                others = squares - loadings[..., i] ** 2
                products = (correlation[..., i, :] * loadings).sum(axis=-1)
                products -= diagonal[..., i] * loadings[..., i]
                best = np.where(others > 0, products / others, 0.0)
                loadings[..., i] = np.clip(best, -1.0, 1.0)
                squares = others + loadings[..., i] ** 2
            unconverged = np.abs(loadings - previous).max(axis=-1, initial=0.0) > tolerance
    loadings *= np.where(loadings.sum(axis=-1, keepdims=True) < 0, -1.0, 1.0)
    return MinresFit(loadings=loadings, sweeps=sweeps, converged=~unconverged)


def omega_total(loadings: Floats) -> Floats:
    """(Σλ)² / ((Σλ)² + Σθ), θ_i = 1 − λ_i², for loadings on standardised items."""
    common = loadings.sum(axis=-1) ** 2
    unique = (1 - loadings**2).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return common / (common + unique)


@dataclass(frozen=True, eq=False)
class OmegaArrays:
    omega: Floats
    loadings: Floats
    converged: NDArray[np.bool_]
    sweeps: int
    n: NDArray[np.int64]


def omega_arrays(x: ArrayLike, missing: Missing = "pairwise") -> OmegaArrays:
    """McDonald's omega total of every group of a stack ``(..., respondents, items)``."""
    _check_missing(missing)
    x = answers(x, ndim=None)
    if missing == "listwise":
        x = listwise(x)
    k = x.shape[-1]
    correlation = pairwise_moments(x).correlation
    defined = np.isfinite(correlation).all(axis=(-2, -1)) & (k >= 3)
    fit = minres_one_factor(np.where(defined[..., None, None], correlation, np.eye(k)))
    loadings = np.where(defined[..., None], fit.loadings, np.nan)
    return OmegaArrays(
        omega=np.where(defined, omega_total(loadings), np.nan),
        loadings=loadings,
        converged=fit.converged | ~defined,
        sweeps=fit.sweeps,
        n=_respondents(x),
    )


@dataclass(frozen=True)
class Omega:
    """McDonald's omega total from a one-factor minres fit on the item correlations."""

    omega: float
    loadings: tuple[float, ...]
    uniquenesses: tuple[float, ...]
    heywood: bool
    converged: bool
    n: int
    missing: Missing


def mcdonald_omega(x: ArrayLike, missing: Missing = "pairwise") -> Omega:
    """McDonald's omega total, (Σλ)² / ((Σλ)² + Σθ), of standardised items.

    The loadings λ come from a one-factor model fitted by minres to the
    item correlation matrix (pairwise-complete, or over complete respondents
    with ``listwise``); θ_i = 1 − λ_i². See :func:`minres_one_factor` for the
    algorithm. Reverse-keyed items must be reversed first (a negative
    loading lowers omega).

    NaN (with NaN loadings) when: fewer than three items (a one-factor model
    of two items is not identified); an item without variance, or a pair of
    items answered together by fewer than two respondents (a correlation is
    undefined). ``heywood`` says a loading reached ±1 (a unique variance of
    0); ``converged`` is False if the fit stopped at its sweep limit.
    """
    x = answers(x)
    arrays = omega_arrays(x, missing)
    loadings = tuple(float(v) for v in arrays.loadings)
    return Omega(
        omega=float(arrays.omega),
        loadings=loadings,
        uniquenesses=tuple(1 - v**2 for v in loadings),
        heywood=any(abs(v) >= 1 for v in loadings),
        converged=bool(arrays.converged),
        n=int(arrays.n),
        missing=missing,
    )


# ---------------------------------------------------------------- within-group agreement


@dataclass(frozen=True, eq=False)
class RwgArrays:
    rwg: Floats
    untruncated: Floats
    mean_variance: Floats
    items: NDArray[np.int64]
    n: NDArray[np.int64]


def rwg_j_arrays(x: ArrayLike, scale_points: int, *, name: str = "x") -> RwgArrays:
    """rwg(j) of every group of a stack ``(..., respondents, items)``."""
    expected = null_variance(scale_points)
    x = answers(x, name, ndim=None)
    check_on_scale(x, scale_points, name)
    count, _, variance = column_moments(x)
    answered = count >= 2
    items = answered.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_variance = np.where(answered, variance, 0.0).sum(axis=-1) / items
        ratio = mean_variance / expected
        untruncated = items * (1 - ratio) / (items * (1 - ratio) + ratio)
    return RwgArrays(
        rwg=np.where(ratio > 1, 0.0, untruncated),
        untruncated=untruncated,
        mean_variance=mean_variance,
        items=items,
        n=_respondents(x),
    )


@dataclass(frozen=True)
class Agreement:
    """rwg or rwg(j) of one group (James, Demaree & Wolf 1984), uniform null.

    ``rwg`` is truncated to 0 when the observed variance exceeds the null's
    (``truncated``); ``untruncated`` is the formula's value before that.
    ``mean_variance`` is s² (one item) or the mean of the item variances;
    ``expected_variance`` is σ²_EU = (A² − 1)/12.
    """

    rwg: float
    untruncated: float
    truncated: bool
    mean_variance: float
    expected_variance: float
    items: int
    n: int


def _agreement(arrays: RwgArrays, scale_points: int) -> Agreement:
    expected = null_variance(scale_points)
    return Agreement(
        rwg=float(arrays.rwg),
        untruncated=float(arrays.untruncated),
        truncated=bool(arrays.mean_variance > expected),
        mean_variance=float(arrays.mean_variance),
        expected_variance=expected,
        items=int(arrays.items),
        n=int(arrays.n),
    )


def rwg(values: ArrayLike, scale_points: int) -> Agreement:
    """rwg = 1 − s²/σ²_EU for one item rated by a group; 0 when s² > σ²_EU.

    s² is the sample variance (n − 1) of the group's answers, missing
    answers left out. NaN with fewer than two answers. Answers must lie on
    the 1..``scale_points`` scale.
    """
    x = answers(values, "values", ndim=1)
    check_on_scale(x, scale(scale_points), "values")
    return _agreement(rwg_j_arrays(x[:, None], scale_points), scale_points)


def rwg_j(matrix: ArrayLike, scale_points: int) -> Agreement:
    """rwg(j) = J(1 − m/σ²_EU) / (J(1 − m/σ²_EU) + m/σ²_EU) for J items; 0 when m > σ²_EU.

    m is the mean of the item variances (each over the respondents who
    answered the item). An item answered by fewer than two respondents has
    no variance and is left out of m and J; NaN when no item is left. With
    one item rwg(j) is rwg.
    """
    x = answers(matrix, "matrix")
    return _agreement(rwg_j_arrays(x, scale_points, name="matrix"), scale_points)


@dataclass(frozen=True, eq=False)
class AdArrays:
    ad: Floats
    items: NDArray[np.int64]
    n: NDArray[np.int64]


def ad_arrays(x: ArrayLike) -> AdArrays:
    """AD index of every group of a stack ``(..., respondents, items)``."""
    x = answers(x, ndim=None)
    count, mean, _ = column_moments(x)
    answered = count >= 2
    deviation = np.where(np.isnan(x), 0.0, np.abs(x - mean[..., None, :]))
    with np.errstate(invalid="ignore", divide="ignore"):
        per_item = deviation.sum(axis=-2) / count
        items = answered.sum(axis=-1)
        ad = np.where(answered, per_item, 0.0).sum(axis=-1) / items
    return AdArrays(ad=ad, items=items, n=_respondents(x))


@dataclass(frozen=True)
class AverageDeviation:
    """Burke & Dunlap's (2002) AD index of one group, and its practical ceiling c/6.

    ``ceiling`` and ``within_ceiling`` are None unless the scale is given;
    ``within_ceiling`` is None when ``ad`` is NaN.
    """

    ad: float
    ceiling: float | None
    within_ceiling: bool | None
    items: int
    n: int


def ad_index(matrix: ArrayLike, scale_points: int | None = None) -> AverageDeviation:
    """AD = mean over items of the mean |x − item mean| within the group.

    Each item's deviations are taken over the respondents who answered it;
    an item with fewer than two answers is left out (one answer deviates from
    nothing); NaN when no item is left. A list of answers is one item. With
    ``scale_points`` = c the ceiling c/6 is given (agreement is practically
    significant when AD ≤ c/6), and answers must lie on the 1..c scale.
    """
    x = answers(matrix, "matrix", ndim=(1, 2))
    x = x if x.ndim == 2 else x[:, None]
    ceiling = None
    if scale_points is not None:
        ceiling = scale(scale_points) / 6
        check_on_scale(x, scale_points, "matrix")
    arrays = ad_arrays(x)
    ad = float(arrays.ad)
    within = None if ceiling is None or np.isnan(ad) else ad <= ceiling
    return AverageDeviation(
        ad=ad, ceiling=ceiling, within_ceiling=within, items=int(arrays.items), n=int(arrays.n)
    )


# ---------------------------------------------------------------- ICC, respondents nested in groups


def value_range(y: Floats, axis: int | tuple[int, ...]) -> Floats:
    """max − min of the values present along ``axis`` (0 where none is)."""
    present = ~np.isnan(y)
    high = np.where(present, y, -np.inf).max(axis=axis, initial=-np.inf)
    low = np.where(present, y, np.inf).min(axis=axis, initial=np.inf)
    return np.where(present.any(axis=axis), high - low, 0.0)


def _rounding_to_zero(value: Floats, spread: Floats | float) -> Floats:
    return np.where(value <= ROUNDING_LEVEL * np.square(spread), 0.0, value)


@dataclass(frozen=True, eq=False)
class AnovaArrays:
    """One-way ANOVA of every stack ``(..., groups, members)`` (NaN = no one there)."""

    msb: Floats
    msw: Floats
    f: Floats
    p: Floats
    n: NDArray[np.int64]
    groups: NDArray[np.int64]
    mean_group_size: Floats
    icc1: Floats
    icc2: Floats


def anova_arrays(stack: ArrayLike) -> AnovaArrays:
    """Between- and within-group mean squares, F, p, ICC(1) and ICC(2), vectorised."""
    y = answers(stack, "values", ndim=None)
    count, mean, _ = column_moments(np.swapaxes(y, -1, -2))  # members × groups
    present_groups = count > 0
    groups = present_groups.sum(axis=-1)
    n = count.sum(axis=-1)
    spread = value_range(y, axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        grand = np.where(present_groups, count * mean, 0.0).sum(axis=-1) / n
        between = np.where(present_groups, count * (mean - grand[..., None]) ** 2, 0.0)
        within = np.where(np.isnan(y), 0.0, (y - mean[..., :, None]) ** 2)
        msb = _rounding_to_zero(between.sum(axis=-1) / (groups - 1), spread)
        msw = _rounding_to_zero(within.sum(axis=(-2, -1)) / (n - groups), spread)
        k = n / groups
        icc1 = (msb - msw) / (msb + (k - 1) * msw)
        icc2 = np.where(msb > 0, (msb - msw) / msb, np.nan)
        f = np.where(msw > 0, msb / msw, np.nan)
    defined = (groups >= 2) & (n > groups)
    nan = np.nan
    return AnovaArrays(
        msb=np.where(groups >= 2, msb, nan),
        msw=np.where(n > groups, msw, nan),
        f=np.where(defined, f, nan),
        p=np.where(defined, fdtrc(groups - 1, n - groups, f), nan),
        n=n,
        groups=groups,
        mean_group_size=np.where(groups > 0, k, nan),
        icc1=np.where(defined & np.isfinite(icc1), icc1, nan),
        icc2=np.where(defined, icc2, nan),
    )


def group_stack(values: ArrayLike, groups: Sequence[Hashable]) -> tuple[list[Hashable], Floats]:
    """Values labelled by group → the distinct groups (first-seen order) and a NaN-padded
    ``(groups, largest group)`` array; ValidationFailed if the lengths differ."""
    y = answers(values, "values", ndim=1)
    if len(groups) != y.size:
        raise ValidationFailed.one("groups", f"has {len(groups)} labels for {y.size} values")
    labels = list(dict.fromkeys(groups))
    index = {label: i for i, label in enumerate(labels)}
    codes = np.fromiter((index[g] for g in groups), dtype=np.int64, count=y.size)
    sizes = np.bincount(codes, minlength=len(labels))
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    slot = np.arange(y.size) - starts[codes[order]]
    stack = np.full((len(labels), int(sizes.max(initial=0))), np.nan)
    stack[codes[order], slot] = y[order]
    return labels, stack


@dataclass(frozen=True)
class NestedIcc:
    """ICC(1), ICC(2) and the one-way ANOVA behind them (respondents nested in groups).

    ``n`` counts the values (missing left out), ``groups`` the groups with at
    least one, ``mean_group_size`` is k = n / groups.
    """

    icc1: float
    icc2: float
    msb: float
    msw: float
    f: float
    p: float
    n: int
    groups: int
    mean_group_size: float


def nested_icc(values: ArrayLike, groups: Sequence[Hashable]) -> NestedIcc:
    """ICC(1) = (MSB − MSW)/(MSB + (k−1)·MSW) and ICC(2) = (MSB − MSW)/MSB (Bliese 2000).

    One value per respondent (e.g. the mean of their answers), ``groups`` the
    group label of each; a NaN value is left out. k is the mean group size
    N/G, as in R's multilevel package. ICC(1) is the share of the variance
    of one respondent's value due to their group; ICC(2) the reliability of
    the group means. Both can be negative (groups differ less than chance
    would make them) and are returned as is.

    All NaN with fewer than two groups or when no group has two members (no
    within-group variance to compare with). ICC(2) is NaN when the group
    means are all equal (MSB = 0; F is then 0); F and p are NaN when no one
    differs from their group (MSW = 0), where ICC(1) = ICC(2) = 1 as the
    formulas give.
    """
    _, stack = group_stack(values, groups)
    arrays = anova_arrays(stack)
    return NestedIcc(
        icc1=float(arrays.icc1),
        icc2=float(arrays.icc2),
        msb=float(arrays.msb),
        msw=float(arrays.msw),
        f=float(arrays.f),
        p=float(arrays.p),
        n=int(arrays.n),
        groups=int(arrays.groups),
        mean_group_size=float(arrays.mean_group_size),
    )


def icc1(values: ArrayLike, groups: Sequence[Hashable]) -> float:
    """ICC(1) of respondents nested in groups; see :func:`nested_icc`."""
    return nested_icc(values, groups).icc1


def icc2(values: ArrayLike, groups: Sequence[Hashable]) -> float:
    """ICC(2) of respondents nested in groups; see :func:`nested_icc`."""
    return nested_icc(values, groups).icc2


# ---------------------------------------------------------------- ICC, targets × judges


@dataclass(frozen=True)
class ShroutFleiss:
    """The six intraclass correlations of Shrout & Fleiss (1979) and their mean squares.

    ICC(1,·): each target rated by different judges (one-way); ICC(2,·):
    judges a random sample, absolute agreement (two-way random); ICC(3,·):
    these judges only, consistency (two-way mixed). ``·,1`` is the
    reliability of one judge, ``·,k`` of the mean of the k judges.
    """

    icc_1_1: float
    icc_2_1: float
    icc_3_1: float
    icc_1_k: float
    icc_2_k: float
    icc_3_k: float
    bms: float
    wms: float
    jms: float
    ems: float
    targets: int
    judges: int


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator != 0 else float("nan")


def shrout_fleiss(matrix: ArrayLike) -> ShroutFleiss:
    """ICC(1,1) … ICC(3,k) of a complete targets × judges matrix (Shrout & Fleiss 1979, Table 1).

    BMS, JMS: mean squares of targets and of judges; WMS: within targets;
    EMS: residual of the two-way ANOVA. Every cell must be given. All NaN
    with fewer than two targets or judges; an ICC is NaN where its
    denominator is 0 (e.g. every rating equal).
    """
    y = answers(matrix, "matrix")
    if np.isnan(y).any():
        where = tuple(int(i) for i in np.argwhere(np.isnan(y))[0])
        raise ValidationFailed.one(("matrix", *where), "is missing: every judge rates every target")
    n, k = y.shape
    if n < 2 or k < 2:
        nan = float("nan")
        return ShroutFleiss(nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, n, k)
    centred = y - y.mean()
    ss_targets = k * float((centred.mean(axis=1) ** 2).sum())
    ss_judges = n * float((centred.mean(axis=0) ** 2).sum())
    ss_within = float((centred**2).sum()) - ss_targets
    squares = np.array(
        [
            ss_targets / (n - 1),
            ss_within / (n * (k - 1)),
            ss_judges / (k - 1),
            (ss_within - ss_judges) / ((n - 1) * (k - 1)),
        ]
    )
    bms, wms, jms, ems = _rounding_to_zero(squares, float(np.ptp(y))).tolist()
    return ShroutFleiss(
        icc_1_1=_ratio(bms - wms, bms + (k - 1) * wms),
        icc_2_1=_ratio(bms - ems, bms + (k - 1) * ems + k * (jms - ems) / n),
        icc_3_1=_ratio(bms - ems, bms + (k - 1) * ems),
        icc_1_k=_ratio(bms - wms, bms),
        icc_2_k=_ratio(bms - ems, bms + (jms - ems) / n),
        icc_3_k=_ratio(bms - ems, bms),
        bms=bms,
        wms=wms,
        jms=jms,
        ems=ems,
        targets=n,
        judges=k,
    )
