"""The mechanics of an alliance as plain dataclasses.

Entities refer to each other by id only; the database maps them imperatively
(db/mapping.py), so nothing here knows about storage. Every alliance-scoped
entity carries ``alliance_id``.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


class AllianceKind(enum.StrEnum):
    JOINT_VENTURE = "joint_venture"
    STRATEGIC_ALLIANCE = "strategic_alliance"
    CONSORTIUM = "consortium"
    SUPPLIER_PARTNERSHIP = "supplier_partnership"
    RESEARCH_COLLABORATION = "research_collaboration"


class AllianceStage(enum.StrEnum):
    FORMING = "forming"
    LAUNCHING = "launching"
    OPERATING = "operating"
    RENEWING = "renewing"
    WINDING_DOWN = "winding_down"


class Role(enum.StrEnum):
    SPONSOR = "sponsor"
    MANAGER = "manager"
    MEMBER = "member"
    OBSERVER = "observer"


class AgreementKind(enum.StrEnum):
    CONTRACT = "contract"
    MOU = "mou"
    JV_AGREEMENT = "jv_agreement"
    SOW = "sow"
    NDA = "nda"
    OTHER = "other"


class Recurrence(enum.StrEnum):
    ONCE = "once"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class BodyKind(enum.StrEnum):
    STEERING_COMMITTEE = "steering_committee"
    JV_BOARD = "jv_board"
    WORKING_GROUP = "working_group"
    OTHER = "other"


class Cadence(enum.StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    AD_HOC = "ad_hoc"


class DecisionRule(enum.StrEnum):
    CONSENSUS = "consensus"
    CONSENT = "consent"
    MAJORITY = "majority"
    UNANIMITY = "unanimity"


class RiskStatus(enum.StrEnum):
    OPEN = "open"
    MITIGATING = "mitigating"
    CLOSED = "closed"


class ContributionKind(enum.StrEnum):
    MONEY = "money"
    PEOPLE_HOURS = "people_hours"
    IP = "ip"
    MARKET_ACCESS = "market_access"
    EQUIPMENT = "equipment"
    OTHER = "other"


def organization_key(name: str) -> str:
    """How organization names compare: "Nordwerk  industries" is "Nordwerk Industries"."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return re.sub(r"\s+", " ", folded).strip()


def first_free_colour(taken: list[int]) -> int:
    """The colour for a new partner: the first one no partner has, else the least used."""
    counts = [taken.count(colour) for colour in range(PARTNER_COLOURS)]
    return counts.index(min(counts))


@dataclass(eq=False)
class Person:
    id: str
    email: str
    name: str
    password_hash: str
    is_admin: bool
    created_at: datetime
    time_zone: str = "UTC"
    """An IANA zone name; the pages show times in it."""
    deactivated_at: datetime | None = None
    """Set by a site administrator: a deactivated person cannot sign in or use a token."""

    @property
    def active(self) -> bool:
        return self.deactivated_at is None


@dataclass(eq=False)
class ApiToken:
    id: str
    person_id: str
    name: str
    token_hash: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(eq=False)
class Organization:
    id: str
    name: str
    description: str
    created_at: datetime
    name_key: str = ""
    """The name as compared: case and spacing folded (``organization_key``), so one
    organization is not entered twice as "Nordwerk Industries" and "nordwerk industries"."""


@dataclass(eq=False)
class Alliance:
    id: str
    name: str
    kind: AllianceKind
    stage: AllianceStage
    purpose: str
    created_at: datetime


PARTNER_COLOURS = 8
"""Charts tell partners apart by one of this many colours (CSS series-0 … series-7)."""


@dataclass(eq=False)
class Partner:
    alliance_id: str
    id: str
    organization_id: str
    joined_on: date | None
    description: str = ""
    colour: int = 0
    """Its colour in every chart (0 … PARTNER_COLOURS − 1), chosen when it joins and kept."""


@dataclass(eq=False)
class Member:
    alliance_id: str
    id: str
    person_id: str
    partner_id: str
    role: Role
    title: str = ""


@dataclass(eq=False)
class PartnerNote:
    """A note only the members of ``partner_id`` may read."""

    alliance_id: str
    id: str
    partner_id: str
    author_person_id: str
    body: str
    created_at: datetime


