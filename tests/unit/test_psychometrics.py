"""Hand-worked and published values for the pulse statistics (coauthor.analysis.psychometrics)."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
import scipy.optimize
import scipy.stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import ttost_ind

from coauthor.analysis import psychometrics as pm
from coauthor.analysis.psychometrics_gap import (
    gap_arrays,
    hedges_correction,
    holm,
    perception_gap,
)
from coauthor.domain.errors import ValidationFailed

NAN = float("nan")

# ---------------------------------------------------------------- Shrout & Fleiss (1979), Table 2

SHROUT_FLEISS_MATRIX = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]
# Published to two places; REFERENCE.md gives them to four.
SHROUT_FLEISS_TABLE_2 = {
    "icc_1_1": 0.1657,
    "icc_2_1": 0.2898,
    "icc_3_1": 0.7148,
    "icc_1_k": 0.4428,
    "icc_2_k": 0.6201,
    "icc_3_k": 0.9093,
}


def test_shrout_fleiss_table_2_to_four_places() -> None:
    result = pm.shrout_fleiss(SHROUT_FLEISS_MATRIX)
    for name, published in SHROUT_FLEISS_TABLE_2.items():
        assert round(getattr(result, name), 4) == published, name
    assert (result.targets, result.judges) == (6, 4)


def test_shrout_fleiss_mean_squares_are_the_two_way_anova() -> None:
    y = np.array(SHROUT_FLEISS_MATRIX, dtype=float)
    n, k = y.shape
    grand = y.mean()
    bms = k * ((y.mean(axis=1) - grand) ** 2).sum() / (n - 1)
    jms = n * ((y.mean(axis=0) - grand) ** 2).sum() / (k - 1)
    wms = ((y - y.mean(axis=1, keepdims=True)) ** 2).sum() / (n * (k - 1))
    residual = y - y.mean(axis=1, keepdims=True) - y.mean(axis=0) + grand
    ems = (residual**2).sum() / ((n - 1) * (k - 1))
    result = pm.shrout_fleiss(y)
    assert (result.bms, result.jms, result.wms, result.ems) == pytest.approx((bms, jms, wms, ems))


def test_shrout_fleiss_refuses_a_missing_rating_and_is_nan_for_one_judge() -> None:
    incomplete = np.array(SHROUT_FLEISS_MATRIX, dtype=float)
    incomplete[2, 1] = np.nan
    with pytest.raises(ValidationFailed) as error:
        pm.shrout_fleiss(incomplete)
    assert error.value.errors[0].loc == ("matrix", 2, 1)
    assert math.isnan(pm.shrout_fleiss([[1], [2], [3]]).icc_3_1)
    assert math.isnan(pm.shrout_fleiss([[3, 3], [3, 3]]).icc_1_1)  # no variance at all


# ---------------------------------------------------------------- Cronbach's alpha

# Four complete respondents and one who skipped item 2.
ALPHA_ANSWERS = [[1, 2, 3], [2, 3, 3], [3, 3, 4], [4, 5, 5], [5, NAN, 4]]


def test_alpha_listwise_by_hand() -> None:
    # Complete rows only: item variances 5/3, 4.75/3, 2.75/3; totals 6, 8, 10, 14 have
    # variance 35/3, so alpha = 3/2 · (1 − 12.5/35) = 27/28.
    result = pm.cronbach_alpha(ALPHA_ANSWERS, "listwise")
    assert result.alpha == pytest.approx(27 / 28)
    assert (result.n, result.items, result.missing) == (4, 3, "listwise")


def test_alpha_pairwise_by_hand() -> None:
    # Item 1 over all five rows: variance 2.5; item 2 over its four: 4.75/3; item 3 over
    # five: 0.7. Covariances: (1,2) over rows 1–4: 4.5/3 = 1.5; (2,3) over rows 1–4:
    # 3.25/3 = 13/12; (1,3) over all five: 4/4 = 1. Sum of the matrix = 143.4/12,
    # its trace 57.4/12: alpha = 3/2 · 86/143.4.
    result = pm.cronbach_alpha(ALPHA_ANSWERS, "pairwise")
    assert result.alpha == pytest.approx(1.5 * 86 / 143.4)
    assert result.n == 5


def test_standardized_alpha_uses_the_mean_inter_item_correlation() -> None:
    complete = np.array(ALPHA_ANSWERS[:4], dtype=float)
    r = np.corrcoef(complete, rowvar=False)[np.triu_indices(3, 1)].mean()
    listwise = pm.cronbach_alpha(ALPHA_ANSWERS, "listwise")
    assert listwise.mean_inter_item_r == pytest.approx(r)
    assert listwise.standardized == pytest.approx(3 * r / (1 + 2 * r))
    x = np.array(ALPHA_ANSWERS, dtype=float)
    pairwise_r = []
    for i, j in combinations(range(3), 2):
        both = ~np.isnan(x[:, i]) & ~np.isnan(x[:, j])
        pairwise_r.append(np.corrcoef(x[both, i], x[both, j])[0, 1])
    assert pm.cronbach_alpha(x).mean_inter_item_r == pytest.approx(np.mean(pairwise_r))


def test_alpha_can_be_negative_and_is_returned_as_is() -> None:
    # Item 2 is item 1 reversed, unreversed: variance 1 each, covariance −1, total constant.
    opposed = [[1, 3, 2], [2, 2, 3], [3, 1, 2], [1, 3, 3]]
    result = pm.cronbach_alpha(opposed)
    x = np.array(opposed, dtype=float)
    expected = 1.5 * (1 - np.var(x, axis=0, ddof=1).sum() / np.var(x.sum(axis=1), ddof=1))
    assert result.alpha == pytest.approx(expected)
    assert result.alpha < 0


@pytest.mark.parametrize(
    ("answers", "why"),
    [
        ([[1], [2], [3]], "one item"),
        ([[1, 2, 3]], "one respondent"),
        ([[2, 2], [2, 2], [2, 2]], "no variance at all"),
        ([[1, NAN], [NAN, 2], [3, NAN]], "no respondent answered both items"),
    ],
)
def test_alpha_is_nan_where_undefined(answers: list, why: str) -> None:
    result = pm.cronbach_alpha(answers)
    assert math.isnan(result.alpha), why
    assert math.isnan(result.standardized), why


def test_standardized_alpha_is_nan_when_one_item_does_not_vary() -> None:
    result = pm.cronbach_alpha([[1, 3], [2, 3], [3, 3]])
    assert result.alpha == pytest.approx(0.0)  # 2·(1 − 1/1): the raw formula is defined
    assert math.isnan(result.standardized)


def test_listwise_with_too_few_complete_rows_is_nan() -> None:
    assert math.isnan(pm.cronbach_alpha([[1, 2], [2, NAN], [NAN, 3]], "listwise").alpha)


def test_alpha_refuses_bad_input() -> None:
    with pytest.raises(ValidationFailed, match="respondents × items"):
        pm.cronbach_alpha([1, 2, 3])
    with pytest.raises(ValidationFailed, match="finite"):
        pm.cronbach_alpha([[1, np.inf], [2, 3]])
    with pytest.raises(ValidationFailed, match="pairwise"):
        pm.cronbach_alpha([[1, 2], [2, 3]], "everything")  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="numbers"):
        pm.cronbach_alpha([[1, 2], [2]])


# ---------------------------------------------------------------- McDonald's omega


def data_with_correlation(correlation: np.ndarray, n: int = 200, seed: int = 0) -> np.ndarray:
    """n rows whose sample correlation (and covariance) matrix is exactly ``correlation``."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, correlation.shape[0]))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T  # covariance I
    return 3 + z @ np.linalg.cholesky(correlation).T


