"""The pulse: the Collaboration Capacity instrument, its waves, and anonymous answers.

The standard instrument is data here, versioned: ``INSTRUMENT_VERSION`` names
the wording below, and a wave copies the items it asks (standard and the
alliance's own) when it opens, so later changes never alter a wave already
asked. docs/pulse.md names the construct behind each dimension and the
literature it follows.

Privacy by construction (docs/pulse.md, "Privacy"): a ``Response`` holds no
person, no invitation and no time — only its wave, the partner and role band
of whoever gave it, and the answers. Who has answered is a ``WaveInvitation``
flag, kept apart and used only for response rates and single use. Comments
are stored apart from the answers, so a comment's wording cannot be matched
to a set of answers either.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from coauthor.domain.model import Role

INSTRUMENT_VERSION = "cc-pulse/1"
SCALE_POINTS = 7
SCALE_LABELS = (
    "Strongly disagree",
    "Disagree",
    "Somewhat disagree",
    "Neither agree nor disagree",
    "Somewhat agree",
    "Agree",
    "Strongly agree",
)
COMMENT_MAX_LENGTH = 2000
REMINDER_MAX_LENGTH = 500


class Dimension(enum.StrEnum):
    """The constructs the standard instrument measures, three items each."""

    TRUST_ORGANIZATION = "trust_organization"
    TRUST_COUNTERPART = "trust_counterpart"
    PSYCHOLOGICAL_SAFETY = "psychological_safety"
    CLARITY = "clarity"
    PRESENCE = "presence"
    SURPRISE_AND_CONFLICT = "surprise_and_conflict"
    SHARED_PURPOSE = "shared_purpose"


DIMENSION_LABELS = {
    Dimension.TRUST_ORGANIZATION: "Trust in the partner organizations",
    Dimension.TRUST_COUNTERPART: "Trust in my counterparts",
    Dimension.PSYCHOLOGICAL_SAFETY: "Psychological safety",
    Dimension.CLARITY: "Clarity of language and commitments",
    Dimension.PRESENCE: "Presence",
    Dimension.SURPRISE_AND_CONFLICT: "Handling surprise and conflict",
    Dimension.SHARED_PURPOSE: "Shared purpose and co-creation",
}


class RoleBand(enum.StrEnum):
    """The coarse role an answer is reported under: never finer than this."""

    LEADERSHIP = "leadership"
    TEAM = "team"


ROLE_BANDS = {
    Role.SPONSOR: RoleBand.LEADERSHIP,
    Role.MANAGER: RoleBand.LEADERSHIP,
    Role.MEMBER: RoleBand.TEAM,
    Role.OBSERVER: RoleBand.TEAM,
}


def role_band(role: Role) -> RoleBand:
    return ROLE_BANDS[role]


class WaveSource(enum.StrEnum):
    LINKS = "links"
    """Asked through Coauthor: each member answered through their own link."""
    IMPORT = "import"
    """Collected with another survey tool and imported from a CSV file."""


@dataclass(frozen=True)
class StandardItem:
    key: str
    dimension: Dimension
    text: str
    reverse: bool = False


# Coauthor's own wording; constructs and response format follow the literature
# named in docs/pulse.md. One item of each dimension is reverse-keyed.
STANDARD_ITEMS: tuple[StandardItem, ...] = (
    StandardItem("to1", Dimension.TRUST_ORGANIZATION,
                 "The other partner organizations do what they say they will do."),
    StandardItem("to2", Dimension.TRUST_ORGANIZATION,
                 "When something unexpected happens, I can count on the other organizations "
                 "to treat us fairly."),
    StandardItem("to3", Dimension.TRUST_ORGANIZATION,
                 "Given the chance, the other organizations would take advantage of us.",
                 reverse=True),
    StandardItem("tc1", Dimension.TRUST_COUNTERPART,
                 "The people I work with most in the other organizations keep their word."),
    StandardItem("tc2", Dimension.TRUST_COUNTERPART,
                 "I can rely on my counterparts in the other organizations to act in good faith."),
    StandardItem("tc3", Dimension.TRUST_COUNTERPART,
                 "I double-check what my counterparts tell me before I act on it.",
                 reverse=True),
    StandardItem("ps1", Dimension.PSYCHOLOGICAL_SAFETY,
                 "In this alliance, a mistake is held against the person who made it.",
                 reverse=True),
    StandardItem("ps2", Dimension.PSYCHOLOGICAL_SAFETY,
                 "It is safe to say something unwelcome in this alliance."),
    StandardItem("ps3", Dimension.PSYCHOLOGICAL_SAFETY,
                 "I can ask people from the other organizations for help without feeling "
                 "awkward."),
    StandardItem("cl1", Dimension.CLARITY,
                 "When someone here asks for something, it is clear what is wanted and by when."),
    StandardItem("cl2", Dimension.CLARITY,
                 "Promises made in this alliance say plainly what will be delivered, and when."),
    StandardItem("cl3", Dimension.CLARITY,
                 "I often find out too late that we understood an agreement differently.",
                 reverse=True),
    StandardItem("pr1", Dimension.PRESENCE,
                 "In our joint meetings, people listen to understand rather than to reply."),
    StandardItem("pr2", Dimension.PRESENCE,
                 "When we work together, people give the alliance their full attention."),
    StandardItem("pr3", Dimension.PRESENCE,
                 "In joint meetings, people are often somewhere else in their minds.",
                 reverse=True),
    StandardItem("sc1", Dimension.SURPRISE_AND_CONFLICT,
                 "When something goes wrong, the partners tell each other early."),
    StandardItem("sc2", Dimension.SURPRISE_AND_CONFLICT,
                 "Disagreements between the partners are put on the table and worked through."),
    StandardItem("sc3", Dimension.SURPRISE_AND_CONFLICT,
                 "Conflicts between the partners are avoided until they become crises.",
                 reverse=True),
    StandardItem("sp1", Dimension.SHARED_PURPOSE,
                 "The partners share a clear sense of what this alliance is for."),
    StandardItem("sp2", Dimension.SHARED_PURPOSE,
                 "We solve problems together rather than each partner on its own."),
    StandardItem("sp3", Dimension.SHARED_PURPOSE,
                 "Together we create things none of us could create alone."),
)  # fmt: skip

STANDARD_KEYS = frozenset(item.key for item in STANDARD_ITEMS)


@dataclass(eq=False)
class CustomItem:
    """An item an alliance adds to its own waves; reported on its own, never in a dimension."""

    alliance_id: str
    id: str
    text: str
    reverse: bool
    created_at: datetime
    retired_at: datetime | None = None


@dataclass(eq=False)
class Wave:
    """One round of the pulse. It runs from ``opened_at`` until ``closes_at``.

    Closing early moves ``closes_at`` to the moment it was closed.
    """

    alliance_id: str
    id: str
    title: str
    instrument_version: str
    source: WaveSource
    opened_at: datetime
    closes_at: datetime
    reminded_at: datetime | None = None
    reminder_note: str = ""
    """The managers' words with the last reminder, shown to those who have not answered."""

    def is_open(self, now: datetime) -> bool:
        return self.opened_at <= now < self.closes_at


@dataclass(eq=False)
class WaveItem:
    """An item as a wave asked it, frozen when the wave opened.

    ``dimension`` is None for an alliance's own item, reported on its own.
    """

    alliance_id: str
    wave_id: str
    key: str
    position: int
    dimension: Dimension | None
    text: str
    reverse: bool


@dataclass(eq=False)
class WaveInvitation:
    """A member's place in a wave: the only record that links a person to a wave.

    ``answered`` is all it says about answering — not when, not what.
    """

    alliance_id: str
    wave_id: str
    id: str
    person_id: str
    partner_id: str
    role_band: RoleBand
    answered: bool = False


@dataclass(eq=False)
class Response:
    """One person's answers: no person, no invitation, no time — only wave, partner, band."""

    alliance_id: str
    wave_id: str
    id: str
    partner_id: str
    role_band: RoleBand | None
    answers: dict[str, int] = field(default_factory=dict)


@dataclass(eq=False)
class Comment:
    """An open comment, stored apart from every answer (not even its partner is kept)."""

    alliance_id: str
    wave_id: str
    id: str
    text: str
