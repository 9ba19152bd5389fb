"""Read-only queries for the operator's quick commands, without loading SQLAlchemy.

Importing SQLAlchemy takes about 0.3 s of CPU on our reference machine, more than
half of what a command like ``coauthor alliance list`` may take in all. A quick
read therefore opens the database with its DB-API driver (``sqlite3``, read-only;
``psycopg``), checks that the schema is at ``HEAD_REVISION`` and runs one plain
``SELECT``. It answers ``None`` whenever it cannot answer with certainty — a URL
it does not handle, a database that does not exist yet or is behind, any driver
error — and the caller then takes the full path (the runtime, which migrates and
reports errors in the usual way). tests/integration/test_quick_reads.py checks
that both paths give the same rows on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from coauthor.db.migrate import HEAD_REVISION

SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg")
REVISION_QUERY = "SELECT version_num FROM alembic_version"


def read_rows(database_url: str, query: str) -> list[tuple[Any, ...]] | None:
    """The rows of ``query`` on a current database, or None when the full path must answer."""
    driver = _driver(database_url)
    if driver is None:
        return None
    try:
        return _current_rows(driver.connect, query)
    except driver.error:
        return None


def utc_timestamp(value: datetime | str) -> datetime:
    """A stored ``UTCDateTime`` as the full path loads it: aware, in UTC.

    SQLite keeps it as naive UTC text; PostgreSQL returns an aware datetime.
    """
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _current_rows(connect: Callable[[], Any], query: str) -> list[tuple[Any, ...]] | None:
    with closing(connect()) as connection, closing(connection.cursor()) as cursor:
        cursor.execute(REVISION_QUERY)
        revision = cursor.fetchone()
        if revision is None or revision[0] != HEAD_REVISION:
            return None
        cursor.execute(query)
        return [tuple(row) for row in cursor.fetchall()]


@dataclass(frozen=True)
class _Driver:
    connect: Callable[[], Any]
    error: type[Exception]
    """The driver's base error: the quick read gives way to the full path on any of them."""


def _driver(database_url: str) -> _Driver | None:
    if database_url.startswith(SQLITE_PREFIX) and "?" not in database_url:
        return _sqlite_driver(database_url.removeprefix(SQLITE_PREFIX))
    if urlsplit(database_url).scheme in POSTGRES_SCHEMES:
        return _postgres_driver(database_url)
    return None


def _sqlite_driver(path: str) -> _Driver | None:
    """Read-only, so that a quick read never creates a database file that is not there."""
    if not path or path == ":memory:" or not Path(path).is_file():
        return None
    import sqlite3

    uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"
    return _Driver(lambda: sqlite3.connect(uri, uri=True), sqlite3.Error)


def _postgres_driver(database_url: str) -> _Driver:
    """libpq reads the same URL as SQLAlchemy once the driver name is dropped."""
    import psycopg

    conninfo = "postgresql" + database_url[database_url.index("://") :]
    return _Driver(lambda: psycopg.connect(conninfo, autocommit=True), psycopg.Error)
