"""live release: an index that covers the results worker's grouped read of the votes

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 00:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_votes_cells",
            ["alliance_id", "deliberation_id", "participant_id", "statement_id", "value", "at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.drop_index("ix_votes_cells")
