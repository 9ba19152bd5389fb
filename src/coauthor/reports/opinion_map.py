"""Geometry of the opinion map: where the template draws each dot, marker and group centre.

The map is the Pol.is picture of a deliberation: every participant who voted
is a small dot at their place on the two principal components, coloured by
their opinion group; statements sit where an imagined participant who agreed
with that statement alone would be (their projection), as numbered markers;
each group's centre is marked with its letter.

It is drawn from a release's :class:`ResultsDocument`, so nothing here can
tell who is who: a dot carries its position and its group only (the dots come
sorted by group and position), statements with fewer voters than the
anonymity threshold have no position, and groups smaller than the threshold
are drawn grey, without a centre or a size.
"""

from __future__ import annotations

from dataclasses import dataclass

from coauthor.reports.deliberation import ResultsDocument

SIZE = 480
PADDING = 34
RADIUS = (SIZE - 2 * PADDING) / 2
CENTRE = SIZE / 2


@dataclass(frozen=True)
class Dot:
    """A participant: a position and a group, nothing else."""

    x: float
    y: float
    series: int | None
    """Colour series of the group; None when not in a group that is described."""


@dataclass(frozen=True)
class Marker:
    """A statement at its projection, labelled with its number."""

    x: float
    y: float
    number: int
    text: str
    label_x: float
    label_y: float
    anchor: str


@dataclass(frozen=True)
class Centre:
    x: float
    y: float
    label: str
    series: int
    size: int


@dataclass(frozen=True)
class OpinionMap:
    size: int
    centre: float
    radius: float
    dots: list[Dot]
    markers: list[Marker]
    centres: list[Centre]
    unplaced: int | None
    """Participants shown grey; None when there are fewer than the anonymity threshold."""


def _round(value: float) -> float:
    return round(value, 1)


def opinion_map(document: ResultsDocument) -> OpinionMap | None:
    """The map of a results document; None before anything may be drawn."""
    if not document.points:
        return None
    series = {group.id: group.series for group in document.groups if group.size is not None}
    points = [
        (p.x, p.y, series.get(p.group) if p.group is not None else None) for p in document.points
    ]
    statements = [s for s in document.statements if s.position is not None]
    centred = [g for g in document.groups if g.center is not None and g.size is not None]
    extent = max(
        [abs(v) for x, y, _ in points for v in (x, y)]
        + [abs(v) for s in statements for v in s.position or ()]
        + [abs(v) for g in centred for v in g.center or ()]
        + [1e-9]
    )
    scale = RADIUS / extent if extent > 1e-6 else 0.0

    def place(x: float, y: float) -> tuple[float, float]:
        return _round(CENTRE + x * scale), _round(CENTRE - y * scale)

    dots = sorted(
        (Dot(*place(x, y), colour) for x, y, colour in points),
        key=lambda d: (d.series is None, d.series or 0, d.x, d.y),
    )
    markers = []
    for statement in statements:
        assert statement.position is not None
        px, py = place(*statement.position)
        right = px <= CENTRE + RADIUS * 0.6
        markers.append(
            Marker(
                x=px,
                y=py,
                number=statement.number,
                text=statement.text,
                label_x=_round(px + (9 if right else -9)),
                label_y=_round(py + 4),
                anchor="start" if right else "end",
            )
        )
    centres = [
        Centre(*place(*group.center), group.label, group.series, group.size)  # type: ignore[misc]
        for group in centred
    ]
    grey = sum(1 for _, _, colour in points if colour is None)
    unplaced = grey if grey == 0 or grey >= document.anonymity_threshold else None
    return OpinionMap(SIZE, CENTRE, RADIUS, dots, markers, centres, unplaced)
