"""Risk shares: positive, one per partner, summing to exactly 100%."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from coauthor.domain.invariants import risk_score, risk_share_errors

CENT = Decimal("0.01")


@st.composite
def partitions_of_hundred(draw: st.DrawFn) -> list[Decimal]:
    """1–6 positive shares in cents that sum to exactly 100.00."""
    parts = draw(st.integers(min_value=1, max_value=6))
    cuts = draw(
        st.lists(
            st.integers(min_value=1, max_value=9_999),
            min_size=parts - 1,
            max_size=parts - 1,
            unique=True,
        )
    )
    bounds = [0, *sorted(cuts), 10_000]
    return [Decimal(high - low) * CENT for low, high in pairwise(bounds)]


def partner_ids(count: int) -> list[str]:
    return [f"pa_{index:016d}" for index in range(count)]


@given(partitions_of_hundred())
def test_any_partition_of_hundred_is_accepted(shares: list[Decimal]) -> None:
    assert risk_share_errors(shares, partner_ids(len(shares))) == []


@given(partitions_of_hundred(), st.integers(min_value=1, max_value=500))
def test_shares_off_by_any_amount_are_refused(shares: list[Decimal], cents: int) -> None:
    shares = [*shares[:-1], shares[-1] + Decimal(cents) * CENT]
    errors = risk_share_errors(shares, partner_ids(len(shares)))
    assert [error.loc for error in errors if error.loc == ("shares",)] == [("shares",)]
    assert "must sum to 100%" in errors[-1].message


def test_no_shares_means_nobody_bears_the_risk() -> None:
    [error] = risk_share_errors([], [])
    assert error.loc == ("shares",)
    assert "at least one partner" in error.message


def test_each_bad_share_is_named_by_its_index() -> None:
    errors = risk_share_errors(
        [Decimal(0), Decimal(50), Decimal(50), Decimal(101)],
        ["pa_a", "pa_b", "pa_b", "pa_c"],
    )
    locs = {error.loc for error in errors}
    assert ("shares", 0, "percent") in locs
    assert ("shares", 2, "partner_id") in locs
    assert ("shares", 3, "percent") in locs


@given(st.integers(1, 5), st.integers(1, 5))
def test_risk_score_is_likelihood_times_impact(likelihood: int, impact: int) -> None:
    assert risk_score(likelihood, impact) == likelihood * impact
    assert 1 <= risk_score(likelihood, impact) <= 25
