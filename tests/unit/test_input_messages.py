"""Input errors read as plain instructions, alike in forms, API and CLI (issue 9, 6–7)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from coauthor.domain.errors import ValidationFailed
from coauthor.services import inputs
from coauthor.services.input_messages import number_text, plain_message
from coauthor.services.mechanics import inputs as mechanics_inputs

DEVELOPER_WORDS = ("should", "Input", "Value error", "E+", "≤", "_on", "_id", "'")


def messages(model: type, data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        inputs.parse(model, data)
    return {error.field: error.message for error in caught.value.errors}


def test_the_messages_the_issue_quotes_read_as_instructions() -> None:
    alliance = messages(
        mechanics_inputs.AllianceCreate, {"name": " ", "kind": "jv", "organization_name": "Acme"}
    )
    assert alliance == {
        "name": "this cannot be empty",
        "kind": "choose one of: joint venture, strategic alliance, consortium, "
        "supplier partnership or research collaboration",
    }
    agreement = messages(
        mechanics_inputs.AgreementInput,
        {
            "title": "JV agreement",
            "kind": "jv_agreement",
            "signed_on": "2030-01-01",
            "expires_on": "2027-01-01",
        },
    )
    assert agreement == {"expires_on": "an agreement cannot expire before it is signed"}
    contribution = messages(
        mechanics_inputs.ContributionInput,
        {
            "partner_id": "pa_1",
            "kind": "money",
            "description": "Capital",
            "amount": "2000000000000",
            "unit": "EUR",
            "on": "2026-02-30",
        },
    )
    assert contribution == {
        "amount": "must be at most 1\u202f000\u202f000\u202f000\u202f000",
        "on": "enter a date as year-month-day, such as 2026-03-31",
    }


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (mechanics_inputs.AllianceCreate, {"name": "x" * 201, "kind": 3}),
        (
            mechanics_inputs.MemberInput,
            {"email": "not an address", "partner_id": "", "role": "boss"},
        ),
        (
            mechanics_inputs.ObligationInput,
            {
                "agreement_id": "ag_1",
                "title": "Report",
                "debtor_partner_id": "pa_1",
                "creditor_partner_id": "pa_1",
                "recurrence": "once",
                "first_due_on": "2026-01-01",
                "last_due_on": "2025-01-01",
            },
        ),
        (
            mechanics_inputs.RiskInput,
            {"title": "", "likelihood": "often", "impact": 9, "shares": [{"percent": "0.001"}]},
        ),
        (mechanics_inputs.DecisionRightInput, {"body_id": "gb_1", "decision_kind": "Budget"}),
        (mechanics_inputs.MeetingInput, {"body_id": "gb_1", "title": "M", "starts_at": "soon"}),
        (
            mechanics_inputs.ContributionInput,
            {"direction": "out", "amount": "1.234", "unit": "", "extra": True},
        ),
    ],
)
def test_no_message_reads_like_developer_output(model: type, data: dict[str, Any]) -> None:
    found = messages(model, data)
    assert found
    for field, message in found.items():
        assert not any(word in message for word in DEVELOPER_WORDS), (field, message)


def test_an_empty_quorum_is_an_error_not_fifty_percent() -> None:
    found = messages(
        mechanics_inputs.DecisionRightInput,
        {"body_id": "gb_1", "decision_kind": "Budget", "rule": "consent"},
    )
    assert found == {"quorum_percent": "this is required"}


@pytest.mark.parametrize("day", ["1900-05-01", "2101-01-01"])
def test_dates_that_cannot_be_are_refused(day: str) -> None:
    meeting = {"body_id": "gb_1", "title": "Kick-off", "starts_at": f"{day}T09:00:00Z"}
    assert messages(mechanics_inputs.MeetingInput, meeting) == {
        "starts_at": "enter a date between 1950 and 2100"
    }
    assert inputs.parse(
        mechanics_inputs.MeetingInput, meeting | {"starts_at": "2026-05-01T09:00:00Z"}
    ).starts_at.date() == date(2026, 5, 1)


def test_limits_are_written_as_people_write_numbers() -> None:
    assert number_text("1E+12") == "1\u202f000\u202f000\u202f000\u202f000"
    assert number_text(100) == "100"
    assert number_text("0.5") == "0.5"


def test_a_single_allowed_value_is_named_not_offered_as_a_choice() -> None:
    error = {"type": "literal_error", "ctx": {"expected": "'coauthor-archive'"}}
    assert plain_message(error) == "must be coauthor-archive"
    error = {"type": "literal_error", "ctx": {"expected": "'open' or 'closed'"}}
    assert plain_message(error) == "choose one of: open or closed"
