"""How the results read: one rounding rule, and a group's reasons said the right way round."""

from __future__ import annotations

import pytest

from coauthor.reports.deliberation import group_label, percent, reason_sentence


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(1, 3, 33), (2, 3, 67), (1, 8, 13), (1, 200, 1), (0, 5, 0), (5, 5, 100), (3, 0, 0)],
)
def test_shares_round_half_up_once(part: int, whole: int, expected: int) -> None:
    assert percent(part, whole) == expected


def test_a_minority_reason_is_said_as_a_comparison() -> None:
    """Pol.is's "17% disagree" reason, while most of the group agrees."""
    assert reason_sentence("B", "disagree", 17, 2) == (
        "More of group B disagree than of everyone else: 17% against 2%."
    )
    assert reason_sentence("B", "disagree", 17, None) == (
        "More of group B disagree than of everyone else (17% of the group)."
    )
    assert (
        reason_sentence("A", "agree", 83, 20)
        == "83% of group A agree, against 20% of everyone else."
    )
    assert reason_sentence("A", "agree", 83, None) == "83% of group A agree."


def test_groups_are_lettered_then_numbered() -> None:
    assert [group_label(i) for i in (0, 1, 25, 26, 27)] == ["A", "B", "Z", "A2", "B2"]