def one_factor_correlation(loadings: np.ndarray) -> np.ndarray:
    correlation = np.outer(loadings, loadings)
    np.fill_diagonal(correlation, 1.0)
    return correlation


def test_omega_recovers_the_loadings_of_a_one_factor_model() -> None:
    loadings = np.array([0.8, 0.7, 0.6, 0.5, 0.4, 0.3])
    x = data_with_correlation(one_factor_correlation(loadings))
    result = pm.mcdonald_omega(x)
    np.testing.assert_allclose(result.loadings, loadings, atol=1e-7)
    np.testing.assert_allclose(result.uniquenesses, 1 - loadings**2, atol=1e-7)
    closed_form = loadings.sum() ** 2 / (loadings.sum() ** 2 + (1 - loadings**2).sum())
    assert result.omega == pytest.approx(closed_form, abs=1e-9)
    assert result.converged and not result.heywood


def test_omega_equals_alpha_for_tau_equivalent_items() -> None:
    x = data_with_correlation(one_factor_correlation(np.full(5, 0.6)), seed=3)
    omega = pm.mcdonald_omega(x).omega
    alpha = pm.cronbach_alpha(x)
    assert omega == pytest.approx(alpha.alpha, abs=1e-9)
    assert omega == pytest.approx(alpha.standardized, abs=1e-9)
    assert omega == pytest.approx(5 * 0.36 / (1 + 4 * 0.36), abs=1e-9)


