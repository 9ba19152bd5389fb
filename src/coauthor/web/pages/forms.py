"""Between HTML forms and the input models.

Form fields are named by their path in the input model, with dots:
``title``, ``shares.2.percent``, ``seats.0.is_chair``. A nested list is posted
as one row per choice (a share row per partner, a seat row per member); rows
that say nothing (an empty share, an unticked seat) are left out of the
payload, and the errors about the rows that remain are mapped back to the
row the person actually filled in.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel

from coauthor.domain.errors import FieldError

Row = dict[str, str]
LOCAL_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$")


@dataclass(frozen=True)
class Rows:
    """A nested list field shown as one row per choice (``choices`` names a ``Choices`` list).

    ``marker`` names a checkbox that only says "this row counts" (a seat is taken): it is
    ticked for every stored row and never sent on to the input model.
    """

    field: str
    key: str
    choices: str
    keep: Callable[[Row], bool]
    marker: str = ""


def has(*keys: str) -> Callable[[Row], bool]:
    """Keep a row when any of ``keys`` was posted (a ticked checkbox)."""
    return lambda row: any(row.get(key) for key in keys)


def has_amount(key: str) -> Callable[[Row], bool]:
    """Keep a row whose ``key`` is filled in with anything but zero."""

    def keep(row: Row) -> bool:
        value = row.get(key, "").strip()
        try:
            return bool(value) and Decimal(value) != 0
        except InvalidOperation:
            return True

    return keep


@dataclass
class Form:
    """Submitted (or prefilled) values and the errors to show next to them."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    prefix: str = ""
    """Keeps element ids unique when one page shows several forms with the same fields."""

    def field_id(self, name: str) -> str:
        return "-".join(part for part in ("f", self.prefix, name.replace(".", "-")) if part)

    def value(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def checked(self, name: str) -> bool:
        return bool(self.values.get(name))

    def error(self, name: str) -> list[str]:
        return self.errors.get(name, [])

    @property
    def invalid(self) -> bool:
        return bool(self.errors or self.general)

    @property
    def problem_count(self) -> int:
        return sum(len(messages) for messages in self.errors.values()) + len(self.general)

    def failed(
        self,
        errors: Iterable[FieldError],
        known: Iterable[str],
        index_maps: Mapping[str, Sequence[int]] | None = None,
    ) -> Form:
        """This form with ``errors`` placed by field; those of unknown fields go on top."""
        roots = set(known)
        placed: dict[str, list[str]] = {}
        general: list[str] = []
        for error in errors:
            loc = original_loc(error.loc, index_maps or {})
            if loc and str(loc[0]) in roots:
                placed.setdefault(".".join(map(str, loc)), []).append(error.message)
            else:
                general.append(f"{error.field}: {error.message}" if error.loc else error.message)
        return replace(self, values=dict(self.values), errors=placed, general=general)

    def with_message(self, message: str) -> Form:
        return replace(self, general=[*self.general, message])


def original_loc(loc: tuple, index_maps: Mapping[str, Sequence[int]]) -> tuple:
    """Map a row index in the payload back to the row's index in the form."""
    if len(loc) >= 2 and isinstance(loc[1], int) and str(loc[0]) in index_maps:
        indexes = index_maps[str(loc[0])]
        if 0 <= loc[1] < len(indexes):
            return (loc[0], indexes[loc[1]], *loc[2:])
    return loc


def _nest(values: Mapping[str, str]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for name, value in values.items():
        root, _, rest = name.partition(".")
        index, _, key = rest.partition(".")
        if rest and index.isdigit() and key:
            nested.setdefault(root, {}).setdefault(int(index), {})[key] = value
        else:
            nested[name] = value
    return nested


def _item_model(model: type[BaseModel], name: str) -> type[BaseModel] | None:
    info = model.model_fields.get(name)
    for arg in typing.get_args(info.annotation) if info else ():
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _clean(data: dict[str, Any], model: type[BaseModel] | None) -> dict[str, Any]:
    """Drop empty values of fields that are not text, so defaults and "required" apply."""
    if model is None:
        return data
    cleaned = {}
    for name, value in data.items():
        info = model.model_fields.get(name)
        if value == "" and info is not None and info.annotation is not str:
            continue
        cleaned[name] = value
    return cleaned


def to_payload(
    values: Mapping[str, str], model: type[BaseModel], rows: Sequence[Rows] = ()
) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """The dict for ``model`` from flat form values, and each list's kept row indexes."""
    specs = {spec.field: spec for spec in rows}
    payload: dict[str, Any] = {}
    index_maps: dict[str, list[int]] = {spec.field: [] for spec in rows}
    for name, value in _nest(values).items():
        if isinstance(value, dict):
            spec = specs.get(name)
            kept = [i for i in sorted(value) if spec is None or spec.keep(value[i])]
            index_maps[name] = kept
            marker = spec.marker if spec else ""
            payload[name] = [
                _clean(_without(value[i], marker), _item_model(model, name)) for i in kept
            ]
        else:
            payload[name] = value
    for spec in rows:
        payload.setdefault(spec.field, [])
    return _clean(payload, model), index_maps


def _without(row: Row, key: str) -> Row:
    return {name: value for name, value in row.items() if name != key}


def _text(value: Any) -> str | None:
    if value is None or value is False:
        return None
    return "on" if value is True else str(value)


def to_values(data: Mapping[str, Any], rows: Mapping[str, tuple[Rows, Sequence[str]]]) -> Row:
    """Flat form values from an item's input dict; list rows land on their choice's row."""
    values: Row = {}
    for name, value in data.items():
        if isinstance(value, list):
            spec, choice_ids = rows[name]
            by_choice = {row[spec.key]: row for row in value}
            for index, choice_id in enumerate(choice_ids):
                stored = by_choice.get(choice_id)
                if stored is not None and spec.marker:
                    values[f"{name}.{index}.{spec.marker}"] = "on"
                for sub, sub_value in (stored or {}).items():
                    text = _text(sub_value)
                    if text is not None:
                        values[f"{name}.{index}.{sub}"] = text
        elif (text := _text(value)) is not None:
            values[name] = text
    return values


def utc_from_local(value: str) -> str:
    """A ``datetime-local`` value (entered in UTC) as an aware ISO timestamp."""
    return f"{value}Z" if LOCAL_DATETIME.match(value) else value


def local_from_utc(value: str) -> str:
    """An aware ISO timestamp as a ``datetime-local`` value in UTC."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M")
