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
- the vote is then written in a group commit with the votes that wait beside it
  (``_votes``: one ``uow.write`` that finds their people, one query per kind of
  credential, and runs ``acts.do_votes``, the batched twin of the route's service
  ``acts.do_vote`` with exactly its outcomes, in a constant number of statements for
  the whole group, their alliances' chain heads locked first; a lost race runs the group
  again). On a database server the groups are written by one
  thread per process (``web/group_writes.py``); on SQLite on the event loop, in the
  process's write turn (``web/loop_writes.py``: in request threads, a vote under load
  waited far longer for the turn and the interpreter lock than it worked). What a vote's
  write refuses (no access, no such statement, a closed deliberation) — or the whole
  group's (``Busy``, ``Conflict``) — is answered by the app's own handler of such errors
  (``web/errors.py``), so with the routed status, headers and body, and nothing of that
  vote was written. Every answer is sent after the commit, by the task that wrote the
  group (``_Answer``).

Every other request — no or bad credentials, a missing CSRF token, a body of another
type, too large, not JSON or not a vote, a query string — goes on to the app unchanged
(its body handed on as it came), so those answers are the routed ones.

It sits inside ``AdmissionControl`` (a vote waits for admission as a routed one does)
and the security headers, so its answers get the same headers as every other. No
throttle applies to votes, routed or not.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial

from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coauthor.db.engine import write_turn
from coauthor.db.uow import UnitOfWork, busy
from coauthor.domain import model as m
from coauthor.domain.errors import CoauthorError
from coauthor.runtime import Runtime
from coauthor.services.accounts import sessions, tokens
from coauthor.services.deliberation import acts, voting
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
from coauthor.web.group_writes import GroupWriter
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
        self._writer: LoopWriter[_Vote] | GroupWriter[_Vote] | None = None
        self._writer_of: tuple[asyncio.AbstractEventLoop, Runtime] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = _vote_of(scope)
        if target is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if headers.get("content-type", "").strip().lower() != "application/json":
            await self.app(scope, receive, send)
            return
        timeline = vote_timeline.start(scope)
        body, complete = await _body(receive)
        vote_timeline.mark(timeline, "arrived")
        data = _vote_input(body) if complete else None
        if data is None:
            await self.app(scope, _replay(body, complete, receive), send)
            return
        runtime = _runtime_of(scope, self.runtime)
        vote = _Vote(headers, *target, data, _Answer(scope, receive, send, timeline))
        outcome = await self._written(runtime, vote)
        if outcome is not _ANSWERED:  # a Busy wait for the turn, or not answered by the writer
            outcome = await vote.answer(outcome)
        if outcome is _ANSWERED:
            return
        if outcome is None:
            await self.app(scope, _replay(body, complete, receive), send)
            return
        assert isinstance(outcome, Exception)
        raise outcome  # unexpected: raised in its request, as the routed write would raise it

    async def _written(self, runtime: Runtime, vote: _Vote) -> object:
        """The vote written with the others that wait for the same writer (a group commit,
        ``_votes``): on SQLite on the event loop in the write turn
        (``web/loop_writes.py``), on a database server in the process's writer thread
        (``web/group_writes.py``)."""
        key = (asyncio.get_running_loop(), runtime)
        if self._writer is None or not _same(self._writer_of, key):
            if self._writer is not None:
                self._writer.close()
            self._writer, self._writer_of = _writer_for(runtime), key
        return await self._writer.run(vote)


def _same(
    one: tuple[asyncio.AbstractEventLoop, Runtime] | None,
    other: tuple[asyncio.AbstractEventLoop, Runtime],
) -> bool:
    return one is not None and one[0] is other[0] and one[1] is other[1]


def _writer_for(runtime: Runtime) -> LoopWriter[_Vote] | GroupWriter[_Vote]:
    """The votes' writer of one event loop (a server process has one; each test client its
    own)."""
    write_all = partial(_votes, runtime)
    turn = write_turn(runtime.engine)
    if turn is None:
        return GroupWriter(write_all, _answered)
    return LoopWriter(turn, busy, write_all, _answered)


def _runtime_of(scope: Scope, built_with: Runtime) -> Runtime:
    """The app's runtime as the routed handler finds it (``auth.get_runtime``)."""
    app = scope.get("app")
    state = getattr(app, "state", None)
    return getattr(state, "runtime", built_with)


@dataclass(frozen=True)
class _Vote:
    """A vote the layer may answer, as it arrived."""

    headers: Headers
    alliance_id: str
    deliberation_id: str
    data: VoteInput
    answer: _Answer

    @property
    def timeline(self) -> vote_timeline.Timeline | None:
        return self.answer.timeline


_ANSWERED = object()
"""A vote's result once its answer is sent."""


