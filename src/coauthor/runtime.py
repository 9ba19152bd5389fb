"""Wiring: settings, database engine, sessions and clock, built once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from coauthor.clock import Clock, SystemClock
from coauthor.config import Settings
from coauthor.db import migrate
from coauthor.db.engine import make_engine, make_session_factory
from coauthor.db.uow import UnitOfWork

if TYPE_CHECKING:
    from coauthor.services.accounts.links import Site


@dataclass
class Runtime:
    settings: Settings
    engine: sa.Engine
    session_factory: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.clock)

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
    """Connect to the configured database, bringing its schema up to date first."""
    settings = settings or Settings()
    if migrate_db:
        migrate.ensure_current(settings.database_url)
    engine = make_engine(settings.database_url)
    return Runtime(settings, engine, make_session_factory(engine), clock or SystemClock())
