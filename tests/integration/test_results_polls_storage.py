"""A results poll answered before routing (web/results_polls.py), on SQLite and PostgreSQL:
its own connection and prebuilt statements give the routed answer on both."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.domain import model as m
from coauthor.runtime import RESULTS_CACHE_SIZE, BoundedCache, Runtime, build_runtime
from coauthor.services.accounts import people, sessions, tokens
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.deliberation import acts, results
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import AllianceCreate, MemberInput
from coauthor.web import auth, results_polls
from coauthor.web.api import deliberation as results_route
from coauthor.web.app import create_app
from coauthor.web.results_polls import (
    READ_TIMEOUT_MS,
    ResultsPolls,
    _ServerReader,
    _SqliteReader,
)
from tests.integration.conftest import INTEGRATION_START

VOTERS = 3


def _deliberation(runtime: Runtime) -> tuple[str, list[str]]:
    """A released deliberation's results URL, and the person ids of its manager and voters."""
    with runtime.uow() as uow:
        manager = people.do_create_person(
            uow, None, PersonInput(email="manager@x.example", name="Manager"), None, bootstrap=True
        )
        create = AllianceCreate(name="Polled", kind="consortium", organization_name="North")
        alliance = alliances.do_create_alliance(uow, manager, create)
        [partner] = uow.find(m.Partner, alliance_id=alliance.id)
        created = acts.do_create_deliberation(
            uow, manager, alliance.id, {"question": "Q?", "strict_moderation": False}
        )
        statement = acts.do_submit_statement(uow, manager, alliance.id, created.id, {"text": "A"})
        voter_ids = []
        for number in range(VOTERS):
            data = MemberInput(email=f"voter{number}@x.example", partner_id=partner.id)
            member = alliances.do_add_member(uow, manager, alliance.id, data)
            voter = uow.get(m.Person, id=member.person_id)
            acts.do_vote(
                uow, voter, alliance.id, created.id, {"statement_id": statement.id, "value": 1}
            )
            voter_ids.append(voter.id)
        assert results.do_release(uow, manager, alliance.id, created.id, VOTERS) is not None
        uow.session.commit()
    url = f"/api/v1/alliances/{alliance.id}/deliberations/{created.id}/results"
    return url, [manager.id, *voter_ids]


def _bearer(runtime: Runtime, person_id: str) -> dict[str, str]:
    with runtime.uow() as uow:
        _, secret = tokens.do_create_token(uow, uow.get(m.Person, id=person_id), "poll")
        uow.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _cookie(runtime: Runtime, person_id: str) -> dict[str, str]:
    with runtime.uow() as uow:
        person = uow.get(m.Person, id=person_id)
        rules = auth.session_rules(runtime)
        _, secret = sessions.start_session(uow, person, sessions.Client("127.0.0.1"), rules)
        uow.session.commit()
    return {"Cookie": f"{auth.SESSION_COOKIE}={auth.session_cookie(runtime, secret)}"}


