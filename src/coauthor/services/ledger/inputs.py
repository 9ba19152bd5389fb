"""What people send to the ledger: opening a commitment, a move, a reassignment, a
declaration, an obligation's assignment.

A calendar due date (``due_on``) means the end of that day in UTC; an exact
moment (``due_at``) may be given instead, never both. The same holds for a
commit-to-commit's ``reply_by_on`` / ``reply_by``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field, StringConstraints, model_validator

from coauthor.domain.declarations import Position
from coauthor.domain.ledger import MAX_EVIDENCE, OPENING_MOVES, Move, Party
from coauthor.services.inputs import AwareDateTime, Input, Ref, Text

END_OF_DAY = time(23, 59, 59, tzinfo=UTC)
MAX_PARTIES = 20

Said = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Conditions = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
EvidenceLink = Annotated[AnyHttpUrl, Field(description="An http(s) link to what backs a report.")]


def end_of_day(day: date) -> datetime:
    """A calendar due date as a moment: the last second of that day, UTC."""
    return datetime.combine(day, END_OF_DAY)


def _one_moment(day: date | None, moment: datetime | None, names: tuple[str, str]) -> None:
    if day is not None and moment is not None:
        raise ValueError(f"{names[0]}: give a date or an exact moment ({names[1]}), not both")


class _Terms(Input):
    conditions: Conditions | None = None
    due_on: date | None = None
    due_at: AwareDateTime | None = None

    @model_validator(mode="after")
    def _one_due(self) -> _Terms:
        _one_moment(self.due_on, self.due_at, ("due_on", "due_at"))
        return self

    @property
    def due(self) -> datetime | None:
        return end_of_day(self.due_on) if self.due_on is not None else self.due_at


class OpenInput(_Terms):
    """A request (I ask ``performer_ids``) or an offer (I, with any ``performer_ids``, offer
    ``customer_id``). Several performers make a joint commitment."""

    move: Literal["request", "offer"]
    what: Said
    performer_ids: list[Ref] = Field(default_factory=list, max_length=MAX_PARTIES)
    customer_id: Ref | None = None
    body_id: Ref | None = None
    meeting_id: Ref | None = None

    @model_validator(mode="after")
    def _counterpart(self) -> OpenInput:
        if self.move == "request":
            if not self.performer_ids:
                raise ValueError("performer_ids: say whom you ask")
            if self.customer_id is not None:
                raise ValueError("customer_id: you are the customer of your own request")
        elif self.customer_id is None:
            raise ValueError("customer_id: say whom you offer it to")
        if len(set(self.performer_ids)) != len(self.performer_ids):
            raise ValueError("performer_ids: a person is listed twice")
        return self


class MoveInput(_Terms):
    """One move on an open commitment; the note (``text``) is optional except where it
    is what the move says."""

    move: Move
    text: Note = ""
    reply_by_on: date | None = None
    reply_by: AwareDateTime | None = None
    evidence: list[EvidenceLink] = Field(default_factory=list, max_length=MAX_EVIDENCE)

    @model_validator(mode="after")
    def _not_an_opening(self) -> MoveInput:
        if self.move in OPENING_MOVES:
            raise ValueError("move: open a new commitment to request or offer")
        _one_moment(self.reply_by_on, self.reply_by, ("reply_by_on", "reply_by"))
        return self

    @property
    def answer_by(self) -> datetime | None:
        return end_of_day(self.reply_by_on) if self.reply_by_on is not None else self.reply_by


class ReassignInput(Input):
    """Hand one person's place on a commitment to a colleague of the same partner."""

    person_id: Ref
    to_person_id: Ref


class PositionInput(Input):
    member_id: Ref
    position: Position
    reason: Text = ""


class DeclarationInput(Input):
    """A decision a governance body declares at one of its meetings, under one of its rights.

    ``positions`` lists every seated member once: for, against or abstain if
    they attended, absent if not; ``reason`` is their dissent in their own
    words (required when against). ``charter`` adds the text to the charter,
    ``repeals`` names clauses it takes out of force, and ``waives`` names
    obligation periods (commitments) it releases.
    """

    text: Said
    rationale: Text = ""
    body_id: Ref
    decision_right_id: Ref
    meeting_id: Ref
    positions: list[PositionInput] = Field(default_factory=list, max_length=500)
    charter: bool = False
    repeals: list[Ref] = Field(default_factory=list, max_length=100)
    waives: list[Ref] = Field(default_factory=list, max_length=100)


class AssignmentInput(Input):
    """Who performs an obligation for the debtor partner, and who receives it for the creditor."""

    performer_id: Ref
    customer_id: Ref


LedgerFilter = Literal["open", "waiting", "promised", "reported", "closed", "all"]
DueFilter = Literal["overdue", "week", "month", "none", "any"]
MineFilter = Literal["waiting", "owe", "owed", "closed"]


class LedgerQuery(Input):
    """The alliance ledger's filters; empty ones do not filter."""

    partner_id: Ref | None = None
    state: LedgerFilter = "open"
    due: DueFilter = "any"
    body_id: Ref | None = None


SIDES = {party.value: party for party in Party}
