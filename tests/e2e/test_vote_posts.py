"""A vote answered before routing (web/vote_posts.py) is the routed answer.

Two apps share one runtime: ``fast`` as the server builds it, ``routed`` without the
vote layer. A vote goes to both and the answers must be equal (status, headers but the
date, body); ``routed`` lists the votes that reached the fast app's router, so a test
also knows which of the two answered. The fast app answers first: a vote sent again
with the same value keeps its time, so both answers carry the same vote.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from httpx import Response
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send
from test_deliberation_pages import Started, person, start

from coauthor.clock import FixedClock
from coauthor.db.engine import write_turn
from coauthor.db.uow import MAX_ATTEMPTS, UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import Busy
from coauthor.runtime import Runtime
from coauthor.services.accounts import admin, sessions, tokens
from coauthor.services.deliberation import acts
from coauthor.services.deliberation.inputs import VoteInput
from coauthor.web import auth, vote_posts
from coauthor.web.app import create_app
from coauthor.web.vote_posts import MAX_BODY_BYTES, VotePosts
from tests.e2e.conftest import World
from tests.e2e.layered import answer, without_layer

ROLES = ("admin", "manager", "member", "sponsor", "observer", "outsider")
VOTERS = ("manager", "member", "sponsor")
"""Who may vote: the alliance's members who take part (a site administrator who is not a
member may read but not vote, an observer neither)."""
JSON = {"Content-Type": "application/json"}


class _Router:
    """Innermost: notes each request that reached the router."""

    def __init__(self, app: ASGIApp, reached: list[str]) -> None:
        self.app = app
        self.reached = reached

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.reached.append(scope["path"])
        await self.app(scope, receive, send)


@dataclass
class Pair:
    fast: TestClient
    routed: TestClient
    reached: list[str]
    """Paths of the fast app's requests that were routed."""

    def same(self, url: str, body: bytes, headers: dict[str, str]) -> Response:
        fast = self.fast.post(url, content=body, headers=headers)
        routed = self.routed.post(url, content=body, headers=headers)
        assert answer(fast) == answer(routed)
        return fast


@pytest.fixture
def pair(runtime: Runtime) -> Iterator[Pair]:
    reached: list[str] = []
    fast_app = create_app(runtime=runtime)
    fast_app.user_middleware.append(Middleware(_Router, reached=reached))
    with (
        TestClient(fast_app) as fast,
        TestClient(without_layer(create_app(runtime=runtime), VotePosts)) as routed,
    ):
        yield Pair(fast, routed, reached)


@pytest.fixture
def started(runtime: Runtime, clock: FixedClock, world: World) -> Started:
    return start(runtime, clock, world.manager.id, world.alliance_id)


def votes_url(started: Started) -> str:
    return f"/api/v1/alliances/{started.alliance_id}/deliberations/{started.id}/votes"


def vote(statement_id: str, value: int = 1) -> bytes:
    return json.dumps({"statement_id": statement_id, "value": value}).encode()


def bearer(runtime: Runtime, person_id: str) -> dict[str, str]:
    with runtime.uow() as uow:
        _, secret = tokens.do_create_token(uow, person(uow, person_id), "vote")
        uow.session.commit()
    return JSON | {"Authorization": f"Bearer {secret}"}


def cookie(runtime: Runtime, person_id: str) -> dict[str, str]:
    """A signed-in session's cookie with its CSRF token, as the pages' scripts send it."""
    with runtime.uow() as uow:
        _, secret = sessions.start_session(
            uow, person(uow, person_id), sessions.Client("127.0.0.1"), auth.session_rules(runtime)
        )
        uow.session.commit()
    return JSON | {
        "Cookie": f"{auth.SESSION_COOKIE}={auth.session_cookie(runtime, secret)}",
        auth.CSRF_HEADER: auth.csrf_for(runtime, secret),
    }


