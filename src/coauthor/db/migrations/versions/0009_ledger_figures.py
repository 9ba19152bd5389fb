"""ledger figures: commitments are found by the declaration that waived them

The figures leave out waived commitments and the declarations log lists what
each declaration waived; both looked for them by scanning every commitment.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 01:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_commitments_waived",
        "commitments",
        ["alliance_id", "waived_by_declaration_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_commitments_waived", table_name="commitments")
