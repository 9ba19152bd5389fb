"""Bulk inserts: many rows of one table in one ``executemany``, for archive imports.

SQLAlchemy's executemany prepares every row's parameters through its compiler,
which costs far more than the database's own work when a section holds a
million rows. Here each column's bind processor (the same conversion the ORM
applies: a UTC timestamp to SQLite's text, JSON to text) is looked up once and
applied in one loop, and the rows go to the driver's ``executemany`` as tuples.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

import numpy as np
import sqlalchemy as sa
from pydantic_core import TzInfo
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


INDEXES_AFTER_ROWS = 20_000
"""The fewest rows for which a bulk insert builds its table's indexes after the rows."""


@contextmanager
def indexes_built_after(session: Session, table: sa.TableClause, rows: int) -> Iterator[None]:
    """On SQLite, a bulk insert of ``rows`` rows into ``table`` with the table's own
    indexes (``CREATE INDEX``; not those of its key and unique constraints, which
    SQLite keeps itself) dropped meanwhile and made again afterwards, each from the
    SQL SQLite stored for it: sorting the rows once builds an index for about half of
    what inserting them one by one in its order costs (an archive import's commitments
    come in the order of their ids, not of the moment they opened or of their state).

    Only when the insert adds at least ``INDEXES_AFTER_ROWS`` rows and at least as many
    as the table holds (an index made again covers the whole table), and only inside
    a transaction the driver knows of (the site's engine begins each one itself,
    ``db/engine.py``): a rollback (an import refused midway: nothing is kept) brings
    the indexes back as they were. The context does not make them again when the
    insert raises.
    """
    if not _build_indexes_after(session, table, rows):
        yield
        return
    connection = session.connection()
    indexes = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master"
        " WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY rowid",
        (table.name,),
    ).all()
    quote = connection.dialect.identifier_preparer.quote
    for name, _sql in indexes:
        connection.exec_driver_sql(f"DROP INDEX {quote(name)}")
    yield
    for _name, sql in indexes:
        connection.exec_driver_sql(sql)


def _build_indexes_after(session: Session, table: sa.TableClause, rows: int) -> bool:
    if session.get_bind().dialect.name != "sqlite" or rows < INDEXES_AFTER_ROWS:
        return False
    if not session.connection().connection.driver_connection.in_transaction:  # type: ignore[union-attr]
        return False
    held = session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    return held <= rows


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
    three million of them. Any zero offset (``datetime.UTC``, pydantic's own UTC)
    is written ``+00:00`` by ``isoformat``, which is cut off.
    """
    text = value.isoformat(" ", "microseconds")
    if text.endswith("+00:00"):
        return text[:-6]
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


Convert = Callable[[Any], Any]
Column = Callable[[tuple], list]
"""A column's values, all of one batch, converted as the driver takes them."""


def _each_but_none(processor: Convert) -> Column:
    return lambda values: [value if value is None else processor(value) for value in values]


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
_FIRST_MICROS = (datetime(1, 1, 1, tzinfo=UTC) - EPOCH) // MICROSECOND
_LAST_MICROS = (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC) - EPOCH) // MICROSECOND
_DATE_TIME_SEPARATOR = 10
"""numpy writes ``YYYY-MM-DDTHH:MM:SS.ffffff``: the ``T`` at this index becomes a space."""


def _epoch_in(zone: tzinfo | None) -> datetime:
    """The epoch, in ``zone`` when that is a fixed offset of zero (``datetime.UTC`` or
    pydantic's own UTC, which an archive's times carry): a moment in the same zone object
    is then subtracted from it without asking the zone its offset twice (a third of the
    time for pydantic's). Any other moment is subtracted as aware moments are."""
    if type(zone) in (timezone, TzInfo) and zone.utcoffset(None) == timedelta(0):
        return EPOCH.replace(tzinfo=zone)
    return EPOCH


