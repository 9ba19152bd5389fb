"""People and their passwords."""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain.accounts import SessionEnd
from coauthor.domain.errors import Conflict, ValidationFailed
from coauthor.domain.model import Person
from coauthor.ids import new_id
from coauthor.services import eventlog
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.accounts.sessions import end_sessions_of

password_hasher = PasswordHasher()
UNUSABLE_PASSWORD = "!"
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
"""Long enough for any passphrase; ASVS 2.1.2 asks that 64 work and more than 128 be refused."""


def hash_password(password: str) -> str:
    return password_hasher.hash(password)


@functools.cache
def dummy_hash() -> str:
    """A hash nobody knows the password of, to verify against when there is no real one."""
    return password_hasher.hash(secrets.token_urlsafe(32))


def has_usable_password(person: Person) -> bool:
    return not person.password_hash.startswith(UNUSABLE_PASSWORD)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` is right; always one argon2 verification, so the time it takes
    does not tell an unknown account (or one without a password) from a wrong password."""
    usable = stored_hash is not None and not stored_hash.startswith(UNUSABLE_PASSWORD)
    if len(password) > MAX_PASSWORD_LENGTH:
        password = password[:MAX_PASSWORD_LENGTH]
        usable = False
    try:
        matched = password_hasher.verify(stored_hash if usable else dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        matched = False
    return usable and matched


def check_password_strength(password: str, loc: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.one(loc, f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed.one(loc, f"must be at most {MAX_PASSWORD_LENGTH} characters")


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
        permissions.require_admin(actor)
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
        permissions.require_admin(actor)
    check_password_strength(password)
    replace_password(uow, actor, person, password, "set")


def replace_password(
    uow: UnitOfWork, actor: Person | None, person: Person, password: str, how: str
) -> None:
    """Store a new password and end every session of the person: the old cookies stop working."""
    person.password_hash = hash_password(password)
    end_sessions_of(uow, person.id, SessionEnd.PASSWORD_CHANGED)
    eventlog.append(
        uow, eventlog.SITE_CHAIN, actor, "person.password_set", {"id": person.id, "how": how}
    )
