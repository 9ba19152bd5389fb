"""Bulk inserts: many rows of one table in one ``executemany``, for archive imports.

SQLAlchemy's executemany prepares every row's parameters through its compiler,
which costs far more than the database's own work when a section holds a
million rows. Here each column's bind processor (the same conversion the ORM
applies: a UTC timestamp to SQLite's text, JSON to text) is looked up once and
applied in one loop, and the rows go to the driver's ``executemany`` as tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from coauthor.db.types import UTCDateTime

BATCH = 50_000

ANALYZE_AFTER_ROWS = 10_000
"""A bulk insert of at least this many rows refreshes the table's planner statistics."""


def refresh_statistics(session: Session, tables: Sequence[sa.Table]) -> None:
    """On PostgreSQL, ``ANALYZE`` tables a bulk insert just filled, in its transaction.

    Until autovacuum gets to a table (a minute or more), PostgreSQL plans its queries as
    if it were nearly empty: right after bench_live's import of 120,000 votes a vote's
    lookup by its whole key went through ``ix_votes_recent`` and checked every vote of
    the deliberation (25-30 ms of the server's CPU per vote, where it takes
    microseconds once analysed). SQLite's planner needs no statistics for these lookups.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    quote = session.get_bind().dialect.identifier_preparer.quote
    for table in tables:
        session.execute(sa.text(f"ANALYZE {quote(table.name)}"))


def _placeholder(dialect: sa.Dialect) -> str:
    return "?" if dialect.paramstyle == "qmark" else "%s"


def insert_sql(dialect: sa.Dialect, table: sa.TableClause, columns: Sequence[str]) -> str:
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    marks = ", ".join(_placeholder(dialect) for _ in columns)
    return f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"


def sqlite_utc_text(value: datetime) -> str:
    """A timestamp as SQLite stores a ``UTCDateTime``: naive UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``.

    The same text SQLAlchemy's processors write (tests/unit/test_bulk.py checks),
    in one C call instead of several Python ones: a million-act import has
    three million of them.
    """
    if value.tzinfo is UTC:
        return value.isoformat(" ", "microseconds")[:-6]  # without its "+00:00"
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _processor(dialect: sa.Dialect, column: sa.Column) -> Callable[[Any], Any] | None:
    if dialect.name == "sqlite" and isinstance(column.type, UTCDateTime):
        return sqlite_utc_text
    return column.type._cached_bind_processor(dialect)


def _processors(
    dialect: sa.Dialect, table: sa.TableClause, columns: Sequence[str]
) -> list[Callable[[Any], Any] | None]:
    return [_processor(dialect, table.c[name]) for name in columns]


Conversions = list[tuple[int, Callable[[Any], Any]]]


def _conversions(dialect: sa.Dialect, table: sa.TableClause, columns: Sequence[str]) -> Conversions:
    processors = _processors(dialect, table, columns)
    return [(index, processor) for index, processor in enumerate(processors) if processor]


def _converted(convert: Conversions, rows: Iterable[Sequence[Any]]) -> list[tuple]:
    if not convert:
        return [tuple(row) for row in rows]
    converted = []
    for row in rows:
        row = list(row)
        for index, processor in convert:
            if row[index] is not None:
                row[index] = processor(row[index])
        converted.append(tuple(row))
    return converted


def converted_rows(
    dialect: sa.Dialect,
    table: sa.TableClause,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> list[tuple]:
    """``rows`` with each value as ``insert_rows`` hands it to the driver, for
    ``insert_converted`` (the conversion can then run in another process)."""
    return _converted(_conversions(dialect, table, columns), rows)


def _batches(rows: Iterable[Sequence[Any]]) -> Iterator[list[Sequence[Any]]]:
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _execute(
    session: Session, table: sa.TableClause, columns: Sequence[str], batches: Iterable[list]
) -> int:
    connection = session.connection()
    sql = insert_sql(connection.dialect, table, columns)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    count = 0
    try:
        for batch in batches:
            cursor.executemany(sql, batch)
            count += len(batch)
    finally:
        cursor.close()
    return count


def insert_rows(
    session: Session, table: sa.TableClause, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``; returns how many."""
    convert = _conversions(session.connection().dialect, table, columns)
    return _execute(
        session, table, columns, (_converted(convert, batch) for batch in _batches(rows))
    )


def insert_converted(
    session: Session, table: sa.TableClause, columns: Sequence[str], rows: list[tuple]
) -> int:
    """Insert rows ``converted_rows`` made (for this session's dialect) as they are."""
    return _execute(session, table, columns, [rows] if rows else [])