def off_diagonal_residual(loadings: np.ndarray, correlation: np.ndarray) -> float:
    residual = correlation - np.outer(loadings, loadings)
    return float((residual[np.triu_indices(len(loadings), 1)] ** 2).sum())


def test_minres_reaches_the_least_squares_minimum_on_noisy_data() -> None:
    rng = np.random.default_rng(7)
    factor = rng.normal(size=(60, 1))
    x = factor * np.array([0.9, 0.7, 0.5, 0.4, 0.2]) + rng.normal(size=(60, 5))
    correlation = np.corrcoef(x, rowvar=False)
    fit = pm.minres_one_factor(correlation)
    direct = scipy.optimize.minimize(
        off_diagonal_residual, np.full(5, 0.5), args=(correlation,), method="BFGS", tol=1e-12
    )
    assert bool(fit.converged)
    assert off_diagonal_residual(fit.loadings, correlation) == pytest.approx(direct.fun, abs=1e-10)
    np.testing.assert_allclose(fit.loadings, direct.x * np.sign(direct.x.sum()), atol=1e-5)


def test_omega_marks_a_heywood_case_and_keeps_the_unique_variance_at_zero() -> None:
    # λ1² = r12·r13/r23 = 1.28 for an exact fit: minres stops at the bound λ1 = 1.
    correlation = np.array(
        [[1, 0.8, 0.8, 0.5], [0.8, 1, 0.5, 0.4], [0.8, 0.5, 1, 0.4], [0.5, 0.4, 0.4, 1]]
    )
    result = pm.mcdonald_omega(data_with_correlation(correlation))
    assert result.heywood
    assert result.loadings[0] == pytest.approx(1.0)
    assert min(result.uniquenesses) >= 0


@pytest.mark.parametrize(
    ("answers", "why"),
    [
        ([[1, 2], [2, 3], [3, 3]], "two items: a one-factor model is not identified"),
        ([[1, 2, 4], [2, 2, 3], [3, 2, 5]], "an item without variance"),
        ([[1, 2, 3]], "one respondent"),
    ],
)
def test_omega_is_nan_where_undefined(answers: list, why: str) -> None:
    result = pm.mcdonald_omega(answers)
    assert math.isnan(result.omega), why
    assert all(math.isnan(v) for v in result.loadings), why


# ---------------------------------------------------------------- rwg, rwg(j), AD