def stored_votes(runtime: Runtime, started: Started) -> list[tuple[str, int]]:
    with runtime.uow() as uow:
        found = uow.find(m.Vote, alliance_id=started.alliance_id, deliberation_id=started.id)
        return sorted((each.statement_id, each.value) for each in found)


@pytest.mark.parametrize("credential", [bearer, cookie], ids=["token", "session"])
def test_a_vote_is_answered_before_routing_as_the_route_answers(
    pair: Pair,
    runtime: Runtime,
    world: World,
    started: Started,
    credential: Callable[[Runtime, str], dict[str, str]],
) -> None:
    url, headers = votes_url(started), credential(runtime, world.member.id)
    statement = started.statements[0]
    answered = pair.same(url, vote(statement, -1), headers)
    assert answered.status_code == 200 and pair.reached == []
    assert answered.json()["statement_id"] == statement and answered.json()["value"] == -1
    assert answered.headers["content-type"] == "application/json"
    assert answered.headers["cache-control"] == "no-store"
    assert answered.headers["x-frame-options"] == "DENY"
    changed = pair.same(url, vote(statement, 0), headers)
    assert changed.json()["value"] == 0 and pair.reached == []
    assert stored_votes(runtime, started) == [(statement, 0)]


def test_a_vote_appends_its_event_as_the_route_does(
    pair: Pair, runtime: Runtime, world: World, started: Started
) -> None:
    url, headers = votes_url(started), bearer(runtime, world.member.id)
    with runtime.uow() as uow:
        before = _vote_events(uow)
    assert pair.fast.post(url, content=vote(started.statements[1]), headers=headers).is_success
    with runtime.uow() as uow:
        assert _vote_events(uow) == before + 1


def _vote_events(uow: UnitOfWork) -> int:
    from coauthor.db import tables

    events = tables.events
    query = events.select().where(events.c.kind == "vote.cast")
    return len(uow.session.execute(query).all())


@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_the_routed_answer(
    pair: Pair, runtime: Runtime, world: World, started: Started, role: str
) -> None:
    url, headers = votes_url(started), bearer(runtime, world.person(role).id)
    answered = pair.same(url, vote(started.statements[0]), headers)
    assert pair.reached == [], "answered by the layer, refusals by the app's error handler"
    if role in VOTERS:
        assert answered.status_code == 200
    else:
        assert answered.status_code in (403, 404)
        assert answered.headers["content-type"] == "application/problem+json"


BAD_BODIES = {
    "not JSON": b"{statement",
    "not UTF-8": b'{"statement_id": "\xff", "value": 1}',
    "a list": b"[1, 2]",
    "a string": b'"vote"',
    "empty": b"",
    "no value": b'{"statement_id": "st_x"}',
    "a value out of range": b'{"statement_id": "st_x", "value": 2}',
    "a value as text": b'{"statement_id": "st_x", "value": "1"}',
    "an unknown field": b'{"statement_id": "st_x", "value": 1, "weight": 3}',
    "a NUL": b'{"statement_id": "st\\u0000x", "value": 1}',
    "too large": b'{"statement_id": "st_x", "value": 1, "pad": "' + b"x" * MAX_BODY_BYTES + b'"}',
}


