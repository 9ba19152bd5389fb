"""Bulk inserts write exactly what SQLAlchemy's own processors write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from coauthor.db.bulk import sqlite_utc_text
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
