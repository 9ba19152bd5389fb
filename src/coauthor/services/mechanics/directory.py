"""The operator's quick reads of the alliances table (the CLI's ``alliance list``, ``verify``).

Kept apart from alliances.py so that these reads import neither pydantic nor
the account services: a command that only lists alliances starts fast. The
quickest, ``every_alliance_quickly``, does not even load SQLAlchemy (see
``db/quick.py``), so this module imports it only inside the functions that use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from coauthor.db import quick

if TYPE_CHECKING:
    from coauthor.db.uow import UnitOfWork

ALLIANCE_COLUMNS = ("id", "name", "kind", "stage", "created_at")


@dataclass(frozen=True)
class AllianceRow:
    id: str
    name: str
    kind: str
    stage: str
    created_at: datetime


def every_alliance(uow: UnitOfWork) -> list[AllianceRow]:
    """All alliances, by name, for the operator, who holds the database anyway."""
    import sqlalchemy as sa

    from coauthor.db.tables import alliances

    rows = uow.session.execute(sa.select(*(alliances.c[name] for name in ALLIANCE_COLUMNS)))
    return _by_name(
        AllianceRow(row.id, row.name, str(row.kind), str(row.stage), row.created_at) for row in rows
    )


def every_alliance_quickly(database_url: str) -> list[AllianceRow] | None:
    """``every_alliance`` without SQLAlchemy; None when only the full path can answer."""
    rows = quick.read_rows(database_url, f"SELECT {', '.join(ALLIANCE_COLUMNS)} FROM alliances")
    if rows is None:
        return None
    return _by_name(
        AllianceRow(id_, name, kind, stage, quick.utc_timestamp(created_at))
        for id_, name, kind, stage, created_at in rows
    )


def _by_name(found: Iterable[AllianceRow]) -> list[AllianceRow]:
    """Sorted here rather than by the database, whose string order differs between backends."""
    return sorted(found, key=lambda row: (row.name, row.id))


def alliance_exists(uow: UnitOfWork, alliance_id: str) -> bool:
    import sqlalchemy as sa

    from coauthor.db.tables import alliances

    query = sa.select(alliances.c.id).where(alliances.c.id == alliance_id)
    return uow.session.execute(query).first() is not None
