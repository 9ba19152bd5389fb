"""Keyset pagination: a page of a list, and the cursor that continues it.

A cursor names the sort key of the last item given, so the next page starts
right after it however many rows were added or removed meanwhile — unlike an
offset, which skips or repeats rows when the list changes between requests.
Cursors are opaque to clients (URL-safe base64 of the key as JSON); one that
does not decode is refused as a bad ``cursor`` field.

``keyset`` pages a query in the database (``WHERE (k1, k2) > (…) ORDER BY k1,
k2 LIMIT n+1``); ``page_of`` pages a list already sorted in Python, for the
short lists whose order the database cannot give (names across tables).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from coauthor.domain.errors import ValidationFailed

T = TypeVar("T")
Key = tuple[Any, ...]

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class PageRequest:
    """How many items to give, and after which key (None: from the start)."""

    limit: int = DEFAULT_LIMIT
    after: Key | None = None

    @classmethod
    def parse(cls, limit: int | None, cursor: str | None) -> PageRequest:
        if limit is not None and not 1 <= limit <= MAX_LIMIT:
            raise ValidationFailed.one("limit", f"must be between 1 and {MAX_LIMIT}")
        return cls(limit or DEFAULT_LIMIT, decode_cursor(cursor) if cursor else None)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(key: Key) -> str:
    raw = json.dumps(list(key), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Key:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or not key:
        raise ValidationFailed.one("cursor", "is not a cursor this list gave; start without one")
    return tuple(key)


def _continue(items: list[T], request: PageRequest, key: Callable[[T], Key]) -> Page[T]:
    if len(items) <= request.limit:
        return Page(items, None)
    shown = items[: request.limit]
    return Page(shown, encode_cursor(key(shown[-1])))


def page_of(items: Sequence[T], key: Callable[[T], Key], request: PageRequest) -> Page[T]:
    """A page of ``items``, which must already be sorted by ``key``."""
    after = request.after
    start = 0
    if after is not None:
        start = next(
            (i for i, item in enumerate(items) if _key_after(key(item), after)), len(items)
        )
    return _continue(list(items[start : start + request.limit + 1]), request, key)


def _key_after(key: Key, after: Key) -> bool:
    try:
        return key > after
    except TypeError:
        raise ValidationFailed.one("cursor", "is not a cursor this list gave") from None


def _typed(value: Any, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """A cursor's value as a parameter of ``column``'s type (dates travel as ISO text)."""
    column_type = column.type
    if isinstance(column_type, sa.types.TypeDecorator):
        column_type = column_type.impl_instance
    try:
        python_type = column_type.python_type
        if python_type in (date, datetime) and isinstance(value, str):
            value = python_type.fromisoformat(value)
    except (NotImplementedError, ValueError):
        raise ValidationFailed.one("cursor", "is not a cursor this list gave") from None
    return sa.literal(value, type_=column.type)


def keyset(
    session: Any,
    statement: sa.Select[Any],
    columns: Sequence[sa.ColumnElement[Any]],
    request: PageRequest,
    key: Callable[[Any], Key],
    *,
    descending: bool = False,
) -> Page[Any]:
    """Run ``statement`` ordered by ``columns`` from just after ``request.after``.

    ``key`` reads the same values as ``columns`` from a row, to make the next
    cursor; ``descending`` walks the order backwards (latest first).
    """
    if request.after is not None:
        if len(request.after) != len(columns):
            raise ValidationFailed.one("cursor", "is not a cursor this list gave")
        pairs = zip(request.after, columns, strict=True)
        after = sa.tuple_(*[_typed(value, column) for value, column in pairs])
        row = sa.tuple_(*columns)
        statement = statement.where(row < after if descending else row > after)
    order = [column.desc() if descending else column for column in columns]
    rows = list(session.scalars(statement.order_by(*order).limit(request.limit + 1)))
    return _continue(rows, request, key)
