"""A results poll answered before routing, through the same sign-in and permission checks.

Every participant's results view polls ``GET /api/v1/…/deliberations/{id}/results``
with ``If-None-Match``; a consortium-wide deliberation has a couple of thousand of
them (issue 14). Routed through FastAPI, such a ``304`` cost about 6 ms of CPU, most
of it matching the path against every route and solving the route's dependencies.
This ASGI layer recognises the poll first and answers it itself when, and only when,
it can give exactly the routed answer:

- the credential is checked as ``web/auth.py`` checks it: a bearer token (unrevoked,
  found by its digest), else the session cookie (its signature and age, then the
  session row: not ended, not past its lifetime, not idle — ``SignInSession.is_live``
  itself). A session that is due to have its use recorded (``sessions.TOUCH_EVERY``)
  is left to the app, which records it;
- the permission is the route's (``open_deliberation``: the person is active and is a
  member of the alliance or a site administrator, and the deliberation is in it),
  read with the current release number in one indexed query, built once;
- the version is the routed one (``results_version``) once a release exists; before
  the first release the version also counts the listed statements, and the app
  answers.

It then answers ``304`` when the ``If-None-Match`` names the current version, or
``200`` with the bytes of that version (``Runtime.results_json``: a version's document
never changes). A version this process has not seen yet is read, by its key, from the
document stored with the release (``services/deliberation/documents.py``: shaped and
encoded once, by whoever stored the release, with the anonymity rules of
``present_results``), through one of the layer's readers: right after a release every
poller asks for it at once, the first starts the read and the others of this process
wait for it in the event loop. Only a version with no stored bytes (a release from
before they were stored, a status changed since the release) is built by the layer, in
a thread of its own, with the routed handler's own function (``encoded_results``, which
stores what it built). (Built by the first poll through the app, the new version waited
behind admission control and the votes queued there: under bench_live's load on
PostgreSQL most polls slower than 6 s were waiting for it; built by the layer in every
process, each build held the interpreter lock while the event loop served polls.)
The permission check
runs on every request; only the document is kept. In every other case — no or bad
credentials, no access, an unknown deliberation, a query string, the ``inline``
results worker (the request publishes a due release), a database error — the request
goes on to the app unchanged, so every error answer stays the routed one.

It sits inside ``SecurityHeaders`` (its answers get the same headers as every other)
and outside ``AdmissionControl``: it reads through connections of its own, kept, so a
poll neither waits for nor holds one of the request threads (a build takes one of the
pool's connections in the builder thread, among those admission control keeps free). On
SQLite that is one of the pool's connections, read on the event loop (a read in WAL mode
waits for nothing).
On a database server they are a few asynchronous connections (psycopg's, outside the
pool), so a read that waits for the server — a busy machine, a lock — holds up only its
own poll, never the event loop and with it every other request of the process; a read
that takes longer than a statement timeout is abandoned and that poll goes to the app,
and the connection is kept unless it broke. (Read synchronously on the event loop
through one connection, with a 500 ms timeout, the whole process stood still while a
read waited for the server, and under bench_live's load some pollers waited past wrk's
10 s timeout: its errors.)
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import psycopg
import sqlalchemy as sa
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coauthor.db import tables
from coauthor.db.quick import utc_timestamp
from coauthor.domain import model as m
from coauthor.domain.accounts import SignInSession
from coauthor.domain.errors import CoauthorError, NotFound
from coauthor.runtime import Runtime
from coauthor.services.accounts import links, sessions, tokens
from coauthor.services.deliberation import documents
from coauthor.services.deliberation.results import (
    released_number_and_status,
    released_version,
    results_json_key,
)
from coauthor.web.auth import SESSION_COOKIE, bearer_token_in, session_rules, signed_in_secret
from coauthor.web.deliberation_results import encoded_results

T = TypeVar("T")

RESULTS_PATH = re.compile(
    r"/api/v1/alliances/([A-Za-z0-9_-]{1,64})/deliberations/([A-Za-z0-9_-]{1,64})/results"
)
"""Ids are ``new_id``'s URL-safe text: any other path is left to the app (and its 404)."""


READ_TIMEOUT_MS = 2000
"""A poll's read on a database server that takes longer is abandoned and the app answers
that poll (the read holds up nothing else while it waits)."""

SERVER_READERS = 4
"""Connections a process's poll layer reads through on a database server, outside the
pool. One kept the polls of a process in one queue: under bench_live's load a read
waited seconds for the round trips of the reads before it."""

BUILD_WAIT_SECONDS = 10.0
"""How long a poll waits for this process's builder to encode a new version before it
asks the app itself."""


