"""Tables (SQLAlchemy Core); db/mapping.py maps the domain's dataclasses onto them.

Every alliance-scoped table has ``alliance_id`` first in its primary key, so a
deployment can be distributed by tenant.
"""

from __future__ import annotations

import sqlalchemy as sa

from coauthor.db.types import UTCDateTime, enum_column
from coauthor.domain import accounts as acc
from coauthor.domain import emergence, ledger
from coauthor.domain import model as m
from coauthor.domain import pulse as pulse_model
from coauthor.domain.declarations import Position

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = sa.String(40)
MONEY = sa.Numeric(18, 2)


def _alliance_fk() -> sa.Column:
    return sa.Column("alliance_id", ID, sa.ForeignKey("alliances.id"), primary_key=True)


people = sa.Table(
    "people",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("deactivated_at", UTCDateTime, nullable=True),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("person_id", ID, sa.ForeignKey("people.id"), nullable=False, index=True),
    sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("user_agent", sa.String(200), nullable=False, default=""),
    sa.Column("address", sa.String(64), nullable=False, default=""),
    sa.Column("ended_at", UTCDateTime, nullable=True),
    sa.Column("ended_because", enum_column(acc.SessionEnd), nullable=True),
)
"""Server-side sign-in sessions: the cookie carries a secret, this table only its digest."""

password_resets = sa.Table(
    "password_resets",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("person_id", ID, sa.ForeignKey("people.id"), nullable=False, index=True),
    sa.Column("nonce_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("used_at", UTCDateTime, nullable=True),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("person_id", ID, sa.ForeignKey("people.id"), nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)

login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(300), nullable=False, index=True),
    sa.Column("at", UTCDateTime, nullable=False, index=True),
)

organizations = sa.Table(
    "organizations",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("name_key", sa.String(200), nullable=False, server_default="", index=True),
)

