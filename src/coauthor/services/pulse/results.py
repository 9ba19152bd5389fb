"""A wave's results and the trend across waves, with the anonymity rules applied here.

A running wave shows no results at all, only response rates: results are
computed once, when the wave has closed and takes no more answers, so no one
can compare the results before and after someone answers. (Releases while a
wave runs would need every reported group — each partner and role band — to
change by at least the threshold between two releases; closing first is
simpler and leaves nothing to compare.) Every figure then comes from
:func:`coauthor.analysis.pulse_results.wave_figures`, which shows no group
under the threshold and no two groups that subtraction could tell apart.
Open comments are shown only when the wave has at least the comment
threshold of answers, all together, sorted by their text.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from threading import Lock

import sqlalchemy as sa

from coauthor.analysis.pulse_results import (
    ALLIANCE,
    GroupKey,
    Measure,
    Respondent,
    WaveFigures,
    wave_figures,
)
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.pulse import (
    DIMENSION_LABELS,
    SCALE_POINTS,
    Comment,
    Dimension,
    Response,
    RoleBand,
    Wave,
    WaveItem,
)
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.services.pulse.access import Thresholds, open_wave, partner_names, wave_items

BAND_LABELS = {RoleBand.LEADERSHIP: "leadership", RoleBand.TEAM: "team"}


def measures_of(items: Sequence[WaveItem]) -> list[Measure]:
    """The wave's dimensions (in the instrument's order), then each own item alone."""
    measures = []
    for dimension in Dimension:
        columns = tuple(i for i, item in enumerate(items) if item.dimension == dimension)
        if columns:
            measures.append(Measure(dimension.value, DIMENSION_LABELS[dimension], columns))
    for i, item in enumerate(items):
        if item.dimension is None:
            measures.append(Measure(item.key, item.text, (i,)))
    return measures


def scored(answers: dict[str, int], items: Sequence[WaveItem]) -> tuple[float, ...]:
    """A response's answers in the wave's item order, reverse-keyed items turned around."""
    values = []
    for item in items:
        value = answers.get(item.key)
        if value is None:
            values.append(math.nan)
        else:
            values.append(float(SCALE_POINTS + 1 - value if item.reverse else value))
    return tuple(values)


def respondents(
    uow: UnitOfWork, wave: Wave, items: Sequence[WaveItem], names: dict[str, str]
) -> list[Respondent]:
    """The wave's answers as the analysis takes them: partner name, band label, scores."""
    rows = uow.session.execute(
        sa.select(Response.partner_id, Response.role_band, Response.answers).where(
            Response.alliance_id == wave.alliance_id, Response.wave_id == wave.id
        )
    ).all()
    return [
        Respondent(
            partner=names.get(partner_id, partner_id),
            band=BAND_LABELS[RoleBand(band)] if band is not None else None,
            answers=scored(answers, items),
        )
        for partner_id, band, answers in rows
    ]


class _FiguresCache:
    """Figures of closed waves (which never change), by wave and a digest of their answers."""

    def __init__(self, size: int = 256) -> None:
        self._entries: dict[tuple, WaveFigures] = {}
        self._lock = Lock()
        self._size = size

    def get(self, key: tuple) -> WaveFigures | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: tuple, figures: WaveFigures) -> None:
        with self._lock:
            if len(self._entries) >= self._size:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = figures


_cache = _FiguresCache()


def _answer_count(uow: UnitOfWork, wave: Wave) -> int:
    return (
        uow.session.scalar(
            sa.select(sa.func.count()).where(
                Response.alliance_id == wave.alliance_id, Response.wave_id == wave.id
            )
        )
        or 0
    )


def figures_of(
    uow: UnitOfWork, wave: Wave, items: Sequence[WaveItem], threshold: int
) -> WaveFigures:
    """The figures of a closed wave, computed once per process for the same answers.

    The key is a digest of what the figures depend on — the answers (in an
    order of their own), the partners' names, the items and the threshold —
    so loading the answers is all a repeated view costs.
    """
    found = respondents(uow, wave, items, partner_names(uow, wave.alliance_id))
    content = sorted(repr(r) for r in found)
    asked = [(i.key, i.dimension, i.reverse) for i in items]
    digest = hashlib.sha256(repr((content, asked, threshold)).encode()).hexdigest()
    key = (wave.alliance_id, wave.id, digest)
    cached = _cache.get(key)
    if cached is None:
        cached = wave_figures(found, measures_of(items), SCALE_POINTS, threshold)
        _cache.put(key, cached)
    return cached


@dataclass(frozen=True)
class WaveResults:
    wave: Wave
    items: list[WaveItem]
    measures: list[Measure]
    figures: WaveFigures | None
    """None while the wave runs."""
    comments: list[str]
    comments_withheld: bool
    """True when there are comments but too few answers to show them."""
    thresholds: Thresholds

    @property
    def available(self) -> bool:
        return self.figures is not None


def wave_results(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    wave_id: str,
    thresholds: Thresholds,
) -> WaveResults:
    """A wave's results: nothing while it runs; afterwards what the anonymity rules allow."""
    wave = open_wave(uow, actor, alliance_id, wave_id).wave
    items = wave_items(uow, wave)
    measures = measures_of(items)
    if wave.is_open(uow.clock.now()):
        return WaveResults(wave, items, measures, None, [], False, thresholds)
    figures = figures_of(uow, wave, items, thresholds.anonymity)
    comments = sorted(c.text for c in uow.find(Comment, alliance_id=alliance_id, wave_id=wave_id))
    enough = _answer_count(uow, wave) >= thresholds.comments
    return WaveResults(
        wave,
        items,
        measures,
        figures,
        comments if enough else [],
        bool(comments) and not enough,
        thresholds,
    )


@dataclass(frozen=True)
class TrendPoint:
    wave: Wave
    n: int
    mean: float
    low: float
    high: float


@dataclass(frozen=True)
class TrendSeries:
    group: GroupKey
    points: list[TrendPoint]


@dataclass(frozen=True)
class DimensionTrend:
    dimension: Dimension
    label: str
    series: list[TrendSeries]


@dataclass(frozen=True)
class Trend:
    waves: list[Wave]
    dimensions: list[DimensionTrend]


def trend(uow: UnitOfWork, actor: m.Person | None, alliance_id: str, threshold: int) -> Trend:
    """Each dimension's score across the closed waves, for the alliance and each partner.

    A group appears in a wave only where that wave may report it.
    """
    open_alliance(uow, actor, alliance_id)
    now = uow.clock.now()
    closed = [
        w
        for w in uow.find(Wave, order_by=Wave.closes_at, alliance_id=alliance_id)
        if not w.is_open(now)
    ]
    figures = [(w, figures_of(uow, w, wave_items(uow, w), threshold)) for w in closed]
    dimensions = []
    for dimension in Dimension:
        series: dict[GroupKey, list[TrendPoint]] = {}
        for wave, wave_figures_ in figures:
            for group in wave_figures_.groups:
                score = group.scores.get(dimension.value)
                if group.key.level == "band" or score is None:
                    continue
                point = TrendPoint(wave, score.n, score.mean, score.low, score.high)
                series.setdefault(group.key, []).append(point)
        ordered = sorted(series, key=lambda k: (k != ALLIANCE, k.partner or ""))
        dimensions.append(
            DimensionTrend(
                dimension,
                DIMENSION_LABELS[dimension],
                [TrendSeries(key, series[key]) for key in ordered],
            )
        )
    return Trend([w for w, _ in figures], dimensions)
