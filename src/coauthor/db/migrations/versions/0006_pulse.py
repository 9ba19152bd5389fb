"""pulse: waves with frozen items, invitations apart from answers, anonymous responses
and comments (without rowid on SQLite), the alliance's own items

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 16:01:04.420743
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import coauthor.db.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pulse_custom_items",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("reverse", sa.Boolean(), nullable=False),
        sa.Column("created_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alliance_id"],
            ["alliances.id"],
            name=op.f("fk_pulse_custom_items_alliance_id_alliances"),
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_pulse_custom_items")),
    )
    op.create_table(
        "pulse_waves",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("instrument_version", sa.String(length=32), nullable=False),
        sa.Column(
            "source",
            sa.Enum("links", "import", name="wavesource", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("opened_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminder_note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_pulse_waves_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_pulse_waves")),
    )
    op.create_table(
        "pulse_comments",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("wave_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "wave_id"],
            ["pulse_waves.alliance_id", "pulse_waves.id"],
            name=op.f("fk_pulse_comments_alliance_id_wave_id_pulse_waves"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_pulse_comments_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "wave_id", "id", name=op.f("pk_pulse_comments")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "pulse_invitations",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("wave_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("partner_id", sa.String(length=40), nullable=False),
        sa.Column(
            "role_band",
            sa.Enum("leadership", "team", name="roleband", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "partner_id"],
            ["partners.alliance_id", "partners.id"],
            name=op.f("fk_pulse_invitations_alliance_id_partner_id_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "wave_id"],
            ["pulse_waves.alliance_id", "pulse_waves.id"],
            name=op.f("fk_pulse_invitations_alliance_id_wave_id_pulse_waves"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"],
            ["alliances.id"],
            name=op.f("fk_pulse_invitations_alliance_id_alliances"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_pulse_invitations_person_id_people")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "wave_id", "id", name=op.f("pk_pulse_invitations")),
        sa.UniqueConstraint(
            "alliance_id", "wave_id", "person_id", name="uq_pulse_invitations_person"
        ),
    )
    op.create_table(
        "pulse_responses",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("wave_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("partner_id", sa.String(length=40), nullable=False),
        sa.Column(
            "role_band",
            sa.Enum("leadership", "team", name="roleband", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "partner_id"],
            ["partners.alliance_id", "partners.id"],
            name=op.f("fk_pulse_responses_alliance_id_partner_id_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "wave_id"],
            ["pulse_waves.alliance_id", "pulse_waves.id"],
            name=op.f("fk_pulse_responses_alliance_id_wave_id_pulse_waves"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_pulse_responses_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "wave_id", "id", name=op.f("pk_pulse_responses")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "pulse_wave_items",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("wave_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "dimension",
            sa.Enum(
                "trust_organization",
                "trust_counterpart",
                "psychological_safety",
                "clarity",
                "presence",
                "surprise_and_conflict",
                "shared_purpose",
                name="dimension",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("reverse", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "wave_id"],
            ["pulse_waves.alliance_id", "pulse_waves.id"],
            name=op.f("fk_pulse_wave_items_alliance_id_wave_id_pulse_waves"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"],
            ["alliances.id"],
            name=op.f("fk_pulse_wave_items_alliance_id_alliances"),
        ),
        sa.PrimaryKeyConstraint("alliance_id", "wave_id", "key", name=op.f("pk_pulse_wave_items")),
    )


def downgrade() -> None:
    op.drop_table("pulse_wave_items")
    op.drop_table("pulse_responses")
    op.drop_table("pulse_invitations")
    op.drop_table("pulse_comments")
    op.drop_table("pulse_waves")
    op.drop_table("pulse_custom_items")
