"""Perception gaps between two groups of respondents, item by item.

For each item: Welch's t (Welch–Satterthwaite df), Hedges' g, Mann–Whitney U
with the rank-biserial r, Holm-adjusted p-values across the items, and a
TOST equivalence test (two one-sided Welch tests against ±delta) before two
groups may be said to agree. ``docs/pulse.md`` gives the formulas.

Signs: every directed statistic is a − b. t, g and r are positive when group
``a`` answers higher, and swapping the groups flips their signs and leaves
every p-value as it was. U is the Mann–Whitney U of group ``b`` — the number
of pairs (a_i, b_j) with b_j > a_i, a tie counting one half — so that
r = 1 − 2U/(n_a·n_b) = P(a > b) − P(a < b).

As in :mod:`coauthor.analysis.psychometrics`, one vectorised kernel serves
every use: :func:`gap_arrays` compares every two groups of a stack (all the
partners of an alliance at once), and :func:`perception_gap` is its
comparison of a stack of two.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln, ndtr, stdtr

from coauthor.analysis.psychometrics import Floats, answers, column_moments
from coauthor.domain.errors import ValidationFailed

DEFAULT_EQUIVALENCE_DELTA = 0.5
"""Half a scale point: a mean difference too small to move a typical answer by one option."""

DEFAULT_SIGNIFICANCE = 0.05


def holm(p: ArrayLike) -> Floats:
    """Holm's step-down adjusted p-values along the last axis; NaN stays NaN.

    Sorted ascending, p_(i) becomes max_{j ≤ i} (m − j + 1)·p_(j), capped at
    1, where m counts the p-values that are not NaN.
    """
    p = np.asarray(p, dtype=np.float64)
    finite = np.isfinite(p)
    m = finite.sum(axis=-1, keepdims=True)
    order = np.argsort(np.where(finite, p, np.inf), axis=-1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=-1)
    position = np.arange(p.shape[-1])
    scaled = np.where(position < m, (m - position) * ranked, 0.0)
    adjusted = np.minimum(1.0, np.maximum.accumulate(scaled, axis=-1))
    result = np.empty_like(adjusted)
    np.put_along_axis(result, order, adjusted, axis=-1)
    return np.where(finite, result, np.nan)


def hedges_correction(df: Floats) -> Floats:
    """Hedges's (1981) exact small-sample factor J(df) = Γ(df/2) / (√(df/2) · Γ((df−1)/2)).

    About 1 − 3/(4·df − 1), the approximation usually quoted.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.exp(gammaln(df / 2) - 0.5 * np.log(df / 2) - gammaln((df - 1) / 2))


@dataclass(frozen=True, eq=False)
class MannWhitneyArrays:
    """Mann–Whitney statistics of every ordered pair of groups, shape ``(..., G, G, items)``."""

    u: Floats
    rank_biserial: Floats
    p: Floats


