"""A wave's results as a sponsor reads them: tables, charts and plain-language verdicts.

Built from the service's ``WaveResults`` — the figures the anonymity rules
let through — and nothing else, so a page cannot show more than the API.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from coauthor.analysis.psychometrics_gap import DEFAULT_EQUIVALENCE_DELTA
from coauthor.analysis.pulse_results import (
    ALLIANCE,
    GroupFigures,
    GroupKey,
    MeasureGap,
    PartnerGap,
    Score,
)
from coauthor.domain.pulse import Dimension, Wave
from coauthor.reports.formatting import format_date, format_datetime
from coauthor.reports.pulse_charts import (
    NARROW,
    GapChart,
    ScoreChart,
    TrendChart,
    gap_chart,
    score_chart,
    series_of,
    trend_chart,
)
from coauthor.services.pulse.results import Trend, WaveResults

AGREEMENT_BANDS = ((0.30, "none"), (0.50, "weak"), (0.70, "moderate"), (0.90, "strong"))
"""rwg bands of LeBreton & Senter (2008): up to .30 none, … above .90 very strong."""


def statistic(value: float | None, digits: int = 2) -> str:
    """A figure for reading: fixed decimals, a true minus sign, — where undefined."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}".replace("-", "−")


def p_value(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    return "< .001" if value < 0.001 else f"{value:.3f}".lstrip("0")


def agreement_band(rwg: float) -> str:
    if math.isnan(rwg):
        return "—"
    return next((name for limit, name in AGREEMENT_BANDS if rwg <= limit), "very strong")


@dataclass(frozen=True)
class Cell:
    score: Score | None


@dataclass(frozen=True)
class MeasureRow:
    key: str
    label: str
    is_dimension: bool
    cells: list[Cell]


@dataclass(frozen=True)
class Column:
    key: GroupKey
    label: str
    n: int
    series: str


@dataclass(frozen=True)
class GapVerdict:
    measure: str
    label: str
    gap: MeasureGap
    words: str
    tone: str
    """"differ", "agree" or "unclear" (a CSS hook)."""


@dataclass(frozen=True)
class GapView:
    gap: PartnerGap
    chart: GapChart
    narrow_chart: GapChart
    verdicts: list[GapVerdict]
    summary: str


@dataclass(frozen=True)
class WaveReport:
    results: WaveResults
    columns: list[Column]
    rows: list[MeasureRow]
    band_columns: list[Column]
    band_rows: list[MeasureRow]
    chart: ScoreChart | None
    narrow_chart: ScoreChart | None
    gaps: list[GapView]
    labels: dict[str, str]
    delta: float = DEFAULT_EQUIVALENCE_DELTA

    @property
    def partner_columns(self) -> list[Column]:
        return [c for c in self.columns if c.key != ALLIANCE]


def _verdict(gap: PartnerGap, measure: MeasureGap, label: str) -> GapVerdict:
    """The reading of one comparison in a few words: a gap, agreement, or neither."""
    if measure.significant:
        higher = gap.a if measure.difference > 0 else gap.b
        size = abs(measure.hedges_g)
        strength = "large" if size >= 0.8 else "medium" if size >= 0.5 else "small"
        words = f"{strength} gap · {higher} higher"
        return GapVerdict(measure.measure, label, measure, words, "differ")
    if measure.equivalent:
        words = f"they agree (within ±{DEFAULT_EQUIVALENCE_DELTA:g})"
        return GapVerdict(measure.measure, label, measure, words, "agree")
    return GapVerdict(measure.measure, label, measure, "no clear gap", "unclear")


def _summary(gap: PartnerGap, verdicts: Sequence[GapVerdict]) -> str:
    dimensions = {d.value for d in Dimension}
    differ = [v.label.lower() for v in verdicts if v.tone == "differ" and v.measure in dimensions]
    own = sum(1 for v in verdicts if v.tone == "differ" and v.measure not in dimensions)
    if own:
        differ.append("your own question" if own == 1 else f"{own} of your own questions")
    if differ:
        listed = differ[0] if len(differ) == 1 else f"{', '.join(differ[:-1])} and {differ[-1]}"
        return f"{gap.a} and {gap.b} see {listed} differently."
    if gap.equivalent:
        return f"{gap.a} and {gap.b} see every dimension alike."
    return f"No clear gap between {gap.a} and {gap.b}."


def _columns(groups: Sequence[GroupFigures], colours: dict[str, str]) -> list[Column]:
    return [
        Column(
            g.key,
            g.key.label,
            g.n,
            "all" if g.key == ALLIANCE else colours.get(str(g.key.partner), "other"),
        )
        for g in groups
    ]


def _rows(results: WaveResults, groups: Sequence[GroupFigures]) -> list[MeasureRow]:
    dimensions = {d.value for d in Dimension}
    return [
        MeasureRow(
            m.key,
            m.label,
            m.key in dimensions,
            [Cell(g.scores.get(m.key)) for g in groups],
        )
        for m in results.measures
    ]


def wave_report(results: WaveResults, partners: Sequence[str]) -> WaveReport:
    """``partners`` are every partner's name in the alliance (for their colours)."""
    colours = series_of(partners)
    labels = {m.key: m.label for m in results.measures}
    figures = results.figures
    if figures is None or not figures.reported:
        return WaveReport(results, [], [], [], [], None, None, [], labels)
    main = [g for g in figures.groups if g.key.level != "band"]
    bands = [g for g in figures.groups if g.key.level == "band"]
    gaps = []
    for gap in figures.gaps:
        verdicts = [_verdict(gap, m, labels[m.measure]) for m in gap.measures]
        charts = gap_chart(gap, labels), gap_chart(gap, labels, NARROW)
        gaps.append(GapView(gap, *charts, verdicts, _summary(gap, verdicts)))
    dimension_measures = [m for m in results.measures if m.key in {d.value for d in Dimension}]
    return WaveReport(
        results=results,
        columns=_columns(main, colours),
        rows=_rows(results, main),
        band_columns=_columns(bands, colours),
        band_rows=_rows(results, bands) if bands else [],
        chart=score_chart(figures, dimension_measures, colours),
        narrow_chart=score_chart(figures, dimension_measures, colours, NARROW),
        gaps=gaps,
        labels=labels,
    )


@dataclass(frozen=True)
class TrendReport:
    charts: list[TrendChart]
    waves: list[Wave]
    legend: list[tuple[str, str]]
    """(label, series) of every line drawn."""


def trend_report(trend: Trend, partners: Sequence[str]) -> TrendReport:
    """A small chart per dimension, over the closed waves that report anything."""
    colours = series_of(partners)
    reporting = {p.wave.id for d in trend.dimensions for s in d.series for p in s.points}
    shown = [w for w in trend.waves if w.id in reporting]
    ids = [w.id for w in shown]
    ticks = {w.id: w.opened_at.strftime("%b %Y") for w in shown}
    charts = [trend_chart(d, ids, ticks, colours) for d in trend.dimensions if d.series]
    legend = {line.label: line.series for chart in charts for line in chart.lines}
    return TrendReport(charts, shown, list(legend.items()))


def closing(moment: datetime) -> str:
    """When a wave closes, as read: "the end of 5 Dec 2026" when it runs to the end of a day."""
    if moment.timetz().replace(tzinfo=None) == time(0):
        return f"at the end of {format_date((moment - timedelta(days=1)).date())}"
    return format_datetime(moment)
