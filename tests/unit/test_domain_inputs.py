"""The input models: every interface validates through them, so their rules are tested here."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coauthor.domain.errors import ValidationFailed
from coauthor.services import inputs
from coauthor.services.accounts import inputs as account_inputs
from coauthor.services.mechanics import inputs as mechanics_inputs

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2080, 12, 31))
"""Within the years a mechanics date may take (inputs.EARLIEST_DATE … LATEST_DATE), with room."""


def locs_of(model: type, data: dict) -> set[tuple]:
    with pytest.raises(ValidationFailed) as caught:
        inputs.parse(model, data)
    return {error.loc for error in caught.value.errors}


@given(dates, st.integers(min_value=0, max_value=5000))
def test_agreement_may_not_expire_before_it_takes_effect(start: date, days: int) -> None:
    data = {"title": "JV agreement", "kind": "jv_agreement", "effective_on": start}
    ends = start + timedelta(days=days)
    assert (
        inputs.parse(mechanics_inputs.AgreementInput, data | {"expires_on": ends}).expires_on
        == ends
    )
    if days:
        before = start - timedelta(days=days)
        assert locs_of(mechanics_inputs.AgreementInput, data | {"expires_on": before}) == {
            ("expires_on",)
        }


@given(dates, st.integers(min_value=1, max_value=3000), st.sampled_from(["monthly", "yearly"]))
def test_recurring_obligation_dates_are_ordered(first: date, days: int, recurrence: str) -> None:
    data = {
        "agreement_id": "ag_1",
        "title": "Monthly report",
        "debtor_partner_id": "pa_1",
        "creditor_partner_id": "pa_2",
        "recurrence": recurrence,
        "first_due_on": first,
    }
    later = first + timedelta(days=days)
    assert (
        inputs.parse(mechanics_inputs.ObligationInput, data | {"last_due_on": later}).last_due_on
        == later
    )
    earlier = first - timedelta(days=days)
    assert locs_of(mechanics_inputs.ObligationInput, data | {"last_due_on": earlier}) == {
        ("last_due_on",)
    }


def test_a_partner_cannot_owe_itself_and_one_offs_have_one_date() -> None:
    data = {
        "agreement_id": "ag_1",
        "title": "Deliver",
        "debtor_partner_id": "pa_1",
        "creditor_partner_id": "pa_1",
        "first_due_on": date(2026, 1, 1),
    }
    assert locs_of(mechanics_inputs.ObligationInput, data) == {("creditor_partner_id",)}
    one_off = data | {"creditor_partner_id": "pa_2", "last_due_on": date(2026, 2, 1)}
    assert locs_of(mechanics_inputs.ObligationInput, one_off) == {("last_due_on",)}


@given(st.lists(st.integers(min_value=1, max_value=99), min_size=1, max_size=5))
def test_risk_shares_are_checked_with_their_path(percents: list[int]) -> None:
    shares = [
        {"partner_id": f"pa_{index}", "percent": percent} for index, percent in enumerate(percents)
    ]
    data = {"title": "Price collapse", "likelihood": 3, "impact": 4, "shares": shares}
    if sum(percents) == 100:
        assert len(inputs.parse(mechanics_inputs.RiskInput, data).shares) == len(percents)
    else:
        assert locs_of(mechanics_inputs.RiskInput, data) == {("shares",)}


def test_a_share_above_hundred_is_named_by_its_index() -> None:
    shares = [{"partner_id": "pa_1", "percent": "150"}, {"partner_id": "pa_2", "percent": "-50"}]
    data = {"title": "Risk", "likelihood": 1, "impact": 1, "shares": shares}
    locs = locs_of(mechanics_inputs.RiskInput, data)
    assert ("shares", 0, "percent") in locs
    assert ("shares", 1, "percent") in locs


@given(st.decimals(min_value=0, max_value=inputs.MAX_AMOUNT, places=2, allow_nan=False))
def test_contribution_amounts_keep_two_decimals(amount: Decimal) -> None:
    data = {
        "partner_id": "pa_1",
        "kind": "money",
        "description": "Capital call",
        "amount": amount,
        "unit": "EUR",
        "on": date(2026, 1, 1),
    }
    assert inputs.parse(mechanics_inputs.ContributionInput, data).amount == amount
    assert locs_of(
        mechanics_inputs.ContributionInput, data | {"amount": amount + Decimal("0.001")}
    ) == {("amount",)}


def test_contribution_amounts_above_the_storable_maximum_are_refused() -> None:
    data = {
        "partner_id": "pa_1",
        "kind": "money",
        "description": "Capital call",
        "amount": inputs.MAX_AMOUNT + Decimal("0.01"),
        "unit": "EUR",
        "on": date(2026, 1, 1),
    }
    assert locs_of(mechanics_inputs.ContributionInput, data) == {("amount",)}


printable = st.characters(exclude_categories=("Cc", "Cs"))


@given(st.text(printable, min_size=1, max_size=300))
def test_names_are_stripped_and_bounded(name: str) -> None:
    data = {"name": name, "kind": "consortium"}
    stripped = name.strip()
    if 1 <= len(stripped) <= 200:
        assert inputs.parse(mechanics_inputs.AllianceInput, data).name == stripped
    else:
        assert locs_of(mechanics_inputs.AllianceInput, data) == {("name",)}


def test_unknown_fields_and_naive_times_are_refused() -> None:
    alliance = {"name": "X", "kind": "consortium", "colour": "red"}
    assert ("colour",) in locs_of(mechanics_inputs.AllianceInput, alliance)
    meeting = {"body_id": "gb_1", "title": "Steering", "starts_at": datetime(2026, 1, 1, 9)}
    assert locs_of(mechanics_inputs.MeetingInput, meeting) == {("starts_at",)}


def test_emails_are_normalised_to_lower_case() -> None:
    person = inputs.parse(
        account_inputs.PersonInput, {"email": "Ann.Lee@Example.ORG", "name": "Ann"}
    )
    assert person.email == "ann.lee@example.org"
    assert locs_of(account_inputs.PersonInput, {"email": "not-an-email", "name": "Ann"}) == {
        ("email",)
    }
