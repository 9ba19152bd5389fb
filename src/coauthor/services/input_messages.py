"""Pydantic's errors in plain words: the same sentence in a form, the API and the CLI.

Pydantic writes for developers ("String should have at least 1 character",
"Input should be 'joint_venture', …", "≤ 1E+12"). ``plain_message`` turns
each of its error types into a short instruction about the field it sits
next to; the messages our own validators raise are already written that way
and pass through.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from coauthor.domain.labels import in_words, label

DATE_EXAMPLE = "2026-03-31"
DATETIME_EXAMPLE = "2026-03-31T09:00:00Z"
EMAIL_EXAMPLE = "name@example.org"

Context = Mapping[str, Any]


def number_text(value: Any) -> str:
    """A limit as people write it: ``1E+12`` → ``1 000 000 000 000``, ``0.5`` stays."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if number == number.to_integral_value():
        return f"{int(number):,}".replace(",", "\u202f")
    return format(number.normalize(), "f")


def _choices(error: Context, ctx: Context) -> str:
    """Pydantic's ``'a', 'b' or 'c'`` (or ``-1, 0 or 1``) as words: "choose one of: a, b or c"."""
    expected = str(ctx.get("expected", ""))
    quoted = re.findall(r"'([^']*)'", expected)
    if len(quoted) == 1:
        return f"must be {quoted[0]}"
    return f"choose one of: {in_words([label(v).lower() for v in quoted]) if quoted else expected}"


def _too_short(error: Context, ctx: Context) -> str:
    if ctx.get("min_length") == 1:
        return "this cannot be empty"
    return f"must be at least {ctx.get('min_length')} characters long"


def _too_long(error: Context, ctx: Context) -> str:
    given = error.get("input")
    longer = f" (it has {len(given)})" if isinstance(given, str) else ""
    return f"must be at most {number_text(ctx.get('max_length'))} characters{longer}"


def _value_error(error: Context, ctx: Context) -> str:
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    if message.startswith("value is not a valid email address"):
        return f"enter an email address, such as {EMAIL_EXAMPLE}"
    return message


def _fixed(text: str) -> Callable[[Context, Context], str]:
    return lambda error, ctx: text


def _limit(words: str, key: str) -> Callable[[Context, Context], str]:
    return lambda error, ctx: f"{words} {number_text(ctx.get(key))}"


ENTER_A_DATE = f"enter a date as year-month-day, such as {DATE_EXAMPLE}"
ENTER_A_TIME = f"enter a date and time, such as {DATETIME_EXAMPLE}"
ENTER_A_NUMBER = "enter a number, such as 1250 or 1250.50"
ENTER_A_WHOLE_NUMBER = "enter a whole number"

MESSAGES: dict[str, Callable[[Context, Context], str]] = {
    "missing": _fixed("this is required"),
    "string_too_short": _too_short,
    "string_too_long": _too_long,
    "string_type": _fixed("enter text here"),
    "too_short": lambda error, ctx: f"needs at least {ctx.get('min_length')}",
    "too_long": lambda error, ctx: f"may hold at most {number_text(ctx.get('max_length'))}",
    "enum": _choices,
    "literal_error": _choices,
    "int_parsing": _fixed(ENTER_A_WHOLE_NUMBER),
    "int_type": _fixed(ENTER_A_WHOLE_NUMBER),
    "int_from_float": _fixed(ENTER_A_WHOLE_NUMBER),
    "float_parsing": _fixed(ENTER_A_NUMBER),
    "float_type": _fixed(ENTER_A_NUMBER),
    "decimal_parsing": _fixed(ENTER_A_NUMBER),
    "decimal_type": _fixed(ENTER_A_NUMBER),
    "finite_number": _fixed(ENTER_A_NUMBER),
    "decimal_max_places": lambda error, ctx: (
        f"use at most {ctx.get('decimal_places')} digits after the decimal point"
    ),
    "decimal_max_digits": _fixed("is too long a number"),
    "decimal_whole_digits": _fixed("is too large"),
    "greater_than_equal": _limit("must be at least", "ge"),
    "greater_than": _limit("must be more than", "gt"),
    "less_than_equal": _limit("must be at most", "le"),
    "less_than": _limit("must be less than", "lt"),
    "date_parsing": _fixed(ENTER_A_DATE),
    "date_from_datetime_parsing": _fixed(ENTER_A_DATE),
    "date_from_datetime_inexact": _fixed(ENTER_A_DATE),
    "date_type": _fixed(ENTER_A_DATE),
    "datetime_parsing": _fixed(ENTER_A_TIME),
    "datetime_from_date_parsing": _fixed(ENTER_A_TIME),
    "datetime_type": _fixed(ENTER_A_TIME),
    "bool_parsing": _fixed("answer true or false"),
    "bool_type": _fixed("answer true or false"),
    "list_type": _fixed("must be a list"),
    "dict_type": _fixed("must be an object with named fields"),
    "model_type": _fixed("must be an object with named fields"),
    "model_attributes_type": _fixed("must be an object with named fields"),
    "extra_forbidden": _fixed("is not a field that can be set here"),
    "value_error": _value_error,
}


def plain_message(error: Mapping[str, Any]) -> str:
    """One pydantic error dict as a short instruction in plain words."""
    ctx = error.get("ctx") or {}
    plain = MESSAGES.get(str(error.get("type", "")))
    if plain is None:
        return str(error.get("msg", "")).removeprefix("Value error, ")
    return plain(error, ctx)
