"""A vote answered before routing, through the same sign-in, CSRF check, service and write.

A live deliberation takes a hundred votes a second (issue 14). Routed through FastAPI a
vote paid, besides its write, for matching its path against every route, solving the
route's dependencies (three trips to a request thread: the unit of work, the person,
the handler) and validating and encoding through the route's models. This ASGI layer
recognises ``POST /api/v1/alliances/{id}/deliberations/{id}/votes`` and answers it
itself when, and only when, it can give exactly the routed answer:

- the body is a JSON object (``Content-Type: application/json``, at most
  ``MAX_BODY_BYTES``) that ``VoteInput`` accepts, as the route would validate it;
- the person is found as ``web/auth.py`` finds them, with its own functions: a bearer
  token by ``tokens.person_for_token`` (the active person of an unrevoked token), else
  the session cookie (its signature and age, then ``sessions.live_session``); a session
  due to have its use recorded (``sessions.TOUCH_EVERY``) is left to the app, which
  records it; a write by session cookie must carry the session's CSRF token in
  ``X-CSRF-Token``, as ``web/api/deps.signed_in`` requires;
- the vote is then ``acts.do_vote`` run by ``uow.write``, as the route runs it: one
  transaction, retried when it loses a race. On a database server it runs in a request
  thread; on SQLite on the event loop, in the process's write turn, after the votes queued
  before it (``web/loop_writes.py``: in request threads, a vote under load waited far
  longer for the turn and the interpreter lock than it worked). What the write refuses
  (no access, no such statement, a closed deliberation, ``Busy``, ``Conflict``) is
  answered by the app's own handler of such errors (``web/errors.py``), so with the
  routed status, headers and body, and nothing was written.

Every other request — no or bad credentials, a missing CSRF token, a body of another
type, too large, not JSON or not a vote, a query string — goes on to the app unchanged
(its body handed on as it came), so those answers are the routed ones.

It sits inside ``AdmissionControl`` (a vote holds a pooled connection in a request
thread, as a routed one does) and the security headers, so its answers get the same
headers as every other. No throttle applies to votes, routed or not.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import time
from collections.abc import Awaitable, Callable
from functools import partial

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coauthor.db.engine import WriteTurn, write_turn
from coauthor.db.uow import UnitOfWork, busy
from coauthor.domain import model as m
from coauthor.domain.errors import CoauthorError
from coauthor.runtime import Runtime
from coauthor.services.accounts import sessions, tokens
from coauthor.services.deliberation import acts
from coauthor.services.deliberation.inputs import VoteInput
from coauthor.web import vote_timeline
from coauthor.web.auth import (
    CSRF_HEADER,
    SESSION_COOKIE,
    bearer_token_in,
    csrf_for,
    session_rules,
    signed_in_secret,
)
from coauthor.web.errors import coauthor_error_response
from coauthor.web.loop_writes import LoopWriter

VOTES_PATH = re.compile(
    r"/api/v1/alliances/([A-Za-z0-9_-]{1,64})/deliberations/([A-Za-z0-9_-]{1,64})/votes"
)
"""Ids are ``new_id``'s URL-safe text: any other path is left to the app (and its 404)."""

MAX_BODY_BYTES = 4096
"""A vote is a few dozen bytes; a larger body is the app's to read and answer."""


class VotePosts:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        self._writer: LoopWriter | None = None
        self._writer_of: tuple[asyncio.AbstractEventLoop, WriteTurn] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = _vote_of(scope)
        if target is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if headers.get("content-type", "").strip().lower() != "application/json":
            await self.app(scope, receive, send)
            return
        body, complete = await _body(receive)
        data = _vote_input(body) if complete else None
        if data is None:
            await self.app(scope, _replay(body, complete, receive), send)
            return
        runtime = _runtime_of(scope, self.runtime)
        timeline = vote_timeline.start()
        vote = partial(_vote, runtime, headers, *target, data, timeline)
        outcome = await self._written(runtime, vote)
        vote_timeline.mark(timeline, "resumed")
        if outcome is None:
            await self.app(scope, _replay(body, complete, receive), send)
        elif isinstance(outcome, CoauthorError):
            await (await coauthor_error_response(Request(scope), outcome))(scope, receive, send)
        else:
            await Response(outcome, media_type="application/json")(scope, receive, send)
        if timeline is not None:
            timeline.mark("sent")
            timeline.save()

    async def _written(
        self, runtime: Runtime, vote: Callable[[], bytes | CoauthorError | None]
    ) -> bytes | CoauthorError | None:
        """``vote()`` run in a request thread, or on SQLite on the event loop in the write
        turn (``web/loop_writes.py``)."""
        turn = write_turn(runtime.engine)
        if turn is None:
            return await run_in_threadpool(vote)
        return await self._loop_writer(turn).run(vote)

    def _loop_writer(self, turn: WriteTurn) -> LoopWriter:
        """The writer of this event loop (a server process has one; each test client its own)."""
        loop = asyncio.get_running_loop()
        if self._writer is None or self._writer_of != (loop, turn):
            self._writer, self._writer_of = LoopWriter(turn, busy), (loop, turn)
        return self._writer