def test_rwg_by_hand() -> None:
    # 2, 3, 3, 4: s² = 2/3; σ²_EU = (25 − 1)/12 = 2 on 5 points: rwg = 1 − 1/3.
    result = pm.rwg([2, 3, 3, 4], 5)
    assert result.rwg == pytest.approx(2 / 3)
    assert (result.expected_variance, result.mean_variance) == pytest.approx((2.0, 2 / 3))
    assert not result.truncated
    # On 7 points σ²_EU = 4: rwg = 1 − (2/3)/4.
    assert pm.rwg([2, 3, 3, 4], 7).rwg == pytest.approx(1 - 1 / 6)


def test_rwg_is_truncated_to_zero_when_the_variance_exceeds_the_null() -> None:
    result = pm.rwg([1, 5, 1, 5], 5)  # s² = 16/3 > 2
    assert result.rwg == 0.0 and result.truncated
    assert result.untruncated == pytest.approx(1 - 8 / 3)


def test_rwg_j_by_hand() -> None:
    # Item variances 2/3 and 1/4: m = 11/24, m/σ² = 11/48; rwg(j) = 2·(37/48) / (2·(37/48) + 11/48).
    matrix = [[2, 3], [3, 3], [4, 3], [3, 4]]
    result = pm.rwg_j(matrix, 5)
    assert result.rwg == pytest.approx(74 / 85)
    assert result.mean_variance == pytest.approx(11 / 24)
    assert result.items == 2


def test_rwg_j_is_truncated_and_leaves_out_items_with_one_answer() -> None:
    truncated = pm.rwg_j([[1, 7], [7, 1], [1, 7], [7, 1]], 7)  # m = 12 > σ² = 4
    assert truncated.rwg == 0.0 and truncated.truncated
    assert truncated.untruncated == pytest.approx(2 * (1 - 3) / (2 * (1 - 3) + 3))
    partial = pm.rwg_j([[2, 3], [3, NAN], [4, NAN]], 5)  # item 2 answered once
    assert (partial.items, partial.rwg) == (1, pytest.approx(1 - 1 / 2))


def test_rwg_j_of_one_item_is_rwg() -> None:
    values = [1, 2, 2, 3, 5]
    assert pm.rwg_j(np.array(values)[:, None], 5).rwg == pytest.approx(pm.rwg(values, 5).rwg)


def test_agreement_is_nan_for_one_respondent() -> None:
    assert math.isnan(pm.rwg([3], 5).rwg)
    assert math.isnan(pm.rwg_j([[3, 4]], 5).rwg)
    assert math.isnan(pm.ad_index([[3, 4]], 5).ad)
    assert pm.ad_index([[3, 4]], 5).within_ceiling is None


def test_agreement_refuses_a_bad_scale_or_an_answer_off_it() -> None:
    with pytest.raises(ValidationFailed) as error:
        pm.rwg([1, 2], 1)
    assert error.value.errors[0].loc == ("scale_points",)
    with pytest.raises(ValidationFailed) as error:
        pm.rwg([1, 2, 6], 5)
    assert error.value.errors[0].loc == ("values", 2)
    with pytest.raises(ValidationFailed) as error:
        pm.rwg_j([[1, 2], [6, 3]], 5)
    assert error.value.errors[0].loc == ("matrix", 1, 0)
    assert "off the 1–5 scale" in error.value.errors[0].message
    with pytest.raises(ValidationFailed):
        pm.ad_index([[0, 2], [1, 3]], 5)


def test_ad_index_by_hand() -> None:
    # Item 1: mean 3, |deviations| 1, 0, 1, 0 → 0.5; item 2: mean 3.25 → 1.5/4 = 0.375.
    result = pm.ad_index([[2, 3], [3, 3], [4, 3], [3, 4]], 5)
    assert result.ad == pytest.approx(0.4375)
    assert result.ceiling == pytest.approx(5 / 6)
    assert result.within_ceiling is True
    assert pm.ad_index([[1, 7], [7, 1]], 7).within_ceiling is False  # AD 3 > 1.2
    assert pm.ad_index([1, 2, 3]).ad == pytest.approx(2 / 3)  # one item, no scale given
    assert pm.ad_index([1, 2, 3]).ceiling is None


