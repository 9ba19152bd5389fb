"""Importing a wave collected with another survey tool: one CSV, all or nothing.

The file becomes a new, closed wave. Importing into an existing wave is not
offered: adding rows to a wave whose results were seen would let anyone
compare the results before and after.

Every column of the file is mapped — to an item (``to1`` … or an own item's
id), to ``partner``, ``role_band``, ``respondent``, ``comment``, or to
``ignore`` — explicitly or because its header already names one of them.
Every row is checked; all the problems found are reported together, each
with its line and column (``("csv", line, column)``), and nothing is stored
unless the whole file is right. The respondent column only finds duplicate
rows: it is not stored, nor is the order of the rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import FieldError, ValidationFailed
from coauthor.domain.pulse import (
    INSTRUMENT_VERSION,
    SCALE_POINTS,
    STANDARD_ITEMS,
    Comment,
    Response,
    RoleBand,
    Wave,
    WaveItem,
    WaveSource,
)
from coauthor.ids import new_id
from coauthor.services import eventlog, inputs
from coauthor.services.mechanics.alliances import open_for_edit
from coauthor.services.pulse.access import partner_names
from coauthor.services.pulse.inputs import COMMENT_MAX_LENGTH, IMPORT_ROLES, ImportInput
from coauthor.services.pulse.items import active_items
from coauthor.services.pulse.waves import closing_moment

BAND_WORDS = {
    "leadership": RoleBand.LEADERSHIP,
    "sponsor": RoleBand.LEADERSHIP,
    "manager": RoleBand.LEADERSHIP,
    "team": RoleBand.TEAM,
    "member": RoleBand.TEAM,
    "observer": RoleBand.TEAM,
}
MAX_ERRORS = 100
REQUIRED_ROLES = ("partner", "respondent")


@dataclass(frozen=True)
class CsvTable:
    """A CSV file as read: its header and each non-empty row with the line it starts on."""

    header: list[str]
    rows: list[tuple[int, list[str]]]


@dataclass(frozen=True)
class ItemSpec:
    key: str
    dimension: Any
    text: str
    reverse: bool


def _items(uow: UnitOfWork, alliance_id: str) -> dict[str, ItemSpec]:
    """Every item a file may answer: the standard ones, then the alliance's own (by id)."""
    found = {i.key: ItemSpec(i.key, i.dimension, i.text, i.reverse) for i in STANDARD_ITEMS}
    for own in active_items(uow, alliance_id):
        found[own.id] = ItemSpec(own.id, None, own.text, own.reverse)
    return found


def _target(name: str, items: Mapping[str, ItemSpec]) -> str | None:
    """What a header maps to by itself: an item key or a role, ignoring case; else None."""
    plain = name.strip()
    for key in items:
        if plain.casefold() == key.casefold():
            return key
    role = plain.casefold().replace(" ", "_")
    return role if role in IMPORT_ROLES and role != "ignore" else None


def _mapping(
    table: CsvTable, columns: Mapping[str, str], items: Mapping[str, ItemSpec]
) -> tuple[dict[str, str], list[FieldError]]:
    """Column → target for every column of the file, and what is wrong with the mapping."""
    errors: list[FieldError] = []
    known = ", ".join(table.header)
    for name in columns:
        if name not in table.header:
            errors.append(FieldError(("columns", name), f"no such column (the file has: {known})"))
    mapping: dict[str, str] = {}
    for name in table.header:
        target = columns.get(name) or _target(name, items)
        if target is None:
            errors.append(
                FieldError(
                    ("columns", name),
                    "cannot be mapped to an item of the pulse: map it to an item, "
                    "partner, role_band, respondent or comment, or ignore it",
                )
            )
        elif target not in items and target not in IMPORT_ROLES:
            errors.append(FieldError(("columns", name), f"{target!r} is not an item of the pulse"))
        else:
            mapping[name] = target
    return mapping, errors + _mapping_shape_errors(mapping)


def _mapping_shape_errors(mapping: Mapping[str, str]) -> list[FieldError]:
    errors = []
    by_target: dict[str, list[str]] = {}
    for name, target in mapping.items():
        if target != "ignore":
            by_target.setdefault(target, []).append(name)
    for target, names in by_target.items():
        if len(names) > 1:
            errors += [
                FieldError(("columns", name), f"{target!r} is mapped from {len(names)} columns")
                for name in names
            ]
    errors += [
        FieldError(("columns",), f"no column is mapped to {role!r}")
        for role in REQUIRED_ROLES
        if role not in by_target
    ]
    if not any(target not in IMPORT_ROLES for target in by_target):
        errors.append(FieldError(("columns",), "no column is mapped to an item of the pulse"))
    return errors


@dataclass(frozen=True)
class ImportedRow:
    partner_id: str
    band: RoleBand | None
    answers: dict[str, int]
    comment: str


