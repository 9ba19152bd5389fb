"""What users may send: one pydantic model per kind of input.

The web forms, the REST API, the CLI and the archive all validate through
these models, so a rule is written once. ``parse`` turns pydantic's errors
into the domain's ``ValidationFailed`` with the path of each bad field.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from coauthor.domain import model as m
from coauthor.domain.errors import FieldError, ValidationFailed
from coauthor.domain.invariants import risk_share_errors

M = TypeVar("M", bound=BaseModel)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone (for example 2026-03-01T09:00:00Z)")
    return value


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=10_000)]
Ref = Annotated[str, Field(min_length=1, max_length=40)]
Email = Annotated[EmailStr, AfterValidator(lambda value: value.lower()), Field(max_length=254)]
AwareDateTime = Annotated[datetime, AfterValidator(_aware)]
MAX_AMOUNT = Decimal("1e12")
"""Amounts stay within 15 significant digits, which every backend stores exactly."""
Money = Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, decimal_places=2)]
Percent = Annotated[Decimal, Field(gt=0, le=100, decimal_places=2)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class PersonInput(Input):
    email: Email
    name: Name
    is_admin: bool = False


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
    organization_name: Name
    joined_on: date | None = None
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
    signed_on: date | None = None
    effective_on: date | None = None
    expires_on: date | None = None
    summary: Text = ""

    @model_validator(mode="after")
    def _expires_after_start(self) -> AgreementInput:
        if self.expires_on and self.effective_on and self.expires_on < self.effective_on:
            raise ValueError("expires_on: must not be before effective_on")
        return self


class ObligationInput(Input):
    agreement_id: Ref
    title: Name
    debtor_partner_id: Ref
    creditor_partner_id: Ref
    recurrence: m.Recurrence = m.Recurrence.ONCE
    first_due_on: date
    last_due_on: date | None = None
    description: Text = ""

    @model_validator(mode="after")
    def _consistent(self) -> ObligationInput:
        if self.debtor_partner_id == self.creditor_partner_id:
            raise ValueError("creditor_partner_id: a partner cannot owe itself")
        if self.last_due_on and self.last_due_on < self.first_due_on:
            raise ValueError("last_due_on: must not be before first_due_on")
        if self.recurrence == m.Recurrence.ONCE and self.last_due_on:
            raise ValueError("last_due_on: a one-off obligation has only first_due_on")
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
    quorum_percent: int = Field(default=50, ge=1, le=100)
    description: Text = ""


class AttendeeInput(Input):
    member_id: Ref


class MeetingInput(Input):
    body_id: Ref
    title: Name
    starts_at: AwareDateTime
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
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    on: date


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
    """Make a consensus statement a declaration, or a clause of the charter."""

    target: Literal["declaration", "charter"]
    rationale: Text = ""
    body_id: Ref | None = None
    rule: m.DecisionRule | None = None


def _loc_from_message(loc: tuple[str | int, ...], message: str) -> tuple[tuple, str]:
    """Model-level validators say "field: reason"; move the field into the location."""
    prefix, sep, rest = message.partition(": ")
    if sep and prefix and " " not in prefix:
        path = tuple(int(p) if p.isdigit() else p for p in prefix.split("."))
        return loc + path, rest
    return loc, message


def field_errors(
    raw: Iterable[Mapping[str, Any]], skip: Collection[str | int] = ()
) -> list[FieldError]:
    """Pydantic's error dicts as FieldErrors; ``skip`` drops location parts such as "body"."""
    errors: list[FieldError] = []
    for error in raw:
        loc = tuple(part for part in error["loc"] if part not in skip)
        message = str(error["msg"]).removeprefix("Value error, ")
        for part in message.split("; "):
            path, text = _loc_from_message(loc, part)
            errors.append(FieldError(path, text))
    return errors


def errors_of(exc: ValidationError) -> list[FieldError]:
    return field_errors(exc.errors())


def parse(model: type[M], data: Any) -> M:
    """Validate ``data`` (a dict) into ``model`` or raise ``ValidationFailed``."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(errors_of(exc)) from None