# ---------------------------------------------------------------- ICC(1), ICC(2)


def test_icc_of_equal_groups_by_hand() -> None:
    # Means 2, 5, 8; MSB = 3·18/2 = 27, MSW = 6/6 = 1, k = 3.
    values, groups = [1, 2, 3, 4, 5, 6, 7, 8, 9], list("aaabbbccc")
    result = pm.nested_icc(values, groups)
    assert (result.msb, result.msw) == pytest.approx((27, 1))
    assert result.icc1 == pytest.approx(26 / 29)
    assert result.icc2 == pytest.approx(26 / 27)
    assert pm.icc1(values, groups) == result.icc1 and pm.icc2(values, groups) == result.icc2


def test_icc_of_unequal_groups_uses_the_mean_group_size() -> None:
    # Groups [1, 2], [3, 5, 7], [6]: means 1.5, 5, 6, grand mean 4.
    # SSB = 2·2.5² + 3·1² + 1·2² = 19.5 → MSB 9.75; SSW = 0.5 + 8 = 8.5 → MSW 8.5/3; k = 6/3.
    values, groups = [1, 2, 3, 5, 7, 6], ["x", "x", "y", "y", "y", "z"]
    result = pm.nested_icc(values, groups)
    assert result.mean_group_size == 2
    assert result.icc1 == pytest.approx((9.75 - 8.5 / 3) / (9.75 + 8.5 / 3))
    assert result.icc2 == pytest.approx((9.75 - 8.5 / 3) / 9.75)
    f, p = scipy.stats.f_oneway([1, 2], [3, 5, 7], [6])
    assert (result.f, result.p) == pytest.approx((f, p))


def test_icc_leaves_out_missing_values_and_can_be_negative() -> None:
    result = pm.nested_icc([1, 5, NAN, 1, 5, 2], list("aabbbb"))
    assert result.n == 5 and result.icc1 < 0  # the groups' means differ less than chance
    assert result.icc1 == pytest.approx((result.msb - result.msw) / (result.msb + 1.5 * result.msw))


@pytest.mark.parametrize(
    ("values", "groups", "why"),
    [
        ([1, 2, 3], ["a", "a", "a"], "one group"),
        ([1, 2, 3], ["a", "b", "c"], "no group has two members"),
        ([2, 2, 2, 2], ["a", "a", "b", "b"], "no variance at all"),
    ],
)
def test_icc_is_nan_where_undefined(values: list, groups: list, why: str) -> None:
    result = pm.nested_icc(values, groups)
    assert math.isnan(result.icc1) and math.isnan(result.icc2), why


def test_icc_with_equal_group_means_has_no_icc2() -> None:
    result = pm.nested_icc([1, 3, 1, 3], ["a", "a", "b", "b"])  # MSB = 0
    assert math.isnan(result.icc2)
    assert (result.f, result.p) == (0.0, 1.0)
    assert result.icc1 == pytest.approx(-1.0)  # (0 − MSW) / (0 + (2 − 1)·MSW)


def test_icc_refuses_labels_that_do_not_match_the_values() -> None:
    with pytest.raises(ValidationFailed, match="2 labels for 3 values"):
        pm.nested_icc([1, 2, 3], ["a", "b"])


def test_anova_arrays_of_a_stack_match_one_at_a_time() -> None:
    rng = np.random.default_rng(5)
    stack = rng.integers(1, 6, size=(4, 3, 6)).astype(float)
    stack[0, 2, 3:] = np.nan  # a smaller group, padded
    arrays = pm.anova_arrays(stack)
    for alliance in range(4):
        values = stack[alliance].ravel()
        groups = np.repeat(np.arange(3), 6).tolist()
        single = pm.nested_icc(values, groups)
        assert arrays.icc1[alliance] == pytest.approx(single.icc1)
        assert arrays.icc2[alliance] == pytest.approx(single.icc2)