def _numpy_utc_texts(moments: list[datetime]) -> list[str]:
    """``sqlite_utc_text`` of each moment, formatted by numpy from its microseconds since
    the epoch (about a third of the time of ``isoformat`` with an offset); raises
    TypeError on a naive moment, ValueError outside the years ``datetime`` holds."""
    epoch = _epoch_in(moments[0].tzinfo) if moments else EPOCH
    micros = np.fromiter(
        ((moment - epoch) // MICROSECOND for moment in moments), dtype=np.int64, count=len(moments)
    )
    if len(micros) and (micros.min() < _FIRST_MICROS or micros.max() > _LAST_MICROS):
        raise ValueError("a moment outside the years datetime holds")
    texts = np.datetime_as_string(micros.astype("datetime64[us]"), unit="us")
    texts.view(np.uint32).reshape(len(texts), -1)[:, _DATE_TIME_SEPARATOR] = ord(" ")
    return texts.tolist()


def sqlite_utc_texts(values: tuple) -> list:
    """A column of timestamps (None kept) as ``sqlite_utc_text`` writes each, at once; a
    column it cannot take whole (a naive moment, an impossible year) goes a value at a
    time, which refuses what it refuses."""
    present = [value for value in values if value is not None]
    try:
        texts = _numpy_utc_texts(present)
    except (TypeError, ValueError, OverflowError):
        return _each_but_none(sqlite_utc_text)(values)
    if len(present) == len(values):
        return texts
    found = iter(texts)
    return [None if value is None else next(found) for value in values]


def _enum_values(column_type: sa.Enum, processor: Convert) -> Column:
    """An enum column's values by its lookup of members (and their values) in one C loop
    (``None`` maps to itself there); a value it does not hold goes through SQLAlchemy's
    processor, which keeps or refuses it as it always does."""
    lookup = dict(column_type._valid_lookup)

    def convert(values: tuple) -> list:
        try:
            return list(map(lookup.__getitem__, values))
        except KeyError:
            return _each_but_none(processor)(values)

    return convert


def _json_texts(processor: Convert) -> Column:
    """A JSON column's values as ``json.dumps`` writes each (SQLAlchemy's processor on
    SQLite, whose serializer it is by default): the dicts and lists by one C encoder made
    for the batch, as ``json.dumps`` makes one per value (with its own record of the
    containers it is in, so a value holding itself is refused alike); anything else,
    ``JSON.NULL`` among it, by the processor itself. About half of ``json.dumps``'s time
    per value: a million-event import writes a million payloads."""

    def convert(values: tuple) -> list:
        encode = json.encoder.c_make_encoder(
            {}, _DEFAULT_JSON.default, json.encoder.encode_basestring_ascii,
            None, ": ", ", ", False, False, True,
        )  # fmt: skip
        return [
            "".join(encode(value, 0))
            if type(value) in _CONTAINERS
            else (value if value is None else processor(value))
            for value in values
        ]

    return convert


_DEFAULT_JSON = json.JSONEncoder()
_CONTAINERS = (dict, list)


def _encodes_as_json_dumps(dialect: sa.Dialect, column: sa.Column) -> bool:
    """Whether the column's processor is ``json.dumps`` itself, with nothing after it."""
    return (
        json.encoder.c_make_encoder is not None
        and isinstance(column.type, sa.JSON)
        and dialect.name == "sqlite"
        and getattr(dialect, "_json_serializer", None) is None
    )


def _processor(dialect: sa.Dialect, column: sa.Column) -> Convert | None:
    if dialect.name == "sqlite" and isinstance(column.type, UTCDateTime):
        return sqlite_utc_text
    return column.type._cached_bind_processor(dialect)


def _processors(
    dialect: sa.Dialect, table: sa.TableClause, columns: Sequence[str]
) -> list[Convert | None]:
    return [_processor(dialect, table.c[name]) for name in columns]


def _column_conversion(dialect: sa.Dialect, column: sa.Column, processor: Convert) -> Column:
    """How a whole column of a batch is converted: by the enum's lookup when the dialect's
    string type adds nothing to it (SQLite's), else ``processor`` on each value but None."""
    column_type = column.type
    if processor is sqlite_utc_text:
        return sqlite_utc_texts
    if _encodes_as_json_dumps(dialect, column):
        return _json_texts(processor)
    if isinstance(column_type, sa.Enum) and sa.String().bind_processor(dialect) is None:
        return _enum_values(column_type, processor)
    return _each_but_none(processor)


Conversions = list[tuple[int, Column]]


def _conversions(dialect: sa.Dialect, table: sa.TableClause, columns: Sequence[str]) -> Conversions:
    processors = _processors(dialect, table, columns)
    return [
        (index, _column_conversion(dialect, table.c[columns[index]], processor))
        for index, processor in enumerate(processors)
        if processor
    ]


def _converted(convert: Conversions, rows: Iterable[Sequence[Any]]) -> list[tuple]:
    """The rows with their columns converted a column at a time (a batch's rows taken
    apart and put together again by ``zip``, in C), not a value at a time in a loop over
    rows and columns."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not convert or not rows:
        return [tuple(row) for row in rows]
    columns: list[Any] = list(zip(*rows, strict=True))
    for index, conversion in convert:
        columns[index] = conversion(columns[index])
    return list(zip(*columns, strict=True))


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
