"""The operator's quick reads of the alliances table (the CLI's ``alliance list``, ``verify``).

Kept apart from alliances.py so that these reads import neither pydantic nor
the account services: a command that only lists alliances starts fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from coauthor.db.tables import alliances
from coauthor.db.uow import UnitOfWork


@dataclass(frozen=True)
class AllianceRow:
    id: str
    name: str
    kind: str
    stage: str
    created_at: datetime


def every_alliance(uow: UnitOfWork) -> list[AllianceRow]:
    """All alliances, by name, for the operator, who holds the database anyway.

    Sorted here rather than by the database, whose string order differs between backends.
    """
    columns = (alliances.c.id, alliances.c.name, alliances.c.kind, alliances.c.stage)
    rows = uow.session.execute(sa.select(*columns, alliances.c.created_at))
    found = [
        AllianceRow(row.id, row.name, str(row.kind), str(row.stage), row.created_at) for row in rows
    ]
    return sorted(found, key=lambda row: (row.name, row.id))


def alliance_exists(uow: UnitOfWork, alliance_id: str) -> bool:
    query = sa.select(alliances.c.id).where(alliances.c.id == alliance_id)
    return uow.session.execute(query).first() is not None
