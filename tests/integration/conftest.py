"""Integration fixtures: a throwaway PostgreSQL server on loopback, and database URLs.

``postgres_url`` starts one server per test session (per xdist worker) with
``initdb``/``pg_ctl``, in a temporary directory that is removed afterwards.
``database_url`` runs a test once against a fresh SQLite file and once against a
fresh PostgreSQL database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.runtime import Runtime, build_runtime
from tests.conftest import require_or_skip
from tests.pg import (
    PostgresServer,
    PostgresUnavailable,
    find_postgres_binaries,
    running_postgres,
)

PG_TEST_DATABASE = "coauthor_test"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A running PostgreSQL server on 127.0.0.1, stopped and deleted after the session."""
    require_or_skip(
        find_postgres_binaries() is not None,
        "PostgreSQL server binaries (initdb, pg_ctl) not found: run `make system-deps`",
    )
    try:
        with running_postgres() as server:
            yield server
    except PostgresUnavailable as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """SQLAlchemy URL of the session's ``coauthor_test`` database."""
    postgres_server.create_database(PG_TEST_DATABASE)
    return postgres_server.url(PG_TEST_DATABASE)


def _fresh_postgres_url(server: PostgresServer) -> Iterator[str]:
    name = f"coauthor_t_{uuid.uuid4().hex[:16]}"
    server.create_database(name)
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each supported kind, created for this test alone."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
    else:
        yield from _fresh_postgres_url(request.getfixturevalue("postgres_server"))


INTEGRATION_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def runtime(database_url: str) -> Iterator[Runtime]:
    """The application wired to ``database_url`` (migrated), on a clock fixed at a Monday 9:00."""
    runtime = build_runtime(
        Settings(database_url=database_url), clock=FixedClock(INTEGRATION_START)
    )
    yield runtime
    runtime.close()