# ---------------------------------------------------------------- perception gaps


def test_gap_by_hand() -> None:
    # a = 1, 2, 3 and b = 3, 4, 5: means 2 and 4, variances 1; se = √(2/3), df = 4.
    gap = perception_gap([[1], [2], [3]], [[3], [4], [5]]).items[0]
    assert gap.difference == pytest.approx(-2)
    assert gap.t == pytest.approx(-2 / math.sqrt(2 / 3))
    assert gap.df == pytest.approx(4)
    # J(4) = Γ(2) / (√2 · Γ(3/2)); pooled sd 1.
    assert gap.hedges_g == pytest.approx(-2 / (math.sqrt(2) * math.gamma(1.5)))
    # b beats a in 8 of 9 pairs and ties once (3 = 3): U = 8.5, r = 1 − 17/9.
    assert gap.u == pytest.approx(8.5)
    assert gap.rank_biserial == pytest.approx(-8 / 9)


def brute_force_u_of_b(a: np.ndarray, b: np.ndarray) -> float:
    return sum(1.0 if y > x else 0.5 if y == x else 0.0 for x in a for y in b)


def two_groups(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 6, size=(14, 5)).astype(float)
    b = np.clip(rng.integers(1, 6, size=(11, 5)) + rng.integers(0, 2, size=(11, 5)), 1, 5)
    a[[0, 3], [1, 4]] = np.nan
    return a, b.astype(float)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gap_matches_scipy_and_statsmodels_item_by_item(seed: int) -> None:
    a, b = two_groups(seed)
    result = perception_gap(a, b, ["t1", "t2", "t3", "t4", "t5"], delta=0.4)
    for i, gap in enumerate(result.items):
        x, y = a[~np.isnan(a[:, i]), i], b[~np.isnan(b[:, i]), i]
        welch = scipy.stats.ttest_ind(x, y, equal_var=False)
        ranks = scipy.stats.mannwhitneyu(x, y, method="asymptotic")
        tost_p, _, _ = ttost_ind(x, y, -0.4, 0.4, usevar="unequal")
        assert gap.item == f"t{i + 1}"
        assert (gap.n_a, gap.n_b) == (x.size, y.size)
        assert (gap.t, gap.df, gap.p) == pytest.approx((welch.statistic, welch.df, welch.pvalue))
        assert gap.u == brute_force_u_of_b(x, y)
        assert gap.u == pytest.approx(x.size * y.size - ranks.statistic)  # scipy's U is a's
        assert gap.p_mann_whitney == pytest.approx(ranks.pvalue)
        assert gap.tost_p == pytest.approx(tost_p)
        assert gap.equivalent == (tost_p < 0.05)
    welch_p = [gap.p for gap in result.items]
    assert [gap.p_holm for gap in result.items] == pytest.approx(
        multipletests(welch_p, method="holm")[1]
    )


def test_hedges_g_with_the_pooled_standard_deviation() -> None:
    a, b = two_groups(4)
    x, y = a[~np.isnan(a[:, 0]), 0], b[:, 0]
    pooled = math.sqrt(
        ((x.size - 1) * x.var(ddof=1) + (y.size - 1) * y.var(ddof=1)) / (x.size + y.size - 2)
    )
    df = x.size + y.size - 2
    correction = math.gamma(df / 2) / (math.sqrt(df / 2) * math.gamma((df - 1) / 2))
    gap = perception_gap(a, b).items[0]
    assert gap.hedges_g == pytest.approx(correction * (x.mean() - y.mean()) / pooled)
    assert float(hedges_correction(np.float64(df))) == pytest.approx(1 - 3 / (4 * df - 1), abs=1e-3)


