"""server-side sessions, invitations, password resets; people's time zone and deactivation

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import coauthor.db.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC_TIME = coauthor.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False)
        )
        batch_op.add_column(sa.Column("deactivated_at", UTC_TIME, nullable=True))
    _create_sessions()
    _create_password_resets()
    _create_invitations()


def _create_sessions() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("last_seen_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.Column("ended_because", sa.Enum(native_enum=False, length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_sessions_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_sessions_secret_hash")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessions_person_id"), ["person_id"], unique=False)


def _create_password_resets() -> None:
    op.create_table(
        "password_resets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("used_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_password_resets_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
    )
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_password_resets_person_id"), ["person_id"], unique=False
        )


def _create_invitations() -> None:
    op.create_table(
        "invitations",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("partner_id", sa.String(length=40), nullable=False),
        sa.Column("role", sa.Enum(native_enum=False, length=32), nullable=False),
        sa.Column("invited_by_person_id", sa.String(length=40), nullable=True),
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("status", sa.Enum(native_enum=False, length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("answered_at", UTC_TIME, nullable=True),
        sa.Column("person_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["alliance_id", "partner_id"],
            ["partners.alliance_id", "partners.id"],
            name=op.f("fk_invitations_alliance_id_partner_id_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_invitations_alliance_id_alliances")
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_person_id"],
            ["people.id"],
            name=op.f("fk_invitations_invited_by_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_invitations_person_id_people")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_invitations")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index("ix_invitations_email", ["alliance_id", "email"], unique=False)


def downgrade() -> None:
    op.drop_table("invitations")
    op.drop_table("password_resets")
    op.drop_table("sessions")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("deactivated_at")
        batch_op.drop_column("time_zone")
