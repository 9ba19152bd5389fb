"""Wiring: settings, database engine, sessions and clock, built once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from coauthor.clock import Clock, SystemClock
from coauthor.config import Settings
from coauthor.db import migrate
from coauthor.db.engine import make_engine, make_session_factory
from coauthor.db.uow import UnitOfWork
from coauthor.eventkey import EventKey, event_key_from


@dataclass
class Runtime:
    settings: Settings
    engine: sa.Engine
    session_factory: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.clock, event_key=self.event_key)

    @cached_property
    def event_key(self) -> EventKey | None:
        return event_key_from(self.settings.event_log_key)

    @cached_property
    def secret_key(self) -> str:
        """The signing key, read (or generated) on first use, not on every request."""
        return self.settings.resolved_secret_key()

    def close(self) -> None:
        self.engine.dispose()


def build_runtime(
    settings: Settings | None = None, *, clock: Clock | None = None, migrate_db: bool = True
) -> Runtime:
    """Connect to the configured database, bringing its schema up to date first."""
    settings = settings or Settings()
    if migrate_db:
        migrate.ensure_current(settings.database_url)
    engine = make_engine(settings.database_url)
    return Runtime(settings, engine, make_session_factory(engine), clock or SystemClock())
