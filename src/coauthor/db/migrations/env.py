"""Alembic environment: runs on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic import context

from coauthor.db.engine import make_engine
from coauthor.db.tables import described_here, metadata

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=described_here,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
