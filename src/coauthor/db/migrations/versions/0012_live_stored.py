"""live stored: each release's results document, shaped and encoded once, stored with it

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliberation_documents",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("deliberation_id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "deliberation_id", "number"],
            [
                "deliberation_releases.alliance_id",
                "deliberation_releases.deliberation_id",
                "deliberation_releases.number",
            ],
            name=op.f(
                "fk_deliberation_documents_alliance_id_deliberation_id_number_deliberation_releases"
            ),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"],
            ["alliances.id"],
            name=op.f("fk_deliberation_documents_alliance_id_alliances"),
        ),
        sa.PrimaryKeyConstraint(
            "alliance_id",
            "deliberation_id",
            "number",
            "status",
            name=op.f("pk_deliberation_documents"),
        ),
    )


def downgrade() -> None:
    op.drop_table("deliberation_documents")
