"""People and their passwords."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import Conflict, ValidationFailed
from coauthor.domain.model import Person
from coauthor.ids import new_id
from coauthor.services import eventlog
from coauthor.services.accounts.inputs import PersonInput

password_hasher = PasswordHasher()
UNUSABLE_PASSWORD = "!"
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return password_hasher.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    if stored_hash.startswith(UNUSABLE_PASSWORD):
        return False
    try:
        return password_hasher.verify(stored_hash, password)
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
    person.password_hash = hash_password(password)
    eventlog.append(uow, eventlog.SITE_CHAIN, actor, "person.password_set", {"id": person.id})