def test_holm_by_hand_and_with_missing_p_values() -> None:
    # Sorted 0.01, 0.02, 0.04 with m = 3: 0.03, max(0.03, 0.04), max(0.04, 0.04).
    np.testing.assert_allclose(holm([0.04, 0.01, 0.02]), [0.04, 0.03, 0.04])
    np.testing.assert_allclose(holm([0.04, NAN, 0.01]), [0.04, NAN, 0.02])  # m = 2
    np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])


def test_tost_calls_close_groups_equivalent_and_distant_ones_not() -> None:
    rng = np.random.default_rng(9)
    base = rng.normal(3.0, 0.5, size=(200, 1))
    close = perception_gap(base, base + rng.normal(0.05, 0.05, size=(200, 1)))
    apart = perception_gap(base, base + 0.8)
    assert close.equivalent is True and close.items[0].tost_p < 0.05
    assert apart.equivalent is False


def test_gap_is_nan_where_undefined() -> None:
    one = perception_gap([[3, 1], [NAN, 2]], [[2, 2], [4, 2], [5, 2]])
    single_answer = one.items[0]  # a has one answer on item 1
    assert single_answer.n_a == 1 and math.isnan(single_answer.t)
    assert math.isnan(single_answer.rank_biserial) and single_answer.equivalent is None
    constant = perception_gap([[2], [2], [2]], [[2], [2]]).items[0]  # nobody varies
    assert math.isnan(constant.t) and math.isnan(constant.p) and math.isnan(constant.hedges_g)
    assert math.isnan(constant.p_mann_whitney)
    assert constant.rank_biserial == 0.0  # every pair tied: r is defined
    assert perception_gap([[2], [2], [2]], [[2], [2]]).equivalent is None


def test_equivalence_verdict_needs_every_item() -> None:
    rng = np.random.default_rng(11)
    a = rng.normal(3.0, 0.3, size=(300, 2))
    b = a + np.array([0.0, 1.0])  # item 2 is a whole point apart
    result = perception_gap(a, b)
    assert [gap.equivalent for gap in result.items] == [True, False]
    assert result.equivalent is False


def test_gap_refuses_bad_settings() -> None:
    with pytest.raises(ValidationFailed, match="delta"):
        perception_gap([[1], [2]], [[1], [2]], delta=0)
    with pytest.raises(ValidationFailed, match="significance"):
        perception_gap([[1], [2]], [[1], [2]], significance=1.5)
    with pytest.raises(ValidationFailed, match="items"):
        perception_gap([[1], [2]], [[1], [2]], ["a", "b"])
    with pytest.raises(ValidationFailed) as error:
        perception_gap([[1, 2], [2, 3]], [[1], [2]])
    assert error.value.errors[0].loc == ("b",)


def test_gap_arrays_of_every_pair_match_pair_by_pair() -> None:
    rng = np.random.default_rng(12)
    stack = rng.integers(1, 6, size=(2, 4, 9, 3)).astype(float)  # 2 alliances × 4 partners
    stack[1, 2, 6:] = np.nan  # a partner of six, padded
    arrays = gap_arrays(stack)
    assert arrays.t.shape == (2, 4, 4, 3)
    assert np.isnan(arrays.t[:, range(4), range(4)]).all()  # no group against itself
    for alliance in range(2):
        for p, q in [(0, 1), (2, 3), (3, 2)]:
            pair = perception_gap(stack[alliance, p], stack[alliance, q])
            for i, gap in enumerate(pair.items):
                assert arrays.t[alliance, p, q, i] == pytest.approx(gap.t, nan_ok=True)
                assert arrays.u[alliance, p, q, i] == pytest.approx(gap.u)
                assert arrays.p_holm[alliance, p, q, i] == pytest.approx(gap.p_holm, nan_ok=True)
                assert arrays.tost_p[alliance, p, q, i] == pytest.approx(gap.tost_p, nan_ok=True)
