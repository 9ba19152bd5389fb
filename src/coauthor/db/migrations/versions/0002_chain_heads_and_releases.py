"""chain heads (the per-chain lock), result releases, recent votes, login failures by time

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import coauthor.db.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BACKFILL_HEADS = """
INSERT INTO chain_heads (chain_id, seq, hash)
SELECT events.chain_id, events.seq, events.hash
FROM events
JOIN (SELECT chain_id, MAX(seq) AS seq FROM events GROUP BY chain_id) AS last
  ON last.chain_id = events.chain_id AND last.seq = events.seq
"""


def upgrade() -> None:
    op.create_table(
        "chain_heads",
        sa.Column("chain_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", name=op.f("pk_chain_heads")),
    )
    op.execute(BACKFILL_HEADS)
    op.create_table(
        "deliberation_releases",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("deliberation_id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("released_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cut_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("threshold", sa.SmallInteger(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "deliberation_id"],
            ["deliberations.alliance_id", "deliberations.id"],
            name=op.f("fk_deliberation_releases_alliance_id_deliberation_id_deliberations"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"],
            ["alliances.id"],
            name=op.f("fk_deliberation_releases_alliance_id_alliances"),
        ),
        sa.PrimaryKeyConstraint(
            "alliance_id", "deliberation_id", "number", name=op.f("pk_deliberation_releases")
        ),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_failures_at"), ["at"], unique=False)
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_votes_recent", ["alliance_id", "deliberation_id", "at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.drop_index("ix_votes_recent")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_at"))
    op.drop_table("deliberation_releases")
    op.drop_table("chain_heads")
