"""Pulse links, the CSV formats, chart geometry and the words the results page uses."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from coauthor.analysis.pulse_results import GroupKey, Measure, Respondent, wave_figures
from coauthor.domain.errors import ValidationFailed
from coauthor.domain.pulse import Dimension, RoleBand, Wave, WaveInvitation, WaveItem, WaveSource
from coauthor.interop.pulse_csv import read_table, results_csv
from coauthor.reports.pulse_charts import NARROW, WIDE, gap_chart, score_chart, series_of
from coauthor.reports.pulse_report import agreement_band, closing, p_value, statistic, wave_report
from coauthor.services.pulse.access import Thresholds
from coauthor.services.pulse.links import read_token, token_for
from coauthor.services.pulse.results import WaveResults, measures_of
from coauthor.services.pulse.waves import PartnerRate, ResponseRates

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def invitation(invitation_id: str = "pi_one") -> WaveInvitation:
    return WaveInvitation("al_x", "pw_y", invitation_id, "pe_z", "pa_w", RoleBand.TEAM)


def test_a_link_names_its_invitation_and_only_the_key_that_signed_it_reads_it() -> None:
    token = token_for("secret", invitation())
    key = read_token("secret", token)
    assert key is not None and (key.alliance_id, key.wave_id, key.invitation_id) == (
        "al_x",
        "pw_y",
        "pi_one",
    )
    assert token == token_for("secret", invitation()), "the same invitation gives the same link"
    assert token != token_for("secret", invitation("pi_two"))
    assert read_token("another secret", token) is None
    assert read_token("secret", token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]) is None
    assert read_token("secret", "not-a-token") is None


def test_a_survey_table_keeps_lines_and_skips_blank_rows() -> None:
    table = read_table('\ufeffid, partner ,to1\r\n1,North,5\r\n\r\n,,\r\n2,"South, Inc.",7\r\n')
    assert table.header == ["id", "partner", "to1"]
    assert table.rows == [(2, ["1", "North", "5"]), (5, ["2", "South, Inc.", "7"])]


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ("", ("csv", 1), "no header row"),
        ("a,,b\n1,2,3\n", ("csv", 1), "column 2 has no name"),
        ("a,b,a\n1,2,3\n", ("csv", 1, "a"), "more than once"),
        ('a,b\n1,"2\n', ("csv", 2), "unreadable CSV"),
    ],
)
def test_a_table_that_cannot_be_read_says_where(text: str, where: tuple, reason: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        read_table(text)
    [error] = caught.value.errors
    assert error.loc == where and reason in error.message


def items(*keys: str) -> list[WaveItem]:
    return [
        WaveItem("al", "pw", key, i, Dimension.TRUST_ORGANIZATION, key, False)
        for i, key in enumerate(keys)
    ]


def closed_results(rows: list[Respondent]) -> WaveResults:
    asked = items("to1", "to2")
    wave = Wave("al", "pw", "Spring", "cc-pulse/1", WaveSource.LINKS, NOON, NOON)
    measures = measures_of(asked)
    figures = wave_figures(rows, measures, 7, 5)
    return WaveResults(wave, asked, measures, figures, [], False, Thresholds(5, 10))


TWO_PARTNERS = [
    Respondent("Alpha", None, answers) for answers in ((5, 5), (6, 6), (4, 4), (5, 5), (5, 5))
] + [Respondent("Beta", None, answers) for answers in ((3, 4), (3, 3), (4, 4), (3, 4), (4, 3))]


def test_the_csv_export_holds_the_reported_figures_and_no_answer() -> None:
    rates = ResponseRates(
        [PartnerRate("pa_a", "Alpha", 6, 5), PartnerRate("pa_b", "Beta", 9, None)], 15, None, 5
    )
    text = results_csv(closed_results(TWO_PARTNERS), rates)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert set(rows[0]) == {
        "wave", "section", "group", "compared_with", "measure", "measure_label", "statistic",
        "value",
    }  # fmt: skip
    answered = {(r["group"], r["value"]) for r in rows if r["statistic"] == "answered"}
    assert answered == {("Alpha", "5"), ("Beta", ""), ("All partners", "")}
    means = {
        r["group"]: r["value"] for r in rows if r["section"] == "score" and r["statistic"] == "mean"
    }
    assert means == {"All partners": "4.25", "Alpha": "5", "Beta": "3.5"}
    gap = [r for r in rows if r["section"] == "gap" and r["statistic"] == "difference"]
    assert [(r["group"], r["compared_with"], r["value"]) for r in gap] == [("Alpha", "Beta", "1.5")]
    assert {r["section"] for r in rows} == {"responses", "score", "reliability", "gap"}


def test_the_score_chart_places_means_and_intervals_on_the_one_to_seven_axis() -> None:
    figures = closed_results(TWO_PARTNERS).figures
    assert figures is not None
    chart = score_chart(
        figures, [Measure("trust_organization", "Trust", (0, 1))], series_of(["Alpha", "Beta"])
    )
    plot = WIDE.width - WIDE.label_width - WIDE.right
    [row] = chart.rows
    alpha = next(dot for dot in row.dots if dot.label == "Alpha")

    def x(value: float) -> float:
        return WIDE.label_width + (value - 1) / 6 * plot

    # Alpha: mean 5, 95% interval 5 ± 0.877989 (sd √0.5, t(.975, 4) = 2.776445)
    assert alpha.x == pytest.approx(x(5))
    assert alpha.low_x == pytest.approx(x(4.122011)) and alpha.high_x == pytest.approx(x(5.877989))
    assert [dot.series for dot in row.dots] == ["all", "0", "1"]
    assert [tick.label for tick in chart.ticks] == ["1", "2", "3", "4", "5", "6", "7"]


def test_the_gap_chart_puts_a_higher_first_partner_right_of_zero() -> None:
    figures = closed_results(TWO_PARTNERS).figures
    assert figures is not None
    [gap] = figures.gaps
    for layout in (WIDE, NARROW):
        chart = gap_chart(gap, {"trust_organization": "Trust"}, layout)
        [bar] = chart.bars
        assert bar.x == pytest.approx(chart.zero_x) and bar.width > 0 and bar.anchor == "start"


def test_words_for_figures() -> None:
    assert statistic(-0.456) == "−0.46" and statistic(float("nan")) == "—"
    assert p_value(0.0004) == "< .001" and p_value(0.0312) == ".031"
    assert [agreement_band(x) for x in (0.2, 0.45, 0.6, 0.8, 0.95)] == [
        "none", "weak", "moderate", "strong", "very strong",
    ]  # fmt: skip
    assert closing(datetime(2026, 3, 6, tzinfo=UTC)) == "at the end of 5 Mar 2026"
    assert closing(NOON) == "2 Mar 2026, 12:00 UTC"


def test_the_report_reads_a_significant_gap_and_names_who_sees_it_higher() -> None:
    report = wave_report(closed_results(TWO_PARTNERS), ["Alpha", "Beta"])
    [view] = report.gaps
    [verdict] = view.verdicts
    assert verdict.tone == "differ" and verdict.words == "large gap · Alpha higher"
    assert view.summary == "Alpha and Beta see trust in the partner organizations differently."
    assert [c.label for c in report.columns] == ["All partners", "Alpha", "Beta"]


def test_nothing_is_drawn_for_a_wave_that_reported_nothing() -> None:
    report = wave_report(closed_results(TWO_PARTNERS[:4]), ["Alpha"])
    assert report.columns == [] and report.chart is None and report.gaps == []
    assert GroupKey().label == "All partners"
