"""``Replay`` — the import's fold of plain values on the numbered table — against ``step``
on ``SpeechAct``s: the same phases, terms and facts on random runs, the same table cell by
cell, and the same refusals with the same messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from coauthor.analysis.ledger_metrics import summarize, summarize_steps
from coauthor.domain import ledger
from coauthor.domain.errors import ValidationFailed
from coauthor.domain.ledger import (
    MoveNotAllowed,
    Party,
    Phase,
    Replay,
    SpeechAct,
    act_steps,
    replay,
)
from tests.ledger_strategies import runs

START = datetime(2025, 1, 1, tzinfo=UTC)


def fields(act: SpeechAct) -> tuple[Any, ...]:
    return (
        act.move,
        act.party,
        act.actor_id,
        act.at,
        act.text,
        act.conditions,
        act.due_at,
        act.reply_by,
        act.evidence,
    )


def replayed(acts: list[SpeechAct]) -> Replay:
    folded = Replay()
    for act in acts:
        folded.advance(*fields(act))
    return folded


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs(START, max_moves=12))
def test_replay_folds_plain_values_as_step_folds_speech_acts(acts: list[SpeechAct]) -> None:
    folded, state = replayed(acts), replay(acts)
    assert folded.steps == act_steps(acts)
    assert (folded.phase, folded.terms, folded.reply_by) == (
        state.phase,
        state.terms,
        state.reply_by,
    )
    assert (folded.last_move_at, len(folded.steps)) == (state.last_move_at, state.moves_made)
    assert folded.proposal == state.proposal
    who = {
        "alliance_id": "al_1",
        "commitment_id": "c1",
        "customer_partner_id": "pa_a",
        "performer_partner_ids": ["pa_b"],
    }
    assert summarize_steps(folded.steps, **who) == summarize(acts, **who)


def test_the_numbered_table_is_the_transition_table_cell_by_cell() -> None:
    allowed = 0
    for phase in Phase:
        for move in ledger.Move:
            for party in Party:
                slot = ledger._PHASE_CODES[phase] * len(ledger.Move) + list(ledger.Move).index(move)
                code = ledger._NEXT_CODES[slot * len(Party) + list(Party).index(party)]
                expected = ledger._TARGETS.get((phase, move, party))
                assert (ledger._PHASES[code] if code >= 0 else None) == expected
                allowed += code >= 0
    assert allowed == len(ledger.TRANSITIONS)


AT = START + timedelta(days=1)
OPENING = SpeechAct(ledger.Move.REQUEST, Party.CUSTOMER, "ann", AT, "Two tables")


@pytest.mark.parametrize(
    "second",
    [
        # not in the table here
        (ledger.Move.DECLARE_SATISFIED, Party.PERFORMER, "bob", AT, "", None, None, None, ()),
        # earlier than the request
        (ledger.Move.PROMISE, Party.PERFORMER, "bob", START, "", None, None, None, ()),
        # a commit-to-commit without its date, then with one before the move
        (ledger.Move.COMMIT_TO_COMMIT, Party.PERFORMER, "bob", AT, "", None, None, None, ()),
        (ledger.Move.COMMIT_TO_COMMIT, Party.PERFORMER, "bob", AT, "", None, None, START, ()),
        # evidence on a promise; terms on a promise; no speaker
        (ledger.Move.PROMISE, Party.PERFORMER, "bob", AT, "", None, None, None, ("https://x",)),
        (ledger.Move.PROMISE, Party.PERFORMER, "bob", AT, "", "More", None, None, ()),
        (ledger.Move.PROMISE, Party.PERFORMER, "", AT, "", None, None, None, ()),
        # a counter-offer proposing nothing; a naive time
        (ledger.Move.COUNTER_OFFER, Party.PERFORMER, "bob", AT, "", None, None, None, ()),
        (
            ledger.Move.PROMISE,
            Party.PERFORMER,
            "bob",
            datetime(2025, 1, 2),
            "",
            None,
            None,
            None,
            (),
        ),
    ],
)
def test_replay_refuses_what_step_refuses_with_the_same_message(second: tuple) -> None:
    with pytest.raises((MoveNotAllowed, ValidationFailed)) as by_step:
        replay([OPENING, SpeechAct(*second)])
    folded = replayed([OPENING])
    with pytest.raises(type(by_step.value)) as by_replay:
        folded.advance(*second)
    assert by_replay.value.errors == by_step.value.errors
    assert str(by_replay.value) == str(by_step.value)
    assert len(folded.steps) == 1 and folded.phase is Phase.REQUESTED
