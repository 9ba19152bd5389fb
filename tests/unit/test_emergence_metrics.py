"""The emergence figures against values worked out by hand, and the courses as tables."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from coauthor.analysis.emergence_metrics import (
    ExperimentRecord,
    PlotTwistRecord,
    TensionRecord,
    emergence_metrics,
    months_between,
    spread,
)
from coauthor.domain.emergence import (
    EXPERIMENT_STEPS,
    TENSION_STEPS,
    ExperimentState,
    TensionState,
    check_experiment_step,
    check_tension_step,
)
from coauthor.domain.errors import ValidationFailed


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


TWISTS = [
    PlotTwistRecord("p1", at(1, 10, 10), "A", at(1, 10, 16), at(1, 12, 10)),  # 6 h, 48 h
    PlotTwistRecord("p2", at(1, 20), "A", None),
    PlotTwistRecord("p3", at(3, 5, 8), "B", at(3, 5, 18)),  # 10 h
]
TENSIONS = [
    TensionRecord("t1", at(2, 1), at(2, 3), at(2, 10), resolved=True),
    TensionRecord("t2", at(2, 15), None, None, resolved=False),  # 46 days open
    TensionRecord("t3", at(3, 20), at(3, 21), None, resolved=False),  # 13 days open
    TensionRecord("t4", at(1, 1), None, at(1, 5), resolved=False),  # abandoned, never engaged
]
EXPERIMENTS = [
    ExperimentRecord("e1", started=True, ended=True, learnings=2),
    ExperimentRecord("e2", started=True, ended=True, learnings=0),
    ExperimentRecord("e3", started=True, ended=False, learnings=0),
    ExperimentRecord("e4", started=False, ended=False, learnings=0),
]


def test_the_figures_of_a_small_log() -> None:
    got = emergence_metrics(TWISTS, TENSIONS, EXPERIMENTS, ["A", "B", "C"], at(4, 2))
    assert got.plot_twists == 3
    assert got.per_month == {"2026-01": 2, "2026-02": 0, "2026-03": 1, "2026-04": 0}
    assert got.by_partner == {"A": 2, "B": 1, "C": 0}
    # -(2/3 ln 2/3 + 1/3 ln 1/3) / ln 3
    expected = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)) / math.log(3)
    assert got.partner_spread == pytest.approx(expected)
    assert got.partner_spread == pytest.approx(0.5794, abs=1e-4)
    assert (got.with_response, got.share_with_response) == (2, pytest.approx(2 / 3))
    assert got.median_hours_to_first_response == 8.0  # median of 6 and 10
    assert got.median_hours_to_resolution == 48.0
    assert (got.tensions, got.tensions_open) == (4, 2)
    assert got.tensions_open_past_limit == ["t2"]
    assert got.tensions_engaged_and_resolved == 1
    assert (got.experiments, got.experiments_run, got.experiments_ended) == (4, 3, 2)
    assert got.experiments_ended_with_learning == 1


def test_an_empty_log_has_no_rates() -> None:
    got = emergence_metrics([], [], [], ["A", "B"], at(4, 2))
    assert got.per_month == {} and got.by_partner == {"A": 0, "B": 0}
    assert got.partner_spread is None and got.share_with_response is None
    assert got.median_hours_to_first_response is None


def test_spread_runs_from_one_voice_to_all_alike() -> None:
    assert str(spread([5, 0, 0])) == "0.0"  # not -0.0
    assert spread([2, 2, 2]) == pytest.approx(1.0)
    assert spread([3]) is None
    assert spread([0, 0]) is None


def test_months_cross_the_year() -> None:
    assert months_between(datetime(2025, 11, 30, tzinfo=UTC), at(2, 1)) == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]


def test_the_courses_end_and_ending_needs_words() -> None:
    for table in (TENSION_STEPS, EXPERIMENT_STEPS):
        assert set(table) == set(next(iter(table)).__class__)
    assert TENSION_STEPS[TensionState.RESOLVED] == frozenset()
    check_tension_step(TensionState.SURFACED, TensionState.ENGAGED, "")
    with pytest.raises(ValidationFailed) as caught:
        check_tension_step(TensionState.ENGAGED, TensionState.ABANDONED, " ")
    assert caught.value.errors[0].loc == ("outcome",)
    with pytest.raises(ValidationFailed) as caught:
        check_tension_step(TensionState.SURFACED, TensionState.RESOLVED, "Agreed")
    assert caught.value.errors[0].loc == ("to",)
    check_experiment_step(ExperimentState.PLANNED, ExperimentState.RUNNING, "")
    with pytest.raises(ValidationFailed) as caught:
        check_experiment_step(ExperimentState.RUNNING, ExperimentState.CONCLUDED, "")
    assert "what the signal showed" in caught.value.detail
