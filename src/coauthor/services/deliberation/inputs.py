"""What people send to a deliberation: questions, statements, votes, moderation, promotion."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from coauthor.domain import model as m
from coauthor.services.inputs import Input, Ref, Text
from coauthor.services.ledger.inputs import PositionInput


class DeliberationInput(Input):
    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    description: Text = ""
    strict_moderation: bool = True


class StatementInput(Input):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class VoteInput(Input):
    statement_id: Ref
    value: Literal[-1, 0, 1]


class ModerationInput(Input):
    """Accept or reject a statement; ``meta`` marks an accepted one as about the participants.

    A meta statement ("I work in R&D") is voted on like any other but kept out
    of the opinion groups, as Pol.is does; None leaves the flag as it is.
    """

    decision: Literal["accepted", "rejected"]
    meta: bool | None = None

    @model_validator(mode="after")
    def _meta_is_accepted(self) -> ModerationInput:
        if self.meta and self.decision != "accepted":
            raise ValueError("meta: only an accepted statement can be meta")
        return self


class PromotionInput(Input):
    """Make a consensus statement a declaration, or a clause of the charter.

    A declaration by a governance body (``body_id``) goes through the ledger's
    declaration path: its decision right, the meeting whose attendance makes
    the quorum, and every seated member's position. Without a body, the
    consensus is the partners' joint declaration, under ``rule`` if given.
    """

    target: Literal["declaration", "charter"]
    rationale: Text = ""
    body_id: Ref | None = None
    rule: m.DecisionRule | None = None
    decision_right_id: Ref | None = None
    meeting_id: Ref | None = None
    positions: list[PositionInput] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _rule_is_the_rights(self) -> PromotionInput:
        if self.body_id and self.rule is not None:
            raise ValueError("rule: a body declares under its decision right's rule")
        return self


class ModerationBatchInput(ModerationInput):
    """The same decision for several statements at once (the moderation queue's "accept all")."""

    statement_ids: list[Ref] = Field(min_length=1, max_length=500)
