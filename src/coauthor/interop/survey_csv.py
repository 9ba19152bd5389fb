"""Pulse survey answers from a CSV file: one row per respondent, one column per item.

Pure parsing, no database. The file has a header row; one column names each
respondent's group (their partner), the others hold answers on a
1..``scale_points`` scale. A blank cell is a missing answer; a reverse-keyed
item is turned around as ``scale_points + 1 − x``. Every cell is checked, and
anything wrong raises :class:`SurveyCsvError` naming the file, line and column.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from coauthor.analysis.psychometrics import scale
from coauthor.domain.errors import ValidationFailed

MIN_RESPONDENTS = 2


class SurveyCsvError(ValueError):
    """A survey file that cannot be read: ``FILE:LINE: column COL: reason``.

    Without a column (a file that is not CSV, a row that is too long) the
    column part is left out; without a line (a file that cannot be opened), the line.
    """

    def __init__(self, file: str | Path, line: int | None, column: str | None, reason: str) -> None:
        self.file = str(file)
        self.line = line
        self.column = column
        self.reason = reason
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return (
            f"{where}: column {self.column}: {self.reason}"
            if self.column
            else f"{where}: {self.reason}"
        )


@dataclass(frozen=True, eq=False)
class SurveyResponses:
    """The answers of a survey file, reverse-keyed items already turned around.

    ``answers`` is respondents × items (in the order of ``items``), NaN for
    a blank cell; ``groups`` and ``lines`` give each respondent's group and
    the line of the file their row starts on.
    """

    items: tuple[str, ...]
    groups: tuple[str, ...]
    answers: NDArray[np.float64]
    lines: tuple[int, ...]
    scale_points: int


def check_item_options(items: Sequence[str], reverse: Sequence[str]) -> None:
    """Items named once each, at least one, and every reversed item among them."""
    if not items or any(not name for name in items):
        raise ValidationFailed.one("items", "must name at least one column, none of them blank")
    twice = [name for name, count in Counter(items).items() if count > 1]
    if twice:
        raise ValidationFailed.one("items", f"names {twice[0]!r} twice")
    stray = [name for name in reverse if name not in items]
    if stray:
        raise ValidationFailed.one("reverse", f"{stray[0]!r} is not one of the items")


def read_survey_csv(
    path: Path,
    *,
    group_column: str,
    items: Sequence[str],
    scale_points: int,
    reverse: Sequence[str] = (),
) -> SurveyResponses:
    """Read and check a survey file; see the module docstring for its shape.

    Refused (SurveyCsvError): a file that is not UTF-8 CSV or has no header;
    a header naming a column twice; a group or item column that is not in the
    header; a row with fewer or more cells than the header; a blank group; an
    answer that is not a number or not a whole number from 1 to
    ``scale_points``; fewer than two respondents. Wrong options (a scale of
    fewer than two points, an item named twice, a reversed item that is not
    an item) raise ValidationFailed.
    """
    scale_points = scale(scale_points)
    check_item_options(items, reverse)
    header, rows = _read_rows(path)
    position = _column_positions(path, header, [group_column, *items])
    groups: list[str] = []
    values: list[list[float]] = []
    lines: list[int] = []
    for line, row in rows:
        _check_width(path, line, row, header)
        group = row[position[group_column]].strip()
        if not group:
            raise SurveyCsvError(path, line, group_column, "no group given")
        values.append(
            [_answer(path, line, item, row[position[item]], scale_points) for item in items]
        )
        groups.append(group)
        lines.append(line)
    if len(values) < MIN_RESPONDENTS:
        last = rows[-1][0] if rows else 1
        raise SurveyCsvError(
            path,
            last,
            group_column,
            f"{len(values)} respondent(s); at least {MIN_RESPONDENTS} are needed",
        )
    answers = np.array(values, dtype=np.float64)
    flipped = [items.index(name) for name in reverse]
    answers[:, flipped] = scale_points + 1 - answers[:, flipped]
    return SurveyResponses(
        items=tuple(items),
        groups=tuple(groups),
        answers=answers,
        lines=tuple(lines),
        scale_points=scale_points,
    )


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header (names stripped) and every non-empty row with the line it starts on."""
    rows: list[tuple[int, list[str]]] = []
    line = 1
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            line = reader.line_num + 1
            for row in _non_empty(reader):
                rows.append((line, row))
                line = reader.line_num + 1
    except OSError as error:
        raise SurveyCsvError(path, None, None, f"cannot be read ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise SurveyCsvError(path, line, None, f"not UTF-8 text ({error.reason})") from None
    except csv.Error as error:
        raise SurveyCsvError(path, line, None, f"unreadable CSV: {error}") from None
    if not header:
        raise SurveyCsvError(path, 1, None, "no header row (the file is empty)")
    return [name.strip() for name in header], rows


def _non_empty(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    return (row for row in reader if any(cell.strip() for cell in row))


def _column_positions(path: Path, header: list[str], wanted: list[str]) -> dict[str, int]:
    """Where each wanted column is; refuses a header naming a column twice or lacking one."""
    for name, count in Counter(header).items():
        if count > 1:
            raise SurveyCsvError(path, 1, name, "appears more than once in the header")
    for name in wanted:
        if name not in header:
            known = ", ".join(header)
            raise SurveyCsvError(path, 1, name, f"no such column (the header has: {known})")
    return {name: header.index(name) for name in wanted}


def _check_width(path: Path, line: int, row: list[str], header: list[str]) -> None:
    if len(row) < len(header):
        raise SurveyCsvError(
            path,
            line,
            header[len(row)],
            f"missing: the row has {len(row)} cells, the header {len(header)}",
        )
    if len(row) > len(header):
        raise SurveyCsvError(
            path, line, None, f"the row has {len(row)} cells, the header only {len(header)}"
        )


def _answer(path: Path, line: int, item: str, cell: str, scale_points: int) -> float:
    """One cell as an answer: NaN when blank, else a whole number from 1 to ``scale_points``."""
    text = cell.strip()
    if not text:
        return float("nan")
    try:
        value = float(text)
    except ValueError:
        raise SurveyCsvError(path, line, item, f"{text!r} is not a number") from None
    if not (value.is_integer() and 1 <= value <= scale_points):
        raise SurveyCsvError(
            path,
            line,
            item,
            f"{text} is off the scale: answers are whole numbers from 1 to {scale_points}",
        )
    return value