class ResultsPolls:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        self._pid = os.getpid()
        self._readers: asyncio.Queue[_Reader | None] | None = None
        """This process's readers, each taken by one poll at a time (None: not open yet)."""
        self._building: dict[tuple, asyncio.Future[None]] = {}
        """Versions whose document this process's builder thread is encoding now."""
        self._builder: ThreadPoolExecutor | None = None
        self._builder_pid = self._pid

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._closing_readers_on_shutdown(receive), send)
            return
        poll = self._poll_of(scope)
        if poll is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        readable = await self._readable_version(headers, *poll)
        if readable is None:
            await self.app(scope, receive, send)
            return
        version, person_id = readable
        etag = f'"{version}"'
        if headers.get("if-none-match") == etag:
            await _not_modified(send, etag)
            return
        key = results_json_key(*poll, version, self.runtime.settings.anonymity_threshold)
        answer = self._cached(key)
        if answer is None:
            answer = await self._built(key, person_id, *poll, version)
        if answer is None:
            await self.app(scope, receive, send)
            return
        await answer(scope, receive, send)

    def _poll_of(self, scope: Scope) -> tuple[str, str] | None:
        """(alliance, deliberation) of a results poll this layer may answer."""
        if scope["type"] != "http" or scope["method"] != "GET" or scope["query_string"]:
            return None
        matched = RESULTS_PATH.fullmatch(scope["path"])
        if matched is None or self.runtime.settings.results_worker == "inline":
            return None
        alliance_id, deliberation_id = matched.groups()
        return alliance_id, deliberation_id

    async def _readable_version(
        self, headers: Headers, alliance_id: str, deliberation_id: str
    ) -> tuple[str, str] | None:
        return await self._reading(
            lambda reader: self._version(reader, headers, alliance_id, deliberation_id)
        )

    async def _reading(self, read: Callable[[_Reader], Awaitable[T]]) -> T | None:
        """``read`` through one of this process's readers; None when the database failed it
        (the app answers then)."""
        readers = self._process_readers()
        reader = await readers.get()
        try:
            if reader is None:
                reader = await _open_reader(self.runtime.engine)
            return await read(reader)
        except (sa.exc.SQLAlchemyError, self.runtime.engine.dialect.loaded_dbapi.Error, OSError):
            if reader is not None and not reader.usable():
                await reader.close()
                reader = None
            return None
        finally:
            readers.put_nowait(reader)

    def _cached(self, key: tuple) -> Response | None:
        """The app's own 200 for this version, from the bytes it encoded for it."""
        encoded = self.runtime.results_json.get(key)
        if encoded is None:
            return None
        document_version, body = encoded
        headers = {"ETag": f'"{document_version}"'}
        return Response(body, media_type="application/json", headers=headers)

    async def _built(
        self, key: tuple, person_id: str, alliance_id: str, deliberation_id: str, version: str
    ) -> Response | None:
        """A version this process has not encoded yet: its stored document, read here, off
        the routed path (built, when none is stored).

        Right after a release every poller asks for the new version at once: the first
        starts its read (``_obtain``) and the others wait for it (holding no thread), then
        all take its bytes. A poll never queues behind admission control and the votes
        for it. None when the read and the build failed or took too long: the app answers
        that poll."""
        building = self._building.get(key)
        if building is None:
            building = asyncio.ensure_future(
                self._obtain(key, person_id, alliance_id, deliberation_id, version)
            )
            self._building[key] = building
            building.add_done_callback(lambda _: self._building.pop(key, None))
        try:
            await asyncio.wait_for(asyncio.shield(building), BUILD_WAIT_SECONDS)
        except (TimeoutError, CoauthorError, sa.exc.SQLAlchemyError):
            return None
        return self._cached(key)

    async def _obtain(
        self, key: tuple, person_id: str, alliance_id: str, deliberation_id: str, version: str
    ) -> None:
        """Put ``version``'s bytes into the process's cache: the document stored with the
        release (one keyed read through a reader), else built in this layer's builder
        thread as the routed handler builds it (and stored there for the other processes)."""
        released = released_number_and_status(version)
        if released is not None:
            values = {
                "alliance": alliance_id,
                "deliberation": deliberation_id,
                "number": released[0],
                "status": released[1],
            }
            row = await self._reading(lambda reader: reader.row(reader.statements.document, values))
            if row is not None:
                self.runtime.results_json.put(key, (version, bytes(row[0])))
                return
        await asyncio.get_running_loop().run_in_executor(
            self._process_builder(), self._encode, person_id, alliance_id, deliberation_id, version
        )

    def _encode(self, person_id: str, alliance_id: str, deliberation_id: str, version: str) -> None:
        """Shape and encode ``version`` as the routed handler does (``encoded_results``: the
        same presentation, the same anonymity rules, the same cache), in the builder thread,
        as the person whose poll asked for it (their access was just checked; the services
        check it again)."""
        with self.runtime.uow() as uow:
            person = uow.get(m.Person, id=person_id)
            if person is None:
                raise NotFound("no such person")
            encoded_results(self.runtime, uow, person, alliance_id, deliberation_id, version)

    def _process_builder(self) -> ThreadPoolExecutor:
        """This process's one builder thread (made on first use, so a forked worker has its
        own): a release is built once, and builds never compete with each other for the
        cores."""
        if self._builder is None or self._builder_pid != os.getpid():
            self._builder_pid = os.getpid()
            self._builder = ThreadPoolExecutor(1, thread_name_prefix="results-build")
        return self._builder

    async def _version(
        self, reader: _Reader, headers: Headers, alliance_id: str, deliberation_id: str
    ) -> tuple[str, str] | None:
        """The results version the person may read now, and who they are; None when the app
        must answer. A bearer token's person is found in the same query (one round trip)."""
        where = {"alliance": alliance_id, "deliberation": deliberation_id}
        token = bearer_token_in(headers.get("authorization", ""))
        if token is not None:
            if not token.startswith(tokens.TOKEN_PREFIX):
                return None
            digest = tokens.token_digest(token)
            row = await reader.row(reader.statements.token_access, where | {"digest": digest})
        else:
            person_id = await self._cookie_person_id(reader, headers)
            if person_id is None:
                return None
            row = await reader.row(reader.statements.access, where | {"person": person_id})
        if row is None or not row[1]:
            return None
        status, number, person_id = row
        return released_version(number, status), person_id

    async def _cookie_person_id(self, reader: _Reader, headers: Headers) -> str | None:
        """Whose session cookie this is, as ``current_person`` finds them (their being
        active is part of the access query)."""
        cookies: dict[str, str] = {}
        for header in headers.getlist("cookie"):
            cookies.update(cookie_parser(header))
        raw = cookies.get(SESSION_COOKIE)
        secret = signed_in_secret(self.runtime, raw) if raw else None
        if secret is None:
            return None
        return await self._session_person(reader, secret)

    async def _session_person(self, reader: _Reader, secret: str) -> str | None:
        row = await reader.row(reader.statements.session, {"digest": links.digest(secret)})
        if row is None:
            return None
        session = SignInSession(
            id=row[0],
            person_id=row[1],
            secret_hash=row[2],
            created_at=utc_timestamp(row[3]),
            last_seen_at=utc_timestamp(row[4]),
            expires_at=utc_timestamp(row[5]),
            ended_at=None if row[6] is None else utc_timestamp(row[6]),
        )
        now = self.runtime.clock.now()
        if not session.is_live(now, session_rules(self.runtime).idle):
            return None
        if sessions.stale(session, now):
            return None
        return session.person_id

    def _closing_readers_on_shutdown(self, receive: Receive) -> Receive:
        """The lifespan's ``receive``, closing this process's readers when the server stops:
        their connections are outside the pool, so disposing of the engine leaves them open."""

        async def receive_then_close() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self._close_readers()
                if self._builder is not None:
                    self._builder.shutdown(wait=False)
            return message

        return receive_then_close

    async def _close_readers(self) -> None:
        """Close the readers not in use (a poll still reading puts its reader back into the
        queue dropped here, and it is closed with the process)."""
        readers, self._readers = self._readers, None
        while readers is not None and not readers.empty():
            reader = readers.get_nowait()
            if reader is not None:
                await reader.close()

    def _process_readers(self) -> asyncio.Queue[_Reader | None]:
        """This process's readers (opened on first use, so a forked worker opens its own):
        one on SQLite, whose reads never wait; ``SERVER_READERS`` on a database server,
        so that polls do not queue behind one another's round trips."""
        if self._readers is None or self._pid != os.getpid():
            sqlite = self.runtime.engine.dialect.name == "sqlite"
            self._pid, self._readers = os.getpid(), asyncio.Queue()
            for _ in range(1 if sqlite else SERVER_READERS):
                self._readers.put_nowait(None)
        return self._readers