class _Answer:
    """Sends a vote's answer to its request: the route's ``Vote`` (200) or, for a refusal,
    the app's own handler of such errors (``web/errors.py``), so with the routed status,
    headers and body. Called by the votes' writer right after the commit (``hand_out``
    in ``web/loop_writes.py``), so an answer never waits for its request's task to run
    again on a busy event loop."""

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, timeline: vote_timeline.Timeline | None
    ) -> None:
        self.scope, self.receive, self.send = scope, receive, send
        self.timeline = timeline

    async def __call__(self, outcome: _Outcome) -> object:
        """``_ANSWERED`` once sent; an outcome that is not an answer (None: the app must
        answer; an unexpected exception) is handed back to the request as it is."""
        if outcome is None or (
            isinstance(outcome, Exception) and not isinstance(outcome, CoauthorError)
        ):
            return outcome
        vote_timeline.mark(self.timeline, "resumed")
        if isinstance(outcome, CoauthorError):
            response = await coauthor_error_response(Request(self.scope), outcome)
        else:
            response = Response(outcome, media_type="application/json")
        await response(self.scope, self.receive, self.send)
        if self.timeline is not None:
            self.timeline.mark("sent")
            self.timeline.save()
        return _ANSWERED


async def _answered(vote: _Vote, outcome: _Outcome) -> object:
    return await vote.answer(outcome)


_Outcome = bytes | CoauthorError | Exception | None
"""The route's answer to a vote (its body), the write's refusal, None when the app must
answer, or an unexpected exception to raise in the vote's request."""


def _votes(runtime: Runtime, votes: Sequence[_Vote]) -> list[_Outcome]:
    """Each vote's outcome, the votes written as one group commit (``_found_and_cast``): one
    ``uow.write`` — one transaction that finds their people together (one query per kind
    of credential), then writes them with ``acts.do_votes`` in a constant number of
    statements for the whole group (their alliances' chain heads locked first) and commits
    once — which answers each vote exactly as ``acts.do_vote`` for each in order would (a
    refused one with its own error, having written nothing). A vote whose person is not
    found goes to the app. A refusal of the whole group (``Busy``, a race lost every time)
    is the answer of every vote whose person is found."""
    cpu = time.thread_time()
    for vote in votes:
        vote_timeline.mark(vote.timeline, "started")
    outcomes: list[_Outcome] = [None] * len(votes)
    with runtime.uow() as uow:
        try:
            people, written = uow.write(_found_and_cast, runtime, votes)
        except CoauthorError as refused:
            people = _people(runtime, uow, [vote.headers for vote in votes])
            written = [refused] * sum(person is not None for person in people)
        cast = [number for number, person in enumerate(people) if person is not None]
        for number, outcome in zip(cast, written, strict=True):
            outcomes[number] = outcome if isinstance(outcome, Exception) else _encoded(outcome)
    _note_written(votes, 1000 * (time.thread_time() - cpu))
    return outcomes


def _found_and_cast(
    uow: UnitOfWork, runtime: Runtime, votes: Sequence[_Vote]
) -> tuple[list[m.Person | None], Sequence[m.Vote | Exception]]:
    """The write of a group: the votes' people, and the outcomes of the votes of those
    found. Finding them in the write's transaction spares the group a transaction of its
    own (on a database server two round trips, its end and the write's start)."""
    people = _people(runtime, uow, [vote.headers for vote in votes])
    for vote in votes:
        vote_timeline.mark(vote.timeline, "person")
    ballots = [
        voting.Ballot(person, vote.alliance_id, vote.deliberation_id, vote.data)
        for vote, person in zip(votes, people, strict=True)
        if person is not None
    ]
    return people, acts.do_votes(uow, ballots) if ballots else []


def _note_written(votes: Sequence[_Vote], cpu_ms: float) -> None:
    for vote in votes:
        vote_timeline.mark(vote.timeline, "committed")
        if vote.timeline is not None:
            vote.timeline.cpu_ms, vote.timeline.batch = cpu_ms, len(votes)


def _people(
    runtime: Runtime, uow: UnitOfWork, requests: Sequence[Headers]
) -> list[m.Person | None]:
    """The person of each request's credential, as ``current_person`` and ``signed_in``
    find them (``_person``'s rules), the bearer tokens' people in one query and the session
    cookies' in another; None whenever they would refuse it, or a session's use is due to
    be recorded."""
    tokens_of: list[str | None] = []
    cookies_of: list[str | None] = []
    for headers in requests:
        token = bearer_token_in(headers.get("authorization", ""))
        tokens_of.append(token)
        cookies_of.append(None if token is not None else _session_secret(runtime, headers))
    by_token = tokens.people_for_tokens(uow, [t for t in tokens_of if t is not None])
    live = sessions.live_sessions(
        uow, [s for s in cookies_of if s is not None], session_rules(runtime)
    )
    people: list[m.Person | None] = []
    for headers, token, secret in zip(requests, tokens_of, cookies_of, strict=True):
        if token is not None:
            people.append(by_token[token])
        elif secret is None:
            people.append(None)
        else:
            people.append(_session_person(runtime, uow, headers, secret, live[secret]))
    return people


def _session_secret(runtime: Runtime, headers: Headers) -> str | None:
    """The secret of the request's signed session cookie, if it has a valid one."""
    cookies: dict[str, str] = {}
    for header in headers.getlist("cookie"):
        cookies.update(cookie_parser(header))
    raw = cookies.get(SESSION_COOKIE)
    return signed_in_secret(runtime, raw) if raw else None


def _session_person(
    runtime: Runtime,
    uow: UnitOfWork,
    headers: Headers,
    secret: str,
    live: sessions.Live | None,
) -> m.Person | None:
    """The live session's person, unless its use is due to be recorded or the write does
    not carry the session's CSRF token."""
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
