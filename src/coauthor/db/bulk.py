"""Bulk inserts: many rows of one table in one ``executemany``, for archive imports.

SQLAlchemy's executemany prepares every row's parameters through its compiler,
which costs far more than the database's own work when a section holds a
million rows. Here each column's bind processor (the same conversion the ORM
applies: a UTC timestamp to SQLite's text, JSON to text) is looked up once and
applied in one loop, and the rows go to the driver's ``executemany`` as tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

BATCH = 50_000


def _placeholder(dialect: sa.Dialect) -> str:
    return "?" if dialect.paramstyle == "qmark" else "%s"


def insert_sql(dialect: sa.Dialect, table: sa.Table, columns: Sequence[str]) -> str:
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    marks = ", ".join(_placeholder(dialect) for _ in columns)
    return f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"


def _processors(
    dialect: sa.Dialect, table: sa.Table, columns: Sequence[str]
) -> list[Callable[[Any], Any] | None]:
    return [table.c[name].type._cached_bind_processor(dialect) for name in columns]


def insert_rows(
    session: Session, table: sa.Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``; returns how many."""
    connection = session.connection()
    dialect = connection.dialect
    sql = insert_sql(dialect, table, columns)
    processors = _processors(dialect, table, columns)
    convert = [
        (index, processor) for index, processor in enumerate(processors) if processor is not None
    ]
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    count, batch = 0, []
    try:
        for row in rows:
            if convert:
                row = list(row)
                for index, processor in convert:
                    if row[index] is not None:
                        row[index] = processor(row[index])
            batch.append(tuple(row))
            if len(batch) == BATCH:
                cursor.executemany(sql, batch)
                count, batch = count + len(batch), []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    finally:
        cursor.close()
    return count
