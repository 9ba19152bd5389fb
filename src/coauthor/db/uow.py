"""The unit of work: one transaction per write, committed in one place.

``uow.write(service, actor, ...)`` is the write path of the whole application:
request handlers, the CLI and the archive import all go through it. It runs
the service in a fresh transaction (``BEGIN IMMEDIATE`` on SQLite), commits
once, then runs the after-commit steps the service registered (notifications
go there, as Zulip's ``do_*`` actions write and then notify). A write that
loses a race with another one — a lock wait that timed out, a deadlock, a
serialization failure, two inserts of the same unique row — is rolled back and
run again from the start a bounded number of times, then refused with
``Busy`` (503) or ``Conflict`` (409); so is a write whose connection to the
database server was lost before its commit. Nothing is half-written either way.

Reads need no ceremony: leaving the ``with`` block rolls back whatever was
not committed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import cache
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from coauthor.clock import Clock, SystemClock
from coauthor.db.engine import KEYS_AT_END_OPTION, WRITE_OPTION, WriteTurnTimeout, write_turn
from coauthor.db.foreignkeys import refuse_broken_keys
from coauthor.domain.errors import Busy, Conflict
from coauthor.eventkey import EventKey

T = TypeVar("T")
P = ParamSpec("P")

MAX_ATTEMPTS = 6
FIRST_BACKOFF_SECONDS = 0.01
BUSY_RETRY_AFTER_SECONDS = 1

_RACE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
"""PostgreSQL: serialization failure, deadlock detected, lock not available."""
_UNIQUE_SQLSTATE = "23505"
_SQLITE_BUSY = ("database is locked", "database table is locked")


def _sqlstate(exc: sa.exc.DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def lost_race(exc: sa.exc.DBAPIError) -> bool:
    """Whether running the same write again could succeed: it collided with another one."""
    state = _sqlstate(exc)
    if state is not None:
        return state in _RACE_SQLSTATES or state == _UNIQUE_SQLSTATE
    message = str(exc.orig).lower()
    if isinstance(exc, sa.exc.IntegrityError):
        return "unique constraint failed" in message
    return isinstance(exc, sa.exc.OperationalError) and message.startswith(_SQLITE_BUSY)


def lost_before_commit(exc: sa.exc.DBAPIError, committing: bool) -> bool:
    """Whether the write's connection was lost before its commit was sent: nothing of it
    was written, and it may run again on another connection (the pool pings a connection
    only after it has been idle a while, ``engine.PING_AFTER_IDLE_SECONDS``). A connection
    lost during the commit is not: whether the commit took effect is unknown."""
    return exc.connection_invalidated and not committing


def refusal(exc: sa.exc.DBAPIError) -> Busy | Conflict:
    """What to tell the person when a write kept losing its race."""
    if isinstance(exc, sa.exc.IntegrityError):
        return Conflict("someone changed the same thing at the same moment; please try again")
    return busy()


def busy() -> Busy:
    return Busy(
        "the alliance is busy with other changes; please try again in a moment",
        retry_after=BUSY_RETRY_AFTER_SECONDS,
    )


KEYS_AT_END = "_coauthor_foreign_keys_at_end"
"""The attribute ``foreign_keys_checked_at_end`` sets on a service."""

S = TypeVar("S", bound=Callable[..., Any])


def foreign_keys_checked_at_end(service: S) -> S:
    """Mark a service whose write, on SQLite, checks foreign keys once before it commits
    instead of per inserted row (``db/foreignkeys.py``): for writes of millions of rows
    (an archive's import). A broken key refuses the whole write."""
    setattr(service, KEYS_AT_END, True)
    return service


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full jitter, so colliding writers spread out."""
    return random.uniform(0, FIRST_BACKOFF_SECONDS * 2**attempt)


class UnitOfWork:
    """Wraps a session; leaving the block without committing rolls everything back."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock | None = None,
        *,
        event_key: EventKey | None = None,
    ) -> None:
        self._session_factory = session_factory
        self.clock: Clock = clock or SystemClock()
        self.event_key = event_key
        """The event log's keyed-hash secret (coauthor.eventkey), when the server has one."""
        self.session: Session
        self._after_commit: list[Callable[[], None]] = []
        self.held_heads: dict[str, Any] = {}
        """The event-chain heads this write's transaction locked, by chain, as its appends
        moved them (``eventlog.lock_heads``); forgotten when the transaction ends."""

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.session.rollback()
        self.session.close()

    def write(
        self,
        service: Callable[Concatenate[UnitOfWork, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``service(self, *args, **kwargs)`` as one transaction; see the module docstring."""
        keys_at_end = getattr(service, KEYS_AT_END, False)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            with self._write_turn():
                committing = False
                try:
                    self._begin_write(keys_at_end=keys_at_end)
                    result = service(self, *args, **kwargs)
                    if keys_at_end:
                        refuse_broken_keys(self.session)
                    committing = True
                    self.session.commit()
                    self.held_heads = {}
                except sa.exc.DBAPIError as exc:
                    self._discard()
                    if not (lost_race(exc) or lost_before_commit(exc, committing)):
                        raise
                    if attempt == MAX_ATTEMPTS:
                        raise refusal(exc) from None
                    lost = True
                except BaseException:
                    self._discard()
                    raise
                else:
                    lost = False
            if lost:
                time.sleep(backoff_seconds(attempt))
                continue
            self._run_after_commit()
            return result
        raise AssertionError("unreachable: the last attempt returns or raises")

    def write_each(
        self,
        writes: Sequence[Callable[[UnitOfWork], T]],
        *,
        first: Callable[[UnitOfWork], object] | None = None,
    ) -> list[T | Exception]:
        """Run every ``write(self)`` in ONE transaction, each in a savepoint of its own (a
        group commit): what each returned, or the exception it raised, in order. ``first``
        runs in the transaction before them (e.g. ``eventlog.lock_heads``).

        A write that raises is rolled back to its savepoint alone (its after-commit steps
        dropped) and the others are committed; its exception is its outcome. A lost race
        (``lost_race``) in any write rolls the whole transaction back and runs every write
        again from the start, as ``write`` does, and then refuses the whole group with
        ``Busy`` or ``Conflict``, raised, as ``write`` raises them; so is a commit that
        fails, and ``Busy`` when the write turn does not come. Outcomes are returned only
        after the commit, so no write's result stands for a change that was rolled back.
        """
        return self.write(UnitOfWork._each_in_savepoints, writes, first)

    def _each_in_savepoints(
        self,
        writes: Sequence[Callable[[UnitOfWork], T]],
        first: Callable[[UnitOfWork], object] | None,
    ) -> list[T | Exception]:
        if first is not None:
            first(self)
        return [self._in_savepoint(write) for write in writes]

    def _in_savepoint(self, write: Callable[[UnitOfWork], T]) -> T | Exception:
        """``write(self)`` in a savepoint: its result, or, rolled back to the savepoint, the
        exception it raised. A lost race is raised on: the whole group runs again."""
        steps_before, heads_before = len(self._after_commit), dict(self.held_heads)
        try:
            with self.session.begin_nested():  # released, or rolled back when write raises
                result = write(self)
        except Exception as failed:
            if isinstance(failed, sa.exc.DBAPIError) and lost_race(failed):
                raise
            del self._after_commit[steps_before:]
            self.held_heads = heads_before
            return failed
        return result

    @contextmanager
    def _write_turn(self) -> Iterator[None]:
        """This process's turn to write, on SQLite (``db/engine.py``); nothing to wait for
        on PostgreSQL. A turn that does not come in time makes the write Busy (503)."""
        engine = self._session_factory.kw.get("bind")
        turn = write_turn(engine) if isinstance(engine, sa.Engine) else None
        try:
            with turn if turn is not None else nullcontext():
                yield
        except WriteTurnTimeout:
            raise busy() from None

    def after_commit(self, step: Callable[[], None]) -> None:
        """Run ``step`` once the current write has committed (never if it rolls back)."""
        self._after_commit.append(step)

    def _begin_write(self, *, keys_at_end: bool = False) -> None:
        self.session.rollback()
        self._after_commit.clear()
        self.held_heads = {}
        if self.session.get_bind().dialect.name == "sqlite":
            options = {WRITE_OPTION: True, KEYS_AT_END_OPTION: keys_at_end}
            self.session.connection(execution_options=options)

    def _discard(self) -> None:
        self.session.rollback()
        self._after_commit.clear()
        self.held_heads = {}

    def _run_after_commit(self) -> None:
        steps, self._after_commit = self._after_commit, []
        for step in steps:
            step()

    def add(self, entity: object) -> None:
        self.session.add(entity)

    def add_all(self, entities: Iterable[object]) -> None:
        self.session.add_all(list(entities))

    def delete(self, entity: object) -> None:
        self.session.delete(entity)

    def flush(self) -> None:
        self.session.flush()

    def get(self, cls: type[T], **key: Any) -> T | None:
        """One entity by its full primary key, e.g. ``get(Risk, alliance_id=a, id=r)``."""
        return self.session.get(cls, key)

    def find(self, cls: type[T], *criteria: Any, order_by: Any = None, **equal: Any) -> list[T]:
        statement = sa.select(cls).filter_by(**equal)
        if criteria:
            statement = statement.where(*criteria)
        if order_by is not None:
            statement = statement.order_by(order_by)
        return list(self.session.scalars(statement))

    def find_one(self, cls: type[T], **equal: Any) -> T | None:
        if any(value is None or isinstance(value, sa.ClauseElement) for value in equal.values()):
            return self.session.scalars(sa.select(cls).filter_by(**equal).limit(1)).first()
        statement = _find_one_statement(cls, tuple(sorted(equal)))
        values = {_PARAMETER + name: value for name, value in equal.items()}
        return self.session.scalars(statement, values).first()


_PARAMETER = "find_"


@cache
def _find_one_statement(cls: type, names: tuple[str, ...]) -> sa.Select:
    """``find_one``'s query for these columns, built once with parameters: building a
    statement and its cache key costs more than running it on an index (``None`` compares
    as ``IS NULL``, so those calls build theirs)."""
    criteria = {name: sa.bindparam(_PARAMETER + name) for name in names}
    return sa.select(cls).filter_by(**criteria).limit(1)
