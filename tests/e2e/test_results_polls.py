"""A results poll answered before routing (web/results_polls.py) is the routed answer.

Two apps share one runtime: ``fast`` as the server builds it, ``routed`` without the
poll layer. Each request goes to both and the answers must be equal (status, headers
but the date, body); ``routed_calls`` counts the requests that reached the results
route of the fast app, so a test also knows which of the two answered. The results
worker is external here: releases are made by the test, as the worker makes them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from httpx import Response
from starlette.responses import Response as StarletteResponse
from test_deliberation_pages import Crowd, make_crowd, person

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.db.tables import deliberation_documents
from coauthor.runtime import RESULTS_CACHE_SIZE, BoundedCache, Runtime
from coauthor.services.accounts import admin, sessions, tokens
from coauthor.services.deliberation import documents, results
from coauthor.web import auth
from coauthor.web.api import deliberation as results_route
from coauthor.web.app import create_app
from coauthor.web.results_polls import ResultsPolls
from tests.e2e.conftest import World
from tests.e2e.layered import answer, without_layer

ROLES = ("admin", "manager", "member", "sponsor", "observer", "outsider")
READERS = ("admin", "manager", "member", "sponsor", "observer")
"""Who may read the results (test_permission_matrix: Policy.VIEW)."""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"anonymity_threshold": 3, "results_worker": "external"})


@dataclass
class Pair:
    fast: TestClient
    routed: TestClient
    calls: list[str]

    def both(self, url: str, headers: dict[str, str]) -> tuple[Response, Response]:
        """The fast app's answer, then the routed one's (the routed first would record a
        session's use before the fast one looked)."""
        return self.fast.get(url, headers=headers), self.routed.get(url, headers=headers)

    def same(self, url: str, headers: dict[str, str]) -> Response:
        fast, routed = self.both(url, headers)
        assert answer(fast) == answer(routed)
        return fast


@pytest.fixture
def pair(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pair]:
    calls: list[str] = []
    original = results_route.results_version
    fast_app = create_app(runtime=runtime)

    def counted(request: Any, *args: Any) -> str:
        if request.app is fast_app:
            calls.append(request.url.path)
        return original(request, *args)

    monkeypatch.setattr(results_route, "results_version", counted)
    with (
        TestClient(fast_app) as fast,
        TestClient(without_layer(create_app(runtime=runtime), ResultsPolls)) as routed,
    ):
        yield Pair(fast, routed, calls)


@pytest.fixture
def crowd(runtime: Runtime, clock: FixedClock, world: World) -> Crowd:
    made = make_crowd(runtime, clock, world)
    release(runtime, world, made)
    return made


def release(runtime: Runtime, world: World, crowd: Crowd) -> None:
    """Publish what is due, as the results worker does."""
    started = crowd.started
    with runtime.uow() as uow:
        manager = person(uow, world.manager.id)
        threshold = runtime.settings.anonymity_threshold
        uow.write(results.do_release, manager, started.alliance_id, started.id, threshold)


def bearer(runtime: Runtime, person_id: str) -> dict[str, str]:
    with runtime.uow() as uow:
        _, secret = tokens.do_create_token(uow, person(uow, person_id), "poll")
        uow.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def cookie(runtime: Runtime, person_id: str) -> dict[str, str]:
    with runtime.uow() as uow:
        _, secret = sessions.start_session(
            uow, person(uow, person_id), sessions.Client("127.0.0.1"), auth.session_rules(runtime)
        )
        uow.session.commit()
    return {"Cookie": f"{auth.SESSION_COOKIE}={auth.session_cookie(runtime, secret)}"}


def etag_of(pair: Pair, url: str, headers: dict[str, str]) -> str:
    return pair.routed.get(url, headers=headers).headers["etag"]


@pytest.mark.parametrize("credential", [bearer, cookie], ids=["token", "session"])
def test_a_current_poll_is_answered_before_routing_as_the_route_answers(
    pair: Pair,
    runtime: Runtime,
    world: World,
    crowd: Crowd,
    credential: Callable[[Runtime, str], dict[str, str]],
) -> None:
    url, headers = f"{crowd.started.api}/results", credential(runtime, world.member.id)
    conditional = headers | {"If-None-Match": etag_of(pair, url, headers)}
    answered = pair.same(url, conditional)
    assert answered.status_code == 304 and answered.content == b""
    assert answered.headers["etag"] == conditional["If-None-Match"]
    assert answered.headers["cache-control"] == "no-store"
    assert answered.headers["content-security-policy"].startswith("default-src 'none'")
    assert answered.headers["x-frame-options"] == "DENY"
    assert pair.calls == [], "the fast app routed the poll"


def forget_encoded(runtime: Runtime) -> None:
    """Empty the process's results caches, so the next answer is shaped and encoded anew."""
    runtime.results_documents = BoundedCache(RESULTS_CACHE_SIZE)
    runtime.results_json = BoundedCache(RESULTS_CACHE_SIZE)


def test_a_new_version_is_built_by_the_layer_and_then_sent_from_the_process_cache(
    pair: Pair, runtime: Runtime, world: World, crowd: Crowd
) -> None:
    url, headers = f"{crowd.started.api}/results", bearer(runtime, world.member.id)
    first = pair.fast.get(url, headers=headers)
    assert first.status_code == 200 and pair.calls == [], "the new version was routed"
    forget_encoded(runtime)
    routed = pair.routed.get(url, headers=headers)
    assert answer(first)[1:] == answer(routed)[1:] and first.status_code == routed.status_code
    answered = pair.same(url, headers | {"If-None-Match": '"r0-open"'})
    assert answered.status_code == 200 and answered.json() == first.json()
    assert answered.headers["content-type"] == "application/json"
    unconditional = pair.same(url, headers)
    assert unconditional.content == first.content and pair.calls == []


@pytest.mark.parametrize("credential", [bearer, cookie], ids=["token", "session"])
def test_across_a_release_the_layer_builds_the_routed_answer_byte_for_byte(
    pair: Pair,
    runtime: Runtime,
    clock: FixedClock,
    world: World,
    crowd: Crowd,
    credential: Callable[[Runtime, str], dict[str, str]],
) -> None:
    url = f"{crowd.started.api}/results"
    old = etag_of(pair, url, credential(runtime, world.member.id))
    clock.advance(timedelta(minutes=1))
    for voter in crowd.contoso[1:]:
        with runtime.uow() as uow:
            statement = crowd.started.statements[0]
            payload = {"statement_id": statement, "value": 0}
            results_route.service.do_vote(
                uow, person(uow, voter), crowd.started.alliance_id, crowd.started.id, payload
            )
            uow.session.commit()
    release(runtime, world, crowd)
    conditional = credential(runtime, world.member.id) | {"If-None-Match": old}
    layered = pair.fast.get(url, headers=conditional)
    assert layered.status_code == 200 and layered.headers["etag"] != old
    assert pair.calls == [], "the new version was routed"
    forget_encoded(runtime)
    routed = pair.routed.get(url, headers=conditional)
    assert answer(layered) == answer(routed)
    assert len(runtime.results_json) == 1, "the routed answer was not built anew"


@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_the_routed_answer(
    pair: Pair, runtime: Runtime, world: World, crowd: Crowd, role: str
) -> None:
    url = f"{crowd.started.api}/results"
    reader = bearer(runtime, world.member.id)
    headers = bearer(runtime, world.person(role).id)
    answered = pair.same(url, headers | {"If-None-Match": etag_of(pair, url, reader)})
    if role in READERS:
        assert answered.status_code == 304 and pair.calls == []
    else:
        assert answered.status_code == 404 and pair.calls == [url]  # the route refused it


def test_refusals_are_the_routed_ones(
    pair: Pair, runtime: Runtime, world: World, crowd: Crowd
) -> None:
    url = f"{crowd.started.api}/results"
    headers = bearer(runtime, world.member.id)
    current = {"If-None-Match": etag_of(pair, url, headers)}
    unknown = url.replace(crowd.started.id, "dl_nosuchdeliberation")
    assert pair.same(unknown, headers | current).status_code == 404
    elsewhere = url.replace(crowd.started.alliance_id, "al_nosuchalliance")
    assert pair.same(elsewhere, headers | current).status_code == 404
    assert pair.same(url, current).status_code == 401
    assert pair.same(url, {"Authorization": "Bearer cat_forged"} | current).status_code == 401
    assert pair.same(url, {"Authorization": "Bearer forged"} | current).status_code == 401
    assert pair.same(url, {"Cookie": f"{auth.SESSION_COOKIE}=forged"} | current).status_code == 401
    stale = pair.same(url, headers | {"If-None-Match": '"r0-open"'})
    assert stale.status_code == 200


def test_a_revoked_token_is_refused(
    pair: Pair, runtime: Runtime, world: World, crowd: Crowd
) -> None:
    url = f"{crowd.started.api}/results"
    headers = bearer(runtime, world.member.id)
    current = headers | {"If-None-Match": etag_of(pair, url, headers)}
    with runtime.uow() as uow:
        member = person(uow, world.member.id)
        for token in tokens.list_tokens(uow, member):
            tokens.do_revoke_token(uow, member, token.id)
        uow.session.commit()
    assert pair.same(url, current).status_code == 401


@pytest.mark.parametrize("credential", [bearer, cookie], ids=["token", "session"])
def test_a_deactivated_account_is_refused(
    pair: Pair,
    runtime: Runtime,
    world: World,
    crowd: Crowd,
    credential: Callable[[Runtime, str], dict[str, str]],
) -> None:
    url = f"{crowd.started.api}/results"
    headers = credential(runtime, world.member.id)
    current = headers | {"If-None-Match": etag_of(pair, url, headers)}
    with runtime.uow() as uow:
        admin.do_deactivate(uow, person(uow, world.admin.id), world.member.id)
        uow.session.commit()
    assert pair.same(url, current).status_code == 401


def test_an_ended_session_is_refused(
    pair: Pair, runtime: Runtime, world: World, crowd: Crowd
) -> None:
    url = f"{crowd.started.api}/results"
    headers = cookie(runtime, world.member.id)
    current = headers | {"If-None-Match": etag_of(pair, url, headers)}
    with runtime.uow() as uow:
        sessions.do_sign_out_everywhere(uow, person(uow, world.member.id))
        uow.session.commit()
    assert pair.same(url, current).status_code == 401


@pytest.mark.parametrize("after", ["lifetime", "idle"])
def test_an_expired_session_is_refused(
    pair: Pair, runtime: Runtime, clock: FixedClock, world: World, crowd: Crowd, after: str
) -> None:
    url = f"{crowd.started.api}/results"
    headers = cookie(runtime, world.member.id)
    current = headers | {"If-None-Match": etag_of(pair, url, headers)}
    settings = runtime.settings
    seconds = (
        settings.session_max_age_seconds if after == "lifetime" else settings.session_idle_seconds
    )
    clock.advance(timedelta(seconds=seconds))
    assert pair.same(url, current).status_code == 401


def test_a_session_due_a_touch_is_routed_and_touched(
    pair: Pair, runtime: Runtime, clock: FixedClock, world: World, crowd: Crowd
) -> None:
    url = f"{crowd.started.api}/results"
    headers = cookie(runtime, world.member.id)
    current = headers | {"If-None-Match": etag_of(pair, url, headers)}
    clock.advance(sessions.TOUCH_EVERY)
    answered = pair.fast.get(url, headers=current)
    assert answered.status_code == 304 and pair.calls == [url]
    answered = pair.same(url, current)
    assert answered.status_code == 304 and pair.calls == [url], "touched: fast again"


def test_before_the_first_release_the_app_answers(
    pair: Pair, runtime: Runtime, clock: FixedClock, world: World
) -> None:
    crowd = make_crowd(runtime, clock, world)
    url, headers = f"{crowd.started.api}/results", bearer(runtime, world.member.id)
    current = headers | {"If-None-Match": etag_of(pair, url, headers)}
    assert pair.same(url, current).status_code == 304 and pair.calls == [url]


def test_inline_results_are_routed(
    pair: Pair, runtime: Runtime, world: World, crowd: Crowd, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, headers = f"{crowd.started.api}/results", bearer(runtime, world.member.id)
    current = headers | {"If-None-Match": etag_of(pair, url, headers)}
    monkeypatch.setattr(
        runtime, "settings", runtime.settings.model_copy(update={"results_worker": "inline"})
    )
    assert pair.same(url, current).status_code == 304 and pair.calls == [url]


def _five_pollers(layer: ResultsPolls, crowd: Crowd) -> tuple[dict[int, bytes], dict[int, str]]:
    """Five pollers ask the layer for the results at once: their bodies and ETags."""
    bodies: dict[int, bytes] = {}
    etags: dict[int, str] = {}

    async def poll(number: int) -> None:
        async def collect(message: Any) -> None:
            if message["type"] == "http.response.start":
                etags[number] = dict(message["headers"]).get(b"etag", b"").decode()
            elif message["type"] == "http.response.body":
                bodies[number] = bodies.get(number, b"") + message.get("body", b"")

        scope = {
            "type": "http",
            "method": "GET",
            "path": f"{crowd.started.api}/results",
            "query_string": b"",
            "headers": [],
            "poller": number,
        }
        await layer(scope, _nothing, collect)

    async def everyone() -> None:
        await asyncio.gather(*(poll(number) for number in range(5)))

    asyncio.run(everyone())
    return bodies, etags


def _layer_for_new_version(
    runtime: Runtime, world: World, monkeypatch: pytest.MonkeyPatch
) -> tuple[ResultsPolls, list[int], list[tuple[str, ...]]]:
    """The layer over an app that only counts what reaches it, for a person who may read
    version r1-open; its builder counts its builds and puts a marked document."""
    routed: list[int] = []
    built: list[tuple[str, ...]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        routed.append(scope["poller"])
        await StarletteResponse(b"routed")(scope, receive, send)

    layer = ResultsPolls(app, runtime)

    async def current(*_: Any) -> tuple[str, str]:
        return "r1-open", world.member.id

    def encode(*args: str) -> None:
        built.append(args)
        time.sleep(0.05)
        key = ("json", args[1], args[2], "r1-open", runtime.settings.anonymity_threshold)
        runtime.results_json.put(key, ("r1-open", b'{"version": "r1-open"}'))

    monkeypatch.setattr(layer, "_readable_version", current)
    monkeypatch.setattr(layer, "_encode", encode)
    return layer, routed, built


def test_pollers_of_a_new_version_wait_for_the_one_read_of_its_stored_document(
    runtime: Runtime, world: World, crowd: Crowd, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five pollers ask for a version this process has not seen: the layer reads the document
    stored with the release once, by its key, and every poller gets those bytes; nothing is
    built and none goes to the app."""
    layer, routed, built = _layer_for_new_version(runtime, world, monkeypatch)
    reads: list[bool] = []
    reading = layer._reading

    async def counted(read: Any) -> Any:
        reads.append(True)
        return await reading(read)

    monkeypatch.setattr(layer, "_reading", counted)
    started = crowd.started
    with runtime.uow() as uow:
        stored = documents.stored_document(uow, started.alliance_id, started.id, 1, "open")
    assert stored is not None and b'"version":"r1-open"' in stored
    bodies, etags = _five_pollers(layer, crowd)
    assert routed == [] and built == [] and reads == [True]
    assert all(bodies[n] == stored for n in range(5))
    assert all(etags[n] == '"r1-open"' for n in range(5)) and layer._building == {}


def test_pollers_of_a_version_without_a_stored_document_wait_for_the_one_build_of_the_layer(
    runtime: Runtime, world: World, crowd: Crowd, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five pollers ask for a version with no stored document (a release from before they
    were stored): the layer builds it once, in its builder thread, and every poller gets its
    bytes; none goes to the app."""
    with runtime.uow() as uow:
        uow.session.execute(sa.delete(deliberation_documents))
        uow.session.commit()
    layer, routed, built = _layer_for_new_version(runtime, world, monkeypatch)
    bodies, etags = _five_pollers(layer, crowd)
    started = crowd.started
    assert routed == [] and built == [(world.member.id, started.alliance_id, started.id, "r1-open")]
    assert all(bodies[n] == b'{"version": "r1-open"}' for n in range(5))
    assert all(etags[n] == '"r1-open"' for n in range(5)) and layer._building == {}


async def _nothing() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}