alliances = sa.Table(
    "alliances",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", enum_column(m.AllianceKind), nullable=False),
    sa.Column("stage", enum_column(m.AllianceStage), nullable=False),
    sa.Column("purpose", sa.Text, nullable=False, default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

partners = sa.Table(
    "partners",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("organization_id", ID, sa.ForeignKey("organizations.id"), nullable=False),
    sa.Column("joined_on", sa.Date, nullable=True),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("colour", sa.SmallInteger, nullable=False, server_default="0"),
    sa.UniqueConstraint("alliance_id", "organization_id", name="uq_partners_org"),
)

members = sa.Table(
    "members",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("person_id", ID, sa.ForeignKey("people.id"), nullable=False, index=True),
    sa.Column("partner_id", ID, nullable=False),
    sa.Column("role", enum_column(m.Role), nullable=False),
    sa.Column("title", sa.String(200), nullable=False, default=""),
    sa.UniqueConstraint("alliance_id", "person_id", name="uq_members_person"),
    sa.ForeignKeyConstraint(["alliance_id", "partner_id"], ["partners.alliance_id", "partners.id"]),
)

invitations = sa.Table(
    "invitations",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("partner_id", ID, nullable=False),
    sa.Column("role", enum_column(m.Role), nullable=False),
    sa.Column("invited_by_person_id", ID, sa.ForeignKey("people.id"), nullable=True),
    sa.Column("nonce_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("status", enum_column(acc.InvitationStatus), nullable=False),
    sa.Column("name", sa.String(200), nullable=False, default=""),
    sa.Column("title", sa.String(200), nullable=False, default=""),
    sa.Column("answered_at", UTCDateTime, nullable=True),
    sa.Column("person_id", ID, sa.ForeignKey("people.id"), nullable=True),
    sa.ForeignKeyConstraint(["alliance_id", "partner_id"], ["partners.alliance_id", "partners.id"]),
    sa.Index("ix_invitations_email", "alliance_id", "email"),
)
"""Offers to join an alliance, sent to an email address; the member exists once accepted."""

partner_notes = sa.Table(
    "partner_notes",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("partner_id", ID, nullable=False),
    sa.Column("author_person_id", ID, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(["alliance_id", "partner_id"], ["partners.alliance_id", "partners.id"]),
)

agreements = sa.Table(
    "agreements",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("kind", enum_column(m.AgreementKind), nullable=False),
    sa.Column("signed_on", sa.Date, nullable=True),
    sa.Column("effective_on", sa.Date, nullable=True),
    sa.Column("expires_on", sa.Date, nullable=True),
    sa.Column("summary", sa.Text, nullable=False, default=""),
)

obligations = sa.Table(
    "obligations",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("agreement_id", ID, nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("debtor_partner_id", ID, nullable=False),
    sa.Column("creditor_partner_id", ID, nullable=False),
    sa.Column("recurrence", enum_column(m.Recurrence), nullable=False),
    sa.Column("first_due_on", sa.Date, nullable=False),
    sa.Column("last_due_on", sa.Date, nullable=True),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.ForeignKeyConstraint(
        ["alliance_id", "agreement_id"], ["agreements.alliance_id", "agreements.id"]
    ),
    sa.ForeignKeyConstraint(
        ["alliance_id", "debtor_partner_id"], ["partners.alliance_id", "partners.id"]
    ),
    sa.ForeignKeyConstraint(
        ["alliance_id", "creditor_partner_id"], ["partners.alliance_id", "partners.id"]
    ),
)

governance_bodies = sa.Table(
    "governance_bodies",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", enum_column(m.BodyKind), nullable=False),
    sa.Column("cadence", enum_column(m.Cadence), nullable=False),
    sa.Column("purpose", sa.Text, nullable=False, default=""),
)

body_seats = sa.Table(
    "body_seats",
    metadata,
    _alliance_fk(),
    sa.Column("body_id", ID, primary_key=True),
    sa.Column("member_id", ID, primary_key=True),
    sa.Column("is_chair", sa.Boolean, nullable=False, default=False),
    sa.ForeignKeyConstraint(
        ["alliance_id", "body_id"], ["governance_bodies.alliance_id", "governance_bodies.id"]
    ),
    sa.ForeignKeyConstraint(["alliance_id", "member_id"], ["members.alliance_id", "members.id"]),
)

decision_rights = sa.Table(
    "decision_rights",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("body_id", ID, nullable=False),
    sa.Column("decision_kind", sa.String(200), nullable=False),
    sa.Column("rule", enum_column(m.DecisionRule), nullable=False),
    sa.Column("quorum_percent", sa.Integer, nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.ForeignKeyConstraint(
        ["alliance_id", "body_id"], ["governance_bodies.alliance_id", "governance_bodies.id"]
    ),
)

meetings = sa.Table(
    "meetings",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("body_id", ID, nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("agenda", sa.Text, nullable=False, default=""),
    sa.Column("notes", sa.Text, nullable=False, default=""),
    sa.ForeignKeyConstraint(
        ["alliance_id", "body_id"], ["governance_bodies.alliance_id", "governance_bodies.id"]
    ),
)

attendance = sa.Table(
    "attendance",
    metadata,
    _alliance_fk(),
    sa.Column("meeting_id", ID, primary_key=True),
    sa.Column("member_id", ID, primary_key=True),
    sa.ForeignKeyConstraint(["alliance_id", "meeting_id"], ["meetings.alliance_id", "meetings.id"]),
    sa.ForeignKeyConstraint(["alliance_id", "member_id"], ["members.alliance_id", "members.id"]),
)

risks = sa.Table(
    "risks",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("likelihood", sa.Integer, nullable=False),
    sa.Column("impact", sa.Integer, nullable=False),
    sa.Column("status", enum_column(m.RiskStatus), nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("mitigation", sa.Text, nullable=False, default=""),
)

risk_shares = sa.Table(
    "risk_shares",
    metadata,
    _alliance_fk(),
    sa.Column("risk_id", ID, primary_key=True),
    sa.Column("partner_id", ID, primary_key=True),
    sa.Column("percent", sa.Numeric(5, 2), nullable=False),
    sa.ForeignKeyConstraint(["alliance_id", "risk_id"], ["risks.alliance_id", "risks.id"]),
    sa.ForeignKeyConstraint(["alliance_id", "partner_id"], ["partners.alliance_id", "partners.id"]),
)

contributions = sa.Table(
    "contributions",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("partner_id", ID, nullable=False),
    sa.Column("kind", enum_column(m.ContributionKind), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("unit", sa.String(20), nullable=False),
    sa.Column("on", sa.Date, nullable=False),
    sa.ForeignKeyConstraint(["alliance_id", "partner_id"], ["partners.alliance_id", "partners.id"]),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("chain_id", ID, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor_id", ID, nullable=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("key_id", sa.String(16), nullable=True),
    sa.Column("mac", sa.String(64), nullable=True),
)
"""``key_id`` and ``mac``: the event's keyed hash (coauthor.eventkey), when the server has a key."""

chain_heads = sa.Table(
    "chain_heads",
    metadata,
    sa.Column("chain_id", ID, primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("key_id", sa.String(16), nullable=True),
    sa.Column("mac", sa.String(64), nullable=True),
)
"""The last event of each chain. Its row is the chain's lock: an append locks it first."""

deliberations = sa.Table(
    "deliberations",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("question", sa.String(500), nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("status", enum_column(m.DeliberationStatus), nullable=False),
    sa.Column("strict_moderation", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

participants = sa.Table(
    "participants",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("deliberation_id", ID, nullable=False),
    sa.Column("person_id", ID, sa.ForeignKey("people.id"), nullable=True),
    sa.Column("partner_id", ID, nullable=True),
    sa.Column("external_id", sa.String(64), nullable=True),
    sa.Column("joined_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["alliance_id", "deliberation_id"], ["deliberations.alliance_id", "deliberations.id"]
    ),
    sa.ForeignKeyConstraint(["alliance_id", "partner_id"], ["partners.alliance_id", "partners.id"]),
    sa.UniqueConstraint(
        "alliance_id", "deliberation_id", "person_id", name="uq_participants_person"
    ),
    sa.UniqueConstraint(
        "alliance_id", "deliberation_id", "external_id", name="uq_participants_external"
    ),
)

statements = sa.Table(
    "statements",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("deliberation_id", ID, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("moderation", enum_column(m.Moderation), nullable=False),
    sa.Column("is_meta", sa.Boolean, nullable=False, default=False),
    sa.Column("author_participant_id", ID, nullable=True),
    sa.Column("external_id", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["alliance_id", "deliberation_id"], ["deliberations.alliance_id", "deliberations.id"]
    ),
    sa.Index("ix_statements_deliberation", "alliance_id", "deliberation_id"),
)

votes = sa.Table(
    "votes",
    metadata,
    _alliance_fk(),
    sa.Column("deliberation_id", ID, primary_key=True),
    sa.Column("participant_id", ID, primary_key=True),
    sa.Column("statement_id", ID, primary_key=True),
    sa.Column("value", sa.SmallInteger, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.CheckConstraint("value in (-1, 0, 1)", name="vote_value"),
    sa.Index("ix_votes_recent", "alliance_id", "deliberation_id", "at"),
    sa.Index(
        "ix_votes_cells",
        "alliance_id",
        "deliberation_id",
        "participant_id",
        "statement_id",
        "value",
        "at",
    ),
    sa.ForeignKeyConstraint(
        ["alliance_id", "participant_id"], ["participants.alliance_id", "participants.id"]
    ),
    sa.ForeignKeyConstraint(
        ["alliance_id", "statement_id"], ["statements.alliance_id", "statements.id"]
    ),
)

declarations = sa.Table(
    "declarations",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("rationale", sa.Text, nullable=False, default=""),
    sa.Column("body_id", ID, nullable=True),
    sa.Column("rule", enum_column(m.DecisionRule), nullable=True),
    sa.Column("declared_at", UTCDateTime, nullable=False),
    sa.Column("declared_by_person_id", ID, sa.ForeignKey("people.id"), nullable=True),
    sa.Column("dissent", sa.Text, nullable=False, default=""),
    sa.Column("source", sa.String(200), nullable=False, default=""),
    sa.Column("decision_right_id", ID, nullable=True),
    sa.Column("meeting_id", ID, nullable=True),
    sa.Column("quorum_percent", sa.Integer, nullable=True),
    sa.ForeignKeyConstraint(
        ["alliance_id", "body_id"], ["governance_bodies.alliance_id", "governance_bodies.id"]
    ),
    sa.ForeignKeyConstraint(
        ["alliance_id", "decision_right_id"], ["decision_rights.alliance_id", "decision_rights.id"]
    ),
    sa.ForeignKeyConstraint(["alliance_id", "meeting_id"], ["meetings.alliance_id", "meetings.id"]),
)
"""A decision declared by a governance body under one of its decision rights, at one of its
meetings (``decision_right_id``, ``meeting_id``, the quorum then in force; positions in
``declaration_positions``), or by the partners jointly from a deliberation's consensus."""

charter_clauses = sa.Table(
    "charter_clauses",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("added_at", UTCDateTime, nullable=False),
    sa.Column("source", sa.String(200), nullable=False, default=""),
    sa.Column("repealed_by_declaration_id", ID, nullable=True),
    sa.ForeignKeyConstraint(
        ["alliance_id", "repealed_by_declaration_id"],
        ["declarations.alliance_id", "declarations.id"],
    ),
)
"""A clause is in force until a declaration repeals it (``repealed_by_declaration_id``)."""

deliberation_releases = sa.Table(
    "deliberation_releases",
    metadata,
    _alliance_fk(),
    sa.Column("deliberation_id", ID, primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("released_at", UTCDateTime, nullable=False),
    sa.Column("cut_at", UTCDateTime, nullable=False),
    sa.Column("threshold", sa.SmallInteger, nullable=False),
    sa.Column("state", sa.JSON, nullable=True),
    sa.Column("facts", sa.JSON, nullable=False),
    sa.ForeignKeyConstraint(
        ["alliance_id", "deliberation_id"], ["deliberations.alliance_id", "deliberations.id"]
    ),
)
"""A deliberation's published results (services/deliberation/results.py), newest = highest.

``cut_at`` is the time of the last vote it includes; ``state`` is the analysis
state the next release warm-starts from; ``facts`` is what may be shown.
"""

deliberation_documents = sa.Table(
    "deliberation_documents",
    metadata,
    _alliance_fk(),
    sa.Column("deliberation_id", ID, primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("status", sa.String(16), primary_key=True),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.ForeignKeyConstraint(
        ["alliance_id", "deliberation_id", "number"],
        [
            "deliberation_releases.alliance_id",
            "deliberation_releases.deliberation_id",
            "deliberation_releases.number",
        ],
    ),
)
"""A release shaped for readers, once: the API's JSON of results version
``r<number>-<status>`` (``services/deliberation/documents.py``). The results worker
stores it with the release; a version without one (a release made before 0012, or a
status changed since the release) is stored by the first process that builds it.
"""

search_entries = sa.Table(
    "search_entries",
    metadata,
    _alliance_fk(),
    sa.Column("kind", sa.String(40), primary_key=True),
    sa.Column("item_id", ID, primary_key=True),
    sa.Column("doc", sa.BigInteger, nullable=False, unique=True),
    sa.Column("partner_id", ID, nullable=True),
    sa.Column("parent_id", ID, nullable=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False, default=""),
    sa.Column("terms_title", sa.Text, nullable=False),
    sa.Column("terms_body", sa.Text, nullable=False),
)
"""One searchable item (services/search): its words as shown (title, body) and as matched
(``terms_*``, folded). ``partner_id`` makes it visible to that partner's members only.

Each database adds its own full-text index over it, outside this metadata
(migration 0007): SQLite the FTS5 table ``search_fts`` (row id = ``doc``),
PostgreSQL the GIN index ``ix_search_entries_fts``.
"""

NATIVE_SEARCH_TABLE = "search_fts"
NATIVE_SEARCH_INDEX = "ix_search_entries_fts"


def described_here(name: str | None, type_: str, parent_names: object) -> bool:
    """Whether a database object belongs to this metadata; the native full-text objects do not.

    Alembic's ``include_name`` hook: comparing the schema with the migrations
    leaves out SQLite's FTS5 table (and its shadow tables) and PostgreSQL's
    full-text index, which the search migration makes for one database only.
    """
    if type_ == "table" and name and name.startswith(NATIVE_SEARCH_TABLE):
        return False
    return not (type_ == "index" and name == NATIVE_SEARCH_INDEX)


def _wave_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["alliance_id", "wave_id"], ["pulse_waves.alliance_id", "pulse_waves.id"]
    )


PULSE_TEXT = sa.String(500)
WITHOUT_ROWID = {"sqlite_with_rowid": False}
"""Stored in primary-key order (random ids) on SQLite, so no hidden rowid keeps the order
in which answers arrived (docs/pulse.md, "Privacy")."""

pulse_custom_items = sa.Table(
    "pulse_custom_items",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("text", PULSE_TEXT, nullable=False),
    sa.Column("reverse", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("retired_at", UTCDateTime, nullable=True),
)

pulse_waves = sa.Table(
    "pulse_waves",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("instrument_version", sa.String(32), nullable=False),
    sa.Column("source", enum_column(pulse_model.WaveSource), nullable=False),
    sa.Column("opened_at", UTCDateTime, nullable=False),
    sa.Column("closes_at", UTCDateTime, nullable=False),
    sa.Column("reminded_at", UTCDateTime, nullable=True),
    sa.Column("reminder_note", sa.String(500), nullable=False, default=""),
)

pulse_wave_items = sa.Table(
    "pulse_wave_items",
    metadata,
    _alliance_fk(),
    sa.Column("wave_id", ID, primary_key=True),
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("dimension", enum_column(pulse_model.Dimension), nullable=True),
    sa.Column("text", PULSE_TEXT, nullable=False),
    sa.Column("reverse", sa.Boolean, nullable=False),
    _wave_fk(),
)
"""The items a wave asked, frozen when it opened."""

pulse_invitations = sa.Table(
    "pulse_invitations",
    metadata,
    _alliance_fk(),
    sa.Column("wave_id", ID, primary_key=True),
    sa.Column("id", ID, primary_key=True),
    sa.Column("person_id", ID, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("partner_id", ID, nullable=False),
    sa.Column("role_band", enum_column(pulse_model.RoleBand), nullable=False),
    sa.Column("answered", sa.Boolean, nullable=False, default=False),
    _wave_fk(),
    sa.ForeignKeyConstraint(["alliance_id", "partner_id"], ["partners.alliance_id", "partners.id"]),
    sa.UniqueConstraint("alliance_id", "wave_id", "person_id", name="uq_pulse_invitations_person"),
)
"""Who was asked and whether they answered: never when, never what."""

pulse_responses = sa.Table(
    "pulse_responses",
    metadata,
    _alliance_fk(),
    sa.Column("wave_id", ID, primary_key=True),
    sa.Column("id", ID, primary_key=True),
    sa.Column("partner_id", ID, nullable=False),
    sa.Column("role_band", enum_column(pulse_model.RoleBand), nullable=True),
    sa.Column("answers", sa.JSON, nullable=False),
    _wave_fk(),
    sa.ForeignKeyConstraint(["alliance_id", "partner_id"], ["partners.alliance_id", "partners.id"]),
    **WITHOUT_ROWID,
)
"""One person's answers: no person, no invitation, no time."""

pulse_comments = sa.Table(
    "pulse_comments",
    metadata,
    _alliance_fk(),
    sa.Column("wave_id", ID, primary_key=True),
    sa.Column("id", ID, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    _wave_fk(),
    **WITHOUT_ROWID,
)
"""Open comments, kept apart from the answers and from every partner."""

# The commitment ledger (docs/ledger.md). A commitment's speech acts are its
# truth, one immutable row each; the phase, terms and facts kept beside it are
# derived from them in the same write as every act.

commitments = sa.Table(
    "commitments",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("what", sa.Text, nullable=False),
    sa.Column("customer_partner_id", ID, nullable=False),
    sa.Column("body_id", ID, nullable=True),
    sa.Column("meeting_id", ID, nullable=True),
    sa.Column("obligation_id", ID, nullable=True),
    sa.Column("period_due_on", sa.Date, nullable=True),
    sa.Column("waived_by_declaration_id", ID, nullable=True),
    sa.Column("opened_at", UTCDateTime, nullable=False),
    sa.Column("phase", enum_column(ledger.Phase), nullable=False),
    sa.Column("state", sa.SmallInteger, nullable=False),
    sa.Column("awaits", enum_column(ledger.Party), nullable=True),
    sa.Column("conditions", sa.Text, nullable=False, default=""),
    sa.Column("due_at", UTCDateTime, nullable=True),
    sa.Column("reply_by", UTCDateTime, nullable=True),
    sa.Column("last_move_at", UTCDateTime, nullable=False),
    sa.Column("moves", sa.Integer, nullable=False),
    sa.ForeignKeyConstraint(
        ["alliance_id", "customer_partner_id"], ["partners.alliance_id", "partners.id"]
    ),
    sa.ForeignKeyConstraint(
        ["alliance_id", "body_id"], ["governance_bodies.alliance_id", "governance_bodies.id"]
    ),
    sa.ForeignKeyConstraint(["alliance_id", "meeting_id"], ["meetings.alliance_id", "meetings.id"]),
    sa.ForeignKeyConstraint(
        ["alliance_id", "obligation_id"], ["obligations.alliance_id", "obligations.id"]
    ),
    sa.ForeignKeyConstraint(
        ["alliance_id", "waived_by_declaration_id"],
        ["declarations.alliance_id", "declarations.id"],
    ),
    sa.UniqueConstraint(
        "alliance_id", "obligation_id", "period_due_on", name="uq_commitments_period"
    ),
    sa.Index("ix_commitments_opened", "alliance_id", "opened_at", "id"),
    sa.Index("ix_commitments_state", "alliance_id", "state", "due_at"),
    sa.Index("ix_commitments_waived", "alliance_id", "waived_by_declaration_id"),
)
"""``what`` is the opening act's text; ``phase`` … ``moves`` are derived from the acts."""

commitment_parties = sa.Table(
    "commitment_parties",
    metadata,
    _alliance_fk(),
    sa.Column("commitment_id", ID, primary_key=True),
    sa.Column("person_id", ID, sa.ForeignKey("people.id"), primary_key=True),
    sa.Column("side", enum_column(ledger.Party), nullable=False),
    sa.Column("partner_id", ID, nullable=False),
    sa.ForeignKeyConstraint(
        ["alliance_id", "commitment_id"], ["commitments.alliance_id", "commitments.id"]
    ),
    sa.ForeignKeyConstraint(["alliance_id", "partner_id"], ["partners.alliance_id", "partners.id"]),
    sa.Index("ix_commitment_parties_person", "person_id", "alliance_id", "commitment_id"),
)
"""The customer and the performers (co-performers of a joint commitment) of each commitment."""

speech_acts = sa.Table(
    "speech_acts",
    metadata,
    _alliance_fk(),
    sa.Column("commitment_id", ID, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("move", enum_column(ledger.Move), nullable=False),
    sa.Column("party", enum_column(ledger.Party), nullable=False),
    sa.Column("actor_person_id", ID, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("text", sa.Text, nullable=False, default=""),
    sa.Column("conditions", sa.Text, nullable=True),
    sa.Column("due_at", UTCDateTime, nullable=True),
    sa.Column("reply_by", UTCDateTime, nullable=True),
    sa.Column("evidence", sa.JSON(none_as_null=True), nullable=True),
    sa.ForeignKeyConstraint(
        ["alliance_id", "commitment_id"], ["commitments.alliance_id", "commitments.id"]
    ),
)
"""Each move of a commitment, numbered from 1; never updated or deleted."""

ledger_facts = sa.Table(
    "ledger_facts",
    metadata,
    _alliance_fk(),
    sa.Column("commitment_id", ID, primary_key=True),
    sa.Column("customer_partner_id", ID, nullable=False),
    sa.Column("performer_partner_ids", sa.Text, nullable=False),
    sa.Column("numbers", sa.LargeBinary, nullable=False),
    sa.Column("waits", sa.LargeBinary, nullable=False),
    sa.ForeignKeyConstraint(
        ["alliance_id", "commitment_id"], ["commitments.alliance_id", "commitments.id"]
    ),
    sqlite_with_rowid=False,
)
"""What the figures need from each commitment, derived from its acts (``services/ledger/facts.py``):
its partners (performers joined by spaces), its numbers as one
``analysis.ledger_metrics.FACT_RECORD`` and its answered waits in states 2 and 4 as
``WAIT_RECORD``s. On SQLite the table is stored in key order (no rowid), so one
alliance's rows are read in one sweep."""

declaration_positions = sa.Table(
    "declaration_positions",
    metadata,
    _alliance_fk(),
    sa.Column("declaration_id", ID, primary_key=True),
    sa.Column("member_id", ID, primary_key=True),
    sa.Column("position", enum_column(Position), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.ForeignKeyConstraint(
        ["alliance_id", "declaration_id"], ["declarations.alliance_id", "declarations.id"]
    ),
    sa.ForeignKeyConstraint(["alliance_id", "member_id"], ["members.alliance_id", "members.id"]),
)
"""Each seated member's position on a body's declaration; ``reason`` is dissent in their words."""

obligation_assignments = sa.Table(
    "obligation_assignments",
    metadata,
    _alliance_fk(),
    sa.Column("obligation_id", ID, primary_key=True),
    sa.Column("performer_person_id", ID, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("customer_person_id", ID, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("assigned_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["alliance_id", "obligation_id"], ["obligations.alliance_id", "obligations.id"]
    ),
)
"""Who performs an obligation for the debtor partner, and its counterpart at the creditor."""

calendar_feeds = sa.Table(
    "calendar_feeds",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("person_id", ID, sa.ForeignKey("people.id"), nullable=False, index=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)
"""A person's private iCalendar feed URL; only the token's SHA-256 is kept."""

plot_twists = sa.Table(
    "plot_twists",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("kind", enum_column(emergence.PlotTwistKind), nullable=False),
    sa.Column("severity", enum_column(emergence.Severity), nullable=False),
    sa.Column("occurred_on", sa.Date, nullable=False),
    sa.Column("raised_at", UTCDateTime, nullable=False),
    sa.Column("raised_by_person_id", ID, sa.ForeignKey("people.id"), nullable=True),
    sa.Column("raised_by_partner_id", ID, nullable=True),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("resolved_at", UTCDateTime, nullable=True),
    sa.Column("resolution", sa.Text, nullable=False, default=""),
    sa.ForeignKeyConstraint(
        ["alliance_id", "raised_by_partner_id"], ["partners.alliance_id", "partners.id"]
    ),
    sa.Index("ix_plot_twists_raised", "alliance_id", "raised_at", "id"),
)

tensions = sa.Table(
    "tensions",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("about", sa.String(200), nullable=False),
    sa.Column("state", enum_column(emergence.TensionState), nullable=False),
    sa.Column("surfaced_at", UTCDateTime, nullable=False),
    sa.Column("surfaced_by_person_id", ID, sa.ForeignKey("people.id"), nullable=True),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("engaged_at", UTCDateTime, nullable=True),
    sa.Column("closed_at", UTCDateTime, nullable=True),
    sa.Column("outcome", sa.Text, nullable=False, default=""),
    sa.Index("ix_tensions_surfaced", "alliance_id", "surfaced_at", "id"),
)

tension_partners = sa.Table(
    "tension_partners",
    metadata,
    _alliance_fk(),
    sa.Column("tension_id", ID, primary_key=True),
    sa.Column("partner_id", ID, primary_key=True),
    sa.ForeignKeyConstraint(["alliance_id", "tension_id"], ["tensions.alliance_id", "tensions.id"]),
    sa.ForeignKeyConstraint(["alliance_id", "partner_id"], ["partners.alliance_id", "partners.id"]),
)

tension_steps = sa.Table(
    "tension_steps",
    metadata,
    _alliance_fk(),
    sa.Column("tension_id", ID, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("state", enum_column(emergence.TensionState), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("person_id", ID, sa.ForeignKey("people.id"), nullable=True),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.ForeignKeyConstraint(["alliance_id", "tension_id"], ["tensions.alliance_id", "tensions.id"]),
)

experiments = sa.Table(
    "experiments",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("hypothesis", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("signal", sa.Text, nullable=False),
    sa.Column("review_on", sa.Date, nullable=False),
    sa.Column("state", enum_column(emergence.ExperimentState), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by_person_id", ID, sa.ForeignKey("people.id"), nullable=True),
    sa.Column("started_at", UTCDateTime, nullable=True),
    sa.Column("closed_at", UTCDateTime, nullable=True),
    sa.Column("result", sa.Text, nullable=False, default=""),
    sa.Column("adjustment", sa.Text, nullable=False, default=""),
    sa.Index("ix_experiments_created", "alliance_id", "created_at", "id"),
)

learnings = sa.Table(
    "learnings",
    metadata,
    _alliance_fk(),
    sa.Column("id", ID, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("source", enum_column(emergence.LearningSource), nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("recorded_by_person_id", ID, sa.ForeignKey("people.id"), nullable=True),
    sa.Column("experiment_id", ID, nullable=True),
    sa.ForeignKeyConstraint(
        ["alliance_id", "experiment_id"], ["experiments.alliance_id", "experiments.id"]
    ),
    sa.Index("ix_learnings_recorded", "alliance_id", "recorded_at", "id"),
)

emergence_links = sa.Table(
    "emergence_links",
    metadata,
    _alliance_fk(),
    sa.Column("source_id", ID, primary_key=True),
    sa.Column("target_kind", enum_column(emergence.LinkKind), primary_key=True),
    sa.Column("target_id", ID, primary_key=True),
    sa.Column("linked_at", UTCDateTime, nullable=False),
    sa.Column("linked_by_person_id", ID, sa.ForeignKey("people.id"), nullable=True),
    sa.Index("ix_emergence_links_target", "alliance_id", "target_id"),
)
