"""The figures' facts as stored rows (``ledger_facts``), and reading them back.

Each commitment's facts are derived from its acts in the same write as every
act (``commitments.store_facts``, the archive import), so the figures never
replay acts: they read one narrow table into a ``FactsTable``. A row holds the
commitment's partners and two binary records (``ledger_metrics.FACT_RECORD``,
``WAIT_RECORD``): a quarter of a million commitments are read as half a million
bytes objects and a few partner ids, and numpy makes the columns of them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from coauthor.analysis.ledger_metrics import CommitmentFacts, FactsTable, fact_row, stored_outcome
from coauthor.db.tables import commitments, ledger_facts
from coauthor.db.uow import UnitOfWork

STORED_COLUMNS = (
    "alliance_id",
    "commitment_id",
    "customer_partner_id",
    "performer_partner_ids",
    "numbers",
    "waits",
)
"""The columns of a ``ledger_facts`` row, in the order of ``fact_values``."""


def fact_values(facts: CommitmentFacts) -> dict[str, Any]:
    """A ``ledger_facts`` row: the one place that defines it (services and the import)."""
    values = (facts.alliance_id, facts.commitment_id, *fact_row(facts))
    return dict(zip(STORED_COLUMNS, values, strict=True))


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
    """Every counted commitment's facts in one alliance, as columns (in commitment id order:
    on SQLite the table is stored in that order, without rowids)."""
    facts = (
        sa.select(
            ledger_facts.c.customer_partner_id,
            ledger_facts.c.performer_partner_ids,
            ledger_facts.c.numbers,
            ledger_facts.c.waits,
        )
        .where(
            ledger_facts.c.alliance_id == alliance_id,
            _counted(alliance_id, ledger_facts.c.commitment_id),
        )
        .order_by(ledger_facts.c.commitment_id)
    )
    return FactsTable.from_rows(_raw_rows(uow, facts), alliance_id)


def obligation_outcomes(uow: UnitOfWork, alliance_id: str) -> dict[str, str | None]:
    """The outcome (kept, broken or None) of every obligation period's commitment."""
    rows = uow.session.execute(
        sa.select(ledger_facts.c.commitment_id, ledger_facts.c.numbers)
        .join(
            commitments,
            sa.and_(
                commitments.c.alliance_id == ledger_facts.c.alliance_id,
                commitments.c.id == ledger_facts.c.commitment_id,
            ),
        )
        .where(ledger_facts.c.alliance_id == alliance_id, commitments.c.obligation_id.is_not(None))
    ).all()
    return {commitment_id: stored_outcome(numbers) for commitment_id, numbers in rows}
