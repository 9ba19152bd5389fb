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
