"""Geometry of the opinion map: where the template draws each dot, marker and group centre.

The map is the Pol.is picture of a deliberation: every participant who voted
is a small dot at their place on the two principal components, coloured by
their opinion group; statements sit where an imagined participant who agreed
with that statement alone would be (their projection), as numbered markers;
each group's centre is marked with its letter.

Nothing here can tell who is who: a dot carries its position and its group
only, and the dots are ordered by group and position, not by participant or
by when they first voted.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from coauthor.analysis.opinion import OpinionResult

SERIES = 8
SIZE = 480
PADDING = 34
RADIUS = (SIZE - 2 * PADDING) / 2
CENTRE = SIZE / 2


def group_label(position: int) -> str:
    """Groups are named by letter, in the order of their ids: A, B, C, … then A2, B2, …"""
    letters = string.ascii_uppercase
    turn, index = divmod(position, len(letters))
    return letters[index] + (str(turn + 1) if turn else "")


def group_labels(opinion: OpinionResult | None) -> dict[int, tuple[str, int]]:
    """Group id → (letter, colour series)."""
    if opinion is None:
        return {}
    ids = sorted(group.id for group in opinion.groups)
    return {gid: (group_label(i), i % SERIES) for i, gid in enumerate(ids)}


@dataclass(frozen=True)
class Dot:
    """A participant: a position and a group, nothing else."""

    x: float
    y: float
    series: int | None
    """Colour series of the group; None when the participant voted too little to be placed."""


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
    unplaced: int
    """Participants shown grey: they voted on too few statements to join a group."""

    @property
    def placed(self) -> int:
        return len(self.dots) - self.unplaced


def _round(value: float) -> float:
    return round(value, 1)


def opinion_map(
    opinion: OpinionResult | None,
    numbers: Mapping[str, int],
    texts: Mapping[str, str],
    voted: Collection[str],
) -> OpinionMap | None:
    """The map of ``opinion``; ``numbers`` and ``texts`` name the statements that may be shown.

    Statements nobody voted on (``voted`` lists the others) are left out, as
    are statements not in ``numbers`` (pending, rejected or meta ones).
    """
    if opinion is None or not opinion.participant_ids:
        return None
    labels = group_labels(opinion)
    groups = opinion.participant_groups
    points = [
        (float(x), float(y), labels[g][1] if g is not None and g in labels else None)
        for x, y, g in zip(opinion.x.tolist(), opinion.y.tolist(), groups, strict=True)
    ]
    statements = [
        (sid, xy)
        for sid, xy in opinion.statement_projections.items()
        if sid in numbers and sid in voted and sid not in opinion.moderated_out
    ]
    extent = max(
        [abs(v) for x, y, _ in points for v in (x, y)]
        + [abs(v) for _, xy in statements for v in xy]
        + [abs(v) for group in opinion.groups for v in group.center]
        + [1e-9]
    )
    scale = RADIUS / extent if extent > 1e-6 else 0.0

    def place(x: float, y: float) -> tuple[float, float]:
        return _round(CENTRE + x * scale), _round(CENTRE - y * scale)

    dots = sorted(
        (Dot(*place(x, y), series) for x, y, series in points),
        key=lambda d: (d.series is None, d.series or 0, d.x, d.y),
    )
    markers = []
    for sid, (x, y) in sorted(statements, key=lambda item: numbers[item[0]]):
        px, py = place(x, y)
        right = px <= CENTRE + RADIUS * 0.6
        markers.append(
            Marker(
                x=px,
                y=py,
                number=numbers[sid],
                text=texts.get(sid, ""),
                label_x=_round(px + (9 if right else -9)),
                label_y=_round(py + 4),
                anchor="start" if right else "end",
            )
        )
    centres = [
        Centre(*place(*group.center), labels[group.id][0], labels[group.id][1], group.size)
        for group in sorted(opinion.groups, key=lambda g: g.id)
    ]
    unplaced = sum(1 for _, _, series in points if series is None)
    return OpinionMap(SIZE, CENTRE, RADIUS, dots, markers, centres, unplaced)


def statement_numbers(statement_ids: Sequence[str]) -> dict[str, int]:
    """Statements are numbered 1, 2, 3 … in the order they were written."""
    return {sid: number for number, sid in enumerate(statement_ids, start=1)}
