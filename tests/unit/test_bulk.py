"""Bulk inserts write exactly what SQLAlchemy's own processors write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from pydantic_core import TzInfo

from coauthor.db.bulk import sqlite_utc_text
from coauthor.db.engine import make_engine
from coauthor.db.types import UTCDateTime

SQLITE = sa.create_engine("sqlite://").dialect
SQLALCHEMY = UTCDateTime()._cached_bind_processor(SQLITE)


@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)),
    st.integers(-14 * 60, 14 * 60),
)
def test_utc_text_is_sqlalchemys(moment: datetime, offset_minutes: int) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    assert sqlite_utc_text(aware) == SQLALCHEMY(aware)
    assert sqlite_utc_text(aware.astimezone(UTC)) == SQLALCHEMY(aware)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        sqlite_utc_text(datetime(2026, 1, 1))


def test_rows_are_written_as_sqlalchemy_writes_them() -> None:
    """Converted columns (times, JSON), a null time left null, in batches, rows as lists;
    and converted first (``converted_rows``), then inserted as they are."""
    from sqlalchemy.orm import Session

    from coauthor.db import bulk

    metadata = sa.MetaData()
    table = sa.Table(
        "t",
        metadata,
        sa.Column("n", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=True),
        sa.Column("payload", sa.JSON, nullable=True),
    )
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    moment = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    rows = [
        (n, moment + timedelta(minutes=n) if n % 3 else None, {"n": n, "odd": n % 2 == 1})
        for n in range(7)
    ]
    names = ("n", "at", "payload")
    with Session(engine) as session, pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "BATCH", 3)
        assert bulk.insert_rows(session, table, names, map(list, rows)) == 7
        written = session.execute(sa.text("SELECT n, at, payload FROM t ORDER BY n")).all()
        session.execute(sa.delete(table))
        converted = bulk.converted_rows(SQLITE, table, names, rows)  # as a worker makes them
        assert bulk.insert_converted(session, table, names, converted) == 7
        apart = session.execute(sa.text("SELECT n, at, payload FROM t ORDER BY n")).all()
        session.execute(sa.delete(table))
        session.execute(sa.insert(table), [dict(zip(names, r, strict=True)) for r in rows])
        expected = session.execute(sa.text("SELECT n, at, payload FROM t ORDER BY n")).all()
    assert written == apart == expected
    assert written[1][1] == "2026-03-01 07:31:00.000000"


def test_a_moment_pydantic_read_is_written_as_sqlalchemy_writes_it() -> None:
    """pydantic's UTC is its own tzinfo, not ``datetime.UTC``: the same text either way."""
    from pydantic import TypeAdapter

    for text in ("2026-03-01T09:30:00Z", "2026-03-01T09:30:00.25+00:00", "2026-03-01T11:30+02:00"):
        moment = TypeAdapter(datetime).validate_json(f'"{text}"')
        assert sqlite_utc_text(moment) == SQLALCHEMY(moment)


def test_enum_columns_are_written_as_sqlalchemy_writes_them() -> None:
    """Members, their values as plain strings, None, and a string that is no member
    (SQLAlchemy keeps it as it is): the bulk insert writes what SQLAlchemy's insert does."""
    import enum

    from sqlalchemy.orm import Session

    from coauthor.db import bulk
    from coauthor.db.types import enum_column

    class Colour(enum.StrEnum):
        RED = "red"
        DARK_BLUE = "dark blue"

    metadata = sa.MetaData()
    table = sa.Table(
        "t",
        metadata,
        sa.Column("n", sa.Integer, primary_key=True),
        sa.Column("colour", enum_column(Colour), nullable=True),
    )
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    names = ("n", "colour")
    members = [(0, Colour.RED), (1, Colour.DARK_BLUE), (2, None), (3, "red")]
    stranger = [*members, (4, "green")]
    with Session(engine) as session:
        for rows in (members, stranger):
            bulk.insert_rows(session, table, names, rows)
            written = session.execute(sa.text("SELECT n, colour FROM t ORDER BY n")).all()
            session.execute(sa.delete(table))
            session.execute(sa.insert(table), [dict(zip(names, r, strict=True)) for r in rows])
            expected = session.execute(sa.text("SELECT n, colour FROM t ORDER BY n")).all()
            session.execute(sa.delete(table))
            assert written == expected
            assert written[1] == (1, "dark blue")
            assert written[2] == (2, None)


def _zone(minutes: int) -> tzinfo:
    """A fixed offset; -1000 and -1001 stand for pydantic's UTC and London (whose offset is
    zero in winter only)."""
    if minutes == -1000:
        return TzInfo(0)
    if minutes == -1001:
        return ZoneInfo("Europe/London")
    return timezone(timedelta(minutes=minutes))


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.tuples(
                st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
                st.sampled_from([-1000, -1001, 0]) | st.integers(-14 * 60, 14 * 60),
            ),
        ),
        max_size=30,
    )
)
def test_a_column_of_moments_is_written_as_each_is(values: list) -> None:
    """The column's way (numpy) gives the text of each moment's own way, None kept."""
    from coauthor.db.bulk import sqlite_utc_texts

    column = tuple(
        None if value is None else value[0].replace(tzinfo=_zone(value[1])) for value in values
    )
    expected = [None if moment is None else SQLALCHEMY(moment) for moment in column]
    assert sqlite_utc_texts(column) == expected


