"""Bring a database to the newest schema with Alembic.

``ensure_current`` first reads the stored revision with one query and leaves
Alembic unloaded when the schema is already current, which keeps every CLI
command's start quick; a test checks ``HEAD_REVISION`` against the migrations.
SQLAlchemy too is imported only where it is used, so that the quick reads
(``db/quick.py``) can compare a database's revision with ``HEAD_REVISION``
without loading it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
HEAD_REVISION = "0012"
"""The newest migration's revision (tests/unit/test_migrations.py keeps it true)."""


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def current_revision(url: str) -> str | None:
    """The revision stored in the database, or None when it has none (a new database)."""
    import sqlalchemy as sa

    from coauthor.db.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except (sa.exc.ProgrammingError, sa.exc.OperationalError):
        return None
    finally:
        engine.dispose()


def ensure_current(url: str) -> bool:
    """Migrate ``url`` to the newest schema unless it is there already; True when it migrated."""
    if current_revision(url) == HEAD_REVISION:
        return False
    upgrade(url)
    return True
