"""The one write path: a transaction per write, retried when it loses a race, then refused."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import timedelta

import psycopg
import pytest
import sqlalchemy as sa

from coauthor.config import Settings
from coauthor.db.tables import login_failures
from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import Busy, Conflict
from coauthor.runtime import Runtime, build_runtime
from coauthor.services import eventlog
from coauthor.services.accounts.login import LoginLimits, do_sign_in
from coauthor.services.accounts.sessions import Client, SessionRules
from tests.pg import PostgresServer


def locked() -> sa.exc.OperationalError:
    return sa.exc.OperationalError("INSERT …", {}, sqlite3.OperationalError("database is locked"))


def duplicate() -> sa.exc.IntegrityError:
    return sa.exc.IntegrityError("INSERT …", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))


class Flaky:
    """A service that loses ``losses`` races, then writes an event."""

    def __init__(self, losses: int, error: type = sa.exc.OperationalError) -> None:
        self.losses, self.calls, self.notified = losses, 0, 0
        self.error = locked if error is sa.exc.OperationalError else duplicate

    def __call__(self, uow: UnitOfWork) -> int:
        self.calls += 1
        eventlog.append(uow, eventlog.SITE_CHAIN, None, "test.written", {"call": self.calls})
        uow.after_commit(self.notify)
        if self.calls <= self.losses:
            raise self.error()
        return self.calls

    def notify(self) -> None:
        self.notified += 1


def site_payloads(runtime: Runtime) -> list[dict]:
    with runtime.uow() as uow:
        return [e.payload for e in eventlog.chain_events(uow, eventlog.SITE_CHAIN)]


def test_a_lost_race_is_run_again_and_its_after_commit_steps_run_once(runtime: Runtime) -> None:
    service = Flaky(losses=2)
    with runtime.uow() as uow:
        assert uow.write(service) == 3
    assert service.notified == 1
    assert site_payloads(runtime) == [{"call": 3}], "nothing half-written"


def test_a_write_that_keeps_losing_is_refused_and_writes_nothing(runtime: Runtime) -> None:
    busy, clash = Flaky(losses=100), Flaky(losses=100, error=sa.exc.IntegrityError)
    with runtime.uow() as uow:
        with pytest.raises(Busy) as refused:
            uow.write(busy)
        assert refused.value.status == 503 and refused.value.retry_after >= 1
        with pytest.raises(Conflict):
            uow.write(clash)
    assert busy.notified == clash.notified == 0
    assert site_payloads(runtime) == []


def test_a_bug_is_not_retried(runtime: Runtime) -> None:
    calls = []

    def broken(uow: UnitOfWork) -> None:
        calls.append(1)
        raise sa.exc.ProgrammingError("SELECT nonsense", {}, Exception("syntax error"))

    with runtime.uow() as uow, pytest.raises(sa.exc.ProgrammingError):
        uow.write(broken)
    assert calls == [1]


def test_appends_wait_for_the_chain_head_lock_on_postgresql(
    postgres_server: PostgresServer,
) -> None:
    """Another transaction holds a chain's head: an append waits for it, and is refused
    (503, nothing written) if it waits past the lock timeout; once free, it follows on."""
    name = f"coauthor_lock_{uuid.uuid4().hex[:12]}"
    postgres_server.create_database(name)
    runtime = build_runtime(Settings(database_url=postgres_server.url(name)))
    try:
        append_with_timeout(runtime, "first")
        holder = psycopg.connect(
            host=postgres_server.host,
            port=postgres_server.port,
            user=postgres_server.user,
            dbname=name,
        )
        holder.execute("SELECT seq FROM chain_heads WHERE chain_id = 'site' FOR UPDATE")
        with pytest.raises(Busy):
            append_with_timeout(runtime, "blocked")
        holder.rollback()
        holder.close()
        append_with_timeout(runtime, "second")
        with runtime.uow() as uow:
            report = eventlog.verify_chain(uow, eventlog.SITE_CHAIN)
            kinds = [e.kind for e in eventlog.chain_events(uow, eventlog.SITE_CHAIN)]
        assert report.ok and kinds == ["first", "second"]
    finally:
        runtime.close()
        postgres_server.drop_database(name)


def append_with_timeout(runtime: Runtime, kind: str) -> None:
    def append(uow: UnitOfWork) -> None:
        uow.session.execute(sa.text("SET LOCAL lock_timeout = '100ms'"))
        eventlog.append(uow, eventlog.SITE_CHAIN, None, kind, {})

    with runtime.uow() as uow:
        uow.write(append)


def test_old_login_failures_are_pruned(runtime: Runtime) -> None:
    limits = LoginLimits(per_account=3, per_address=3, window_seconds=300)
    rules = SessionRules(lifetime=timedelta(hours=8), idle=timedelta(minutes=30))
    with runtime.uow() as uow:
        for _ in range(5):
            uow.write(do_sign_in, "nobody@example.org", "wrong", Client("10.0.0.1"), limits, rules)
            runtime.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
        runtime.clock.advance(timedelta(seconds=400))  # type: ignore[attr-defined]
        uow.write(do_sign_in, "other@example.org", "wrong", Client("10.0.0.2"), limits, rules)
        kept = uow.session.scalar(sa.select(sa.func.count()).select_from(login_failures))
    assert kept == 2  # the last attempt, counted under its account and its address
