"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25 18:00:53.268948
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import coauthor.db.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alliances",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "joint_venture",
                "strategic_alliance",
                "consortium",
                "supplier_partnership",
                "research_collaboration",
                name="alliancekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "stage",
            sa.Enum(
                "forming",
                "launching",
                "operating",
                "renewing",
                "winding_down",
                name="alliancestage",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("created_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alliances")),
    )
    op.create_table(
        "events",
        sa.Column("chain_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "seq", name=op.f("pk_events")),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_failures_key"), ["key"], unique=False)

    op.create_table(
        "organizations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("name", name=op.f("uq_organizations_name")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("email", name=op.f("uq_people_email")),
    )
    op.create_table(
        "agreements",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "contract",
                "mou",
                "jv_agreement",
                "sow",
                "nda",
                "other",
                name="agreementkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_agreements_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_agreements")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_api_tokens_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_person_id"), ["person_id"], unique=False)

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
        "governance_bodies",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "steering_committee",
                "jv_board",
                "working_group",
                "other",
                name="bodykind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "cadence",
            sa.Enum(
                "weekly",
                "biweekly",
                "monthly",
                "quarterly",
                "ad_hoc",
                name="cadence",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id"],
            ["alliances.id"],
            name=op.f("fk_governance_bodies_alliance_id_alliances"),
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_governance_bodies")),
    )
    op.create_table(
        "partners",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_partners_alliance_id_alliances")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_partners_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_partners")),
        sa.UniqueConstraint("alliance_id", "organization_id", name="uq_partners_org"),
    )
    op.create_table(
        "risks",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("likelihood", sa.Integer(), nullable=False),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open", "mitigating", "closed", name="riskstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("mitigation", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_risks_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_risks")),
    )
    op.create_table(
        "contributions",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("partner_id", sa.String(length=40), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "money",
                "people_hours",
                "ip",
                "market_access",
                "equipment",
                "other",
                name="contributionkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "partner_id"],
            ["partners.alliance_id", "partners.id"],
            name=op.f("fk_contributions_alliance_id_partner_id_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_contributions_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_contributions")),
    )
    op.create_table(
        "decision_rights",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("body_id", sa.String(length=40), nullable=False),
        sa.Column("decision_kind", sa.String(length=200), nullable=False),
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
            nullable=False,
        ),
        sa.Column("quorum_percent", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "body_id"],
            ["governance_bodies.alliance_id", "governance_bodies.id"],
            name=op.f("fk_decision_rights_alliance_id_body_id_governance_bodies"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_decision_rights_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_decision_rights")),
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
            name=op.f("fk_declarations_alliance_id_body_id_governance_bodies"),
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
        "meetings",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("body_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("agenda", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "body_id"],
            ["governance_bodies.alliance_id", "governance_bodies.id"],
            name=op.f("fk_meetings_alliance_id_body_id_governance_bodies"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_meetings_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_meetings")),
    )
    op.create_table(
        "members",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("partner_id", sa.String(length=40), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "sponsor",
                "manager",
                "member",
                "observer",
                name="role",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "partner_id"],
            ["partners.alliance_id", "partners.id"],
            name=op.f("fk_members_alliance_id_partner_id_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_members_alliance_id_alliances")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_members_person_id_people")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_members")),
        sa.UniqueConstraint("alliance_id", "person_id", name="uq_members_person"),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_members_person_id"), ["person_id"], unique=False)

    op.create_table(
        "obligations",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("agreement_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("debtor_partner_id", sa.String(length=40), nullable=False),
        sa.Column("creditor_partner_id", sa.String(length=40), nullable=False),
        sa.Column(
            "recurrence",
            sa.Enum(
                "once",
                "monthly",
                "quarterly",
                "yearly",
                name="recurrence",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("first_due_on", sa.Date(), nullable=False),
        sa.Column("last_due_on", sa.Date(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "agreement_id"],
            ["agreements.alliance_id", "agreements.id"],
            name=op.f("fk_obligations_alliance_id_agreement_id_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "creditor_partner_id"],
            ["partners.alliance_id", "partners.id"],
            name=op.f("fk_obligations_alliance_id_creditor_partner_id_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "debtor_partner_id"],
            ["partners.alliance_id", "partners.id"],
            name=op.f("fk_obligations_alliance_id_debtor_partner_id_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_obligations_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_obligations")),
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
            name=op.f("fk_participants_alliance_id_deliberation_id_deliberations"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "partner_id"],
            ["partners.alliance_id", "partners.id"],
            name=op.f("fk_participants_alliance_id_partner_id_partners"),
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
        "partner_notes",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("partner_id", sa.String(length=40), nullable=False),
        sa.Column("author_person_id", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", coauthor.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "partner_id"],
            ["partners.alliance_id", "partners.id"],
            name=op.f("fk_partner_notes_alliance_id_partner_id_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_partner_notes_alliance_id_alliances")
        ),
        sa.ForeignKeyConstraint(
            ["author_person_id"],
            ["people.id"],
            name=op.f("fk_partner_notes_author_person_id_people"),
        ),
        sa.PrimaryKeyConstraint("alliance_id", "id", name=op.f("pk_partner_notes")),
    )
    op.create_table(
        "risk_shares",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("risk_id", sa.String(length=40), nullable=False),
        sa.Column("partner_id", sa.String(length=40), nullable=False),
        sa.Column("percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "partner_id"],
            ["partners.alliance_id", "partners.id"],
            name=op.f("fk_risk_shares_alliance_id_partner_id_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "risk_id"],
            ["risks.alliance_id", "risks.id"],
            name=op.f("fk_risk_shares_alliance_id_risk_id_risks"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_risk_shares_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint(
            "alliance_id", "risk_id", "partner_id", name=op.f("pk_risk_shares")
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
            name=op.f("fk_statements_alliance_id_deliberation_id_deliberations"),
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
        "attendance",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("meeting_id", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "meeting_id"],
            ["meetings.alliance_id", "meetings.id"],
            name=op.f("fk_attendance_alliance_id_meeting_id_meetings"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "member_id"],
            ["members.alliance_id", "members.id"],
            name=op.f("fk_attendance_alliance_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_attendance_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint(
            "alliance_id", "meeting_id", "member_id", name=op.f("pk_attendance")
        ),
    )
    op.create_table(
        "body_seats",
        sa.Column("alliance_id", sa.String(length=40), nullable=False),
        sa.Column("body_id", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.String(length=40), nullable=False),
        sa.Column("is_chair", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id", "body_id"],
            ["governance_bodies.alliance_id", "governance_bodies.id"],
            name=op.f("fk_body_seats_alliance_id_body_id_governance_bodies"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "member_id"],
            ["members.alliance_id", "members.id"],
            name=op.f("fk_body_seats_alliance_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliances.id"], name=op.f("fk_body_seats_alliance_id_alliances")
        ),
        sa.PrimaryKeyConstraint("alliance_id", "body_id", "member_id", name=op.f("pk_body_seats")),
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
            name=op.f("fk_votes_alliance_id_participant_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id", "statement_id"],
            ["statements.alliance_id", "statements.id"],
            name=op.f("fk_votes_alliance_id_statement_id_statements"),
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
    op.drop_table("body_seats")
    op.drop_table("attendance")
    with op.batch_alter_table("statements", schema=None) as batch_op:
        batch_op.drop_index("ix_statements_deliberation")

    op.drop_table("statements")
    op.drop_table("risk_shares")
    op.drop_table("partner_notes")
    op.drop_table("participants")
    op.drop_table("obligations")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_person_id"))

    op.drop_table("members")
    op.drop_table("meetings")
    op.drop_table("declarations")
    op.drop_table("decision_rights")
    op.drop_table("contributions")
    op.drop_table("risks")
    op.drop_table("partners")
    op.drop_table("governance_bodies")
    op.drop_table("deliberations")
    op.drop_table("charter_clauses")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_person_id"))

    op.drop_table("api_tokens")
    op.drop_table("agreements")
    op.drop_table("people")
    op.drop_table("organizations")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_key"))

    op.drop_table("login_failures")
    op.drop_table("events")
    op.drop_table("alliances")
