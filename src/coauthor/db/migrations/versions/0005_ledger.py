"""the commitment ledger: commitments, their parties and speech acts, derived facts and waits,
declarations under decision rights with each seat's position, obligation assignments,
calendar feeds

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import coauthor.db.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_calendar_feeds_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calendar_feeds_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "obligation_assignments",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("obligation_id", sa.String(length=40), nullable=False),
        sa.Column("performer_person_id", sa.String(length=40), nullable=False),
        sa.Column("customer_person_id", sa.String(length=40), nullable=False),
        sa.Column("assigned_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "obligation_id"],
            ["obligations.alliance_id", "obligations.id"],
            name=op.f("fk_obligation_assignments_alliance_id_obligation_id_obligations"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"],
            ["alliances.id"],
            name=op.f("fk_obligation_assignments_alliance_id_alliances"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_person_id"],
            ["people.id"],
            name=op.f("fk_obligation_assignments_customer_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["performer_person_id"],
            ["people.id"],
            name=op.f("fk_obligation_assignments_performer_person_id_people"),
        ),
        sa.PrimaryKeyConstraint(
            "alliance_id", "obligation_id", name=op.f("pk_obligation_assignments")
        ),
    )
    op.create_table(
        "commitments",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("customer_partner_id", sa.String(length=40), nullable=False),
        sa.Column("body_id", sa.String(length=40), nullable=True),
        sa.Column("meeting_id", sa.String(length=40), nullable=True),
        sa.Column("obligation_id", sa.String(length=40), nullable=True),
        sa.Column("period_due_on", sa.Date(), nullable=True),
        sa.Column("waived_by_declaration_id", sa.String(length=40), nullable=True),
        sa.Column("opened_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "phase",
            sa.Enum(
                "opened",
                "requested",
                "offered",
                "countered",
                "offer_countered",
                "promised",
                "renegotiating",
                "reported",
                "fulfilled",
                "reneged",
                "no_agreement",
                "cancelled",
                name="phase",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column(
            "awaits",
            sa.Enum("customer", "performer", name="party", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("due_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reply_by", coauthor.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_move_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("moves", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "body_id"],
            ["governance_bodies.alliance_id", "governance_bodies.id"],
            name=op.f("fk_commitments_alliance_id_body_id_governance_bodies"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "customer_partner_id"],
            ["partners.alliance_id", "partners.id"],
            name=op.f("fk_commitments_alliance_id_customer_partner_id_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "meeting_id"],
            ["meetings.alliance_id", "meetings.id"],
            name=op.f("fk_commitments_alliance_id_meeting_id_meetings"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "obligation_id"],
            ["obligations.alliance_id", "obligations.id"],
            name=op.f("fk_commitments_alliance_id_obligation_id_obligations"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "waived_by_declaration_id"],
            ["declarations.alliance_id", "declarations.id"],
            name=op.f("fk_commitments_alliance_id_waived_by_declaration_id_declarations"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_commitments_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_commitments")),
        sa.UniqueConstraint(
            "alliance_id", "obligation_id", "period_due_on", name="uq_commitments_period"
        ),
    )
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_commitments_opened", ["alliance_id", "opened_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_commitments_state", ["alliance_id", "state", "due_at"], unique=False
        )

    op.create_table(
        "declaration_positions",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("declaration_id", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.String(length=40), nullable=False),
        sa.Column(
            "position",
            sa.Enum(
                "for", "against", "abstain", "absent", name="position", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "declaration_id"],
            ["declarations.alliance_id", "declarations.id"],
            name=op.f("fk_declaration_positions_alliance_id_declaration_id_declarations"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "member_id"],
            ["members.alliance_id", "members.id"],
            name=op.f("fk_declaration_positions_alliance_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"],
            ["alliances.id"],
            name=op.f("fk_declaration_positions_alliance_id_alliances"),
        ),
        sa.PrimaryKeyConstraint(
            "alliance_id", "declaration_id", "member_id", name=op.f("pk_declaration_positions")
        ),
    )
    op.create_table(
        "commitment_parties",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("commitment_id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column(
            "side",
            sa.Enum("customer", "performer", name="party", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("partner_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "commitment_id"],
            ["commitments.alliance_id", "commitments.id"],
            name=op.f("fk_commitment_parties_alliance_id_commitment_id_commitments"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "partner_id"],
            ["partners.alliance_id", "partners.id"],
            name=op.f("fk_commitment_parties_alliance_id_partner_id_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"],
            ["alliances.id"],
            name=op.f("fk_commitment_parties_alliance_id_alliances"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_commitment_parties_person_id_people")
        ),
        sa.PrimaryKeyConstraint(
            "alliance_id", "commitment_id", "person_id", name=op.f("pk_commitment_parties")
        ),
    )
    with op.batch_alter_table("commitment_parties", schema=None) as batch_op:
        batch_op.create_index(
            "ix_commitment_parties_person",
            ["person_id", "alliance_id", "commitment_id"],
            unique=False,
        )

    op.create_table(
        "ledger_facts",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("commitment_id", sa.String(length=40), nullable=False),
        sa.Column("customer_partner_id", sa.String(length=40), nullable=False),
        sa.Column("performer_partner_ids", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.Double(), nullable=False),
        sa.Column("last_move_at", sa.Double(), nullable=False),
        sa.Column("opener", sa.String(length=16), nullable=False),
        sa.Column("explicit", sa.SmallInteger(), nullable=False),
        sa.Column("promised", sa.SmallInteger(), nullable=False),
        sa.Column("ended", sa.SmallInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("broken_after", sa.Double(), nullable=True),
        sa.Column("counter_offers", sa.Integer(), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("rework_loops", sa.Integer(), nullable=False),
        sa.Column("customer_declines", sa.Integer(), nullable=False),
        sa.Column("performer_declines", sa.Integer(), nullable=False),
        sa.Column("customer_counters", sa.Integer(), nullable=False),
        sa.Column("performer_counters", sa.Integer(), nullable=False),
        sa.Column("lapsed_before", sa.SmallInteger(), nullable=False),
        sa.Column("past_due_before", sa.SmallInteger(), nullable=False),
        sa.Column("due_in_3", sa.Double(), nullable=True),
        sa.Column("renegotiating", sa.SmallInteger(), nullable=False),
        sa.Column("spoke_in_3", sa.Double(), nullable=True),
        sa.Column("waiting_since", sa.Double(), nullable=True),
        sa.Column("waiting_state", sa.SmallInteger(), nullable=True),
        sa.Column("waiting_answerer", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["alliance_id", "commitment_id"],
            ["commitments.alliance_id", "commitments.id"],
            name=op.f("fk_ledger_facts_alliance_id_commitment_id_commitments"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_ledger_facts_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "commitment_id", name=op.f("pk_ledger_facts")),
    )
    op.create_table(
        "ledger_waits",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("commitment_id", sa.String(length=40), nullable=False),
        sa.Column("ordinal", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("answerer", sa.String(length=16), nullable=False),
        sa.Column("hours", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "commitment_id"],
            ["commitments.alliance_id", "commitments.id"],
            name=op.f("fk_ledger_waits_alliance_id_commitment_id_commitments"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_ledger_waits_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint(
            "alliance_id", "commitment_id", "ordinal", name=op.f("pk_ledger_waits")
        ),
    )
    op.create_table(
        "speech_acts",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("commitment_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "move",
            sa.Enum(
                "request",
                "offer",
                "promise",
                "accept",
                "counter_offer",
                "accept_counter",
                "counter",
                "decline",
                "reject",
                "commit_to_commit",
                "report_completion",
                "renegotiate",
                "renege",
                "cancel",
                "declare_satisfied",
                "declare_not_satisfied",
                "withdraw",
                "progress_note",
                name="move",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "party",
            sa.Enum("customer", "performer", name="party", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("actor_person_id", sa.String(length=40), nullable=False),
        sa.Column("at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=True),
        sa.Column("due_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reply_by", coauthor.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("evidence", sa.JSON(none_as_null=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_person_id"], ["people.id"], name=op.f("fk_speech_acts_actor_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "commitment_id"],
            ["commitments.alliance_id", "commitments.id"],
            name=op.f("fk_speech_acts_alliance_id_commitment_id_commitments"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_speech_acts_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "commitment_id", "seq", name=op.f("pk_speech_acts")),
    )
    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_right_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("meeting_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("quorum_percent", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_declarations_alliance_id_decision_right_id_decision_rights"),
            "decision_rights",
            ["alliance_id", "decision_right_id"],
            ["alliance_id", "id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_declarations_alliance_id_meeting_id_meetings"),
            "meetings",
            ["alliance_id", "meeting_id"],
            ["alliance_id", "id"],
        )
    with op.batch_alter_table("charter_clauses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("repealed_by_declaration_id", sa.String(length=40), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_charter_clauses_alliance_id_repealed_by_declaration_id_declarations"),
            "declarations",
            ["alliance_id", "repealed_by_declaration_id"],
            ["alliance_id", "id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("charter_clauses", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_charter_clauses_alliance_id_repealed_by_declaration_id_declarations"),
            type_="foreignkey",
        )
        batch_op.drop_column("repealed_by_declaration_id")
    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_declarations_alliance_id_meeting_id_meetings"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_declarations_alliance_id_decision_right_id_decision_rights"),
            type_="foreignkey",
        )
        batch_op.drop_column("quorum_percent")
        batch_op.drop_column("meeting_id")
        batch_op.drop_column("decision_right_id")

    op.drop_table("speech_acts")
    op.drop_table("ledger_waits")
    op.drop_table("ledger_facts")
    with op.batch_alter_table("commitment_parties", schema=None) as batch_op:
        batch_op.drop_index("ix_commitment_parties_person")

    op.drop_table("commitment_parties")
    op.drop_table("declaration_positions")
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.drop_index("ix_commitments_state")
        batch_op.drop_index("ix_commitments_opened")

    op.drop_table("commitments")
    op.drop_table("obligation_assignments")
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_feeds_person_id"))

    op.drop_table("calendar_feeds")
