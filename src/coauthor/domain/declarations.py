"""Declarations: decisions a governance body declares within its decision rights.

Pure rules, no storage. A body declares at one of its meetings, under one of
its decision rights (which carries the rule and the quorum). Each seated
member's position is recorded — for, against, abstain, or absent when they
did not attend — and whoever did not vote for it may say why, in their own
words: that is the recorded dissent. See docs/ledger.md, "Declarations".
"""

from __future__ import annotations

import enum
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from coauthor.domain.model import DecisionRule


class Position(enum.StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"
    ABSENT = "absent"


DISSENTING = frozenset({Position.AGAINST, Position.ABSTAIN})


@dataclass(frozen=True)
class Tally:
    """How the seats of a body stood on one declaration."""

    for_: int
    against: int
    abstain: int
    absent: int

    @classmethod
    def of(cls, positions: Iterable[Position]) -> Tally:
        counts = Counter(positions)
        return cls(
            counts[Position.FOR],
            counts[Position.AGAINST],
            counts[Position.ABSTAIN],
            counts[Position.ABSENT],
        )

    @property
    def seats(self) -> int:
        return self.for_ + self.against + self.abstain + self.absent

    @property
    def present(self) -> int:
        return self.seats - self.absent

    def describe(self) -> str:
        return (
            f"{self.for_} for, {self.against} against, {self.abstain} abstaining, "
            f"{self.absent} absent"
        )


def seats_needed(seats: int, quorum_percent: int) -> int:
    """The fewest seats present that make a quorum of ``quorum_percent`` (rounded up)."""
    return math.ceil(seats * quorum_percent / 100)


def quorum_refusal(tally: Tally, quorum_percent: int) -> str | None:
    """Why the meeting had no quorum, or None when it had one."""
    needed = seats_needed(tally.seats, quorum_percent)
    if tally.seats == 0:
        return "the body has no seated members, so it cannot declare anything"
    if tally.present >= max(needed, 1):
        return None
    return (
        f"no quorum: {tally.present} of {tally.seats} seats were present, and this decision "
        f"right needs {quorum_percent}% ({needed} seats)"
    )


def rule_refusal(rule: DecisionRule, tally: Tally) -> str | None:
    """Why the positions do not carry the decision under ``rule``, or None when they do.

    - consensus: nobody against (abstaining is standing aside), at least one for;
    - consent: no objection (nobody against), at least one for;
    - majority: more for than against among those present;
    - unanimity: everyone present for.
    """
    counts = tally.describe()
    if tally.for_ == 0:
        return f"nobody present voted for it ({counts})"
    if rule is DecisionRule.CONSENSUS and tally.against:
        return f"consensus needs nobody against; {counts}"
    if rule is DecisionRule.CONSENT and tally.against:
        return f"consent means no objection, and {tally.against} objected; {counts}"
    if rule is DecisionRule.MAJORITY and tally.for_ <= tally.against:
        return f"a majority needs more for than against; {counts}"
    if rule is DecisionRule.UNANIMITY and tally.for_ != tally.present:
        return f"unanimity needs everyone present for it; {counts}"
    return None
