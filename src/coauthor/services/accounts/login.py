"""Signing in: checking credentials, with failed attempts counted and limited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from coauthor.db.tables import login_failures
from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import CoauthorError, TooManyAttempts, ValidationFailed
from coauthor.domain.model import Person
from coauthor.services.accounts.people import (
    hash_password,
    password_hasher,
    password_matches,
    person_by_email,
)


@dataclass(frozen=True)
class LoginLimits:
    max_attempts: int
    window_seconds: int


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: the person, or why they were refused.

    A refusal is returned rather than raised, so that the write which records
    the failed attempt commits: the count of failures is what makes the limit
    hold. ``person_or_refusal`` raises it once the write is done.
    """

    person: Person | None
    refusal: CoauthorError | None = None

    def person_or_refusal(self) -> Person:
        if self.refusal is not None:
            raise self.refusal
        assert self.person is not None
        return self.person


def _record_failure(uow: UnitOfWork, key: str, since: datetime) -> None:
    """Count one failed attempt, and forget those older than the window (any key)."""
    uow.session.execute(sa.insert(login_failures).values(key=key, at=uow.clock.now()))
    uow.session.execute(sa.delete(login_failures).where(login_failures.c.at < since))


def do_sign_in(
    uow: UnitOfWork, email: str, password: str, client: str, limits: LoginLimits
) -> SignIn:
    """Check credentials; failures are counted per email and client, and limited."""
    key = f"{email.strip().lower()}|{client}"
    since = uow.clock.now() - timedelta(seconds=limits.window_seconds)
    failures = uow.session.scalar(
        sa.select(sa.func.count())
        .select_from(login_failures)
        .where(login_failures.c.key == key, login_failures.c.at >= since)
    )
    if (failures or 0) >= limits.max_attempts:
        return SignIn(
            None, TooManyAttempts("too many failed sign-ins; wait a few minutes and try again")
        )
    person = person_by_email(uow, email)
    if person is None or not password_matches(person.password_hash, password):
        _record_failure(uow, key, since)
        return SignIn(None, ValidationFailed.one("password", "email or password is not right"))
    if password_hasher.check_needs_rehash(person.password_hash):
        person.password_hash = hash_password(password)
    uow.session.execute(sa.delete(login_failures).where(login_failures.c.key == key))
    return SignIn(person)
