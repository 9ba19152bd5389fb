"""The ledger's stored entities: commitments, their parties and acts, declarations' positions,
obligation assignments and calendar feeds, as plain dataclasses (db/mapping.py maps them).

A ``Commitment`` row keeps, beside what never changes (what was asked or
offered, the customer's partner, where it came from), a cache of what its
acts add up to — phase, state, terms in force, who owes the next answer —
rewritten from ``replay`` in the same write as each new act, so lists and
filters use indexes. ``Act`` rows are the truth and are never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from coauthor.domain.declarations import Position
from coauthor.domain.ledger import CommitmentState, Move, Party, Phase, SpeechAct


@dataclass(eq=False)
class Commitment:
    alliance_id: str
    id: str
    what: str
    customer_partner_id: str
    opened_at: datetime
    phase: Phase
    state: int
    last_move_at: datetime
    moves: int
    awaits: Party | None = None
    conditions: str = ""
    due_at: datetime | None = None
    reply_by: datetime | None = None
    body_id: str | None = None
    meeting_id: str | None = None
    obligation_id: str | None = None
    period_due_on: date | None = None
    waived_by_declaration_id: str | None = None

    def cache(self, derived: CommitmentState) -> None:
        """Keep what the acts add up to beside the commitment (see the module docstring)."""
        terms = derived.terms
        self.phase = derived.phase
        self.state = int(derived.state)
        self.awaits = derived.phase.awaits
        self.conditions = terms.conditions if terms else ""
        self.due_at = terms.due_at if terms else None
        self.reply_by = derived.reply_by
        assert derived.last_move_at is not None, "a stored commitment has at least one act"
        self.last_move_at = derived.last_move_at
        self.moves = derived.moves_made

    @property
    def is_open(self) -> bool:
        return not self.phase.state.is_terminal


@dataclass(eq=False)
class CommitmentParty:
    """A person on one side of a commitment, and the partner they speak for there."""

    alliance_id: str
    commitment_id: str
    person_id: str
    side: Party
    partner_id: str


@dataclass(eq=False)
class Act:
    """One stored speech act (``seq`` counts a commitment's acts from 1)."""

    alliance_id: str
    commitment_id: str
    seq: int
    move: Move
    party: Party
    actor_person_id: str
    at: datetime
    text: str = ""
    conditions: str | None = None
    due_at: datetime | None = None
    reply_by: datetime | None = None
    evidence: list[str] | None = None

    def speech_act(self) -> SpeechAct:
        return SpeechAct(
            move=Move(self.move),
            party=Party(self.party),
            actor_id=self.actor_person_id,
            at=self.at,
            text=self.text,
            conditions=self.conditions,
            due_at=self.due_at,
            reply_by=self.reply_by,
            evidence=tuple(self.evidence or ()),
        )


@dataclass(eq=False)
class DeclarationPosition:
    alliance_id: str
    declaration_id: str
    member_id: str
    position: Position
    reason: str = ""


@dataclass(eq=False)
class ObligationAssignment:
    alliance_id: str
    obligation_id: str
    performer_person_id: str
    customer_person_id: str
    assigned_at: datetime


@dataclass(eq=False)
class CalendarFeed:
    id: str
    person_id: str
    token_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
