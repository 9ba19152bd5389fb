"""What users may send: the base of every input model, shared field types, and ``parse``.

Each feature keeps its input models beside its services (for example
``services/mechanics/inputs.py``). The web forms, the REST API, the CLI and
the archive all validate through those models, so a rule is written once.
``parse`` turns pydantic's errors into the domain's ``ValidationFailed`` with
the path of each bad field and a message in plain words (input_messages.py).
"""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from coauthor.domain.errors import FieldError, ValidationFailed
from coauthor.ids import ID_PATTERN
from coauthor.services.input_messages import plain_message

M = TypeVar("M", bound=BaseModel)
Path = tuple[str | int, ...]

RESERVED_IDS = frozenset({"site"})
"""Names the application uses itself: ``site`` is the event log's site-wide chain."""


def _aware(value: datetime) -> datetime:
    """An aware time, in UTC: the same instant always reads, stores and hashes the same."""
    if value.tzinfo is None:
        raise ValueError("needs a time zone (for example 2026-03-01T09:00:00Z)")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


def _public_id(value: str) -> str:
    if value in RESERVED_IDS:
        raise ValueError(f"{value!r} is reserved")
    if not ID_PATTERN.match(value):
        raise ValueError(
            "is not an id: ids are a 2 to 4 letter prefix, '_' and 16 letters, digits, "
            "'-' or '_' (for example al_WBgWfJD9pT5Vk9KV)"
        )
    return value


EARLIEST_DATE = date(1950, 1, 1)
LATEST_DATE = date(2100, 12, 31)
"""Dates of the mechanics (agreements, obligations, meetings, contributions) fall in these years."""


def _plausible(value: date) -> date:
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(f"enter a date between {EARLIEST_DATE.year} and {LATEST_DATE.year}")
    return value


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=10_000)]
Ref = Annotated[str, Field(min_length=1, max_length=40)]
Email = Annotated[EmailStr, AfterValidator(lambda value: value.lower()), Field(max_length=254)]
AwareDateTime = Annotated[datetime, AfterValidator(_aware)]
Day = Annotated[date, AfterValidator(_plausible)]
"""A date that could be real: between EARLIEST_DATE and LATEST_DATE."""
Moment = Annotated[datetime, AfterValidator(_aware), AfterValidator(_plausible)]
"""A time zone-aware moment on a plausible day (a meeting's start)."""
PublicId = Annotated[str, AfterValidator(_public_id)]
"""An id the application could have made (``coauthor.ids``): what an archive may bring in."""
MAX_AMOUNT = Decimal("1e12")
"""Amounts stay within 15 significant digits, which every backend stores exactly."""
Money = Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, decimal_places=2)]
Percent = Annotated[Decimal, Field(gt=0, le=100, decimal_places=2)]


UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""NUL (PostgreSQL's text cannot hold it) and lone surrogates (not Unicode, not UTF-8)."""


def _strings(value: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Every string in a JSON-like value (dict keys too), with its path."""
    stack: list[tuple[Path, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, Mapping):
            for key, child in item.items():
                if isinstance(key, str):
                    yield where, key
                stack.append(((*where, str(key)), child))
        elif isinstance(item, list | tuple):
            stack.extend(((*where, index), child) for index, child in enumerate(item))


def _unstorable_reason(text: str) -> str | None:
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character (\\u0000), which text may not hold"
    return f"is not valid Unicode: it holds a lone surrogate (\\u{ord(found.group()):04x})"


STORABLE_TEXT = "storable_text"
"""A validation context key: the caller has checked the whole input's text already
(``text_may_be_unstorable``), so no model walks its part again."""
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
"""NUL or a surrogate as a JSON escape (an escaped pair is flagged too)."""
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_may_be_unstorable(json_text: str) -> bool:
    """Whether any string decoded from ``json_text`` could hold NUL or a lone surrogate.

    False is certain: only these characters or these escapes make them. True may
    be a false alarm (an escaped backslash before ``u0000``, a proper surrogate
    pair): then the models check each string as usual. Each search is one fast
    scan (a character, a literal prefix; ASCII text holds no surrogate).
    """
    if "\x00" in json_text or _UNSTORABLE_ESCAPE.search(json_text) is not None:
        return True
    return not json_text.isascii() and _SURROGATE.search(json_text) is not None


def unstorable_text(value: Any) -> list[tuple[Path, str]]:
    """Where ``value`` holds text no database can store, and why, in document order."""
    problems = []
    for path, text in _strings(value):
        reason = _unstorable_reason(text)
        if reason is not None:
            problems.append((path, reason))
    return sorted(problems, key=lambda problem: [str(part) for part in problem[0]])


_TIME_TYPES = (date, datetime)


def is_time_field(annotation: Any) -> bool:
    """A ``date`` or ``datetime`` field, also optional or annotated."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(is_time_field(arg) for arg in typing.get_args(annotation))
    return isinstance(annotation, type) and issubclass(annotation, _TIME_TYPES)


@functools.cache
def _time_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The model's date and time fields, in field order (looked up once per model)."""
    return tuple(
        name for name, info in model.model_fields.items() if is_time_field(info.annotation)
    )


def _numbers_for_times(model: type[BaseModel], data: Mapping[str, Any]) -> list[InitErrorDetails]:
    """pydantic reads 1700000000 as a date; a person never means a number there."""
    return [
        InitErrorDetails(
            type=PydanticCustomError(
                "time_not_text", "a date or time is written as text (2026-03-01), not a number"
            ),
            loc=(name,),
            input=data[name],
        )
        for name in _time_fields(model)
        if isinstance(data.get(name), int | float)
    ]


class Input(BaseModel):
    """The base of every input model: unknown fields refused, text that can be stored.

    Before any field is read, the raw input is checked once for what no field
    type should ever let through: NUL characters and lone surrogates anywhere
    (PostgreSQL refuses NUL in text, and neither can be written as UTF-8) and
    numbers where a date or time is expected.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, Mapping):
            return data
        checked = info.context is not None and info.context.get(STORABLE_TEXT, False)
        errors = [
            InitErrorDetails(
                type=PydanticCustomError("unstorable_text", reason), loc=path, input=""
            )
            for path, reason in ([] if checked else unstorable_text(data))
        ]
        errors += _numbers_for_times(cls, data)
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return data


def _loc_from_message(loc: tuple[str | int, ...], message: str) -> tuple[tuple, str]:
    """Model-level validators say "field: reason"; move the field into the location."""
    prefix, sep, rest = message.partition(": ")
    if sep and prefix and " " not in prefix:
        path = tuple(int(p) if p.isdigit() else p for p in prefix.split("."))
        return loc + path, rest
    return loc, message


def field_errors(
    raw: Iterable[Mapping[str, Any]], skip: Collection[str | int] = ()
) -> list[FieldError]:
    """Pydantic's error dicts as FieldErrors; ``skip`` drops location parts such as "body"."""
    errors: list[FieldError] = []
    for error in raw:
        loc = tuple(part for part in error["loc"] if part not in skip)
        message = plain_message(error)
        for part in message.split("; "):
            path, text = _loc_from_message(loc, part)
            errors.append(FieldError(path, text))
    return errors


def errors_of(exc: ValidationError) -> list[FieldError]:
    return field_errors(exc.errors())


def parse(model: type[M], data: Any) -> M:
    """Validate ``data`` (a dict) into ``model`` or raise ``ValidationFailed``."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(errors_of(exc)) from None
