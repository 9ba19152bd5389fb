"""API tokens: the secret is shown once, only its hash is stored."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from coauthor import permissions
from coauthor.db import tables
from coauthor.db.driver_reads import driver_read
from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import NotFound, ValidationFailed
from coauthor.domain.model import ApiToken, Person
from coauthor.ids import new_id
from coauthor.services import eventlog

TOKEN_PREFIX = "cat_"


def token_digest(token: str) -> str:
    """What is stored of a token: its SHA-256, by which a request's token is found."""
    return hashlib.sha256(token.encode()).hexdigest()


def do_create_token(uow: UnitOfWork, actor: Person | None, name: str) -> tuple[ApiToken, str]:
    """A new API token; the secret is returned once and only its hash is stored."""
    person = permissions.require_signed_in(actor)
    name = name.strip() or "API token"
    if len(name) > 100:
        raise ValidationFailed.one("name", "at most 100 characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        id=new_id("tk"),
        person_id=person.id,
        name=name,
        token_hash=token_digest(secret),
        created_at=uow.clock.now(),
    )
    uow.add(token)
    eventlog.append(
        uow, eventlog.SITE_CHAIN, actor, "token.created", {"id": token.id, "person": person.id}
    )
    return token, secret


def list_tokens(uow: UnitOfWork, actor: Person | None) -> list[ApiToken]:
    person = permissions.require_signed_in(actor)
    return uow.find(ApiToken, order_by=ApiToken.created_at, person_id=person.id)


def do_revoke_token(uow: UnitOfWork, actor: Person | None, token_id: str) -> ApiToken:
    person = permissions.require_signed_in(actor)
    token = uow.get(ApiToken, id=token_id)
    if token is None or token.person_id != person.id:
        raise NotFound("no such token")
    if token.revoked_at is None:
        token.revoked_at = uow.clock.now()
        eventlog.append(uow, eventlog.SITE_CHAIN, actor, "token.revoked", {"id": token.id})
    return token


@cache
def _person_of_live_token() -> sa.Select:
    """Built once (after the domain is mapped): every API request runs it, so it is one
    indexed query and no statement to build."""
    return (
        sa.select(Person)
        .join(ApiToken, ApiToken.person_id == Person.id)
        .where(ApiToken.token_hash == sa.bindparam("digest"), ApiToken.revoked_at.is_(None))
    )


def people_for_tokens(uow: UnitOfWork, secrets: Iterable[str]) -> dict[str, Person | None]:
    """``person_for_token`` of each of these secrets, found in ONE query (the vote layer
    finds the people of a group of votes at once)."""
    found: dict[str, Person | None] = dict.fromkeys(secrets)
    digests = {token_digest(s): s for s in found if s.startswith(TOKEN_PREFIX)}
    if not digests:
        return found
    connection = uow.session.connection()
    values = {"digests": list(digests)}
    if connection.dialect.name == "postgresql":
        as_array = _people_of_live_tokens(as_array=True)
        rows = driver_read(as_array, connection.dialect).rows(connection, values)
    else:
        rows = connection.execute(_people_of_live_tokens(), values)
    for digest, *person_row in rows:
        secret = digests.pop(digest, None)  # the first row of a digest, as ``first()``
        person = Person(*person_row)
        if secret is not None and person.active:
            found[secret] = person
    return found


PERSON_FIELDS = tuple(Person.__dataclass_fields__)


@cache
def _people_of_live_tokens(as_array: bool = False) -> sa.Select:
    """Each live token among ``digests`` with its person's row, read through Core (a vote
    group's writer finds its people here; loading them through the ORM cost it about a
    fifth of its CPU on PostgreSQL); the people are built from the rows, outside the
    session. The digests are a list expanded into ``IN``, or ``as_array`` one array
    (PostgreSQL's ``= ANY``, read through the driver: ``db/driver_reads.py``), so that the
    statement is the same for any number of them. Built once per kind."""
    people, api_tokens = tables.people, tables.api_tokens
    if as_array:
        digests = sa.any_(sa.bindparam("digests", type_=postgresql.ARRAY(sa.String)))
        wanted = api_tokens.c.token_hash == digests
    else:
        wanted = api_tokens.c.token_hash.in_(sa.bindparam("digests", expanding=True))
    return (
        sa.select(api_tokens.c.token_hash, *(people.c[name] for name in PERSON_FIELDS))
        .join(people, people.c.id == api_tokens.c.person_id)
        .where(wanted, api_tokens.c.revoked_at.is_(None))
    )


def person_for_token(uow: UnitOfWork, secret: str) -> Person | None:
    """The active person whose unrevoked token this is; None for any other secret."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    person = uow.session.scalars(_person_of_live_token(), {"digest": token_digest(secret)}).first()
    return person if person is not None and person.active else None
