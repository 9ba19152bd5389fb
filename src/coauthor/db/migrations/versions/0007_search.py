"""search index (search_entries with SQLite FTS5 or a PostgreSQL GIN index); partners keep
their own chart colour; organization names compared without case

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:00:00

The index's entries are written by the application (services/search), which
fills them for an existing database right after this migration
(``rebuild_if_missing``). Existing partners keep the colour they were shown in
until now: their place, by organization name, among their alliance's partners.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PARTNER_COLOURS = 8
FTS_TABLE = "search_fts"
FTS_INDEX = "ix_search_entries_fts"
POSTGRES_DOCUMENT = (
    "to_tsvector('simple'::regconfig, coalesce(terms_title, '') || ' ' || coalesce(terms_body, ''))"
)


def _name_key(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).casefold()
    return re.sub(r"\s+", " ", folded).strip()


def _backfill_name_keys(connection: sa.Connection) -> None:
    organizations = sa.table(
        "organizations", sa.column("id"), sa.column("name"), sa.column("name_key")
    )
    for row in connection.execute(sa.select(organizations.c.id, organizations.c.name)).all():
        connection.execute(
            organizations.update()
            .where(organizations.c.id == row.id)
            .values(name_key=_name_key(row.name))
        )


def _backfill_colours(connection: sa.Connection) -> None:
    partners = sa.table(
        "partners",
        sa.column("alliance_id"),
        sa.column("id"),
        sa.column("organization_id"),
        sa.column("colour"),
    )
    organizations = sa.table("organizations", sa.column("id"), sa.column("name"))
    rows = connection.execute(
        sa.select(partners.c.alliance_id, partners.c.id, organizations.c.name).join(
            organizations, organizations.c.id == partners.c.organization_id
        )
    ).all()
    by_alliance: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for alliance_id, partner_id, name in rows:
        by_alliance[alliance_id].append((name.lower(), partner_id))
    for alliance_id, named in by_alliance.items():
        for position, (_, partner_id) in enumerate(sorted(named)):
            connection.execute(
                partners.update()
                .where(partners.c.alliance_id == alliance_id, partners.c.id == partner_id)
                .values(colour=position % PARTNER_COLOURS)
            )


def upgrade() -> None:
    connection = op.get_bind()
    op.add_column(
        "organizations",
        sa.Column("name_key", sa.String(length=200), server_default="", nullable=False),
    )
    _backfill_name_keys(connection)
    op.create_index(op.f("ix_organizations_name_key"), "organizations", ["name_key"], unique=False)
    op.add_column(
        "partners", sa.Column("colour", sa.SmallInteger(), server_default="0", nullable=False)
    )
    _backfill_colours(connection)
    op.create_table(
        "search_entries",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("doc", sa.BigInteger(), nullable=False),
        sa.Column("partner_id", sa.String(length=40), nullable=True),
        sa.Column("parent_id", sa.String(length=40), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("terms_title", sa.Text(), nullable=False),
        sa.Column("terms_body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_search_entries_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "kind", "item_id", name=op.f("pk_search_entries")),
        sa.UniqueConstraint("doc", name=op.f("uq_search_entries_doc")),
    )
    if connection.dialect.name == "sqlite":
        op.execute(
            f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
            "terms_title, terms_body, tokenize = 'unicode61 remove_diacritics 2', "
            "prefix = '2 3')"
        )
    else:
        op.execute(f"CREATE INDEX {FTS_INDEX} ON search_entries USING gin ({POSTGRES_DOCUMENT})")


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        op.execute(f"DROP TABLE {FTS_TABLE}")
    op.drop_table("search_entries")
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_column("colour")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organizations_name_key"))
        batch_op.drop_column("name_key")