def test_a_column_with_a_naive_moment_is_refused() -> None:
    from coauthor.db.bulk import sqlite_utc_texts

    with pytest.raises(ValueError, match="naive"):
        sqlite_utc_texts((datetime(2026, 1, 1, tzinfo=UTC), None, datetime(2026, 1, 1)))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.lists(JSON_VALUES, max_size=6))
def test_a_json_column_is_written_as_sqlalchemy_writes_it(values: list) -> None:
    from coauthor.db import bulk

    column = sa.Column("payload", sa.JSON)
    processor = column.type._cached_bind_processor(SQLITE)
    convert = bulk._column_conversion(SQLITE, column, processor)
    assert convert(tuple(values)) == [None if v is None else processor(v) for v in values]


def test_a_json_value_holding_itself_is_refused_as_sqlalchemy_refuses_it() -> None:
    from coauthor.db import bulk

    column = sa.Column("payload", sa.JSON)
    processor = column.type._cached_bind_processor(SQLITE)
    convert = bulk._column_conversion(SQLITE, column, processor)
    looped: dict = {"a": []}
    looped["a"].append(looped)
    with pytest.raises(ValueError, match="Circular reference") as ours:
        convert(({"fine": 1}, looped))
    with pytest.raises(ValueError, match="Circular reference") as theirs:
        processor(looped)
    assert str(ours.value) == str(theirs.value)
    assert convert(({"fine": 1}, sa.JSON.NULL)) == [processor({"fine": 1}), processor(sa.JSON.NULL)]


def _indexed_table(folder: Path) -> tuple[sa.Engine, sa.Table]:
    """A table with two indexes of its own and a unique constraint, in a site's engine."""
    metadata = sa.MetaData()
    table = sa.Table(
        "t",
        metadata,
        sa.Column("n", sa.Integer, primary_key=True),
        sa.Column("opened", sa.Integer, nullable=False),
        sa.Column("state", sa.Integer, nullable=False),
        sa.UniqueConstraint("state", "n", name="uq_t_state"),
        sa.Index("ix_t_opened", "opened", "n"),
        sa.Index("ix_t_state", "state", sa.text("opened DESC")),
    )
    engine = make_engine(f"sqlite:///{folder / 'bulk.sqlite3'}")
    metadata.create_all(engine)
    return engine, table


def _schema(session: sa.orm.Session) -> set[tuple]:
    query = "SELECT type, name, tbl_name, sql FROM sqlite_master"
    return set(session.execute(sa.text(query)).all())


def _indexes(session: sa.orm.Session) -> set[str]:
    query = "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    return set(session.scalars(sa.text(query)))


@pytest.mark.parametrize("held", [0, 5])
def test_indexes_built_after_a_bulk_insert_are_the_ones_before(held: int, tmp_path: Path) -> None:
    """Dropped during the insert (the constraints' own kept), the same ones after, each
    from its stored SQL; the rows the same as inserted with them in place."""
    from sqlalchemy.orm import Session

    from coauthor.db import bulk

    engine, table = _indexed_table(tmp_path)
    rows = [(n, (n * 7919) % 101, n % 3) for n in range(40)]
    names = ("n", "opened", "state")
    with Session(engine) as session, pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "INDEXES_AFTER_ROWS", 10)
        bulk.insert_rows(session, table, names, rows[:held])
        before = _schema(session)
        with bulk.indexes_built_after(session, table, len(rows) - held):
            assert _indexes(session) == set()
            bulk.insert_rows(session, table, names, rows[held:])
        assert _schema(session) == before
        assert session.execute(sa.text("PRAGMA integrity_check")).scalar_one() == "ok"
        assert session.execute(sa.select(table).order_by(table.c.n)).all() == rows


@pytest.mark.parametrize(("held", "adding"), [(0, 9), (11, 10)])
def test_indexes_stay_for_a_small_insert_or_a_fuller_table(
    held: int, adding: int, tmp_path: Path
) -> None:
    from sqlalchemy.orm import Session

    from coauthor.db import bulk

    engine, table = _indexed_table(tmp_path)
    with Session(engine) as session, pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "INDEXES_AFTER_ROWS", 10)
        bulk.insert_rows(session, table, ("n", "opened", "state"), [(n, n, n) for n in range(held)])
        with bulk.indexes_built_after(session, table, adding):
            assert _indexes(session) == {"ix_t_opened", "ix_t_state"}


def test_indexes_stay_outside_a_transaction_the_driver_knows_of(tmp_path: Path) -> None:
    """A plain engine leaves the transaction to the driver, which begins none before a
    DROP INDEX: a rollback could not bring the indexes back."""
    from sqlalchemy.orm import Session

    from coauthor.db import bulk

    engine, table = _indexed_table(tmp_path)
    plain = sa.create_engine(engine.url)
    with Session(plain) as session, pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "INDEXES_AFTER_ROWS", 10)
        with bulk.indexes_built_after(session, table, 20):
            assert _indexes(session) == {"ix_t_opened", "ix_t_state"}


def test_indexes_dropped_for_an_insert_come_back_with_a_rollback(tmp_path: Path) -> None:
    from sqlalchemy.orm import Session

    from coauthor.db import bulk

    engine, table = _indexed_table(tmp_path)
    with Session(engine) as session, pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "INDEXES_AFTER_ROWS", 10)
        before = _schema(session)
        with pytest.raises(RuntimeError), bulk.indexes_built_after(session, table, 20):
            bulk.insert_rows(session, table, ("n", "opened", "state"), [(1, 1, 1)])
            raise RuntimeError("refused midway")
        assert _indexes(session) == set()
        session.rollback()
        assert _schema(session) == before
        assert session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 0