@pytest.mark.parametrize("body", list(BAD_BODIES.values()), ids=list(BAD_BODIES))
def test_a_bad_body_is_routed(
    pair: Pair, runtime: Runtime, world: World, started: Started, body: bytes
) -> None:
    url, headers = votes_url(started), bearer(runtime, world.member.id)
    answered = pair.same(url, body, headers)
    assert answered.status_code == 422 and pair.reached == [url]
    assert stored_votes(runtime, started) == []


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/json; charset=utf-8", "application/x+json"]
)
def test_other_content_types_are_routed(
    pair: Pair, runtime: Runtime, world: World, started: Started, content_type: str | None
) -> None:
    url, headers = votes_url(started), bearer(runtime, world.member.id)
    headers = {name: value for name, value in headers.items() if name != "Content-Type"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    pair.same(url, vote(started.statements[0]), headers)
    assert pair.reached == [url]


def test_a_query_string_is_routed(
    pair: Pair, runtime: Runtime, world: World, started: Started
) -> None:
    url, headers = votes_url(started), bearer(runtime, world.member.id)
    answered = pair.same(f"{url}?x=1", vote(started.statements[0]), headers)
    assert answered.status_code == 200 and pair.reached == [url]


def test_refusals_of_the_write_are_the_routed_ones(
    pair: Pair, runtime: Runtime, clock: FixedClock, world: World, started: Started
) -> None:
    url, headers = votes_url(started), bearer(runtime, world.member.id)
    unknown = pair.same(url, vote("st_nosuchstatement"), headers)
    assert unknown.status_code == 422 and unknown.json()["field"] == "statement_id"
    elsewhere = url.replace(started.id, "dl_nosuchdeliberation")
    assert pair.same(elsewhere, vote(started.statements[0]), headers).status_code == 404
    no_alliance = url.replace(started.alliance_id, "al_nosuchalliance")
    assert pair.same(no_alliance, vote(started.statements[0]), headers).status_code == 404
    with runtime.uow() as uow:
        manager = person(uow, world.manager.id)
        acts.do_set_status(uow, manager, started.alliance_id, started.id, "closed")
        uow.session.commit()
    closed = pair.same(url, vote(started.statements[0]), headers)
    assert closed.status_code == 409
    assert pair.reached == [], "refused by the app's handler, not routed"
    assert stored_votes(runtime, started) == []


def test_missing_or_bad_credentials_are_routed(
    pair: Pair, runtime: Runtime, world: World, started: Started
) -> None:
    url, body = votes_url(started), vote(started.statements[0])
    signed_in = cookie(runtime, world.member.id)
    without_csrf = {k: v for k, v in signed_in.items() if k != auth.CSRF_HEADER}
    cases = {
        "nobody": (JSON, 401),
        "forged token": (JSON | {"Authorization": "Bearer cat_forged"}, 401),
        "not a token": (JSON | {"Authorization": "Bearer forged"}, 401),
        "forged cookie": (JSON | {"Cookie": f"{auth.SESSION_COOKIE}=forged"}, 401),
        "no CSRF token": (without_csrf, 403),
        "a wrong CSRF token": (signed_in | {auth.CSRF_HEADER: "wrong"}, 403),
    }
    for name, (headers, status) in cases.items():
        assert pair.same(url, body, headers).status_code == status, name
    assert pair.reached == [url] * len(cases)
    assert stored_votes(runtime, started) == []


@pytest.mark.parametrize("credential", [bearer, cookie], ids=["token", "session"])
def test_a_deactivated_account_is_refused(
    pair: Pair,
    runtime: Runtime,
    world: World,
    started: Started,
    credential: Callable[[Runtime, str], dict[str, str]],
) -> None:
    url, headers = votes_url(started), credential(runtime, world.member.id)
    with runtime.uow() as uow:
        admin.do_deactivate(uow, person(uow, world.admin.id), world.member.id)
        uow.session.commit()
    assert pair.same(url, vote(started.statements[0]), headers).status_code == 401
    assert pair.reached == [url]


def test_a_revoked_token_and_an_ended_session_are_refused(
    pair: Pair, runtime: Runtime, world: World, started: Started
) -> None:
    url, body = votes_url(started), vote(started.statements[0])
    token, session = bearer(runtime, world.member.id), cookie(runtime, world.member.id)
    with runtime.uow() as uow:
        member = person(uow, world.member.id)
        for each in tokens.list_tokens(uow, member):
            tokens.do_revoke_token(uow, member, each.id)
        sessions.do_sign_out_everywhere(uow, member)
        uow.session.commit()
    assert pair.same(url, body, token).status_code == 401
    assert pair.same(url, body, session).status_code == 401
    assert stored_votes(runtime, started) == []


def test_a_session_due_a_touch_is_routed_and_touched(
    pair: Pair, runtime: Runtime, clock: FixedClock, world: World, started: Started
) -> None:
    url, headers = votes_url(started), cookie(runtime, world.member.id)
    clock.advance(sessions.TOUCH_EVERY)
    answered = pair.fast.post(url, content=vote(started.statements[0]), headers=headers)
    assert answered.status_code == 200 and pair.reached == [url]
    clock.advance(timedelta(seconds=1))
    answered = pair.same(url, vote(started.statements[1]), headers)
    assert answered.status_code == 200 and pair.reached == [url], "touched: fast again"


def test_a_group_finds_each_vote_s_person_as_alone(
    runtime: Runtime, clock: FixedClock, world: World
) -> None:
    """The people of a group of votes are found together (one query per kind of
    credential), each by the rules a vote alone is held to: a revoked token, a deactivated
    person, an ended session, one due a touch, a write without its CSRF token or with a
    bad credential find nobody, and the same credential twice finds the same person."""
    stale = cookie(runtime, world.observer.id)
    clock.advance(sessions.TOUCH_EVERY)
    member, manager = bearer(runtime, world.member.id), cookie(runtime, world.manager.id)
    revoked, ended = bearer(runtime, world.observer.id), cookie(runtime, world.outsider.id)
    deactivated = bearer(runtime, world.sponsor.id)
    with runtime.uow() as uow:
        observer, outsider = person(uow, world.observer.id), person(uow, world.outsider.id)
        for each in tokens.list_tokens(uow, observer):
            tokens.do_revoke_token(uow, observer, each.id)
        sessions.do_sign_out_everywhere(uow, outsider)
        admin.do_deactivate(uow, person(uow, world.admin.id), world.sponsor.id)
        uow.session.commit()
    no_csrf = {k: v for k, v in manager.items() if k != auth.CSRF_HEADER}
    requests = [
        (member, world.member.id),
        (manager, world.manager.id),
        (no_csrf, None),
        (revoked, None),
        (ended, None),
        (stale, None),
        (deactivated, None),
        (JSON | {"Authorization": "Bearer cat_nosuchtoken"}, None),
        (JSON, None),
        (member, world.member.id),
        (manager, world.manager.id),
    ]
    with runtime.uow() as uow:
        found = vote_posts._people(runtime, uow, [Headers(h) for h, _ in requests])
        alone = [vote_posts._people(runtime, uow, [Headers(h)])[0] for h, _ in requests]
        assert [p.id if p else None for p in found] == [expected for _, expected in requests]
        assert [p.id if p else None for p in alone] == [expected for _, expected in requests]


class _LostRace(Exception):
    sqlstate = "40001"


@dataclass(frozen=True)
class _NoAnswer:
    timeline: None = None


def test_a_group_that_keeps_losing_its_race_is_busy_for_each_vote_with_a_person(
    runtime: Runtime, world: World, started: Started, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A race lost at every attempt refuses the whole group with ``Busy``, as ``uow.write``
    refuses a write; a vote without a person still goes to the app."""
    attempts: list[int] = []

    def losing(uow: UnitOfWork, ballots: list) -> list:
        attempts.append(len(ballots))
        raise sa.exc.OperationalError("INSERT", {}, _LostRace("could not serialize"))

    monkeypatch.setattr(acts, "do_votes", losing)
    data = VoteInput(statement_id=started.statements[0], value=1)
    votes = [
        vote_posts._Vote(
            Headers(headers),
            started.alliance_id,
            started.id,
            data,
            _NoAnswer(),  # type: ignore[arg-type]
        )
        for headers in (bearer(runtime, world.member.id), JSON, cookie(runtime, world.manager.id))
    ]
    outcomes = vote_posts._votes(runtime, votes)
    assert attempts == [2] * MAX_ATTEMPTS
    assert isinstance(outcomes[0], Busy) and outcomes[1] is None and outcomes[2] is outcomes[0]
    assert stored_votes(runtime, started) == []


@pytest.mark.parametrize("credential", [bearer, cookie], ids=["token", "session"])
def test_parallel_votes_are_upserts(
    runtime: Runtime,
    world: World,
    started: Started,
    credential: Callable[[Runtime, str], dict[str, str]],
) -> None:
    """A first vote sent from two tabs at once, the same vote twice, votes on every
    statement at once, from one person and from several: each answered by the layer with
    200, one participant per person and one vote per statement."""
    reached: list[str] = []
    app = create_app(runtime=runtime)
    app.user_middleware.append(Middleware(_Router, reached=reached))
    url = votes_url(started)
    voters = [world.member.id, world.manager.id, world.sponsor.id]
    sends = [
        (credential(runtime, voter), vote(statement, value))
        for voter in voters
        for statement in started.statements
        for value in (1, 1, -1)
    ]
    with TestClient(app) as client:

        def send(request: tuple[dict[str, str], bytes]) -> int:
            headers, body = request
            return client.post(url, content=body, headers=headers).status_code

        with ThreadPoolExecutor(max_workers=len(sends)) as threads:
            statuses = list(threads.map(send, sends))
    assert statuses == [200] * len(sends) and reached == []
    with runtime.uow() as uow:
        where = {"alliance_id": started.alliance_id, "deliberation_id": started.id}
        found = [(v.participant_id, v.statement_id) for v in uow.find(m.Vote, **where)]
        joined = [p.person_id for p in uow.find(m.Participant, **where)]
    assert len(found) == len(voters) * len(started.statements)
    assert len({participant for participant, _ in found}) == len(voters)
    assert sorted(each for each in joined if each in voters) == sorted(voters)


def test_on_sqlite_a_vote_is_written_on_the_event_loop(
    pair: Pair,
    runtime: Runtime,
    world: World,
    started: Started,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The layer's vote runs in the loop's thread (web/loop_writes.py, as a group through
    ``acts.do_votes``), the routed one in a request thread (``acts.do_vote``); both answer
    the same."""
    in_loop: list[tuple[str, bool]] = []

    def noted(name: str, original: Callable[..., object]) -> Callable[..., object]:
        def called(*args: object) -> object:
            try:
                asyncio.get_running_loop()
                in_loop.append((name, True))
            except RuntimeError:
                in_loop.append((name, False))
            return original(*args)

        return called

    monkeypatch.setattr(acts, "do_votes", noted("do_votes", acts.do_votes))
    monkeypatch.setattr(acts, "do_vote", noted("do_vote", acts.do_vote))
    answered = pair.same(
        votes_url(started), vote(started.statements[0]), bearer(runtime, world.member.id)
    )
    assert answered.status_code == 200 and pair.reached == []
    assert in_loop == [("do_votes", True), ("do_vote", False)]


def test_a_vote_whose_turn_does_not_come_is_the_routed_busy_answer(
    pair: Pair,
    runtime: Runtime,
    world: World,
    started: Started,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another writer holds the write turn past the busy timeout: the layer's vote, waiting
    for it in the event loop, is refused as the routed one is (503), and nothing is stored."""
    import coauthor.db.engine

    monkeypatch.setattr(coauthor.db.engine, "TURN_TIMEOUT_SECONDS", 0.3)
    turn = write_turn(runtime.engine)
    assert turn is not None
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with turn:
            holding.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(5)
        headers = bearer(runtime, world.member.id)
        answered = pair.same(votes_url(started), vote(started.statements[0]), headers)
    finally:
        done.set()
        holder.join()
    assert answered.status_code == 503 and pair.reached == []
    assert stored_votes(runtime, started) == []