def answer_counts(stack: Floats) -> Floats:
    """How many of each group gave each distinct answer: ``(..., items, answers, G)``.

    Per item, the answers of all groups are sorted together and numbered by
    distinct value (ascending); the answer axis is as long as the largest
    number of distinct answers of any item (a 5-point item has at most 5),
    zero-padded. Counting by distinct answer is what makes the rank
    statistics of every pair of groups cheap: ranks follow from cumulative
    counts.
    """
    groups, size = stack.shape[-3], stack.shape[-2]
    pooled = np.moveaxis(stack, -1, -3)
    lead = pooled.shape[:-2]
    pooled = pooled.reshape(-1, groups * size)
    order = np.argsort(pooled, axis=-1, kind="stable")  # NaN last
    ranked = np.take_along_axis(pooled, order, axis=-1)
    valid = ~np.isnan(ranked)
    new_value = valid.copy()
    new_value[:, 1:] &= ranked[:, 1:] != ranked[:, :-1]
    value_index = np.cumsum(new_value, axis=-1) - 1
    distinct = int(value_index.max(initial=0)) + 1
    rows = np.arange(pooled.shape[0])[:, None]
    cell = ((rows * distinct + value_index) * groups + order // size)[valid]
    counts = np.bincount(cell, minlength=pooled.shape[0] * distinct * groups)
    return counts.reshape(*lead, distinct, groups).astype(np.float64)


def mann_whitney(stack: Floats) -> MannWhitneyArrays:
    """U, rank-biserial r and the two-sided p of every ordered pair of groups, per item.

    [p, q] takes a = group p, b = group q; U is b's. From the answer counts
    c_p(v): U = Σ_v c_q(v) · (Σ_{w<v} c_p(w) + c_p(v)/2), which is the sum of
    b's average ranks in the pooled pair minus n_b(n_b + 1)/2. The p-value
    uses the normal approximation with the tie-corrected variance
    n_a·n_b/12 · (N + 1 − Σ(t³ − t) / (N(N − 1))), t = c_p(v) + c_q(v),
    and a continuity correction of ½, as
    ``scipy.stats.mannwhitneyu(method="asymptotic")``. NaN answers are left out.
    """
    counts = answer_counts(stack)
    below_and_half = np.cumsum(counts, axis=-2) - counts / 2
    u = np.swapaxes(below_and_half, -1, -2) @ counts  # [p, q] = Σ_v c_q(v)·(...)_p(v)
    squares = np.swapaxes(counts**2, -1, -2) @ counts  # [p, q] = Σ_v c_p(v)²·c_q(v)
    cubes = np.diagonal(squares, axis1=-2, axis2=-1)  # Σ_v c_p(v)³
    n = counts.sum(axis=-2)
    n_a, n_b = n[..., :, None], n[..., None, :]
    total = n_a + n_b
    ties = cubes[..., :, None] + cubes[..., None, :] + 3 * (squares + np.swapaxes(squares, -1, -2))
    ties -= total
    pairs = n_a * n_b
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = pairs / 12 * ((total + 1) - ties / (total * (total - 1)))
        z = (np.abs(u - pairs / 2) - 0.5) / np.sqrt(variance)
        p = np.where(variance > 0, np.minimum(1.0, 2 * ndtr(-z)), np.nan)
        rank_biserial = 1 - 2 * u / pairs

    def items_last(x: Floats) -> Floats:
        return np.moveaxis(x, -3, -1)

    return MannWhitneyArrays(
        u=items_last(u), rank_biserial=items_last(rank_biserial), p=items_last(p)
    )


@dataclass(frozen=True, eq=False)
class GapArrays:
    """Every statistic of :class:`ItemGap` for every ordered pair of groups.

    Shape ``(..., G, G, items)``; [p, q] takes a = group p, b = group q, so
    [q, p] is the same comparison with the groups swapped. The diagonal (a
    group against itself) is NaN.
    """

    n_a: NDArray[np.int64]
    n_b: NDArray[np.int64]
    mean_a: Floats
    mean_b: Floats
    difference: Floats
    t: Floats
    df: Floats
    p: Floats
    p_holm: Floats
    hedges_g: Floats
    u: Floats
    rank_biserial: Floats
    p_mann_whitney: Floats
    p_mann_whitney_holm: Floats
    tost_p: Floats


def _check_delta(delta: float) -> None:
    if not np.isfinite(delta) or delta <= 0:
        raise ValidationFailed.one("delta", "must be a positive number of scale points")


@dataclass(frozen=True, eq=False)
class _Welch:
    difference: Floats
    error: Floats
    df: Floats
    hedges_g: Floats


def _welch(n: NDArray[np.int64], mean: Floats, variance: Floats) -> _Welch:
    """Welch and Hedges statistics of every ordered pair from per-group moments ``(..., G, k)``."""
    n_a, n_b = n[..., :, None, :], n[..., None, :, :]
    var_a, var_b = variance[..., :, None, :], variance[..., None, :, :]
    difference = mean[..., :, None, :] - mean[..., None, :, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        share_a, share_b = var_a / n_a, var_b / n_b
        error = np.sqrt(share_a + share_b)
        df = (share_a + share_b) ** 2 / (share_a**2 / (n_a - 1) + share_b**2 / (n_b - 1))
        pooled_df = n_a + n_b - 2
        pooled_sd = np.sqrt(((n_a - 1) * var_a + (n_b - 1) * var_b) / pooled_df)
        hedges_g = hedges_correction(pooled_df) * difference / pooled_sd
    return _Welch(
        difference=difference,
        error=np.where(error > 0, error, np.nan),
        df=df,
        hedges_g=np.where(pooled_sd > 0, hedges_g, np.nan),
    )


def _symmetric(
    compute: Callable[[NDArray[np.intp], NDArray[np.intp]], Floats], like: Floats
) -> Floats:
    """A statistic that is the same for (p, q) and (q, p), computed once per pair.

    ``compute(i, j)`` gets the group indices of the pairs i < j (the two axes
    before the items in ``like``); the t distribution is the costly part of a
    gap, so each unordered pair pays for it once.
    """
    first, second = np.triu_indices(like.shape[-2], 1)
    values = compute(first, second)
    result = np.full(like.shape, np.nan)
    result[..., first, second, :] = values
    result[..., second, first, :] = values
    return result


def gap_arrays(stack: ArrayLike, *, delta: float = DEFAULT_EQUIVALENCE_DELTA) -> GapArrays:
    """Perception gaps between every two groups of ``stack`` (..., groups, respondents, items).

    A smaller group is padded with rows of NaN. See :func:`perception_gap`
    for the statistics and their edge cases.
    """
    _check_delta(delta)
    y = answers(stack, "stack", ndim=None)
    if y.ndim < 3:
        raise ValidationFailed.one("stack", "must be groups × respondents × items")
    n, mean, variance = column_moments(y)
    welch = _welch(n, mean, variance)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = welch.difference / welch.error
        distance = (np.abs(welch.difference) - delta) / welch.error
    p = _symmetric(lambda i, j: 2 * stdtr(welch.df[..., i, j, :], -np.abs(t[..., i, j, :])), t)
    # TOST: of the two one-sided p-values, the larger is the one against the bound on the
    # difference's own side, P(T < (|a − b| − delta) / se).
    tost_p = _symmetric(lambda i, j: stdtr(welch.df[..., i, j, :], distance[..., i, j, :]), t)
    ranks = mann_whitney(y)
    groups = y.shape[-3]
    n_a = np.broadcast_to(n[..., :, None, :], t.shape)
    n_b = np.broadcast_to(n[..., None, :, :], t.shape)
    comparable = (n_a >= 2) & (n_b >= 2) & ~np.eye(groups, dtype=bool)[:, :, None]

    def pairs(x: Floats) -> Floats:
        return np.where(comparable, x, np.nan)

    return GapArrays(
        n_a=n_a,
        n_b=n_b,
        mean_a=np.broadcast_to(mean[..., :, None, :], t.shape),
        mean_b=np.broadcast_to(mean[..., None, :, :], t.shape),
        difference=pairs(welch.difference),
        t=pairs(t),
        df=pairs(np.where(np.isfinite(t), welch.df, np.nan)),
        p=pairs(p),
        p_holm=holm(pairs(p)),
        hedges_g=pairs(welch.hedges_g),
        u=pairs(ranks.u),
        rank_biserial=pairs(ranks.rank_biserial),
        p_mann_whitney=pairs(ranks.p),
        p_mann_whitney_holm=holm(pairs(ranks.p)),
        tost_p=pairs(tost_p),
    )


@dataclass(frozen=True)
class ItemGap:
    """One item's gap between groups a and b (a − b); NaN / None where undefined."""

    item: str
    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    difference: float
    t: float
    df: float
    p: float
    p_holm: float
    hedges_g: float
    u: float
    rank_biserial: float
    p_mann_whitney: float
    p_mann_whitney_holm: float
    tost_p: float
    equivalent: bool | None


@dataclass(frozen=True)
class PerceptionGap:
    """Item gaps between two groups, and whether the groups can be called equivalent.

    ``equivalent`` is True when every item passes its TOST (an
    intersection–union test, so no multiplicity correction is due), False
    when some item fails it, None when no item fails but some cannot be tested.
    """

    items: tuple[ItemGap, ...]
    delta: float
    significance: float
    equivalent: bool | None


def _verdict(verdicts: Sequence[bool | None]) -> bool | None:
    if False in verdicts:
        return False
    return None if None in verdicts or not verdicts else True


def perception_gap(
    a: ArrayLike,
    b: ArrayLike,
    items: Sequence[str] | None = None,
    *,
    delta: float = DEFAULT_EQUIVALENCE_DELTA,
    significance: float = DEFAULT_SIGNIFICANCE,
) -> PerceptionGap:
    """Per item, how group ``a`` (respondents × items) differs from group ``b``.

    - Welch's t = (mean_a − mean_b) / √(s_a²/n_a + s_b²/n_b) with the
      Welch–Satterthwaite df, two-sided p; ``p_holm`` Holm-adjusted across items.
    - Hedges' g = J · (mean_a − mean_b) / s_pooled, s_pooled with n_a + n_b − 2
      df and J :func:`hedges_correction`.
    - Mann–Whitney U of ``b``, r = 1 − 2U/(n_a·n_b), two-sided p (see
      :func:`mann_whitney`), Holm-adjusted across items.
    - TOST: H0 "the means differ by delta or more" is rejected when both
      one-sided Welch tests, of mean_a − mean_b > −delta and < +delta, have
      p < ``significance``; ``tost_p`` is the larger of the two, and
      ``equivalent`` says whether it is below ``significance``. ``delta`` is
      in scale points (default: half a point).

    Missing answers are left out item by item. Undefined, so NaN: everything
    but the counts and means when a group has fewer than two answers on the
    item; t, df, p and the TOST when neither group varies on it; g when the
    pooled standard deviation is 0; the Mann–Whitney p when every answer is
    the same (U and r are then defined: r = 0). ``equivalent`` is None where
    ``tost_p`` is NaN. Holm adjusts over the items whose p is defined.
    """
    _check_delta(delta)
    if not 0 < significance < 1:
        raise ValidationFailed.one("significance", "must lie between 0 and 1")
    a, b = answers(a, "a"), answers(b, "b")
    names = [str(i + 1) for i in range(a.shape[1])] if items is None else list(items)
    if len(names) != a.shape[1]:
        raise ValidationFailed.one(
            "items", f"names {len(names)} items, the answers have {a.shape[1]}"
        )
    if b.shape[1] != a.shape[1]:
        raise ValidationFailed.one("b", f"has {b.shape[1]} items, a has {a.shape[1]}")
    stack = np.full((2, max(a.shape[0], b.shape[0]), a.shape[1]), np.nan)
    stack[0, : a.shape[0]], stack[1, : b.shape[0]] = a, b
    arrays = gap_arrays(stack, delta=delta)
    gaps = tuple(_item_gap(arrays, i, name, significance) for i, name in enumerate(names))
    return PerceptionGap(
        items=gaps,
        delta=float(delta),
        significance=float(significance),
        equivalent=_verdict([gap.equivalent for gap in gaps]),
    )


def _item_gap(arrays: GapArrays, i: int, name: str, significance: float) -> ItemGap:
    """Item ``i`` of the comparison of group 0 (a) with group 1 (b)."""
    tost_p = float(arrays.tost_p[0, 1, i])
    floats = {
        field: float(getattr(arrays, field)[0, 1, i])
        for field in (f.name for f in fields(ItemGap))
        if field not in {"item", "n_a", "n_b", "equivalent"}
    }
    return ItemGap(
        item=name,
        n_a=int(arrays.n_a[0, 1, i]),
        n_b=int(arrays.n_b[0, 1, i]),
        equivalent=None if np.isnan(tost_p) else tost_p < significance,
        **floats,
    )
