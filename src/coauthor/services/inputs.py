"""What users may send: the base of every input model, shared field types, and ``parse``.

Each feature keeps its input models beside its services (for example
``services/mechanics/inputs.py``). The web forms, the REST API, the CLI and
the archive all validate through those models, so a rule is written once.
``parse`` turns pydantic's errors into the domain's ``ValidationFailed`` with
the path of each bad field and a message in plain words (input_messages.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
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
)

from coauthor.domain.errors import FieldError, ValidationFailed
from coauthor.services.input_messages import plain_message

M = TypeVar("M", bound=BaseModel)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone (for example 2026-03-01T09:00:00Z)")
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
MAX_AMOUNT = Decimal("1e12")
"""Amounts stay within 15 significant digits, which every backend stores exactly."""
Money = Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, decimal_places=2)]
Percent = Annotated[Decimal, Field(gt=0, le=100, decimal_places=2)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


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
