"""Geometry of the pulse charts; the templates only draw what is computed here.

Three charts a sponsor reads at a glance, each with a text equivalent beside
it on the page:

- ``score_chart``: each dimension's score on the 1–7 scale, a dot per
  partner (and all partners together) with its 95% confidence interval;
- ``gap_chart``: how far two partners' perceptions lie apart on each
  dimension, as Hedges' g, solid when significant after Holm's correction;
- ``trend_chart``: one dimension across the closed waves, a line per partner.

Partners keep the colour they have everywhere else (``series``: their place
in the alliance by name); all partners together are drawn in ink
(``series`` "all"), "Other partners" in grey ("other").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from coauthor.analysis.pulse_results import (
    ALLIANCE,
    OTHER_PARTNERS,
    GroupKey,
    Measure,
    PartnerGap,
    WaveFigures,
)
from coauthor.domain.pulse import SCALE_POINTS
from coauthor.reports.charts import SERIES
from coauthor.services.pulse.results import DimensionTrend

TOP = 28
DOT_GAP = 11
ROW_PAD = 10
GAP_LIMIT = 2.0
"""Hedges' g beyond ±2 is drawn at the edge (and labelled with its value)."""


NARROW_MARGIN = 14


@dataclass(frozen=True)
class Layout:
    """Wide: labels to the left of the plot. Narrow (phones): each label above its row."""

    width: int
    label_width: int
    label_height: int
    right: int
    label_chars: int

    @property
    def plot_x(self) -> int:
        return self.label_width or NARROW_MARGIN

    @property
    def plot_width(self) -> int:
        return self.width - self.plot_x - self.right

    @property
    def label_x(self) -> int:
        return self.label_width - 12 if self.label_width else NARROW_MARGIN

    @property
    def label_anchor(self) -> str:
        return "end" if self.label_width else "start"

    def label(self, text: str) -> str:
        return text if len(text) <= self.label_chars else text[: self.label_chars - 1] + "…"


WIDE = Layout(width=700, label_width=270, label_height=0, right=44, label_chars=34)
NARROW = Layout(width=360, label_width=0, label_height=16, right=36, label_chars=50)


def series_of(partners: Sequence[str]) -> dict[str, str]:
    """Each partner's colour: its place among the alliance's partners by name."""
    ordered = sorted(partners, key=lambda name: name.lower())
    colours = {name: str(index % SERIES) for index, name in enumerate(ordered)}
    return colours | {OTHER_PARTNERS: "other"}


def _series(key: GroupKey, colours: Mapping[str, str]) -> str:
    return "all" if key == ALLIANCE else colours.get(str(key.partner), "other")


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Dot:
    label: str
    series: str
    n: int
    mean: float
    low: float
    high: float
    x: float
    low_x: float
    high_x: float
    y: float


@dataclass(frozen=True)
class ScoreRow:
    label: str
    label_y: float
    top: float
    height: float
    dots: list[Dot]


@dataclass(frozen=True)
class ScoreChart:
    width: int
    height: int
    plot_x: int
    plot_width: int
    label_x: int
    label_anchor: str
    ticks: list[Tick]
    rows: list[ScoreRow]


def _scale_x(value: float, plot_x: float, plot_width: float) -> float:
    return plot_x + (value - 1) / (SCALE_POINTS - 1) * plot_width


def _finite(value: float, fallback: float) -> float:
    return fallback if math.isnan(value) else value


def _label_y(layout: Layout, top: float, height: float) -> float:
    return top + 11 if layout.label_height else top + height / 2


def score_chart(
    figures: WaveFigures,
    measures: Sequence[Measure],
    colours: Mapping[str, str],
    layout: Layout = WIDE,
) -> ScoreChart:
    """Every measure, a dot per reported group (all partners, then partners) with its CI."""
    plot_x, plot_width = layout.plot_x, layout.plot_width
    groups = [g for g in figures.groups if g.key.level != "band"]
    rows, y = [], float(TOP)
    for measure in measures:
        shown = [g for g in groups if measure.key in g.scores]
        if not shown:
            continue
        height = layout.label_height + ROW_PAD * 2 + DOT_GAP * max(len(shown) - 1, 0)
        first_dot = y + layout.label_height + ROW_PAD
        dots = []
        for position, group in enumerate(shown):
            score = group.scores[measure.key]
            low, high = _finite(score.low, score.mean), _finite(score.high, score.mean)
            dots.append(
                Dot(
                    label=group.key.label,
                    series=_series(group.key, colours),
                    n=score.n,
                    mean=score.mean,
                    low=score.low,
                    high=score.high,
                    x=_scale_x(score.mean, plot_x, plot_width),
                    low_x=_scale_x(max(low, 1.0), plot_x, plot_width),
                    high_x=_scale_x(min(high, float(SCALE_POINTS)), plot_x, plot_width),
                    y=first_dot + position * DOT_GAP,
                )
            )
        label = layout.label(measure.label)
        rows.append(ScoreRow(label, _label_y(layout, y, height), y, height, dots))
        y += height
    ticks = [Tick(_scale_x(v, plot_x, plot_width), str(v)) for v in range(1, SCALE_POINTS + 1)]
    return ScoreChart(
        layout.width,
        int(y) + 8,
        plot_x,
        plot_width,
        layout.label_x,
        layout.label_anchor,
        ticks,
        rows,
    )


