"""deliberation, declarations and charter

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 17:37:39.558266
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import coauthor.db.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "charter_clauses",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("added_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_charter_clauses_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_charter_clauses")),
    )
    op.create_table(
        "deliberations",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "closed", name="deliberationstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("strict_moderation", sa.Boolean(), nullable=False),
        sa.Column("created_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_deliberations_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_deliberations")),
    )
    op.create_table(
        "declarations",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("body_id", sa.String(length=40), nullable=True),
        sa.Column(
            "rule",
            sa.Enum(
                "consensus",
                "consent",
                "majority",
                "unanimity",
                name="decisionrule",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("declared_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("declared_by_person_id", sa.String(length=40), nullable=True),
        sa.Column("dissent", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "body_id"],
            ["governance_bodies.alliance_id", "governance_bodies.id"],
            name=op.f("fk_declarations_alliance_id_governance_bodies"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_declarations_alliance_id_alliances")
        ),
        sa.ForeignKeyConstraint(
            ["declared_by_person_id"],
            ["people.id"],
            name=op.f("fk_declarations_declared_by_person_id_people"),
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_declarations")),
    )
    op.create_table(
        "participants",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("deliberation_id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=True),
        sa.Column("partner_id", sa.String(length=40), nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("joined_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "deliberation_id"],
            ["deliberations.alliance_id", "deliberations.id"],
            name=op.f("fk_participants_alliance_id_deliberations"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "partner_id"],
            ["partners.alliance_id", "partners.id"],
            name=op.f("fk_participants_alliance_id_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_participants_alliance_id_alliances")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_participants_person_id_people")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_participants")),
        sa.UniqueConstraint(
            "alliance_id", "deliberation_id", "external_id", name="uq_participants_external"
        ),
        sa.UniqueConstraint(
            "alliance_id", "deliberation_id", "person_id", name="uq_participants_person"
        ),
    )
    op.create_table(
        "statements",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("deliberation_id", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "moderation",
            sa.Enum(
                "pending", "accepted", "rejected", name="moderation", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("is_meta", sa.Boolean(), nullable=False),
        sa.Column("author_participant_id", sa.String(length=40), nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "deliberation_id"],
            ["deliberations.alliance_id", "deliberations.id"],
            name=op.f("fk_statements_alliance_id_deliberations"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_statements_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_statements")),
    )
    with op.batch_alter_table("statements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_statements_deliberation", ["alliance_id", "deliberation_id"], unique=False
        )

    op.create_table(
        "votes",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("deliberation_id", sa.String(length=40), nullable=False),
        sa.Column("participant_id", sa.String(length=40), nullable=False),
        sa.Column("statement_id", sa.String(length=40), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("value in (-1, 0, 1)", name=op.f("ck_votes_vote_value")),
        sa.ForeignKeyConstraint(
            ["alliance_id", "participant_id"],
            ["participants.alliance_id", "participants.id"],
            name=op.f("fk_votes_alliance_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "statement_id"],
            ["statements.alliance_id", "statements.id"],
            name=op.f("fk_votes_alliance_id_statements"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_votes_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint(
            "alliance_id",
            "deliberation_id",
            "participant_id",
            "statement_id",
            name=op.f("pk_votes"),
        ),
    )


def downgrade() -> None:
    op.drop_table("votes")
    with op.batch_alter_table("statements", schema=None) as batch_op:
        batch_op.drop_index("ix_statements_deliberation")

    op.drop_table("statements")
    op.drop_table("participants")
    op.drop_table("declarations")
    op.drop_table("deliberations")
    op.drop_table("charter_clauses")
