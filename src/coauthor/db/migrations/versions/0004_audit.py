"""the event log's keyed hash: key_id and mac on events and chain heads

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

KEYED_TABLES = ("events", "chain_heads")


def upgrade() -> None:
    for table in KEYED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
            batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table in KEYED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("mac")
            batch_op.drop_column("key_id")