@dataclass(frozen=True)
class GapBar:
    label: str
    full_label: str
    label_y: float
    g: float
    x: float
    width: float
    y: float
    significant: bool
    equivalent: bool
    value_x: float
    anchor: str


@dataclass(frozen=True)
class GapChart:
    a: str
    b: str
    width: int
    height: int
    zero_x: float
    plot_x: int
    plot_width: int
    label_x: int
    label_anchor: str
    ticks: list[Tick]
    bars: list[GapBar]


BAR_HEIGHT, BAR_ROW = 14, 24


def gap_chart(gap: PartnerGap, labels: Mapping[str, str], layout: Layout = WIDE) -> GapChart:
    """Hedges' g of ``a`` − ``b`` per measure: right of zero when ``a`` answers higher."""
    plot_x, plot_width = layout.plot_x, layout.plot_width
    row = BAR_ROW + layout.label_height

    def x(value: float) -> float:
        clipped = max(-GAP_LIMIT, min(GAP_LIMIT, value))
        return plot_x + (clipped + GAP_LIMIT) / (2 * GAP_LIMIT) * plot_width

    zero = x(0.0)
    bars = []
    for index, measure in enumerate(gap.measures):
        g = _finite(measure.hedges_g, 0.0)
        end = x(g)
        top = TOP + index * row
        label = labels.get(measure.measure, measure.measure)
        bars.append(
            GapBar(
                label=layout.label(label),
                full_label=label,
                label_y=top + 9 if layout.label_height else top + layout.label_height + 7,
                g=measure.hedges_g,
                x=min(zero, end),
                width=abs(end - zero),
                y=top + layout.label_height,
                significant=bool(measure.significant),
                equivalent=bool(measure.equivalent),
                value_x=end + (6 if g >= 0 else -6),
                anchor="start" if g >= 0 else "end",
            )
        )
    ticks = [Tick(x(v), f"{v:+g}" if v else "0") for v in (-2, -1, 0, 1, 2)]
    height = TOP + len(bars) * row + 6
    return GapChart(
        gap.a,
        gap.b,
        layout.width,
        height,
        zero,
        plot_x,
        plot_width,
        layout.label_x,
        layout.label_anchor,
        ticks,
        bars,
    )


@dataclass(frozen=True)
class TrendPointView:
    x: float
    y: float
    top_y: float
    """Where the upper end of the confidence interval is drawn."""
    bottom_y: float
    mean: float
    n: int
    wave: str


@dataclass(frozen=True)
class TrendLine:
    label: str
    series: str
    path: str
    points: list[TrendPointView]


@dataclass(frozen=True)
class TrendChart:
    label: str
    width: int
    height: int
    plot_x: int
    plot_y: int
    plot_width: int
    plot_height: int
    y_ticks: list[tuple[float, str]]
    x_ticks: list[Tick]
    lines: list[TrendLine]


TREND_WIDTH, TREND_HEIGHT = 320, 190
TREND_LEFT, TREND_TOP, TREND_BOTTOM, TREND_RIGHT = 30, 12, 36, 14


def trend_chart(
    trend: DimensionTrend,
    wave_ids: Sequence[str],
    ticks: Mapping[str, str],
    colours: Mapping[str, str],
) -> TrendChart:
    """One dimension over the closed waves (evenly spaced); a missing wave breaks a line.

    ``ticks`` labels each wave on the axis (a short date); points name their wave's title.
    """
    plot_w = TREND_WIDTH - TREND_LEFT - TREND_RIGHT
    plot_h = TREND_HEIGHT - TREND_TOP - TREND_BOTTOM
    step = plot_w / max(len(wave_ids) - 1, 1)
    column = {wave_id: i for i, wave_id in enumerate(wave_ids)}

    def y(value: float) -> float:
        return TREND_TOP + (SCALE_POINTS - value) / (SCALE_POINTS - 1) * plot_h

    lines = []
    for series in trend.series:
        points = [
            TrendPointView(
                x=TREND_LEFT + column[p.wave.id] * step,
                y=y(p.mean),
                top_y=y(min(_finite(p.high, p.mean), SCALE_POINTS)),
                bottom_y=y(max(_finite(p.low, p.mean), 1.0)),
                mean=p.mean,
                n=p.n,
                wave=p.wave.title,
            )
            for p in series.points
            if p.wave.id in column
        ]
        lines.append(
            TrendLine(
                series.group.label,
                _series(series.group, colours),
                _path(points, [column[p.wave.id] for p in series.points if p.wave.id in column]),
                points,
            )
        )
    y_ticks = [(y(v), str(v)) for v in (1, 4, 7)]
    x_ticks = [Tick(TREND_LEFT + i * step, ticks.get(w, w)) for i, w in enumerate(wave_ids)]
    return TrendChart(
        trend.label,
        TREND_WIDTH,
        TREND_HEIGHT,
        TREND_LEFT,
        TREND_TOP,
        plot_w,
        plot_h,
        y_ticks,
        x_ticks,
        lines,
    )


def _path(points: Sequence[TrendPointView], columns: Sequence[int]) -> str:
    """An SVG path through the points, lifted where a wave between them is missing."""
    parts = []
    for index, point in enumerate(points):
        joined = index > 0 and columns[index] == columns[index - 1] + 1
        parts.append(f"{'L' if joined else 'M'}{point.x:.1f},{point.y:.1f}")
    return " ".join(parts)