async def _not_modified(send: Send, etag: str) -> None:
    """The ``304`` that ``Response(status_code=304, headers={"ETag": etag})`` sends (its
    only header the ETag; no body, so no length or type), sent without building one."""
    headers = [(b"etag", etag.encode("latin-1"))]
    await send({"type": "http.response.start", "status": 304, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


@dataclass(frozen=True)
class _Statement:
    sql: str
    names: Sequence[str] | None
    """Parameter names in order for a positional driver (sqlite3); None for named ones."""

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        return values if self.names is None else [values[name] for name in self.names]


@dataclass(frozen=True)
class _Statements:
    token_access: _Statement
    session: _Statement
    access: _Statement
    document: _Statement


def _prepared(engine: sa.Engine, statement: sa.Select) -> _Statement:
    compiled = statement.compile(dialect=engine.dialect)
    names = list(compiled.positiontup or []) if compiled.positional else None
    return _Statement(compiled.string, names)


def _statements(engine: sa.Engine) -> _Statements:
    api_tokens, sign_ins = tables.api_tokens, tables.sessions
    return _Statements(
        token_access=_prepared(
            engine,
            _access_and_version(
                sa.select(api_tokens.c.person_id)
                .where(
                    api_tokens.c.token_hash == sa.bindparam("digest"),
                    api_tokens.c.revoked_at.is_(None),
                )
                .scalar_subquery()
            ),
        ),
        session=_prepared(
            engine,
            sa.select(
                sign_ins.c.id,
                sign_ins.c.person_id,
                sign_ins.c.secret_hash,
                sign_ins.c.created_at,
                sign_ins.c.last_seen_at,
                sign_ins.c.expires_at,
                sign_ins.c.ended_at,
            ).where(sign_ins.c.secret_hash == sa.bindparam("digest")),
        ),
        access=_prepared(engine, _access_and_version(sa.bindparam("person"))),
        document=_prepared(engine, documents.stored_document_query()),
    )


def _access_and_version(person: sa.ColumnElement[str]) -> sa.Select:
    """(status, latest release number, person) of the deliberation, if the person may read it:
    ``open_deliberation``'s rule (active, a member of the alliance or a site
    administrator; the deliberation in that alliance) and ``results_version``'s number,
    each by a primary key or a unique index."""
    people, alliances, members = tables.people, tables.alliances, tables.members
    deliberations, releases = tables.deliberations, tables.deliberation_releases
    latest = (
        sa.select(sa.func.max(releases.c.number))
        .where(
            releases.c.alliance_id == deliberations.c.alliance_id,
            releases.c.deliberation_id == deliberations.c.id,
        )
        .scalar_subquery()
    )
    membership = sa.exists().where(
        members.c.alliance_id == alliances.c.id, members.c.person_id == people.c.id
    )
    return sa.select(deliberations.c.status, latest, people.c.id).where(
        people.c.id == person,
        people.c.deactivated_at.is_(None),
        alliances.c.id == sa.bindparam("alliance"),
        deliberations.c.alliance_id == alliances.c.id,
        deliberations.c.id == sa.bindparam("deliberation"),
        sa.or_(people.c.is_admin, membership),
    )


class _Reader(Protocol):
    statements: _Statements

    async def row(
        self, statement: _Statement, values: Mapping[str, Any]
    ) -> tuple[Any, ...] | None: ...

    def usable(self) -> bool:
        """Whether the reader may serve the next poll after a read failed."""
        ...

    async def close(self) -> None: ...


async def _open_reader(engine: sa.Engine) -> _Reader:
    if engine.dialect.name == "sqlite":
        return _SqliteReader(engine)
    return await _ServerReader.open(engine)


class _SqliteReader:
    """A connection of the pool kept by one process's poll layer, in autocommit, read on
    the event loop: it never waits for a lock (a read in WAL mode needs none; a rare busy
    answer sends the poll to the app)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.statements = _statements(engine)
        self._pooled = engine.raw_connection()
        connection = self._pooled.dbapi_connection
        connection.execute("PRAGMA busy_timeout=0")
        self._execute: Callable[[str, Any], Any] = connection.cursor().execute

    async def row(self, statement: _Statement, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        return self._execute(statement.sql, statement.parameters(values)).fetchone()

    def usable(self) -> bool:
        return False

    async def close(self) -> None:
        """Closed for good, not handed back: its settings are not the pool's."""
        self._pooled.invalidate()


class _ServerReader:
    """An asynchronous connection of the poll layer's own to a database server (opened
    with the engine's connection arguments, outside its pool), in autocommit, with a
    statement timeout: a read waits without holding up the event loop."""

    def __init__(self, engine: sa.Engine, connection: psycopg.AsyncConnection[Any]) -> None:
        self.statements = _statements(engine)
        self._connection = connection
        self._cursor = connection.cursor()
        """Kept for every read, and each statement prepared on its first: a cursor made
        per read (``AsyncConnection.execute``) cost about a fifth more of the process's
        CPU per read."""

    @classmethod
    async def open(cls, engine: sa.Engine) -> _ServerReader:
        args, options = engine.dialect.create_connect_args(engine.url)
        connection = await psycopg.AsyncConnection.connect(*args, **options, autocommit=True)
        await connection.execute(f"SET statement_timeout = {READ_TIMEOUT_MS}")
        return cls(engine, connection)

    async def row(self, statement: _Statement, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        await self._cursor.execute(statement.sql, statement.parameters(values), prepare=True)
        return await self._cursor.fetchone()

    def usable(self) -> bool:
        """A read the timeout cancelled leaves the connection as it was; a broken one is
        replaced."""
        return not (self._connection.closed or self._connection.broken)

    async def close(self) -> None:
        await self._connection.close()
