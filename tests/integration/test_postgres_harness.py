"""Proves the integration harness: each database URL is real, fresh and usable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

MINIMUM_POSTGRES_VERSION_NUM = 150000


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = sa.create_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def test_database_answers_select_one(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(sa.text("select 1")).scalar_one() == 1


@pytest.mark.parametrize("attempt", [1, 2])
def test_each_test_gets_an_empty_database(engine: Engine, attempt: int) -> None:
    assert sa.inspect(engine).get_table_names() == []
    with engine.begin() as conn:
        conn.execute(sa.text("create table harness_probe (attempt integer)"))
        conn.execute(sa.text("insert into harness_probe values (:attempt)"), {"attempt": attempt})
    assert sa.inspect(engine).get_table_names() == ["harness_probe"]


@pytest.mark.postgres
def test_postgres_server_is_version_15_or_newer(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            version_num = int(conn.execute(sa.text("show server_version_num")).scalar_one())
            database = conn.execute(sa.text("select current_database()")).scalar_one()
    finally:
        engine.dispose()
    assert engine.dialect.driver == "psycopg"
    assert database == "coauthor_test"
    assert version_num >= MINIMUM_POSTGRES_VERSION_NUM
