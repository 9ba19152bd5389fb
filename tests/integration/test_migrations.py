"""The migrations build exactly the schema that db/tables.py describes, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from coauthor.db import migrate
from coauthor.db.engine import make_engine
from coauthor.db.tables import described_here, metadata


def test_the_alembic_head_matches_the_tables(database_url: str) -> None:
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": described_here}
            )
            drift = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert drift == [], "db/tables.py and the migrations disagree; add a migration:\n" + "\n".join(
        map(str, drift)
    )


def test_head_revision_names_the_newest_migration(database_url: str) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(database_url))
    assert script.get_heads() == [migrate.HEAD_REVISION]
    migrate.ensure_current(database_url)
    assert migrate.current_revision(database_url) == migrate.HEAD_REVISION


def test_an_existing_chain_gets_its_head_when_migrated(database_url: str) -> None:
    """0002 adds chain heads: a database with events from before it gets one per chain."""
    from alembic import command

    config = migrate.alembic_config(database_url)
    command.upgrade(config, "0001")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            for seq, digest in ((1, "a" * 64), (2, "b" * 64)):
                connection.exec_driver_sql(
                    "INSERT INTO events (chain_id, seq, at, actor_id, kind, payload, prev_hash, "
                    f"hash) VALUES ('site', {seq}, '2026-01-01 00:00:00', NULL, 'x', '{{}}', "
                    f"'{'0' * 64}', '{digest}')"
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            heads = connection.exec_driver_sql("SELECT chain_id, seq, hash FROM chain_heads")
            assert [tuple(row) for row in heads] == [("site", 2, "b" * 64)]
    finally:
        engine.dispose()