def _routed_polls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the polls that reach the routed handler, as they come."""
    routed: list[str] = []
    original = results_route.results_version

    def counted(request: Any, *args: Any) -> str:
        routed.append(request.url.path)
        return original(request, *args)

    monkeypatch.setattr(results_route, "results_version", counted)
    return routed


@pytest.mark.parametrize("credential", [_bearer, _cookie], ids=["token", "session"])
def test_a_current_poll_is_answered_before_routing(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, credential: Any
) -> None:
    url, person_ids = _deliberation(runtime)
    routed = _routed_polls(monkeypatch)
    client = TestClient(create_app(runtime=runtime))  # no lifespan: no results worker
    headers = credential(runtime, person_ids[1])
    first = client.get(url, headers=headers)
    assert first.status_code == 200 and routed == [], "the layer builds a new version"
    runtime.results_documents = BoundedCache(RESULTS_CACHE_SIZE)
    runtime.results_json = BoundedCache(RESULTS_CACHE_SIZE)
    routed_app = create_app(runtime=runtime)
    routed_app.user_middleware = [
        each for each in routed_app.user_middleware if each.cls is not ResultsPolls
    ]
    built_by_the_app = TestClient(routed_app).get(url, headers=headers)
    assert built_by_the_app.content == first.content, "the layer's bytes are the app's"
    assert built_by_the_app.headers["etag"] == first.headers["etag"]
    assert routed == [url], "only the app without the layer routed it"
    routed.clear()
    etag = first.headers["etag"]
    again = client.get(url, headers=headers | {"If-None-Match": etag})
    assert (again.status_code, again.headers["etag"], again.content) == (304, etag, b"")
    assert again.headers["cache-control"] == "no-store"
    whole = client.get(url, headers=headers | {"If-None-Match": '"r0-open"'})
    assert whole.status_code == 200 and whole.content == first.content
    assert routed == [], "answered before routing"
    stranger = client.get(url, headers=headers | {"Authorization": "Bearer cat_unknown"})
    assert stranger.status_code == 401


class _LoopLag:
    """The longest the event loop went without running a task that wakes every 10 ms."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task = asyncio.create_task(self._watch())

    @classmethod
    async def started(cls) -> _LoopLag:
        lag = cls()
        await asyncio.sleep(0.05)
        return lag

    async def _watch(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            self.longest = max(self.longest, time.perf_counter() - before)

    async def stop(self) -> float:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return self.longest


def _lock_releases(runtime: Runtime, seconds: float) -> threading.Event:
    """Another transaction holds the releases table (every read of it waits) for ``seconds``;
    the event is set once it holds it."""
    held = threading.Event()

    def hold() -> None:
        with runtime.engine.connect() as connection:
            connection.exec_driver_sql("LOCK TABLE deliberation_releases IN ACCESS EXCLUSIVE MODE")
            held.set()
            time.sleep(seconds)
            connection.rollback()

    threading.Thread(target=hold, daemon=True).start()
    assert held.wait(10)
    return held


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
@pytest.mark.parametrize(
    ("held_seconds", "answered_by"),
    [(1.0, "layer"), (READ_TIMEOUT_MS / 1000 + 1.0, "app")],
    ids=["waits", "times-out"],
)
def test_a_slow_server_read_holds_up_only_its_own_poll(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, held_seconds: float, answered_by: str
) -> None:
    """A poll whose read waits for the server (here a lock) leaves the event loop free for
    every other request, and is answered: by the layer once the read returns, or by the
    app (never an error) when the read took longer than the statement timeout."""
    url, person_ids = _deliberation(runtime)
    headers = _bearer(runtime, person_ids[1])
    routed = _routed_polls(monkeypatch)
    app = create_app(runtime=runtime)

    async def poll_while_locked() -> tuple[httpx.Response, float]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            first = await client.get(url, headers=headers)
            assert first.status_code == 200 and routed == []
            # The app's first routed request does once-per-process work on the event loop
            # (0.4-0.7 s here); a query string sends this one to the app before the watch.
            warm = await client.get(f"{url}?routed=1", headers=headers)
            assert warm.status_code == 200 and routed == [url]
            _lock_releases(runtime, held_seconds)
            lag = await _LoopLag.started()
            current = headers | {"If-None-Match": first.headers["etag"]}
            answer = await client.get(url, headers=current)
            return answer, await lag.stop()

    answer, longest_stall = asyncio.run(poll_while_locked())
    assert answer.status_code == 304
    assert longest_stall < 0.25, f"the event loop stood still for {longest_stall:.2f} s"
    assert routed == ([url] if answered_by == "layer" else [url, url])


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_reader_whose_read_timed_out_serves_the_next_poll(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader keeps its cursor (and its prepared statements) from read to read: after a
    read the statement timeout cancelled, which the app answered, the same reader, on the
    same connection, answers the next poll itself."""
    monkeypatch.setattr(results_polls, "SERVER_READERS", 1)
    opened: list[_ServerReader] = []
    original_open = _ServerReader.open.__func__  # type: ignore[attr-defined]

    async def counted_open(cls: type[_ServerReader], engine: Any) -> _ServerReader:
        reader = await original_open(cls, engine)
        opened.append(reader)
        return reader

    monkeypatch.setattr(_ServerReader, "open", classmethod(counted_open))
    url, person_ids = _deliberation(runtime)
    headers = _bearer(runtime, person_ids[1])
    routed = _routed_polls(monkeypatch)
    app = create_app(runtime=runtime)

    async def polls() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            first = await client.get(url, headers=headers)
            current = headers | {"If-None-Match": first.headers["etag"]}
            held = _lock_releases(runtime, READ_TIMEOUT_MS / 1000 + 1.0)
            assert held.is_set()
            timed_out = await client.get(url, headers=current)
            await asyncio.sleep(1.5)  # the lock is released
            return [first, timed_out, await client.get(url, headers=current)]

    first, timed_out, after = asyncio.run(polls())
    assert first.status_code == 200
    assert (timed_out.status_code, after.status_code) == (304, 304)
    assert routed == [url], "the timed-out read went to the app, the next one did not"
    assert len(opened) == 1, "the reader and its connection were kept"


def test_the_layers_readers_are_closed_when_the_server_stops(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its connections are outside the pool: the lifespan's shutdown closes them."""
    closed: list[str] = []
    for reader_class in (_SqliteReader, _ServerReader):
        original = reader_class.close

        async def counted(reader: Any, original: Any = original) -> None:
            closed.append(type(reader).__name__)
            await original(reader)

        monkeypatch.setattr(reader_class, "close", counted)
    settings = Settings(database_url=database_url, results_worker="external")
    runtime = build_runtime(settings, clock=FixedClock(INTEGRATION_START))
    try:
        url, person_ids = _deliberation(runtime)
        headers = _bearer(runtime, person_ids[1])
        with TestClient(create_app(runtime=runtime)) as client:
            etag = client.get(url, headers=headers).headers["etag"]
            polled = client.get(url, headers=headers | {"If-None-Match": etag})
            assert polled.status_code == 304 and closed == []
        assert closed, "the server stopped and left its readers open"
    finally:
        runtime.close()
