"""Vote timelines (web/vote_timeline.py, web/timed_serving.py): off by default, and when on
every step of a vote, from the server's first sight of it to its answer, in order."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_deliberation_pages import Started, start
from test_vote_posts import bearer, vote, votes_url
from uvicorn.config import Config
from uvicorn.server import ServerState

from coauthor.cli import setup
from coauthor.clock import FixedClock
from coauthor.runtime import Runtime
from coauthor.web import vote_posts, vote_timeline
from coauthor.web.app import create_app
from coauthor.web.timed_serving import (
    TIMED_APP_FACTORY,
    TIMED_PROTOCOL,
    FirstSight,
    TimedHttpToolsProtocol,
)
from coauthor.web.vote_timeline import READ_KEY, TIMELINE_VARIABLE
from tests.e2e.conftest import World

SERVER_STEPS = ("task", "admitted", "arrived", "started", "person", "committed", "resumed", "sent")


@pytest.fixture
def started(runtime: Runtime, clock: FixedClock, world: World) -> Started:
    return start(runtime, clock, world.manager.id, world.alliance_id)


def _no_clock_without_a_timeline() -> float:
    raise AssertionError("a vote without a timeline read its thread's CPU clock")


def test_no_timeline_is_kept_by_default(
    runtime: Runtime, world: World, started: Started, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TIMELINE_VARIABLE, raising=False)
    kept: list[vote_timeline.Timeline] = []
    monkeypatch.setattr(vote_timeline.Timeline, "save", kept.append)
    with TestClient(create_app(runtime=runtime)) as client:
        headers = bearer(runtime, world.member.id) | {"X-Vote-Timeline": "one"}
        url = votes_url(started)
        answered = client.post(url, content=vote(started.statements[0]), headers=headers)
    assert answered.status_code == 200
    assert kept == []
    monkeypatch.setattr(vote_posts.time, "thread_time", _no_clock_without_a_timeline)
    with TestClient(create_app(runtime=runtime)) as client:
        answered = client.post(url, content=vote(started.statements[1]), headers=headers)
    assert answered.status_code == 200
    factory, options = setup._factory_and_options()
    assert factory == "coauthor.web.app:create_served_app" and "http" not in options


def test_a_vote_s_steps_are_logged_in_order_under_the_voter_s_id(
    runtime: Runtime,
    world: World,
    started: Started,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = tmp_path / "votes.jsonl"
    monkeypatch.setenv(TIMELINE_VARIABLE, str(log))
    with TestClient(FirstSight(create_app(runtime=runtime))) as client:
        headers = bearer(runtime, world.member.id)
        url = votes_url(started)
        for number, statement in enumerate(started.statements[:2]):
            sent = client.post(
                url, content=vote(statement), headers=headers | {"X-Vote-Timeline": f"v{number}"}
            )
            assert sent.status_code == 200
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["v0", "v1"]
    for line in lines:
        moments = [line["marks"][step] for step in SERVER_STEPS]
        assert moments == sorted(moments)
        assert line["batch"] == 1 and line["cpu_ms"] > 0
    factory, options = setup._factory_and_options()
    assert (factory, options["http"]) == (TIMED_APP_FACTORY, TIMED_PROTOCOL)


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = b""

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 9000)}.get(name, default)

    def write(self, data: bytes) -> None:  # type: ignore[override]
        self.written += data

    def is_closing(self) -> bool:
        return False


def test_the_timed_protocol_notes_when_it_read_a_request() -> None:
    scopes: list[dict] = []

    async def app(scope: dict, receive: Any, send: Any) -> None:
        scopes.append(scope)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def serve_one() -> bytes:
        config = Config(app, http=TIMED_PROTOCOL, lifespan="off")
        config.load()
        assert config.http_protocol_class is TimedHttpToolsProtocol
        protocol = TimedHttpToolsProtocol(config, ServerState(), app_state={})
        transport = _Transport()
        protocol.connection_made(transport)
        protocol.data_received(b"GET /x HTTP/1.1\r\nHost: example\r\n\r\n")
        while not transport.written:
            await asyncio.sleep(0)
        return transport.written

    written = asyncio.run(serve_one())
    assert written.startswith(b"HTTP/1.1 204")
    [scope] = scopes
    assert isinstance(scope[READ_KEY], float)
