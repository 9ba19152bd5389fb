"""Declarations' rules (quorum, the four decision rules), who owes the next answer, evidence
on assertions, and how the ledger's values read on a page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from coauthor.domain.declarations import Position, Tally, quorum_refusal, rule_refusal, seats_needed
from coauthor.domain.errors import ValidationFailed
from coauthor.domain.ledger import AWAITS, Move, Party, Phase, SpeechAct
from coauthor.domain.model import DecisionRule
from coauthor.reports import ledger as wording

F, A, X, GONE = Position.FOR, Position.AGAINST, Position.ABSTAIN, Position.ABSENT
AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


def tally(*positions: Position) -> Tally:
    return Tally.of(positions)


@pytest.mark.parametrize(
    ("seats", "percent", "needed"), [(6, 67, 5), (6, 50, 3), (2, 60, 2), (5, 60, 3), (3, 100, 3)]
)
def test_a_quorum_rounds_up_to_whole_seats(seats: int, percent: int, needed: int) -> None:
    assert seats_needed(seats, percent) == needed


def test_quorum_counts_the_seats_present() -> None:
    assert quorum_refusal(tally(F, F, F, F, GONE, GONE), 67) == (
        "no quorum: 4 of 6 seats were present, and this decision right needs 67% (5 seats)"
    )
    assert quorum_refusal(tally(F, A, X, F, F, GONE), 67) is None
    assert quorum_refusal(tally(), 50) is not None  # a body without seats declares nothing


@pytest.mark.parametrize(
    ("rule", "positions", "carried"),
    [
        (DecisionRule.CONSENSUS, (F, F, X), True),  # standing aside is allowed
        (DecisionRule.CONSENSUS, (F, F, A), False),
        (DecisionRule.CONSENT, (F, X, X), True),
        (DecisionRule.CONSENT, (F, F, F, A), False),  # one objection stops it
        (DecisionRule.MAJORITY, (F, F, A, X), True),
        (DecisionRule.MAJORITY, (F, A, X, X), False),  # a tie is not a majority
        (DecisionRule.UNANIMITY, (F, F, GONE), True),  # the absent do not count
        (DecisionRule.UNANIMITY, (F, F, X), False),
        (DecisionRule.MAJORITY, (X, X, GONE), False),  # nobody for it
    ],
)
def test_each_rule_by_hand(rule: DecisionRule, positions: tuple, carried: bool) -> None:
    assert (rule_refusal(rule, tally(*positions)) is None) is carried


def test_the_refusal_says_how_the_seats_stood() -> None:
    refusal = rule_refusal(DecisionRule.MAJORITY, tally(F, A, A, GONE))
    assert (
        refusal
        == "a majority needs more for than against; 1 for, 2 against, 0 abstaining, 1 absent"
    )


def test_who_owes_the_next_answer() -> None:
    assert {phase: party for phase, party in AWAITS.items()} == {
        Phase.REQUESTED: Party.PERFORMER,
        Phase.OFFERED: Party.CUSTOMER,
        Phase.COUNTERED: Party.CUSTOMER,
        Phase.OFFER_COUNTERED: Party.PERFORMER,
        Phase.RENEGOTIATING: Party.CUSTOMER,
        Phase.REPORTED: Party.CUSTOMER,
    }
    assert Phase.PROMISED.awaits is None and Phase.FULFILLED.awaits is None


def test_only_assertions_carry_evidence() -> None:
    link = ("https://example.org/report.pdf",)
    report = SpeechAct(Move.REPORT_COMPLETION, Party.PERFORMER, "b", AT, evidence=link)
    assert report.evidence == link
    with pytest.raises(ValidationFailed) as refused:
        SpeechAct(Move.PROMISE, Party.PERFORMER, "b", AT, evidence=link)
    assert refused.value.errors[0].loc == ("evidence",)
    with pytest.raises(ValidationFailed, match="at most 10 links"):
        SpeechAct(Move.PROGRESS_NOTE, Party.PERFORMER, "b", AT, evidence=link * 11)


def test_how_ledger_values_read() -> None:
    assert wording.due(datetime(2026, 3, 20, 23, 59, 59, tzinfo=UTC)) == "20 Mar 2026"
    assert wording.due(datetime(2026, 3, 20, 15, 0, tzinfo=UTC)) == "20 Mar 2026, 15:00 UTC"
    assert wording.due(None) == "no due date"
    assert wording.ratio({"value": 0.75, "count": 3, "of": 4}) == "75% (3 of 4)"
    assert wording.ratio({"value": None, "count": 0, "of": 0}) == "— (none yet)"
    assert (wording.hours(6), wording.hours(36), wording.hours(120)) == (
        "6.0 h",
        "36 h",
        "5.0 days",
    )
    assert all(move in wording.SAID for move in Move)
