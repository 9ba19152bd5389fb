"""PostgreSQL's votes written by the web process's writer process (web/process_writes.py).

Votes fired in parallel through a served app whose votes go to its writer process get
exactly what the same votes get through the thread writer (``GroupWriter``, which a
runtime on a clock of its own keeps): two copies of one seeded database (ids included),
the same votes at both, the same answers (but the vote's time) and the same rows. The
writer process starts with the server and stops with it. One killed with a group in
flight answers that group 503 with Retry-After, as does one silent for too long, and the
next vote is written by a new writer.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

import httpx
import pytest
import sqlalchemy as sa
from psycopg import sql
from test_concurrency import served
from test_vote_groups import World, _chain, _stored

from coauthor.clock import SystemClock
from coauthor.config import Settings
from coauthor.domain import model as m
from coauthor.runtime import build_runtime
from coauthor.services import eventlog
from coauthor.web import process_writes
from tests.pg import PostgresServer

pytestmark = pytest.mark.postgres

WRITER_NAME = "coauthor-writer"


class ClockOfItsOwn(SystemClock):
    """The system's time, but a clock of the runtime's own: its votes go to the thread
    writer (``vote_posts._writer_for``)."""


@dataclass(frozen=True)
class Twins:
    world: World
    settings: list[Settings]
    """The process writer's database, then the thread writer's copy."""


@pytest.fixture
def twins(postgres_server: PostgresServer) -> Iterator[Twins]:
    name = f"coauthor_writer_{random.randrange(16**12):012x}"
    postgres_server.create_database(name)
    settings = Settings(database_url=postgres_server.url(name), secret_key="writer-process")
    try:
        world = World(settings)
        with postgres_server.admin_connection() as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name + "_thread"), sql.Identifier(name)
                )
            )
        copy = settings.model_copy(update={"database_url": postgres_server.url(name + "_thread")})
        yield Twins(world, [settings, copy])
    finally:
        postgres_server.drop_database(name)
        postgres_server.drop_database(name + "_thread")


def _writers() -> list[BaseProcess]:
    return [child for child in multiprocessing.active_children() if child.name == WRITER_NAME]


Send = tuple[str, str, dict[str, object]]


def _sends(world: World) -> list[Send]:
    """Many people, one person many times, the same vote twice, refused votes."""
    seeded, statements = world.seeded, world.open_statements
    url = f"/api/v1/alliances/{seeded.alliance_id}/deliberations/{seeded.deliberation_id}/votes"
    closed_url = url.replace(seeded.deliberation_id, world.closed)
    sends: list[Send] = []
    for number, token in enumerate(seeded.tokens[:12]):
        for place, statement in enumerate(statements):
            sends += [(token, url, {"statement_id": statement, "value": place % 3 - 1})] * 2
        sends.append((token, url, {"statement_id": world.rejected, "value": 1}))
        sends.append((token, url, {"statement_id": "st_nosuchstatement", "value": 0}))
        if number % 3 == 0:
            sends.append((token, closed_url, {"statement_id": world.closed_statement, "value": 1}))
    sends += [(world.outsider_token, url, {"statement_id": statements[0], "value": 1})] * 4
    return sends


def _answers(base: str, sends: list[Send]) -> list[tuple[int, dict[str, object]]]:
    """Each send's status and body (a vote's time left out: it is the clock's)."""

    def send(request: Send) -> tuple[int, dict[str, object]]:
        token, path, body = request
        headers = {"Authorization": f"Bearer {token}"}
        answer = httpx.post(base + path, json=body, headers=headers, timeout=60)
        found = answer.json()
        found.pop("at", None)
        return answer.status_code, found

    with ThreadPoolExecutor(max_workers=48) as threads:
        return list(threads.map(send, sends))


def _joined(settings: Settings, world: World) -> list[str]:
    """The people who take part (participants are made with fresh ids)."""
    runtime = build_runtime(settings)
    try:
        with runtime.uow() as uow:
            found = uow.find(
                m.Participant,
                alliance_id=world.seeded.alliance_id,
                deliberation_id=world.seeded.deliberation_id,
            )
            return sorted(participant.person_id for participant in found)
    finally:
        runtime.close()


def _rows(settings: Settings, world: World) -> tuple[object, ...]:
    runtime = build_runtime(settings)
    try:
        report, events = _chain(runtime, world)
        return _stored(runtime, world), events, report.ok
    finally:
        runtime.close()


