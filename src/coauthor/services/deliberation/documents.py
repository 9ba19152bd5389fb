"""A release's results document, shaped and encoded once and stored with it.

The API answers ``GET …/results`` with the JSON of ``present_results`` (the
presentation every reader sees: numbered statements, lettered groups, rounded
shares, partner names), for results version ``r<release>-<status>``. That document
depends on the release, the deliberation's status, its statements as the release froze
them and the partners' names — not on who asks (a reader's access is checked before
it is sent, on every request) — so it is built once per version and stored
(``deliberation_documents``): by the results worker in the write that stores the
release, else by the first process that needs a version not stored yet (a release
made before migration 0012, or a status changed since the release). Every web
process then reads those bytes by their key instead of shaping the release itself.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from coauthor.db.tables import deliberation_documents, organizations, partners
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.reports.deliberation import present_results
from coauthor.services.deliberation.access import ordered_statements


def encoded_document(
    uow: UnitOfWork, deliberation: m.Deliberation, release: Any, threshold: int
) -> bytes:
    """The API's JSON of ``release`` (a ``results.Release``, or None before the first) as
    it reads now: ``present_results`` encoded as the routed handler encodes it."""
    facts = release.facts if release is not None else None
    statements = (
        []
        if facts is not None and facts.get("shown") is not None
        else ordered_statements(
            uow, deliberation.alliance_id, deliberation.id, moderation=m.Moderation.ACCEPTED
        )
    )
    names = partner_names(uow, deliberation.alliance_id)
    document = present_results(deliberation, release, statements, names, threshold)
    return document.model_dump_json().encode()


def partner_names(uow: UnitOfWork, alliance_id: str) -> dict[str, str]:
    """Partner id → organization name (the same for every reader of the alliance)."""
    rows = uow.session.execute(
        sa.select(partners.c.id, organizations.c.name)
        .join(organizations, organizations.c.id == partners.c.organization_id)
        .where(partners.c.alliance_id == alliance_id)
    ).all()
    return {partner_id: name for partner_id, name in rows}


def store_document(
    uow: UnitOfWork, deliberation: m.Deliberation, number: int, status: str, body: bytes
) -> None:
    """Keep ``body`` as version ``r<number>-<status>``'s document, unless one is kept already
    (two processes that built the same version store the same bytes; the first stays)."""
    uow.session.execute(
        _insert_statement(uow.session.get_bind().dialect.name),
        {
            "alliance_id": deliberation.alliance_id,
            "deliberation_id": deliberation.id,
            "number": number,
            "status": status,
            "body": body,
        },
    )


@cache
def _insert_statement(dialect_name: str) -> sa.Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(deliberation_documents).on_conflict_do_nothing()


def stored_document(
    uow: UnitOfWork, alliance_id: str, deliberation_id: str, number: int, status: str
) -> bytes | None:
    """The stored JSON of version ``r<number>-<status>``; None when none is stored."""
    found = uow.session.scalar(
        stored_document_query(),
        {
            "alliance": alliance_id,
            "deliberation": deliberation_id,
            "number": number,
            "status": status,
        },
    )
    return bytes(found) if found is not None else None


@cache
def stored_document_query() -> sa.Select:
    """The stored JSON of one version, by its key (built once: every process reads it after
    each release)."""
    table = deliberation_documents
    return sa.select(table.c.body).where(
        table.c.alliance_id == sa.bindparam("alliance"),
        table.c.deliberation_id == sa.bindparam("deliberation"),
        table.c.number == sa.bindparam("number"),
        table.c.status == sa.bindparam("status"),
    )


def do_store_document(
    uow: UnitOfWork,
    alliance_id: str,
    deliberation_id: str,
    number: int,
    status: str,
    body: bytes,
) -> bool:
    """Keep a document a web process built for a version that had none stored (derived
    data, like the release itself: no event). False when the deliberation is gone."""
    deliberation = uow.get(m.Deliberation, alliance_id=alliance_id, id=deliberation_id)
    if deliberation is None:
        return False
    store_document(uow, deliberation, number, status, body)
    return True
