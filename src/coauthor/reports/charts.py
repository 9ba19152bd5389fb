"""Geometry of the server-drawn charts; the templates only place what is computed here.

Both charts colour a partner by its own stored colour (``series``), so it
keeps that colour from the risk register to the contributions, and when
partners join or leave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from coauthor.services.mechanics.views import PartnerRef, ShareView, UnitTotals

SERIES = 8
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Segment:
    """One partner's part of a stacked 100% bar; offset and width are percent of the bar."""

    name: str
    series: int
    percent: Decimal
    offset: Decimal
    width: Decimal


def stack(shares: Sequence[ShareView]) -> list[Segment]:
    """Segments side by side; a total above 100% is scaled down to fit the bar."""
    total = sum((share.percent for share in shares), Decimal(0))
    scale = HUNDRED / max(total, HUNDRED)
    segments, offset = [], Decimal(0)
    for share in shares:
        width = share.percent * scale
        segments.append(Segment(share.name, share.series, share.percent, offset, width))
        offset += width
    return segments


@dataclass(frozen=True)
class Bar:
    percent: float
    """Length as a percent of the longest bar in the chart."""
    value: Decimal


@dataclass(frozen=True)
class ChartRow:
    partner: PartnerRef
    series: int
    contributed: Bar
    received: Bar


@dataclass(frozen=True)
class ReciprocityChart:
    """Contributed vs value received per partner, for one unit (EUR, hours, …).

    Drawn with HTML and CSS, not SVG, so that names and amounts wrap and are
    never cut off, whatever the width of the screen. Partners with nothing in
    this unit are left out.
    """

    unit: str
    rows: list[ChartRow]
    shows_contributed: bool
    shows_received: bool
    """A direction no partner has in this unit (value received in hours) gets no bars."""


def reciprocity_chart(totals: UnitTotals) -> ReciprocityChart:
    biggest = max((max(row.contributed, row.received) for row in totals.rows), default=Decimal(0))

    def bar(value: Decimal) -> Bar:
        return Bar(float(value / biggest * 100) if biggest else 0.0, value)

    rows = [
        ChartRow(row.partner, row.partner.series, bar(row.contributed), bar(row.received))
        for row in totals.rows
        if row.contributed or row.received
    ]
    return ReciprocityChart(totals.unit, rows, bool(totals.contributed), bool(totals.received))
