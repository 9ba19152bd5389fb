"""The figures' facts as stored rows (``ledger_facts``, ``ledger_waits``), and reading them back.

Each commitment's facts are derived from its acts in the same write as every
act (``commitments.store_facts``, the archive import), so the figures never
replay acts: they read two narrow tables into a ``FactsTable``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from coauthor.analysis.ledger_metrics import (
    FACT_COLUMNS,
    WAIT_COLUMNS,
    CommitmentFacts,
    FactsTable,
    fact_row,
    wait_rows,
)
from coauthor.db.tables import commitments, ledger_facts, ledger_waits
from coauthor.db.uow import UnitOfWork


def fact_values(facts: CommitmentFacts) -> dict[str, Any]:
    """A ``ledger_facts`` row."""
    return fact_row(facts)


def wait_values(facts: CommitmentFacts) -> list[dict[str, Any]]:
    """The ``ledger_waits`` rows of one commitment, numbered in the order the waits ended."""
    return [
        row | {"alliance_id": facts.alliance_id, "ordinal": n}
        for n, row in enumerate(wait_rows(facts), start=1)
    ]


def _counted(alliance_id: str, commitment_id: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """Waived obligation periods are released by a declaration: they are not judged at all.

    The waived commitments are found through ``ix_commitments_waived`` once per
    query, so the facts are read in one pass with nothing to filter afterwards."""
    waived = sa.select(commitments.c.id).where(
        commitments.c.alliance_id == alliance_id,
        commitments.c.waived_by_declaration_id.is_not(None),
    )
    return commitment_id.not_in(waived)


def _raw_rows(uow: UnitOfWork, query: sa.Select[Any]) -> list[tuple]:
    """The driver's own tuples: these columns need no conversion, and a large ledger has
    a quarter of a million rows to read."""
    result = uow.session.connection().execute(query)
    try:
        return result.cursor.fetchall()  # type: ignore[union-attr]
    finally:
        result.close()


def load_table(uow: UnitOfWork, alliance_id: str) -> FactsTable:
    """Every counted commitment's facts in one alliance, as columns."""
    facts = (
        sa.select(*(ledger_facts.c[name] for name in FACT_COLUMNS))
        .where(
            ledger_facts.c.alliance_id == alliance_id,
            _counted(alliance_id, ledger_facts.c.commitment_id),
        )
        .order_by(ledger_facts.c.commitment_id)
    )
    waits = (
        sa.select(*(ledger_waits.c[name] for name in WAIT_COLUMNS))
        .where(
            ledger_waits.c.alliance_id == alliance_id,
            _counted(alliance_id, ledger_waits.c.commitment_id),
        )
        .order_by(ledger_waits.c.commitment_id, ledger_waits.c.ordinal)
    )
    return FactsTable.from_rows(_raw_rows(uow, facts), _raw_rows(uow, waits))