@dataclass(eq=False)
class Agreement:
    alliance_id: str
    id: str
    title: str
    kind: AgreementKind
    signed_on: date | None
    effective_on: date | None
    expires_on: date | None
    summary: str = ""


@dataclass(eq=False)
class Obligation:
    """What one partner owes another under an agreement."""

    alliance_id: str
    id: str
    agreement_id: str
    title: str
    debtor_partner_id: str
    creditor_partner_id: str
    recurrence: Recurrence
    first_due_on: date
    last_due_on: date | None = None
    description: str = ""


@dataclass(eq=False)
class GovernanceBody:
    alliance_id: str
    id: str
    name: str
    kind: BodyKind
    cadence: Cadence
    purpose: str = ""


@dataclass(eq=False)
class BodySeat:
    """A member's seat on a governance body."""

    alliance_id: str
    body_id: str
    member_id: str
    is_chair: bool = False


@dataclass(eq=False)
class DecisionRight:
    alliance_id: str
    id: str
    body_id: str
    decision_kind: str
    rule: DecisionRule
    quorum_percent: int
    description: str = ""


@dataclass(eq=False)
class Meeting:
    alliance_id: str
    id: str
    body_id: str
    title: str
    starts_at: datetime
    agenda: str = ""
    notes: str = ""


@dataclass(eq=False)
class Attendance:
    alliance_id: str
    meeting_id: str
    member_id: str


@dataclass(eq=False)
class Risk:
    alliance_id: str
    id: str
    title: str
    likelihood: int
    impact: int
    status: RiskStatus
    description: str = ""
    mitigation: str = ""


@dataclass(eq=False)
class RiskShare:
    """The share (percent) of a risk that a partner bears."""

    alliance_id: str
    risk_id: str
    partner_id: str
    percent: Decimal


@dataclass(eq=False)
class Contribution:
    """What a partner puts in (``direction`` = "in") or gets out ("value")."""

    alliance_id: str
    id: str
    partner_id: str
    kind: ContributionKind
    direction: str
    description: str
    amount: Decimal
    unit: str
    on: date


@dataclass(eq=False)
class Event:
    """One entry of an alliance's append-only, hash-chained log."""

    chain_id: str
    seq: int
    at: datetime
    actor_id: str | None
    kind: str
    payload: dict = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""
    key_id: str | None = None
    """The id of the key whose MAC the event carries (coauthor.eventkey); None: unkeyed."""
    mac: str | None = None


class DeliberationStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Moderation(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(eq=False)
class Deliberation:
    """A Pol.is-style conversation: a question, statements, agree/disagree/pass votes."""

    alliance_id: str
    id: str
    question: str
    description: str
    status: DeliberationStatus
    strict_moderation: bool
    created_at: datetime


@dataclass(eq=False)
class Participant:
    """A voter in one deliberation: a member (``person_id``) or an imported voter.

    ``partner_id`` is the partner the voter belonged to when they joined, so the
    results can say whether opinion groups follow partner lines.
    """

    alliance_id: str
    id: str
    deliberation_id: str
    person_id: str | None
    partner_id: str | None
    external_id: str | None
    joined_at: datetime


@dataclass(eq=False)
class Statement:
    alliance_id: str
    id: str
    deliberation_id: str
    text: str
    moderation: Moderation
    is_meta: bool
    author_participant_id: str | None
    external_id: str | None
    created_at: datetime


@dataclass(eq=False)
class Vote:
    """A participant's current vote on a statement: 1 agree, -1 disagree, 0 pass."""

    alliance_id: str
    deliberation_id: str
    participant_id: str
    statement_id: str
    value: int
    at: datetime


@dataclass(eq=False)
class Declaration:
    """A decision declared by the partners or one of their bodies (Winograd & Flores)."""

    alliance_id: str
    id: str
    text: str
    rationale: str
    body_id: str | None
    rule: DecisionRule | None
    declared_at: datetime
    declared_by_person_id: str | None
    dissent: str = ""
    source: str = ""
    decision_right_id: str | None = None
    meeting_id: str | None = None
    quorum_percent: int | None = None


@dataclass(eq=False)
class CharterClause:
    """One clause of the alliance's charter, the partners' shared commitments."""

    alliance_id: str
    id: str
    text: str
    added_at: datetime
    source: str = ""
    repealed_by_declaration_id: str | None = None
