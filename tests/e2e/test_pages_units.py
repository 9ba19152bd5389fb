"""The pure helpers behind the pages: form mapping, due dates and chart geometry."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from coauthor.domain.errors import FieldError
from coauthor.domain.model import Obligation, Recurrence
from coauthor.reports.charts import reciprocity_chart, stack
from coauthor.services.mechanics.inputs import RiskInput
from coauthor.services.mechanics.views import (
    PartnerRef,
    PartnerTotals,
    ShareView,
    UnitTotals,
    next_due,
)
from coauthor.web.pages.forms import (
    Form,
    Rows,
    has_amount,
    local_from_utc,
    to_payload,
    to_values,
    utc_from_local,
)
from coauthor.web.pages.rendering import safe_next

SHARES = (Rows("shares", "partner_id", "partners", has_amount("percent")),)


def test_rows_left_empty_are_dropped_and_errors_return_to_their_row() -> None:
    values = {
        "title": "Flood",
        "likelihood": "",
        "shares.0.partner_id": "pa_a",
        "shares.0.percent": "",
        "shares.1.partner_id": "pa_b",
        "shares.1.percent": "0",
        "shares.2.partner_id": "pa_c",
        "shares.2.percent": "120",
    }
    payload, index_maps = to_payload(values, RiskInput, SHARES)
    assert payload == {"title": "Flood", "shares": [{"partner_id": "pa_c", "percent": "120"}]}
    assert index_maps == {"shares": [2]}
    form = Form(values).failed(
        [FieldError(("shares", 0, "percent"), "too much"), FieldError(("shares",), "sum")],
        RiskInput.model_fields,
        index_maps,
    )
    assert form.error("shares.2.percent") == ["too much"]
    assert form.error("shares") == ["sum"]


def test_errors_of_unknown_fields_go_to_the_top() -> None:
    form = Form().failed([FieldError(("bogus",), "not allowed"), FieldError((), "nope")], ["a"])
    assert form.general == ["bogus: not allowed", "nope"]
    assert form.problem_count == 2


def test_stored_lists_land_on_their_choices_row() -> None:
    data = {"title": "Flood", "shares": [{"partner_id": "pa_b", "percent": "100.00"}]}
    values = to_values(data, {"shares": (SHARES[0], ["pa_a", "pa_b"])})
    assert values == {
        "title": "Flood",
        "shares.1.partner_id": "pa_b",
        "shares.1.percent": "100.00",
    }


def test_datetime_local_values_are_read_as_utc() -> None:
    assert utc_from_local("2026-04-01T10:00") == "2026-04-01T10:00Z"
    assert utc_from_local("2026-04-01T10:00+02:00") == "2026-04-01T10:00+02:00"
    assert local_from_utc("2026-04-01T10:00:00Z") == "2026-04-01T10:00"


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/a/x?y=1", "/a/x?y=1"), ("//evil.example", "/"), ("https://evil.example", "/"),
     ("javascript:alert(1)", "/"), ("/\\evil.example", "/"), ("", "/"), ("/ok\n", "/")],
)  # fmt: skip
def test_safe_next_keeps_only_local_paths(target: str, expected: str) -> None:
    assert safe_next(target) == expected


def _obligation(recurrence: Recurrence, first: date, last: date | None = None) -> Obligation:
    return Obligation("al", "ob", "ag", "t", "pa", "pb", recurrence, first, last)


def test_next_due_steps_by_the_recurrence_and_clamps_to_month_ends() -> None:
    today = date(2026, 3, 2)
    assert next_due(_obligation(Recurrence.MONTHLY, date(2026, 1, 31)), today) == date(2026, 3, 31)
    assert next_due(_obligation(Recurrence.QUARTERLY, date(2025, 12, 1)), today) == date(2026, 6, 1)
    assert next_due(_obligation(Recurrence.QUARTERLY, date(2025, 12, 15)), today) == date(
        2026, 3, 15
    )
    assert next_due(_obligation(Recurrence.YEARLY, date(2024, 2, 29)), today) == date(2027, 2, 28)
    assert next_due(_obligation(Recurrence.ONCE, date(2026, 3, 2)), today) == today
    assert next_due(_obligation(Recurrence.ONCE, date(2026, 3, 1)), today) is None
    ended = _obligation(Recurrence.MONTHLY, date(2025, 1, 10), date(2026, 2, 10))
    assert next_due(ended, today) is None


def test_stacked_bar_segments_follow_each_other_and_never_overflow() -> None:
    shares = [ShareView("a", "A", 0, Decimal(60)), ShareView("b", "B", 5, Decimal(90))]
    segments = stack(shares)
    assert [s.offset for s in segments] == [0, Decimal(40)]
    assert sum(s.width for s in segments) == 100
    assert [s.series for s in segments] == [0, 5]


def test_reciprocity_bars_scale_to_the_biggest_amount_and_skip_empty_partners() -> None:
    rows = [
        PartnerTotals(PartnerRef("a", "A", 3), Decimal(200), Decimal(50)),
        PartnerTotals(PartnerRef("b", "B", 1), Decimal(0), Decimal(100)),
        PartnerTotals(PartnerRef("c", "C", 2), Decimal(0), Decimal(0)),
    ]
    chart = reciprocity_chart(UnitTotals("EUR", rows))
    first, second = chart.rows
    assert (first.series, second.series) == (3, 1)
    assert (first.contributed.percent, first.received.percent) == (100.0, 25.0)
    assert (second.contributed.percent, second.received.percent) == (0.0, 50.0)
    assert chart.shows_contributed and chart.shows_received


def test_a_direction_nobody_has_in_a_unit_gets_no_bars() -> None:
    rows = [
        PartnerTotals(PartnerRef("a", "A", 0), Decimal(640), Decimal(0)),
        PartnerTotals(PartnerRef("b", "B", 1), Decimal(1550), Decimal(0)),
    ]
    chart = reciprocity_chart(UnitTotals("hours", rows))
    assert chart.shows_contributed and not chart.shows_received
