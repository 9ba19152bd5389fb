"""Hypothesis strategies for the ledger: random runs of allowed speech acts.

A run starts with a request or an offer and goes on with moves the domain's
transition table allows where the commitment stands, each with the fields it
needs (terms for a proposal, a reply-by date for a commit-to-commit, evidence
now and then on an assertion). Import with ``from tests.ledger_strategies import runs``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from coauthor.domain.ledger import (
    ASSERTION_MOVES,
    PROPOSAL_MOVES,
    CommitmentState,
    Move,
    Party,
    SpeechAct,
    allowed_moves,
    step,
)

Speaker = Callable[[Party], str]


def _by_role(party: Party) -> str:
    return party.value


def _fields(draw: st.DrawFn, move: Move, at: datetime) -> dict[str, Any]:
    fields: dict[str, Any] = {"text": draw(st.sampled_from(["", "A word."]))}
    if move in PROPOSAL_MOVES:
        fields["due_at"] = at + timedelta(days=draw(st.integers(1, 30)))
        if draw(st.booleans()):
            fields["conditions"] = draw(st.sampled_from(["", "Signed off"]))
    if move is Move.COMMIT_TO_COMMIT:
        fields["reply_by"] = at + timedelta(hours=draw(st.integers(1, 72)))
    if move in ASSERTION_MOVES and draw(st.booleans()):
        fields["evidence"] = ("https://example.org/report",)
    return fields


@st.composite
def runs(
    draw: st.DrawFn, start: datetime, max_moves: int = 10, speaker: Speaker = _by_role
) -> list[SpeechAct]:
    """A commitment's acts: an opening, then up to ``max_moves`` allowed moves."""
    opening = draw(st.sampled_from([Move.REQUEST, Move.OFFER]))
    party = Party.CUSTOMER if opening is Move.REQUEST else Party.PERFORMER
    at = start + timedelta(hours=draw(st.integers(0, 24 * 60)))
    due = draw(st.one_of(st.none(), st.integers(0, 40)))
    first = SpeechAct(
        opening,
        party,
        speaker(party),
        at,
        "The work",
        conditions=draw(st.sampled_from(["", "Two tables"])),
        due_at=at + timedelta(days=due) if due is not None else None,
    )
    acts, state = [first], step(CommitmentState(), first)
    for _ in range(draw(st.integers(0, max_moves))):
        options = sorted((p, m) for p in Party for m in allowed_moves(state, p))
        if not options:
            break
        party, move = draw(st.sampled_from(options))
        at += timedelta(hours=draw(st.sampled_from([0, 1, 6, 24, 72, 240])))
        act = SpeechAct(move, party, speaker(party), at, **_fields(draw, move, at))
        state = step(state, act)
        acts.append(act)
    return acts
