"""ledger figures: each commitment's facts as one row of two binary records

``ledger_facts`` kept 27 columns per commitment and ``ledger_waits`` a row per
answered wait; reading them cost a Python object per value. Now a row holds the
commitment's partners, its numbers as one fixed-layout record and its answered
waits as records of their own (``analysis.ledger_metrics.FACT_RECORD`` and
``WAIT_RECORD``; the layouts are copied here as they are at this revision), and
on SQLite the table is stored in key order without rowids. Existing rows are
converted both ways.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 04:00:00
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FACT_RECORD = np.dtype(
    [
        ("opened_at", "<f8"),
        ("last_move_at", "<f8"),
        ("broken_after", "<f8"),
        ("due_in_3", "<f8"),
        ("spoke_in_3", "<f8"),
        ("waiting_since", "<f8"),
        ("counter_offers", "<i4"),
        ("reports", "<i4"),
        ("rework_loops", "<i4"),
        ("customer_declines", "<i4"),
        ("performer_declines", "<i4"),
        ("customer_counters", "<i4"),
        ("performer_counters", "<i4"),
        ("opened_by_customer", "u1"),
        ("explicit", "u1"),
        ("promised", "u1"),
        ("ended", "u1"),
        ("outcome", "u1"),
        ("lapsed_before", "u1"),
        ("past_due_before", "u1"),
        ("renegotiating", "u1"),
        ("waiting_state", "u1"),
        ("waiting_by_customer", "u1"),
    ]
)
WAIT_RECORD = np.dtype([("state", "u1"), ("by_customer", "u1"), ("hours", "<f8")])
OUTCOME_CODES = {None: 0, "kept": 1, "broken": 2}
OUTCOMES = {code: outcome for outcome, code in OUTCOME_CODES.items()}
CUSTOMER, PERFORMER = "customer", "performer"
TIMES = ("opened_at", "last_move_at", "broken_after", "due_in_3", "spoke_in_3", "waiting_since")
COUNTS = (
    "counter_offers",
    "reports",
    "rework_loops",
    "customer_declines",
    "performer_declines",
    "customer_counters",
    "performer_counters",
)
FLAGS = ("explicit", "promised")
LATER_FLAGS = ("lapsed_before", "past_due_before", "renegotiating")
OLD_FACTS = (
    "alliance_id",
    "commitment_id",
    "customer_partner_id",
    "performer_partner_ids",
    *TIMES,
    *COUNTS,
    "opener",
    *FLAGS,
    "ended",
    "outcome",
    *LATER_FLAGS,
    "waiting_state",
    "waiting_answerer",
)
OLD_WAITS = ("alliance_id", "commitment_id", "ordinal", "state", "answerer", "hours")
NEW_FACTS = (
    "alliance_id",
    "commitment_id",
    "customer_partner_id",
    "performer_partner_ids",
    "numbers",
    "waits",
)


def _foreign_keys(table: str) -> list[sa.ForeignKeyConstraint]:
    return [
        sa.ForeignKeyConstraint(
            ["alliance_id", "commitment_id"],
            ["commitments.alliance_id", "commitments.id"],
            name=op.f(f"fk_{table}_alliance_id_commitment_id_commitments"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f(f"fk_{table}_alliance_id_alliances")
        ),
    ]


def _create_new_facts() -> sa.Table:
    return op.create_table(
        "ledger_facts",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("commitment_id", sa.String(length=40), nullable=False),
        sa.Column("customer_partner_id", sa.String(length=40), nullable=False),
        sa.Column("performer_partner_ids", sa.Text(), nullable=False),
        sa.Column("numbers", sa.LargeBinary(), nullable=False),
        sa.Column("waits", sa.LargeBinary(), nullable=False),
        *_foreign_keys("ledger_facts"),
        sa.PrimaryKeyConstraint("alliance_id", "commitment_id", name=op.f("pk_ledger_facts")),
        sqlite_with_rowid=False,
    )


def _create_old_tables() -> tuple[sa.Table, sa.Table]:
    double, small, number = sa.Double(), sa.SmallInteger(), sa.Integer()
    facts = op.create_table(
        "ledger_facts",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("commitment_id", sa.String(length=40), nullable=False),
        sa.Column("customer_partner_id", sa.String(length=40), nullable=False),
        sa.Column("performer_partner_ids", sa.Text(), nullable=False),
        sa.Column("opened_at", double, nullable=False),
        sa.Column("last_move_at", double, nullable=False),
        sa.Column("opener", sa.String(length=16), nullable=False),
        sa.Column("explicit", small, nullable=False),
        sa.Column("promised", small, nullable=False),
        sa.Column("ended", small, nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("broken_after", double, nullable=True),
        *(sa.Column(name, number, nullable=False) for name in COUNTS),
        sa.Column("lapsed_before", small, nullable=False),
        sa.Column("past_due_before", small, nullable=False),
        sa.Column("due_in_3", double, nullable=True),
        sa.Column("renegotiating", small, nullable=False),
        sa.Column("spoke_in_3", double, nullable=True),
        sa.Column("waiting_since", double, nullable=True),
        sa.Column("waiting_state", small, nullable=True),
        sa.Column("waiting_answerer", sa.String(length=16), nullable=True),
        *_foreign_keys("ledger_facts"),
        sa.PrimaryKeyConstraint("alliance_id", "commitment_id", name=op.f("pk_ledger_facts")),
    )
    waits = op.create_table(
        "ledger_waits",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("commitment_id", sa.String(length=40), nullable=False),
        sa.Column("ordinal", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", small, nullable=False),
        sa.Column("answerer", sa.String(length=16), nullable=False),
        sa.Column("hours", double, nullable=False),
        *_foreign_keys("ledger_waits"),
        sa.PrimaryKeyConstraint(
            "alliance_id", "commitment_id", "ordinal", name=op.f("pk_ledger_waits")
        ),
    )
    return facts, waits


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _packed(old: dict[str, Any], waits: list[dict[str, Any]]) -> dict[str, Any]:
    numbers = (
        *(_nan(old[name]) for name in TIMES),
        *(old[name] for name in COUNTS),
        old["opener"] == CUSTOMER,
        *(old[name] for name in FLAGS),
        old["ended"] or 0,
        OUTCOME_CODES[old["outcome"]],
        *(old[name] for name in LATER_FLAGS),
        old["waiting_state"] or 0,
        old["waiting_answerer"] == CUSTOMER,
    )
    records = [(w["state"], w["answerer"] == CUSTOMER, w["hours"]) for w in waits]
    return {
        "alliance_id": old["alliance_id"],
        "commitment_id": old["commitment_id"],
        "customer_partner_id": old["customer_partner_id"],
        "performer_partner_ids": old["performer_partner_ids"],
        "numbers": np.array([numbers], dtype=FACT_RECORD).tobytes(),
        "waits": np.array(records, dtype=WAIT_RECORD).tobytes(),
    }


def upgrade() -> None:
    connection = op.get_bind()
    old_facts = sa.table("ledger_facts", *map(sa.column, OLD_FACTS))
    old_waits = sa.table("ledger_waits", *map(sa.column, OLD_WAITS))
    waits: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in connection.execute(sa.select(old_waits).order_by(old_waits.c.ordinal)).mappings():
        waits[(row["alliance_id"], row["commitment_id"])].append(dict(row))
    rows = [
        _packed(dict(row), waits[(row["alliance_id"], row["commitment_id"])])
        for row in connection.execute(sa.select(old_facts)).mappings()
    ]
    op.drop_table("ledger_waits")
    op.drop_table("ledger_facts")
    table = _create_new_facts()
    if rows:
        op.bulk_insert(table, rows)


def _time(value: float) -> float | None:
    return None if math.isnan(value) else value


def _unpacked(row: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    record = np.frombuffer(row.numbers, dtype=FACT_RECORD)[0]
    waiting_state = int(record["waiting_state"])
    facts = {
        "alliance_id": row.alliance_id,
        "commitment_id": row.commitment_id,
        "customer_partner_id": row.customer_partner_id,
        "performer_partner_ids": row.performer_partner_ids,
        **{name: _time(float(record[name])) for name in TIMES},
        **{name: int(record[name]) for name in (*COUNTS, *FLAGS, *LATER_FLAGS)},
        "opener": CUSTOMER if record["opened_by_customer"] else PERFORMER,
        "ended": int(record["ended"]) or None,
        "outcome": OUTCOMES[int(record["outcome"])],
        "waiting_state": waiting_state or None,
        "waiting_answerer": (CUSTOMER if record["waiting_by_customer"] else PERFORMER)
        if waiting_state
        else None,
    }
    waits = [
        {
            "alliance_id": row.alliance_id,
            "commitment_id": row.commitment_id,
            "ordinal": ordinal,
            "state": int(wait["state"]),
            "answerer": CUSTOMER if wait["by_customer"] else PERFORMER,
            "hours": float(wait["hours"]),
        }
        for ordinal, wait in enumerate(np.frombuffer(row.waits, dtype=WAIT_RECORD), start=1)
    ]
    return facts, waits


def downgrade() -> None:
    connection = op.get_bind()
    new_facts = sa.table("ledger_facts", *map(sa.column, NEW_FACTS))
    unpacked = [_unpacked(row) for row in connection.execute(sa.select(new_facts))]
    op.drop_table("ledger_facts")
    facts, waits = _create_old_tables()
    if unpacked:
        op.bulk_insert(facts, [row for row, _ in unpacked])
        every_wait = [wait for _, row_waits in unpacked for wait in row_waits]
        if every_wait:
            op.bulk_insert(waits, every_wait)
