"""Wiring: settings, database engine, sessions and clock, built once per process."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from threading import Lock
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from coauthor.clock import Clock, SystemClock
from coauthor.config import Settings
from coauthor.db import migrate
from coauthor.db.engine import make_engine, make_session_factory
from coauthor.db.uow import UnitOfWork
from coauthor.eventkey import EventKey, event_key_from

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

RESULTS_CACHE_SIZE = 64


class BoundedCache(Generic[K, V]):
    """The ``size`` most recently used values; safe to share between request threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self._size:
                self._values.popitem(last=False)

    def __len__(self) -> int:
        return len(self._values)


if TYPE_CHECKING:
    from coauthor.services.accounts.links import Site


@dataclass
class Runtime:
    """What a process shares between its requests: settings, engine, clock, and the caches.

    Caches hold only values keyed by what they depend on (a results document by its
    release version), so any process, cold or warm, shows the same thing.
    """

    settings: Settings
    engine: sa.Engine
    session_factory: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)
    results_documents: BoundedCache[tuple, Any] = field(
        default_factory=lambda: BoundedCache(RESULTS_CACHE_SIZE)
    )
    results_json: BoundedCache[tuple, tuple[str, bytes]] = field(
        default_factory=lambda: BoundedCache(RESULTS_CACHE_SIZE)
    )
    """The API's encoding of each presented document, by the same key."""

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.clock, event_key=self.event_key)

    @cached_property
    def event_key(self) -> EventKey | None:
        return event_key_from(self.settings.event_log_key)

    @cached_property
    def secret_key(self) -> str:
        """The signing key, read (or generated) on first use, not on every request."""
        return self.settings.resolved_secret_key()

    @cached_property
    def site(self) -> Site:
        """What services that send links and email need: the key, the public URL, the outbox."""
        from coauthor.services.accounts.links import Site
        from coauthor.services.mail import Outbox

        return Site(
            secret_key=self.secret_key,
            url=self.settings.site_url(),
            outbox=Outbox(self.settings.smtp_url, self.settings.mail_from),
            invitation_lifetime=timedelta(days=self.settings.invitation_days),
            reset_lifetime=timedelta(minutes=self.settings.password_reset_minutes),
        )

    def close(self) -> None:
        self.engine.dispose()


def build_runtime(
    settings: Settings | None = None, *, clock: Clock | None = None, migrate_db: bool = True
) -> Runtime:
    """Connect to the configured database, bringing its schema up to date first.

    Every session keeps the search index current as it writes; a database
    just migrated to a schema with the index gets its entries written once.
    """
    from coauthor.services.search import index

    settings = settings or Settings()
    migrated = migrate.ensure_current(settings.database_url) if migrate_db else False
    engine = make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    index.track(session_factory)
    runtime = Runtime(settings, engine, session_factory, clock or SystemClock())
    if migrated:
        build_missing_index(runtime)
    return runtime


def build_missing_index(runtime: Runtime) -> bool:
    """Write the search index of a database whose items predate it; True when it did."""
    from coauthor.services.search import index

    with runtime.uow() as uow:
        return uow.write(lambda uow: index.rebuild_if_missing(uow.session))
