"""Engines and sessions for SQLite (WAL, foreign keys on) and PostgreSQL.

On SQLite the driver's own transaction handling is switched off and SQLAlchemy
emits ``BEGIN`` itself, so that a write can start with ``BEGIN IMMEDIATE``:
it then takes the database's write lock before reading anything, waits for it
up to the busy timeout, and never fails half-way because another writer
committed in between (which a deferred ``BEGIN`` upgraded to a write would).
Reads keep the plain deferred ``BEGIN`` and never wait for writers (WAL).

Writers take turns (``write_turn``: a lock between the threads of a process,
an advisory lock of ``<database>.write-lock`` between processes) before
asking SQLite for its write lock: SQLite's busy handler waits by sleeping in
growing steps (up to 100 ms each), so under many concurrent writers most of a
write's time was spent asleep after the lock was already free; a waiter on
these locks is woken as soon as the turn is free (between processes, within a
few milliseconds). A turn is awaited no longer than the busy timeout; then
the write is refused as Busy (503), as a busy SQLite lock would make it.
Writers that do not take the turn (another program) still meet at SQLite's
lock and its busy timeout.

The pool keeps every connection it opens (no overflow that is closed after
each use): opening a SQLite connection runs its pragmas, which under load
cost more than the query it was opened for.

On a database server the pool hands out the connection returned last (LIFO) and
checks that it is still alive before handing it out only when it has been idle for
``PING_AFTER_IDLE_SECONDS`` (``_ping_if_idle``), as HikariCP's alive-bypass window
does: SQLAlchemy's ``pool_pre_ping`` sends its ``SELECT 1`` at every checkout, a
round trip that a vote group (web/vote_posts.py) paid a hundred times a second on a
connection used a few milliseconds before. A connection the server dropped within the
window is found by its first statement instead: SQLAlchemy invalidates it, and
``uow.write`` runs a write whose connection was lost before its commit again.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

try:
    import fcntl
except ImportError:  # not on Windows: writers of several processes meet at SQLite's lock
    fcntl = None  # type: ignore[assignment]

BUSY_TIMEOUT_MS = 5000
PING_AFTER_IDLE_SECONDS = 0.5
"""A pooled connection idle at least this long is pinged before it is handed out
(HikariCP's default alive-bypass window is also 500 ms)."""
_RETURNED_AT = "coauthor_returned_at"
"""Connection-record key: when the connection last went back to the pool (monotonic)."""
POOL_SIZE = 40
POOL_OVERFLOW = 0
"""The pool covers the 40 threads a server runs request handlers on."""
POOL_TIMEOUT_SECONDS = 10
WRITE_OPTION = "coauthor_write"
"""Execution option that makes a transaction on SQLite begin with ``BEGIN IMMEDIATE``."""
KEYS_AT_END_OPTION = "coauthor_foreign_keys_at_end"
"""Execution option that makes a SQLite transaction begin with foreign keys unenforced:
the writer checks them all before it commits (``db/foreignkeys.py``), and the
connection enforces them again when it goes back to the pool, whatever happened."""
_KEYS_OFF = "coauthor_foreign_keys_off"
"""Connection-record flag: this connection's foreign keys are off until its check-in."""


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    options = connection.get_execution_options()
    if options.get(KEYS_AT_END_OPTION, False):
        connection.info[_KEYS_OFF] = True  # before the pragma: a failure still turns them on
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # a no-op once BEGIN ran
    immediate = options.get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_checkin(dbapi_connection: Any, record: Any) -> None:
    """Enforce foreign keys again on a connection whose transaction began without them
    (``KEYS_AT_END_OPTION``), as it returns to the pool, committed or rolled back; a
    connection where that fails is discarded."""
    if not record.info.pop(_KEYS_OFF, False) or dbapi_connection is None:
        return
    try:
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
    except Exception as exc:  # the driver's error, whatever it is: never pool it unchecked
        record.invalidate(exc)


TURN_TIMEOUT_SECONDS = BUSY_TIMEOUT_MS / 1000
"""A writer waits for its turn no longer than SQLite's busy timeout; then the write is Busy."""
TURN_POLL_FIRST_SECONDS = 0.0005
TURN_POLL_MAX_SECONDS = 0.004


class WriteTurnTimeout(TimeoutError):
    """The turn to write did not come within ``TURN_TIMEOUT_SECONDS``."""


class WriteTurn:
    """The turn to write to one SQLite database: threads of this process take turns on a
    lock, processes (``serve --workers``, the CLI) on an advisory lock of a file beside the
    database. Both wake a waiter as soon as the turn is free; re-entrant in a thread."""

    def __init__(self, lock_path: Path | None) -> None:
        self._threads = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        if lock_path is not None and fcntl is not None:
            self._fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            weakref.finalize(self, os.close, self._fd)

    def __enter__(self) -> WriteTurn:
        deadline = time.monotonic() + TURN_TIMEOUT_SECONDS
        if not self._threads.acquire(timeout=TURN_TIMEOUT_SECONDS):
            raise WriteTurnTimeout("no turn to write within the busy timeout")
        self._depth += 1
        if self._depth == 1 and self._fd is not None:
            try:
                self._lock_file(deadline)
            except BaseException:
                self._depth -= 1
                self._threads.release()
                raise
        return self

    def try_enter(self) -> bool:
        """Take the turn if it is free now (re-entrant in a thread, as ``with``); never waits.
        A turn taken so is given back with ``exit``."""
        if not self._threads.acquire(blocking=False):
            return False
        self._depth += 1
        if self._depth == 1 and self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BaseException as failed:
                self._depth -= 1
                self._threads.release()
                if isinstance(failed, BlockingIOError):
                    return False
                raise
        return True

    def exit(self) -> None:
        self.__exit__()

    def _lock_file(self, deadline: float) -> None:
        """Only one thread per process gets here, so polling the file lock costs little;
        a blocking ``flock`` would wait for ever behind a write that hangs."""
        assert self._fd is not None
        pause = TURN_POLL_FIRST_SECONDS
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WriteTurnTimeout("no turn to write within the busy timeout") from None
                time.sleep(pause)
                pause = min(pause * 2, TURN_POLL_MAX_SECONDS)

    def __exit__(self, *_exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()


_write_turns: weakref.WeakKeyDictionary[sa.Engine, WriteTurn] = weakref.WeakKeyDictionary()
_write_turns_guard = threading.Lock()


def write_turn(engine: sa.Engine) -> WriteTurn | None:
    """The turn a SQLite engine's writers hold for a whole write; None on PostgreSQL,
    whose row locks queue waiting writers without polling."""
    if engine.dialect.name != "sqlite":
        return None
    with _write_turns_guard:
        turn = _write_turns.get(engine)
        if turn is None:
            turn = _write_turns[engine] = WriteTurn(_lock_path(engine))
        return turn


def _lock_path(engine: sa.Engine) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(f"{database}.write-lock")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``; for a SQLite file, its folder is created if missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False},
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
            pool_timeout=POOL_TIMEOUT_SECONDS,
        )
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
        sa.event.listen(engine, "checkin", _sqlite_checkin)
        return engine
    engine = sa.create_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        pool_use_lifo=True,
    )
    sa.event.listen(engine, "checkout", partial(_ping_if_idle, engine.dialect))
    sa.event.listen(engine, "checkin", _note_returned)
    return engine


def _ping_if_idle(dialect: sa.Dialect, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection about to be handed out when it has been idle for
    ``PING_AFTER_IDLE_SECONDS`` (or was never returned); a failed ping makes the pool
    drop it and hand out another (SQLAlchemy's ``DisconnectionError`` protocol)."""
    returned = record.info.get(_RETURNED_AT)
    if returned is not None and time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
        return
    try:
        alive = dialect.do_ping(dbapi_connection)
    except dialect.loaded_dbapi.Error as failed:
        raise sa.exc.DisconnectionError(f"the pooled connection is gone: {failed}") from failed
    if not alive:
        raise sa.exc.DisconnectionError("the pooled connection did not answer its ping")


def _note_returned(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_RETURNED_AT] = time.monotonic()


def make_session_factory(engine: sa.Engine) -> sessionmaker[Session]:
    from coauthor.db.mapping import map_domain

    map_domain()
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
