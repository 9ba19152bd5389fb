"""A database server's pool pings a connection only after it has been idle a while
(``engine.PING_AFTER_IDLE_SECONDS``), replaces one the server dropped while it was idle,
and a write whose connection was dropped within that window runs again on another."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from test_concurrency import Seeded, seed

from coauthor.config import Settings
from coauthor.db import engine as engines
from coauthor.db import tables
from coauthor.runtime import Runtime, build_runtime
from coauthor.services.accounts import tokens
from coauthor.services.deliberation import acts
from tests.pg import PostgresServer

pytestmark = pytest.mark.postgres


@pytest.fixture
def pooled(postgres_server: PostgresServer) -> Iterator[tuple[sa.Engine, list[int]]]:
    """An engine of ``make_engine`` on a database of its own, and the list its pings are
    counted in."""
    name = "pool_liveness"
    postgres_server.create_database(name)
    engine = engines.make_engine(postgres_server.url(name))
    pings: list[int] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return ping(dbapi_connection)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    try:
        yield engine, pings
    finally:
        engine.dispose()
        postgres_server.drop_database(name)


def _backend(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(sa.select(sa.func.pg_backend_pid())))


def _drop_connections(server: PostgresServer, database: str) -> int:
    """Terminate every session of ``database``, as a restart of its server would."""
    with server.admin_connection() as admin:
        cursor = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
            [database],
        )
        row = cursor.fetchone()
        return int(row[0]) if row else 0


def test_a_connection_used_moments_ago_is_handed_out_unpinged(
    pooled: tuple[sa.Engine, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, pings = pooled
    monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 60.0)  # however slow this runs
    first = _backend(engine)
    assert len(pings) == 1, "a connection never returned is pinged"
    assert _backend(engine) == first, "the connection returned last is handed out again"
    assert len(pings) == 1
    monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend(engine) == first
    assert len(pings) == 2, "a connection idle for the window is pinged"


def test_a_connection_dropped_while_idle_is_replaced_before_it_is_handed_out(
    pooled: tuple[sa.Engine, list[int]],
    postgres_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, pings = pooled
    first = _backend(engine)
    assert _drop_connections(postgres_server, "pool_liveness") == 1
    monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend(engine) != first
    assert len(pings) == 3, "the dropped connection's ping failed, the new one's passed"


@pytest.fixture
def seeded_runtime(postgres_server: PostgresServer) -> Iterator[tuple[Seeded, Runtime, str]]:
    name = "pool_liveness_writes"
    postgres_server.create_database(name)
    settings = Settings(database_url=postgres_server.url(name))
    seeded = seed(settings)
    runtime = build_runtime(settings)
    try:
        yield seeded, runtime, name
    finally:
        runtime.close()
        postgres_server.drop_database(name)


def test_a_write_whose_connection_was_dropped_moments_ago_runs_again(
    seeded_runtime: tuple[Seeded, Runtime, str],
    postgres_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The connection is dropped within the window after its last use, so it is handed out
    unpinged: the vote's first statement finds it gone, and the write runs again on a new
    connection — one vote stored, its event appended once."""
    monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 60.0)  # however slow this runs
    seeded, runtime, database = seeded_runtime
    vote = {"statement_id": seeded.statements[0], "value": 1}
    with runtime.uow() as uow:
        person = tokens.person_for_token(uow, seeded.tokens[0])
    assert _drop_connections(postgres_server, database) >= 1
    with runtime.uow() as uow:
        stored = uow.write(acts.do_vote, person, seeded.alliance_id, seeded.deliberation_id, vote)
    assert stored.value == 1
    with runtime.engine.connect() as connection:
        votes = connection.scalar(sa.select(sa.func.count()).select_from(tables.votes))
        events = connection.scalar(
            sa.select(sa.func.count())
            .select_from(tables.events)
            .where(tables.events.c.kind == "vote.cast")
        )
    assert (votes, events) == (1, 1)
