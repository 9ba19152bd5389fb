"""Geometry of the server-drawn charts; the templates only place what is computed here.

Both charts colour partners by their position in the alliance (``series``),
so a partner keeps its colour from the risk register to the contributions.
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
        segments.append(Segment(share.name, share.index % SERIES, share.percent, offset, width))
        offset += width
    return segments


@dataclass(frozen=True)
class Bar:
    y: int
    length: float
    value: Decimal


@dataclass(frozen=True)
class ChartRow:
    partner: PartnerRef
    series: int
    label_y: int
    contributed: Bar
    received: Bar


@dataclass(frozen=True)
class ReciprocityChart:
    """Contributed vs value received per partner, for one unit (EUR, hours, …)."""

    unit: str
    width: int
    height: int
    bars_x: int
    rows: list[ChartRow]


WIDTH, LABEL_WIDTH, BAR_AREA = 640, 150, 380
ROW_HEIGHT, BAR_HEIGHT, BAR_GAP, TOP = 52, 16, 4, 10


def reciprocity_chart(totals: UnitTotals) -> ReciprocityChart:
    biggest = max((max(row.contributed, row.received) for row in totals.rows), default=Decimal(0))

    def length(value: Decimal) -> float:
        return float(value / biggest * BAR_AREA) if biggest else 0.0

    rows = []
    for position, row in enumerate(totals.rows):
        top = TOP + position * ROW_HEIGHT
        rows.append(
            ChartRow(
                partner=row.partner,
                series=row.partner.index % SERIES,
                label_y=top + BAR_HEIGHT + BAR_GAP // 2,
                contributed=Bar(top, length(row.contributed), row.contributed),
                received=Bar(top + BAR_HEIGHT + BAR_GAP, length(row.received), row.received),
            )
        )
    height = TOP * 2 + len(rows) * ROW_HEIGHT - (ROW_HEIGHT - 2 * BAR_HEIGHT - BAR_GAP)
    return ReciprocityChart(totals.unit, WIDTH, height, LABEL_WIDTH, rows)
