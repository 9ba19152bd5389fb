"""People, passwords, login rate limiting and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from coauthor import permissions
from coauthor.db.tables import login_failures
from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import Conflict, NotFound, TooManyAttempts, ValidationFailed
from coauthor.domain.model import ApiToken, Person
from coauthor.ids import new_id
from coauthor.services import eventlog
from coauthor.services.inputs import PersonInput

_hasher = PasswordHasher()
UNUSABLE_PASSWORD = "!"
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "cat_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    if stored_hash.startswith(UNUSABLE_PASSWORD):
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.one("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")


def person_by_id(uow: UnitOfWork, person_id: str) -> Person | None:
    return uow.get(Person, id=person_id)


def person_by_email(uow: UnitOfWork, email: str) -> Person | None:
    return uow.find_one(Person, email=email.strip().lower())


def do_create_person(
    uow: UnitOfWork,
    actor: Person | None,
    data: PersonInput,
    password: str | None,
    *,
    bootstrap: bool = False,
) -> Person:
    """Create an account. ``bootstrap`` is for the CLI run by the server's operator."""
    if not bootstrap:
        permissions.manage_people(actor)
    if person_by_email(uow, data.email):
        raise Conflict(f"a person with email {data.email} already exists", ("email",))
    if password is not None:
        check_password_strength(password)
    person = Person(
        id=new_id("pe"),
        email=data.email,
        name=data.name,
        password_hash=hash_password(password) if password else UNUSABLE_PASSWORD,
        is_admin=data.is_admin,
        created_at=uow.clock.now(),
    )
    uow.add(person)
    eventlog.append(
        uow,
        eventlog.SITE_CHAIN,
        actor,
        "person.created",
        {"id": person.id, "email": person.email, "name": person.name, "admin": person.is_admin},
    )
    return person


def do_set_password(
    uow: UnitOfWork,
    actor: Person | None,
    person: Person,
    password: str,
    *,
    bootstrap: bool = False,
) -> None:
    """Set a password: one's own, or anyone's for an administrator or the operator's CLI."""
    if not bootstrap and (actor is None or (actor.id != person.id and not actor.is_admin)):
        permissions.manage_people(actor)
    check_password_strength(password)
    person.password_hash = hash_password(password)
    eventlog.append(uow, eventlog.SITE_CHAIN, actor, "person.password_set", {"id": person.id})


@dataclass(frozen=True)
class LoginLimits:
    max_attempts: int
    window_seconds: int


def authenticate(
    uow: UnitOfWork, email: str, password: str, client: str, limits: LoginLimits
) -> Person:
    """The person whose credentials these are; failures are counted per email and client.

    A failure is committed at once, before the error propagates, so that the
    count survives the caller's rollback: that is what makes the limit hold.
    """
    key = f"{email.strip().lower()}|{client}"
    since = uow.clock.now() - timedelta(seconds=limits.window_seconds)
    failures = uow.session.scalar(
        sa.select(sa.func.count())
        .select_from(login_failures)
        .where(login_failures.c.key == key, login_failures.c.at >= since)
    )
    if (failures or 0) >= limits.max_attempts:
        raise TooManyAttempts("too many failed sign-ins; wait a few minutes and try again")
    person = person_by_email(uow, email)
    if person is None or not password_matches(person.password_hash, password):
        uow.session.execute(sa.insert(login_failures).values(key=key, at=uow.clock.now()))
        uow.commit()
        raise ValidationFailed.one("password", "email or password is not right")
    if _hasher.check_needs_rehash(person.password_hash):
        person.password_hash = hash_password(password)
    uow.session.execute(sa.delete(login_failures).where(login_failures.c.key == key))
    return person


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def do_create_token(uow: UnitOfWork, actor: Person | None, name: str) -> tuple[ApiToken, str]:
    """A new API token; the secret is returned once and only its hash is stored."""
    person = permissions.manage_own_tokens(actor)
    name = name.strip() or "API token"
    if len(name) > 100:
        raise ValidationFailed.one("name", "at most 100 characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        id=new_id("tk"),
        person_id=person.id,
        name=name,
        token_hash=_digest(secret),
        created_at=uow.clock.now(),
    )
    uow.add(token)
    eventlog.append(
        uow, eventlog.SITE_CHAIN, actor, "token.created", {"id": token.id, "person": person.id}
    )
    return token, secret


def list_tokens(uow: UnitOfWork, actor: Person | None) -> list[ApiToken]:
    person = permissions.manage_own_tokens(actor)
    return uow.find(ApiToken, order_by=ApiToken.created_at, person_id=person.id)


def do_revoke_token(uow: UnitOfWork, actor: Person | None, token_id: str) -> ApiToken:
    person = permissions.manage_own_tokens(actor)
    token = uow.get(ApiToken, id=token_id)
    if token is None or token.person_id != person.id:
        raise NotFound("no such token")
    if token.revoked_at is None:
        token.revoked_at = uow.clock.now()
        eventlog.append(uow, eventlog.SITE_CHAIN, actor, "token.revoked", {"id": token.id})
    return token


def person_for_token(uow: UnitOfWork, secret: str) -> Person | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = uow.find_one(ApiToken, token_hash=_digest(secret))
    if token is None or token.revoked_at is not None:
        return None
    return uow.get(Person, id=token.person_id)