def test_votes_in_parallel_get_what_the_thread_writer_gives(twins: Twins) -> None:
    world = twins.world
    sends = _sends(world)
    process_side, thread_side = twins.settings
    with served(process_side) as base:
        by_process = _answers(base, sends)
        assert len(_writers()) == 1, "the process writer wrote them"
    thread_runtime = build_runtime(thread_side, clock=ClockOfItsOwn())
    with served(thread_side, runtime=thread_runtime) as base:
        by_thread = _answers(base, sends)
        assert _writers() == [], "the thread writer wrote them"
    assert by_process == by_thread
    assert {status for status, _ in by_process} == {200, 404, 409, 422}
    assert _rows(process_side, world) == _rows(thread_side, world)
    _, events, chain_ok = _rows(process_side, world)
    assert chain_ok and events == 12 * len(world.open_statements) * 2
    joined = _joined(process_side, world)
    assert joined == _joined(thread_side, world) and len(joined) == 13, "12 and the founder"


@contextmanager
def _heads_locked(settings: Settings, world: World) -> Iterator[None]:
    """The alliance's chain head locked by another transaction: a vote's write waits."""
    runtime = build_runtime(settings)
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with runtime.uow() as uow:
            eventlog.lock_heads(uow, [world.seeded.alliance_id])
            locked.set()
            release.wait(30)
            uow.session.rollback()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join()
        runtime.close()


def _waiting_for_a_lock(settings: Settings) -> bool:
    engine = sa.create_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted"
            return bool(connection.execute(sa.text(waiting)).scalar())
    finally:
        engine.dispose()


def _until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.05)


def _vote(base: str, world: World, value: int) -> httpx.Response:
    seeded = world.seeded
    url = f"/api/v1/alliances/{seeded.alliance_id}/deliberations/{seeded.deliberation_id}/votes"
    body = {"statement_id": world.open_statements[0], "value": value}
    headers = {"Authorization": f"Bearer {seeded.tokens[0]}"}
    return httpx.post(base + url, json=body, headers=headers, timeout=60)


def _stored_value(settings: Settings, world: World) -> int | None:
    runtime = build_runtime(settings)
    try:
        for email, statement, value in _stored(runtime, world):
            if email == "client0@example.org" and statement == world.open_statements[0]:
                return value
        return None
    finally:
        runtime.close()


def _lost_vote_answered(
    base: str, settings: Settings, world: World, lose: Callable[[BaseProcess], None]
) -> None:
    """A vote whose write waits for the head when ``lose(writer)`` is done is answered 503
    with Retry-After; the next vote is written by a new writer."""
    assert _vote(base, world, 1).status_code == 200
    [writer] = _writers()
    with ThreadPoolExecutor(max_workers=1) as thread, _heads_locked(settings, world):
        lost = thread.submit(_vote, base, world, -1)
        _until(lambda: _waiting_for_a_lock(settings))
        lose(writer)
        answer = lost.result(timeout=60)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert "sending it again is safe" in json.dumps(answer.json())
    assert not writer.is_alive()
    again = _vote(base, world, 0)
    assert again.status_code == 200 and again.json()["value"] == 0
    [new] = _writers()
    assert new.pid != writer.pid
    assert _stored_value(settings, world) == 0


def test_a_killed_writer_answers_its_group_503_and_the_next_vote_gets_a_new_one(
    twins: Twins,
) -> None:
    settings = twins.settings[0]
    with served(settings) as base:
        _lost_vote_answered(
            base, settings, twins.world, lambda writer: os.kill(writer.pid, signal.SIGKILL)
        )
    assert _writers() == [], "shutdown stops the writer"


def test_a_silent_writer_answers_its_group_503_and_is_replaced(
    twins: Twins, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = twins.settings[0]

    def silent_a_moment(_: BaseProcess) -> None:
        """Its group waits for the head past a silence of one second; a new writer's start
        then has the usual time."""
        time.sleep(2.0)
        monkeypatch.undo()

    with served(settings) as base:
        assert _vote(base, twins.world, 1).status_code == 200  # the writer started in time
        monkeypatch.setattr(process_writes, "SILENCE_SECONDS", 1.0)
        _lost_vote_answered(base, settings, twins.world, silent_a_moment)


def test_the_writer_starts_with_the_server_and_stops_with_it(twins: Twins) -> None:
    with served(twins.settings[0]) as base:
        [writer] = _writers()
        assert _vote(base, twins.world, 1).status_code == 200
        assert _writers() == [writer]
    assert not writer.is_alive() and writer.exitcode == 0, "stopped, not killed"
    assert _writers() == []