def _runtime_of(scope: Scope, built_with: Runtime) -> Runtime:
    """The app's runtime as the routed handler finds it (``auth.get_runtime``)."""
    app = scope.get("app")
    state = getattr(app, "state", None)
    return getattr(state, "runtime", built_with)


def _vote(
    runtime: Runtime,
    headers: Headers,
    alliance_id: str,
    deliberation_id: str,
    data: VoteInput,
    timeline: vote_timeline.Timeline | None = None,
) -> bytes | CoauthorError | None:
    """The route's answer to the vote, the write's refusal, or None when the app must
    answer."""
    cpu = time.thread_time()
    vote_timeline.mark(timeline, "started")
    with runtime.uow() as uow:
        person = _person(runtime, uow, headers)
        vote_timeline.mark(timeline, "person")
        if person is None:
            return None
        try:
            vote = uow.write(acts.do_vote, person, alliance_id, deliberation_id, data)
        except CoauthorError as refused:
            return refused
        finally:
            vote_timeline.mark(timeline, "committed")
            if timeline is not None:
                timeline.cpu_ms = 1000 * (time.thread_time() - cpu)
        return _encoded(vote)


def _person(runtime: Runtime, uow: UnitOfWork, headers: Headers) -> m.Person | None:
    """The person of the credential, as ``current_person`` and ``signed_in`` find them;
    None whenever they would refuse it, or a session's use is due to be recorded."""
    token = bearer_token_in(headers.get("authorization", ""))
    if token is not None:
        return tokens.person_for_token(uow, token)
    cookies: dict[str, str] = {}
    for header in headers.getlist("cookie"):
        cookies.update(cookie_parser(header))
    raw = cookies.get(SESSION_COOKIE)
    secret = signed_in_secret(runtime, raw) if raw else None
    if secret is None:
        return None
    live = sessions.live_session(uow, secret, session_rules(runtime))
    if live is None or sessions.stale(live.session, uow.clock.now()):
        return None
    submitted = headers.get(CSRF_HEADER)
    if not submitted or not hmac.compare_digest(submitted, csrf_for(runtime, secret)):
        return None
    return live.person


def _vote_of(scope: Scope) -> tuple[str, str] | None:
    """(alliance, deliberation) of a vote this layer may answer."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope["query_string"]:
        return None
    matched = VOTES_PATH.fullmatch(scope["path"])
    if matched is None:
        return None
    alliance_id, deliberation_id = matched.groups()
    return alliance_id, deliberation_id


async def _body(receive: Receive) -> tuple[bytes, bool]:
    """The body, and whether it is all there: reading stops past ``MAX_BODY_BYTES``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > MAX_BODY_BYTES:
            return b"".join(chunks), False


def _vote_input(body: bytes) -> VoteInput | None:
    """The vote the route would take from this body; None for anything it would refuse."""
    if not body or len(body) > MAX_BODY_BYTES:
        return None
    try:
        parsed = json.loads(body)
        return VoteInput.model_validate(parsed) if isinstance(parsed, dict) else None
    except (ValueError, ValidationError):
        return None


def _replay(body: bytes, complete: bool, receive: Receive) -> Callable[[], Awaitable[Message]]:
    """``receive`` for the app: the body read so far, then the rest as it comes."""
    pending = [{"type": "http.request", "body": body, "more_body": not complete}]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed


def _encoded(vote: m.Vote) -> bytes:
    """The route's ``Vote`` model of the vote, encoded as FastAPI encodes a response model
    (while the unit of work is open, as in the route)."""
    from coauthor.web.api.deliberation import Vote

    return Vote.model_validate(vote).model_dump_json().encode()
