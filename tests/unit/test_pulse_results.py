"""A wave's figures: hand-worked scores and gaps, and the anonymity rules applied per measure."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from coauthor.analysis.psychometrics_gap import hedges_correction
from coauthor.analysis.pulse_results import (
    ALLIANCE,
    OTHER_PARTNERS,
    GroupKey,
    Measure,
    Respondent,
    mean_interval,
    respondent_scores,
    wave_figures,
)

K = 5
NAN = float("nan")
TWO_ITEMS = [Measure("trust", "Trust", (0, 1))]


def people(partner: str, rows: list[tuple[float, ...]], band: str | None = "team") -> list:
    return [Respondent(partner, band, row) for row in rows]


def test_a_score_is_the_mean_of_the_answered_items_and_its_interval_uses_student_t() -> None:
    matrix = np.array([[5, 6, 1], [NAN, 4, 7], [NAN, NAN, 2]], dtype=float)
    scores = respondent_scores(matrix, [Measure("a", "A", (0, 1)), Measure("b", "B", (2,))])
    assert scores[:, 0].tolist()[:2] == [5.5, 4.0] and math.isnan(scores[2, 0])
    assert scores[:, 1].tolist() == [1.0, 7.0, 2.0]
    mean, low, high = mean_interval(np.array([5.0, 6.0, 4.0, 5.0, 5.0]))
    # sd = √0.5, t(.975, 4) = 2.776445: half-width 2.776445 · 0.707107 / √5 = 0.877989
    assert mean == 5.0
    assert low == pytest.approx(4.122011, abs=1e-6) and high == pytest.approx(5.877989, abs=1e-6)
    assert math.isnan(mean_interval(np.array([3.0]))[1])


def test_two_partners_hand_worked() -> None:
    a = people("Alpha", [(5, 5), (6, 6), (4, 4), (5, 5), (5, 5)])
    b = people("Beta", [(3, 3)] * 4 + [(3, 4)])
    figures = wave_figures(a + b, TWO_ITEMS, 7, K)
    assert [g.key.label for g in figures.groups] == ["All partners", "Alpha", "Beta"]
    alpha = figures.group(GroupKey("Alpha")).scores["trust"]
    beta = figures.group(GroupKey("Beta")).scores["trust"]
    everyone = figures.group(ALLIANCE).scores["trust"]
    assert (alpha.n, alpha.mean, beta.mean, everyone.mean) == (5, 5.0, 3.1, 4.05)
    assert alpha.sd == pytest.approx(math.sqrt(0.5))
    # rwg(j) of Beta: item variances 0 and 0.2, m = 0.1, σ²_EU = 4; J = 2:
    # 2(1 − .025) / (2(1 − .025) + .025) = 1.95 / 1.975
    assert beta.rwg == pytest.approx(1.95 / 1.975)
    # AD of Beta: item 1 all 3 (0); item 2 mean 3.2, |dev| = .2·4 + .8 = 1.6 / 5 = .32; mean .16
    assert beta.ad == pytest.approx(0.16) and beta.ad_within_ceiling
    [gap] = figures.gaps
    [trust] = gap.measures
    assert (gap.a, gap.b) == ("Alpha", "Beta")
    assert trust.difference == pytest.approx(1.9)
    welch = stats.ttest_ind([5, 6, 4, 5, 5], [3, 3, 3, 3, 3.5], equal_var=False)
    assert trust.t == pytest.approx(welch.statistic) and trust.p == pytest.approx(welch.pvalue)
    pooled = math.sqrt((4 * 0.5 + 4 * 0.05) / 8)
    assert trust.hedges_g == pytest.approx(hedges_correction(np.float64(8)) * 1.9 / pooled)
    assert trust.significant is True and trust.equivalent is False


def on_scale(value: float) -> float:
    return float(min(7, max(1, round(value))))


def test_reliability_over_everyone_reported_and_icc_by_partner() -> None:
    rng = random.Random(3)
    rows = []
    for partner, shift in (("Alpha", 0.0), ("Beta", 2.0)):
        for _ in range(8):
            base = 4 + shift + rng.gauss(0, 0.7)
            answers = tuple(on_scale(base + rng.gauss(0, 0.4)) for _ in range(3))
            rows.append(Respondent(partner, None, answers))
    measures = [Measure("d", "D", (0, 1, 2))]
    [reliability] = wave_figures(rows, measures, 7, K).reliability
    assert reliability.n == 16 and reliability.items == 3
    assert 0.7 < reliability.alpha <= 1 and 0.7 < reliability.omega <= 1
    assert reliability.icc1 > 0.5


def test_a_small_partner_is_left_out_of_every_figure() -> None:
    a = people("Alpha", [(5, 5)] * 6)
    b = people("Beta", [(3, 3)] * 6)
    c = people("Gamma", [(7, 7)] * 2)
    figures = wave_figures(a + b + c, TWO_ITEMS, 7, K)
    assert [g.key for g in figures.groups] == [ALLIANCE, GroupKey("Alpha"), GroupKey("Beta")]
    assert figures.group(ALLIANCE).n == 12
    assert figures.group(ALLIANCE).scores["trust"].mean == 4.0  # Gamma's sevens count nowhere
    assert not figures.merged


def test_small_partners_are_merged_when_together_they_are_enough() -> None:
    rows = people("Alpha", [(5, 5)] * 6) + people("Gamma", [(7, 7)] * 3)
    rows += people("Delta", [(1, 1)] * 3)
    figures = wave_figures(rows, TWO_ITEMS, 7, K)
    other = figures.group(GroupKey(OTHER_PARTNERS))
    assert other is not None and other.n == 6 and other.scores["trust"].mean == 4.0
    assert figures.merged and [(g.a, g.b) for g in figures.gaps] == [("Alpha", OTHER_PARTNERS)]


def test_role_bands_show_only_when_neither_they_nor_the_rest_of_the_partner_is_small() -> None:
    both = people("Alpha", [(5, 5)] * 5, "leadership") + people("Alpha", [(3, 3)] * 7, "team")
    few_leaders = people("Beta", [(6, 6)] * 2, "leadership") + people("Beta", [(2, 2)] * 10)
    only_team = people("Gamma", [(4, 4)] * 6, "team")
    figures = wave_figures(both + few_leaders + only_team, TWO_ITEMS, 7, K)
    keys = [g.key for g in figures.groups]
    assert GroupKey("Alpha", "leadership") in keys and GroupKey("Alpha", "team") in keys
    assert not any(k.partner == "Beta" and k.band for k in keys)  # team = Beta less 2 leaders
    assert GroupKey("Gamma", "team") not in keys  # the same people as Gamma: says nothing new


def test_a_measure_some_skipped_is_reported_only_for_groups_large_enough_on_it() -> None:
    measures = [Measure("first", "First", (0,)), Measure("second", "Second", (1,))]
    alpha = people("Alpha", [(5, 5)] * 3 + [(5, NAN)] * 3)
    beta = people("Beta", [(3, 3)] * 6)
    figures = wave_figures(alpha + beta, measures, 7, K)
    assert set(figures.group(GroupKey("Alpha")).scores) == {"first"}
    # The alliance on "second" would be Beta plus three of Alpha: Beta is kept first by size,
    # and the alliance less Beta would be three people, so one of them gives way.
    everyone, beta_scores = figures.group(ALLIANCE).scores, figures.group(GroupKey("Beta")).scores
    assert ("second" in everyone) != ("second" in beta_scores)
    assert [m.measure for gap in figures.gaps for m in gap.measures] == ["first"]


def test_too_few_answers_report_nothing_at_all() -> None:
    figures = wave_figures(people("Alpha", [(5, 5)] * 4), TWO_ITEMS, 7, K)
    assert not figures.reported and figures.groups == () and figures.gaps == ()


def test_no_answers_report_nothing() -> None:
    assert wave_figures([], TWO_ITEMS, 7, K).groups == ()


answer = st.one_of(st.integers(1, 7).map(float), st.just(NAN))
respondent = st.builds(
    Respondent,
    st.sampled_from(["Alpha", "Beta", "Gamma", "Delta"]),
    st.sampled_from(["leadership", "team", None]),
    st.tuples(answer, answer, answer, answer),
)
MEASURES = [Measure("d", "D", (0, 1, 2)), Measure("own", "Own", (3,))]


@settings(max_examples=40, deadline=None)
@given(st.lists(respondent, max_size=40), st.randoms(use_true_random=False))
def test_figures_do_not_depend_on_the_order_of_the_answers(
    rows: list[Respondent], shuffle: random.Random
) -> None:
    shuffled = list(rows)
    shuffle.shuffle(shuffled)
    assert repr(wave_figures(rows, MEASURES, 7, K)) == repr(wave_figures(shuffled, MEASURES, 7, K))


@settings(max_examples=60, deadline=None)
@given(st.lists(respondent, max_size=50), st.integers(3, 10))
def test_no_subtraction_of_reported_counts_isolates_fewer_than_the_threshold(
    rows: list[Respondent], threshold: int
) -> None:
    """Per measure: every group has ≥ threshold people, and the alliance less its partners,
    and a partner less its bands, leave nobody or at least the threshold."""
    figures = wave_figures(rows, MEASURES, 7, threshold)
    for measure in ("d", "own"):
        n = {g.key: g.scores[measure].n for g in figures.groups if measure in g.scores}
        assert all(count >= threshold for count in n.values())
        for outer in [k for k in n if k.level != "band"]:
            inner = [
                k
                for k in n
                if (outer == ALLIANCE and k.level == "partner")
                or (k.level == "band" and k.partner == outer.partner and outer != ALLIANCE)
            ]
            if inner:
                rest = n[outer] - sum(n[k] for k in inner)
                assert rest == 0 or rest >= threshold, (outer, n)