class _RowReader:
    """Reads one row after another, collecting every problem with its line and column."""

    def __init__(self, mapping: dict[str, str], partners: Mapping[str, str]) -> None:
        """``partners`` maps each partner's id to its name."""
        self.mapping = mapping
        self.partners = {name.casefold(): pid for pid, name in partners.items()}
        self.names = ", ".join(sorted(partners.values()))
        self.errors: list[FieldError] = []
        self.respondents: dict[str, int] = {}

    def fail(self, line: int, column: str, message: str) -> None:
        self.errors.append(FieldError(("csv", line, column), message))

    def row(self, line: int, header: Sequence[str], cells: Sequence[str]) -> ImportedRow | None:
        before = len(self.errors)
        partner_id, band, comment, answers = None, None, "", {}
        for column, cell in zip(header, cells, strict=True):
            target, text = self.mapping[column], cell.strip()
            if target == "partner":
                partner_id = self._partner(line, column, text)
            elif target == "role_band":
                band = self._band(line, column, text)
            elif target == "respondent":
                self._respondent(line, column, text)
            elif target == "comment":
                comment = self._comment(line, column, text)
            elif target != "ignore" and text:
                answers[target] = self._answer(line, column, text)
        if not answers and len(self.errors) == before:
            self.fail(line, "", "the row answers no item")
        if len(self.errors) > before or partner_id is None:
            return None
        return ImportedRow(partner_id, band, answers, comment)

    def _partner(self, line: int, column: str, text: str) -> str | None:
        if not text:
            self.fail(line, column, "no partner given")
            return None
        found = self.partners.get(text.casefold())
        if found is None:
            self.fail(line, column, f"{text!r} is not a partner of this alliance ({self.names})")
        return found

    def _band(self, line: int, column: str, text: str) -> RoleBand | None:
        if not text:
            return None
        band = BAND_WORDS.get(text.casefold())
        if band is None:
            self.fail(line, column, f"{text!r} is not a role band: use leadership or team")
        return band

    def _respondent(self, line: int, column: str, text: str) -> None:
        if not text:
            self.fail(line, column, "no respondent given")
        elif text in self.respondents:
            self.fail(line, column, f"respondent {text!r} is on line {self.respondents[text]} too")
        else:
            self.respondents[text] = line

    def _comment(self, line: int, column: str, text: str) -> str:
        if len(text) > COMMENT_MAX_LENGTH:
            self.fail(line, column, f"a comment is at most {COMMENT_MAX_LENGTH} characters")
        return text

    def _answer(self, line: int, column: str, text: str) -> int:
        try:
            value = float(text)
        except ValueError:
            self.fail(line, column, f"{text!r} is not a number")
            return 0
        if not (value.is_integer() and 1 <= value <= SCALE_POINTS):
            self.fail(
                line,
                column,
                f"{text} is off the scale: answers are whole numbers from 1 to {SCALE_POINTS}",
            )
        return int(value)


def _read_rows(
    table: CsvTable, mapping: dict[str, str], partners: dict[str, str]
) -> tuple[list[ImportedRow], list[FieldError]]:
    reader = _RowReader(mapping, partners)
    rows = []
    for line, cells in table.rows:
        if len(cells) != len(table.header):
            reader.fail(line, "", f"has {len(cells)} cells, the header {len(table.header)}")
            continue
        row = reader.row(line, table.header, cells)
        if row is not None:
            rows.append(row)
    return rows, reader.errors


def _refuse(errors: list[FieldError]) -> None:
    if len(errors) > MAX_ERRORS:
        more = len(errors) - MAX_ERRORS
        errors = [*errors[:MAX_ERRORS], FieldError(("csv",), f"… and {more} more problems")]
    raise ValidationFailed(errors)


def _write(
    uow: UnitOfWork,
    alliance_id: str,
    data: ImportInput,
    items: list[ItemSpec],
    rows: list[ImportedRow],
) -> Wave:
    closes_at = min(closing_moment(data.closed_on), uow.clock.now())
    wave = Wave(
        alliance_id=alliance_id,
        id=new_id("pw"),
        title=data.title,
        instrument_version=INSTRUMENT_VERSION,
        source=WaveSource.IMPORT,
        opened_at=closes_at,
        closes_at=closes_at,
    )
    uow.add(wave)
    uow.flush()
    uow.add_all(
        WaveItem(alliance_id, wave.id, item.key, position, item.dimension, item.text, item.reverse)
        for position, item in enumerate(items, start=1)
    )
    uow.add_all(
        Response(alliance_id, wave.id, new_id("pr"), row.partner_id, row.band, row.answers)
        for row in rows
    )
    uow.add_all(
        Comment(alliance_id, wave.id, new_id("pc"), row.comment) for row in rows if row.comment
    )
    uow.flush()
    return wave


def do_import_wave(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    table: CsvTable,
    payload: Any,
    threshold: int,
) -> Wave:
    """A new closed wave from ``table``; refused whole (ValidationFailed) if anything is wrong.

    At least ``threshold`` rows are needed: fewer could never show a result.
    """
    open_for_edit(uow, actor, alliance_id)
    data = inputs.parse(ImportInput, payload)
    if data.closed_on > uow.clock.now().date():
        raise ValidationFailed.one("closed_on", "must not be in the future")
    known = _items(uow, alliance_id)
    mapping, errors = _mapping(table, data.columns, known)
    if errors:
        _refuse(errors)
    rows, errors = _read_rows(table, mapping, partner_names(uow, alliance_id))
    if not errors and len(rows) < threshold:
        errors = [
            FieldError(
                ("csv",),
                f"{len(rows)} rows: at least {threshold} are needed, or no result could be shown",
            )
        ]
    if errors:
        _refuse(errors)
    answered = set(mapping.values())
    items = [item for key, item in known.items() if key in answered]
    wave = _write(uow, alliance_id, data, items, rows)
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "pulse_wave.imported",
        {
            "id": wave.id,
            "title": wave.title,
            "closed_on": data.closed_on.isoformat(),
            "items": [item.key for item in items],
            "responses": len(rows),
        },
    )
    return wave
