"""What people send to change the mechanics: alliances, partners, members and the registers."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from coauthor.domain import model as m
from coauthor.domain.invariants import risk_share_errors
from coauthor.services.inputs import Day, Email, Input, Moment, Money, Name, Percent, Ref, Text


def _single_spaced(value: str) -> str:
    return re.sub(r"\s+", " ", value)


Unit = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20),
    AfterValidator(_single_spaced),
]
"""A contribution's unit (EUR, hours, …); one unit whatever its capitals (services match them)."""


class OrganizationInput(Input):
    name: Name
    description: Text = ""


class AllianceInput(Input):
    name: Name
    kind: m.AllianceKind
    stage: m.AllianceStage = m.AllianceStage.FORMING
    purpose: Text = ""


class AllianceCreate(AllianceInput):
    """A new alliance and the organization of the person who creates it."""

    organization_name: Name


class PartnerInput(Input):
    organization_name: Annotated[Name, AfterValidator(_single_spaced)]
    joined_on: Day | None = None
    description: Text = ""


class MemberInput(Input):
    email: Email
    name: Annotated[str, Field(max_length=200)] = ""
    partner_id: Ref
    role: m.Role = m.Role.MEMBER
    title: Annotated[str, Field(max_length=200)] = ""


class MemberUpdate(Input):
    partner_id: Ref
    role: m.Role
    title: Annotated[str, Field(max_length=200)] = ""


class PartnerNoteInput(Input):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]


class AgreementInput(Input):
    title: Name
    kind: m.AgreementKind
    signed_on: Day | None = None
    effective_on: Day | None = None
    expires_on: Day | None = None
    summary: Text = ""

    @model_validator(mode="after")
    def _expires_after_start(self) -> AgreementInput:
        if self.expires_on and self.signed_on and self.expires_on < self.signed_on:
            raise ValueError("expires_on: an agreement cannot expire before it is signed")
        if self.expires_on and self.effective_on and self.expires_on < self.effective_on:
            raise ValueError("expires_on: an agreement cannot expire before it takes effect")
        return self


class ObligationInput(Input):
    agreement_id: Ref
    title: Name
    debtor_partner_id: Ref
    creditor_partner_id: Ref
    recurrence: m.Recurrence = m.Recurrence.ONCE
    first_due_on: Day
    last_due_on: Day | None = None
    description: Text = ""

    @model_validator(mode="after")
    def _consistent(self) -> ObligationInput:
        if self.debtor_partner_id == self.creditor_partner_id:
            raise ValueError("creditor_partner_id: a partner cannot owe itself, so choose another")
        if self.last_due_on and self.last_due_on < self.first_due_on:
            raise ValueError("last_due_on: the last due date cannot come before the first")
        if self.recurrence == m.Recurrence.ONCE and self.last_due_on:
            raise ValueError(
                "last_due_on: a one-off obligation falls due only once, so leave this empty"
            )
        return self


class SeatInput(Input):
    member_id: Ref
    is_chair: bool = False


class BodyInput(Input):
    name: Name
    kind: m.BodyKind
    cadence: m.Cadence = m.Cadence.MONTHLY
    purpose: Text = ""
    seats: list[SeatInput] = Field(default_factory=list, max_length=500)


class DecisionRightInput(Input):
    body_id: Ref
    decision_kind: Name
    rule: m.DecisionRule
    quorum_percent: int = Field(ge=1, le=100)
    """Required: a body's quorum is a decision of its own, never a silent default."""
    description: Text = ""


class AttendeeInput(Input):
    member_id: Ref


class MeetingInput(Input):
    body_id: Ref
    title: Name
    starts_at: Moment
    agenda: Text = ""
    notes: Text = ""
    attendees: list[AttendeeInput] = Field(default_factory=list, max_length=500)


class ShareInput(Input):
    partner_id: Ref
    percent: Percent


class RiskInput(Input):
    title: Name
    likelihood: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=5)
    status: m.RiskStatus = m.RiskStatus.OPEN
    description: Text = ""
    mitigation: Text = ""
    shares: list[ShareInput] = Field(max_length=100)

    @model_validator(mode="after")
    def _shares_sum_to_hundred(self) -> RiskInput:
        errors = risk_share_errors(
            [share.percent for share in self.shares], [share.partner_id for share in self.shares]
        )
        if errors:
            raise ValueError("; ".join(f"{e.field}: {e.message}" for e in errors))
        return self


class ContributionInput(Input):
    partner_id: Ref
    kind: m.ContributionKind
    direction: Literal["in", "value"] = "in"
    description: Name
    amount: Money
    unit: Unit
    on: Day
