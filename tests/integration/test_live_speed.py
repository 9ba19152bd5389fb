"""What makes the live deliberation fast keeps its promises: web processes sharing one
results worker, writers taking turns across processes, the worker's debounce on PostgreSQL,
and the prebuilt queries answering as the ones they replaced."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coauthor.cli import app
from coauthor.config import Settings
from coauthor.db.engine import make_engine, write_turn
from coauthor.domain.errors import Busy
from coauthor.domain.model import ApiToken
from coauthor.runtime import Runtime, build_runtime
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.accounts.people import do_create_person
from coauthor.services.accounts.tokens import do_create_token, do_revoke_token, person_for_token
from tests.integration.conftest import INTEGRATION_START

TRY_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    print("held")
else:
    print("free")
"""


def _other_process_finds(lock_path: Path) -> str:
    command = [sys.executable, "-c", TRY_LOCK, str(lock_path)]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def test_serve_with_workers_runs_the_one_results_worker_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    import coauthor.heap
    import coauthor.worker

    monkeypatch.setenv("COAUTHOR_SECRET_KEY", "serve-workers-test")
    monkeypatch.delenv("COAUTHOR_RESULTS_WORKER", raising=False)
    events: list[str] = []
    seen: dict[str, object] = {}

    def start(runtime: Runtime) -> object:
        events.append("worker started")
        return lambda: events.append("worker stopped")

    def run(target: object, **options: object) -> None:
        seen.update(options, target=target, told=os.environ.get("COAUTHOR_RESULTS_WORKER"))
        events.append("served")

    monkeypatch.setattr(coauthor.worker, "start_in_background", start)
    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(coauthor.heap, "freeze_what_lives_now", lambda: events.append("frozen"))
    env = {"COAUTHOR_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}"}
    result = CliRunner().invoke(app, ["serve", "--workers", "2", "--port", "8125"], env=env)
    assert result.exit_code == 0, result.output
    assert events == ["worker started", "frozen", "served", "worker stopped"]
    assert seen["target"] == "coauthor.web.app:create_served_app" and seen["factory"] is True
    assert seen["workers"] == 2 and seen["port"] == 8125
    assert seen["proxy_headers"] is False, "uvicorn must not trust X-Forwarded-For"
    assert seen["told"] == "external", "the web processes must not each run a worker"
    assert "COAUTHOR_RESULTS_WORKER" not in os.environ


def test_sqlite_writers_of_other_processes_wait_for_the_turn(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.sqlite3'}")
    try:
        turn = write_turn(engine)
        assert turn is not None and write_turn(engine) is turn
        lock_path = tmp_path / "turns.sqlite3.write-lock"
        with turn:
            with turn:  # a thread may take its own turn again
                assert _other_process_finds(lock_path) == "held"
            assert _other_process_finds(lock_path) == "held"
        assert _other_process_finds(lock_path) == "free"
    finally:
        engine.dispose()


HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("holding", flush=True)
time.sleep(60)
"""


def test_a_turn_that_does_not_come_makes_the_write_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import coauthor.db.engine

    monkeypatch.setattr(coauthor.db.engine, "TURN_TIMEOUT_SECONDS", 0.3)
    url = f"sqlite:///{tmp_path / 'held.sqlite3'}"
    runtime = build_runtime(Settings(database_url=url))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, f"{tmp_path / 'held.sqlite3'}.write-lock"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        with runtime.uow() as uow, pytest.raises(Busy):
            uow.write(
                do_create_person,
                None,
                PersonInput(email="b@x.example", name="B"),
                None,
                bootstrap=True,
            )
        assert time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.wait()
    with runtime.uow() as uow:
        assert uow.write(
            do_create_person,
            None,
            PersonInput(email="b@x.example", name="B"),
            None,
            bootstrap=True,
        )
    runtime.close()


def test_threads_take_the_turn_one_at_a_time(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'threads.sqlite3'}")
    turn = write_turn(engine)
    assert turn is not None
    inside, most = [0], [0]

    def write() -> None:
        with turn:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            time.sleep(0.005)
            inside[0] -= 1

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    assert most[0] == 1


def test_postgresql_has_no_turn_to_take(runtime: Runtime) -> None:
    expected_turn = runtime.engine.dialect.name == "sqlite"
    assert (write_turn(runtime.engine) is not None) == expected_turn


def test_a_token_opens_only_while_it_and_its_person_are_live(runtime: Runtime) -> None:
    with runtime.uow() as uow:
        person = uow.write(
            do_create_person, None, PersonInput(email="t@x.example", name="T"), None, bootstrap=True
        )
        token, secret = uow.write(do_create_token, person, "poller")
        other, other_secret = uow.write(do_create_token, person, "second")
    with runtime.uow() as uow:
        found = person_for_token(uow, secret)
        assert found is not None and found.id == person.id
        assert person_for_token(uow, secret + "x") is None
        assert person_for_token(uow, "not-a-token") is None
        uow.write(do_revoke_token, found, token.id)
    with runtime.uow() as uow:
        assert person_for_token(uow, secret) is None
        live = person_for_token(uow, other_secret)
        assert live is not None
        live.deactivated_at = INTEGRATION_START
        uow.session.commit()
    with runtime.uow() as uow:
        assert person_for_token(uow, other_secret) is None
        # find_one's prebuilt query and its IS NULL fallback find the same rows
        assert uow.find_one(ApiToken, id=other.id, revoked_at=None) is not None
        assert uow.find_one(ApiToken, id=token.id, revoked_at=None) is None
        assert uow.find_one(ApiToken, id=token.id) is not None
        assert uow.find_one(ApiToken, id=token.id, person_id="someone else") is None


@pytest.mark.postgres
def test_the_worker_starts_a_round_at_most_once_per_poll_interval(postgres_url: str) -> None:
    from coauthor.config import Settings
    from coauthor.runtime import build_runtime
    from coauthor.worker import _NotificationWaiter

    runtime = build_runtime(Settings(database_url=postgres_url))
    stop = threading.Event()
    waiter = _NotificationWaiter(runtime, stop, poll=0.5)
    try:
        with runtime.engine.connect() as connection:
            starts = []
            for _ in range(3):
                connection.exec_driver_sql("NOTIFY coauthor_changes, 'x'")
                connection.commit()
                waiter.wait()
                starts.append(time.monotonic())
        gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
        assert all(gap >= 0.45 for gap in gaps), gaps
    finally:
        stop.set()
        waiter.wait()
        runtime.close()
