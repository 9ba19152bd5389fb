"""Foreign keys checked once at the end of a long SQLite write, instead of once per row.

With ``foreign_keys=ON`` SQLite looks up the parent of every row a statement
inserts: a large archive's import inserts millions of rows, each looking up
its commitment, its person and its partner. Such a write may ask the unit of
work (``uow.foreign_keys_checked_at_end``) to begin its transaction with
enforcement off — SQLite ignores the pragma inside a transaction, so it is
set before ``BEGIN`` (``db/engine.py``) — and to run ``refuse_broken_keys``
before it commits: ``PRAGMA foreign_key_check`` walks each table once, and any
row whose parent is missing refuses the whole write (it is then rolled back).
The connection enforces foreign keys again when it returns to the pool,
committed or not. PostgreSQL checks its keys as always.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from coauthor.domain.errors import FieldError, ValidationFailed

MAX_REPORTED = 10
"""The broken rows named in one refusal (the first found)."""


def _row_key(session: Session, table: str, rowid: int | None) -> str:
    """The primary key of a table's row by its rowid, as text; tables without rowids
    name no row (SQLite gives none)."""
    if rowid is None:
        return "a row"
    pragma = session.execute(sa.text(f'PRAGMA table_info("{table}")')).all()
    key = [column.name for column in sorted(pragma, key=lambda c: c.pk) if column.pk]
    if not key:
        return f"row {rowid}"
    names = ", ".join(f'"{name}"' for name in key)
    query = sa.text(f'SELECT {names} FROM "{table}" WHERE rowid = :rowid')
    found = session.execute(query, {"rowid": rowid}).first()
    return f"row ({', '.join(map(str, found))})" if found else f"row {rowid}"


def _columns(session: Session, table: str, fkid: int) -> tuple[list[str], list[str]]:
    """The child's and the parent's columns of a table's foreign key ``fkid``."""
    pairs = [
        (row.seq, row[3], row[4])
        for row in session.execute(sa.text(f'PRAGMA foreign_key_list("{table}")'))
        if row.id == fkid
    ]
    pairs.sort()
    return [child for _, child, _ in pairs], [str(parent) for _, _, parent in pairs]


def _error(session: Session, violation: Any) -> FieldError:
    table, rowid, parent, fkid = violation
    children, parents = _columns(session, table, fkid)
    message = (
        f"{_row_key(session, table, rowid)} of {table} refers through "
        f"{', '.join(children)} to a row of {parent} ({', '.join(parents)}) that is not there; "
        "nothing was written"
    )
    return FieldError((table,), message)


def refuse_broken_keys(session: Session) -> None:
    """Raise ValidationFailed naming each table and row (up to ``MAX_REPORTED``) whose
    foreign key finds no parent; nothing on databases other than SQLite (they enforce
    keys per statement)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    broken = session.execute(sa.text("PRAGMA foreign_key_check")).fetchmany(MAX_REPORTED)
    if broken:
        raise ValidationFailed([_error(session, violation) for violation in broken])
