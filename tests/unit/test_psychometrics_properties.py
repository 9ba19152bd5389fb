"""Properties of the pulse statistics, checked on generated surveys (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coauthor.analysis import psychometrics as pm
from coauthor.analysis.psychometrics_gap import perception_gap

# No example database: unit tests write no files.
FAST = settings(max_examples=40, deadline=None, database=None)


@st.composite
def surveys(draw: st.DrawFn, min_items: int = 1, max_items: int = 6) -> dict:
    """Answers on a 2..9-point scale, some of them missing."""
    scale = draw(st.integers(2, 9))
    n = draw(st.integers(2, 30))
    k = draw(st.integers(min_items, max_items))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    answers = rng.integers(1, scale + 1, size=(n, k)).astype(float)
    answers[rng.random((n, k)) < draw(st.floats(0.0, 0.3))] = np.nan
    return {"answers": answers, "scale": scale}


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@FAST
@given(
    st.lists(st.integers(-500, 500), min_size=2, max_size=30, unique=True),
    st.integers(2, 8),
    st.sampled_from(["pairwise", "listwise"]),
)
def test_alpha_of_identical_items_is_one(values: list[int], k: int, missing: str) -> None:
    column = np.array(values)[:, None] / 10  # answers to a tenth of a point
    result = pm.cronbach_alpha(np.repeat(column, k, axis=1), missing)  # type: ignore[arg-type]
    assert result.alpha == pytest.approx(1.0)
    assert result.standardized == pytest.approx(1.0)


@FAST
@given(st.integers(1, 9), st.integers(2, 40), st.integers(1, 6), st.integers(9, 10))
def test_perfect_agreement_is_one(answer: int, n: int, k: int, scale: int) -> None:
    matrix = np.full((n, k), float(answer))
    assert pm.rwg(matrix[:, 0], scale).rwg == 1.0
    assert pm.rwg_j(matrix, scale).rwg == 1.0
    assert pm.ad_index(matrix, scale).ad == 0.0


@settings(max_examples=10, deadline=None, database=None)
@given(st.integers(2, 9), st.integers(2, 12), st.integers(0, 2**32 - 1))
def test_rwg_under_the_uniform_null_is_zero_on_average(scale: int, n: int, seed: int) -> None:
    """Answers drawn uniformly: E[s²] = σ²_EU, so the untruncated rwg averages 0.

    (The truncated rwg cannot average 0: it is never negative.)
    """
    rng = np.random.default_rng(seed)
    groups = rng.integers(1, scale + 1, size=(4000, n, 1)).astype(float)
    untruncated = pm.rwg_j_arrays(groups, scale).untruncated
    standard_error = untruncated.std(ddof=1) / math.sqrt(untruncated.size)
    assert abs(untruncated.mean()) < 4.5 * standard_error


@FAST
@given(surveys(min_items=1), st.integers(0, 100))
def test_gaps_are_antisymmetric(survey: dict, split: int) -> None:
    answers = survey["answers"]
    cut = 1 + split % (answers.shape[0] - 1)  # both groups have someone
    a, b = answers[:cut], answers[cut:]
    forward, backward = perception_gap(a, b), perception_gap(b, a)
    for ab, ba in zip(forward.items, backward.items, strict=True):
        for name in ("t", "hedges_g", "rank_biserial", "difference"):
            assert same(getattr(ab, name), -getattr(ba, name)), name
        for name in ("p", "p_holm", "p_mann_whitney", "p_mann_whitney_holm", "tost_p", "df"):
            assert same(getattr(ab, name), getattr(ba, name)), name
        assert same(ab.u, ab.n_a * ab.n_b - ba.u)
        assert ab.equivalent == ba.equivalent
    assert forward.equivalent == backward.equivalent


def shuffled(rows: np.ndarray, seed: int) -> np.ndarray:
    return rows[np.random.default_rng(seed).permutation(rows.shape[0])]


@FAST
@given(surveys(min_items=3), st.integers(0, 2**32 - 1))
def test_reliability_and_agreement_do_not_depend_on_row_order(survey: dict, seed: int) -> None:
    x, scale = survey["answers"], survey["scale"]
    y = shuffled(x, seed)
    for missing in ("pairwise", "listwise"):
        before, after = pm.cronbach_alpha(x, missing), pm.cronbach_alpha(y, missing)  # type: ignore[arg-type]
        assert same(before.alpha, after.alpha) and same(before.standardized, after.standardized)
    omega_before, omega_after = pm.mcdonald_omega(x), pm.mcdonald_omega(y)
    assert math.isclose(omega_before.omega, omega_after.omega, abs_tol=1e-6) or (
        math.isnan(omega_before.omega) and math.isnan(omega_after.omega)
    )
    assert same(pm.rwg_j(x, scale).rwg, pm.rwg_j(y, scale).rwg)
    assert same(pm.ad_index(x, scale).ad, pm.ad_index(y, scale).ad)


@FAST
@given(surveys(min_items=1, max_items=1), st.integers(2, 5), st.integers(0, 2**32 - 1))
def test_icc_does_not_depend_on_row_order(survey: dict, groups: int, seed: int) -> None:
    values = survey["answers"][:, 0]
    labels = [f"g{i % groups}" for i in range(values.size)]
    order = np.random.default_rng(seed).permutation(values.size)
    before = pm.nested_icc(values, labels)
    after = pm.nested_icc(values[order], [labels[i] for i in order])
    assert same(before.icc1, after.icc1) and same(before.icc2, after.icc2)


@FAST
@given(surveys(min_items=1), st.integers(0, 2**32 - 1))
def test_gaps_do_not_depend_on_row_order(survey: dict, seed: int) -> None:
    answers = survey["answers"]
    half = max(1, answers.shape[0] // 2)
    a, b = answers[:half], answers[half:]
    before = perception_gap(a, b)
    after = perception_gap(shuffled(a, seed), shuffled(b, seed + 1))
    for x, y in zip(before.items, after.items, strict=True):
        for name in ("t", "p", "p_holm", "hedges_g", "u", "p_mann_whitney", "tost_p"):
            assert same(getattr(x, name), getattr(y, name)), name
