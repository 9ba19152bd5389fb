"""The commitment ledger's state machine, against DESIGN.md's table written out here."""

from __future__ import annotations

import re
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coauthor.domain.errors import Conflict, PermissionDenied, ValidationFailed
from coauthor.domain.ledger import (
    TRANSITIONS,
    CommitmentState,
    Move,
    MoveNotAllowed,
    Party,
    Phase,
    Roster,
    SpeechAct,
    State,
    Terms,
    allowed_moves,
    replay,
    step,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"
FAST = settings(max_examples=60, deadline=None, database=None)
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
CUSTOMER, PERFORMER = Party.CUSTOMER, Party.PERFORMER

# ------------------------------------------------ an independent encoding of the table

# DESIGN.md §2 as printed there: state, who (A = customer, B = performer), move, next.
DESIGN_TABLE = """
1 A request 2
2 B promise 3
2 B counter-offer 6
2 B decline 8
2 A withdraw 8
6 A accept-counter 3
6 A counter 2
6 A reject 8
6 B withdraw 8
3 B report-completion 4
3 B renege 7
3 A cancel 9
4 A declare-satisfied 5
4 A declare-not-satisfied 3
4 A withdraw 9
"""

# Keys of this test's own model: a state number, "o" when an offer reversed the
# roles (2o, 6o), "r" while a renegotiation waits for the customer (3r).
KEY_PHASES = {
    "1": Phase.OPENED,
    "2": Phase.REQUESTED,
    "2o": Phase.OFFERED,
    "6": Phase.COUNTERED,
    "6o": Phase.OFFER_COUNTERED,
    "3": Phase.PROMISED,
    "3r": Phase.RENEGOTIATING,
    "4": Phase.REPORTED,
    "5": Phase.FULFILLED,
    "7": Phase.RENEGED,
    "8": Phase.NO_AGREEMENT,
    "9": Phase.CANCELLED,
}
OPEN_KEYS = ("2", "2o", "6", "6o", "3", "3r", "4")
WHO = {"A": CUSTOMER, "B": PERFORMER}
SWAP = {"A": "B", "B": "A"}

Row = tuple[str, str, str, str]  # (from key, who, move, to key)


def design_rows() -> list[Row]:
    rows = []
    for line in DESIGN_TABLE.strip().splitlines():
        source, who, move, target = line.split()
        rows.append((source, who, move.replace("-", "_"), target))
    return rows


def later_rows(design: list[Row]) -> list[Row]:
    """DESIGN.md's later moves, derived by rule from the book's rows."""
    reverse = {"2": "2o", "6": "6o"}
    offer = [("1", "B", "offer", "2o")]
    for source, who, move, target in design:
        if source in reverse:
            # Roles reversed: the customer answers an offer, and accepting it is the promise.
            reversed_move = "accept" if move == "promise" else move
            offer.append((reverse[source], SWAP[who], reversed_move, reverse.get(target, target)))
    commit_to_commit = [("2", "B", "commit_to_commit", "2"), ("2o", "A", "commit_to_commit", "2o")]
    renegotiation = [
        ("3", "B", "renegotiate", "3r"),
        ("3r", "B", "renegotiate", "3r"),
        ("3r", "A", "accept", "3"),
        ("3r", "A", "reject", "3"),
    ] + [("3r", who, move, target) for source, who, move, target in design if source == "3"]
    notes = [(key, who, "progress_note", key) for key in OPEN_KEYS for who in "AB"]
    return offer + commit_to_commit + renegotiation + notes


EXPECTED: dict[tuple[str, str, str], str] = {
    (source, who, move): target
    for source, who, move, target in design_rows() + later_rows(design_rows())
}


def expected_allowed(key: str, party: Party) -> list[Move]:
    return [
        move
        for move in Move
        if any((key, who, move.value) in EXPECTED for who, each in WHO.items() if each is party)
    ]


def expected_target(key: str, move: Move, party: Party) -> str | None:
    who = "A" if party is CUSTOMER else "B"
    return EXPECTED.get((key, who, move.value))


# ------------------------------------------------------------------------ helpers


def act(move: Move, party: Party, at: datetime = T0, actor_id: str | None = None) -> SpeechAct:
    """A well-formed act of any move: terms where the move states them, a reply-by where needed."""
    actor = actor_id or ("cu_ana" if party is CUSTOMER else "pe_bo")
    if move in (Move.REQUEST, Move.OFFER):
        return SpeechAct(
            move, party, actor, at, "Supplier audit", "signed report", at + timedelta(days=30)
        )
    if move in (Move.COUNTER_OFFER, Move.COUNTER, Move.RENEGOTIATE):
        return SpeechAct(move, party, actor, at, "new date", due_at=at + timedelta(days=45))
    if move is Move.COMMIT_TO_COMMIT:
        return SpeechAct(move, party, actor, at, "by Friday", reply_by=at + timedelta(days=2))
    return SpeechAct(move, party, actor, at, "note")


def path_to(key: str) -> list[tuple[Move, Party]]:
    """The shortest run of (move, party) in the expected table from state 1 to ``key``."""
    queue: deque[tuple[str, list[tuple[Move, Party]]]] = deque([("1", [])])
    seen = {"1"}
    while queue:
        here, moves = queue.popleft()
        if here == key:
            return moves
        for (source, who, move), target in EXPECTED.items():
            if source == here and target not in seen:
                seen.add(target)
                queue.append((target, [*moves, (Move(move), WHO[who])]))
    raise AssertionError(f"{key} cannot be reached")


def state_at(key: str) -> CommitmentState:
    moves = path_to(key)
    return replay(
        act(move, party, T0 + timedelta(hours=i)) for i, (move, party) in enumerate(moves)
    )


def clause(message: str, party: Party) -> list[str]:
    """The phrases listed after 'the <party> may' in a refusal."""
    found = re.search(rf"the {party} may (.+?)[;.]", message)
    assert found, f"no clause for the {party} in {message!r}"
    return re.split(r", | or ", found.group(1))


def markdown_table() -> str:
    """docs/ledger.md's table of moves, as the domain table says it."""
    lines = ["| from | who | move | to |", "| --- | --- | --- | --- |"]
    for row in TRANSITIONS:
        source = f"{row.source.state.value} `{row.source}`"
        target = f"{row.target.state.value} `{row.target}`"
        lines.append(f"| {source} | {row.party} | `{row.move}` | {target} |")
    return "\n".join(lines)


# ------------------------------------------------------------------ the whole table


def test_the_domain_table_is_design_plus_the_later_moves() -> None:
    phase_keys = {phase: key for key, phase in KEY_PHASES.items()}
    domain = {
        (phase_keys[row.source], "A" if row.party is CUSTOMER else "B", row.move.value): (
            phase_keys[row.target]
        )
        for row in TRANSITIONS
    }
    assert len(domain) == len(TRANSITIONS), "a (phase, move, party) is listed twice"
    assert set(domain.items()) - set(EXPECTED.items()) == set(), "rows not in DESIGN.md"
    assert set(EXPECTED.items()) - set(domain.items()) == set(), "DESIGN.md rows missing"
    # 15 from the book; offer 1 + 8 reversed; 2 commit-to-commit; 4 + 3 renegotiation; 14 notes.
    assert len(TRANSITIONS) == 15 + 9 + 2 + 7 + 14


def test_phases_refine_the_nine_states() -> None:
    for key, phase in KEY_PHASES.items():
        assert phase.state == State(int(key[0]))
    assert {state for state in State if state.is_terminal} == {5, 7, 8, 9}
    assert [state.value for state in State] == list(range(1, 10))


@pytest.mark.parametrize("key", list(KEY_PHASES))
def test_every_move_of_every_party_in_every_phase(key: str) -> None:
    start = state_at(key)
    assert start.phase is KEY_PHASES[key]
    later = (start.last_move_at or T0) + timedelta(hours=1)
    for party in Party:
        assert list(allowed_moves(start, party)) == expected_allowed(key, party)
        for move in Move:
            target = expected_target(key, move, party)
            if target is not None:
                assert step(start, act(move, party, later)).phase is KEY_PHASES[target]
                continue
            with pytest.raises(MoveNotAllowed) as refused:
                step(start, act(move, party, later))
            error = refused.value
            assert isinstance(error, Conflict) and error.status == 409
            assert error.detail.startswith(f"The {party} cannot {move.phrase} now. ")
            assert error.errors[0].loc == ("move",)
            for each in Party:
                assert list(error.allowed[each]) == expected_allowed(key, each)
                if not start.is_terminal:
                    phrases = clause(error.detail, each)
                    assert phrases == [m.phrase for m in expected_allowed(key, each)]


def test_refusal_reads_as_the_brief_words_it() -> None:
    with pytest.raises(MoveNotAllowed) as refused:
        step(state_at("3"), act(Move.WITHDRAW, CUSTOMER, T0 + timedelta(days=1)))
    assert refused.value.detail == (
        "The customer cannot withdraw now. This commitment is promised (in progress); "
        "the performer may report completion, renegotiate, renege or add a progress note; "
        "the customer may cancel or add a progress note."
    )


def test_a_closed_commitment_says_so() -> None:
    with pytest.raises(MoveNotAllowed) as refused:
        step(state_at("5"), act(Move.PROGRESS_NOTE, PERFORMER, T0 + timedelta(days=1)))
    assert refused.value.detail == (
        "The performer cannot add a progress note now. "
        "This commitment is fulfilled; no further move can be made on it."
    )
    assert refused.value.allowed == {CUSTOMER: (), PERFORMER: ()}


def test_docs_show_the_domain_table() -> None:
    table = markdown_table()
    assert table in (DOCS / "ledger.md").read_text(), (
        "docs/ledger.md's table of moves is stale; it should read:\n" + table
    )


# ------------------------------------------------------------------ terms and timing


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def test_an_accepted_counter_offer_becomes_the_terms() -> None:
    request = SpeechAct(Move.REQUEST, CUSTOMER, "cu_ana", day(0), "Audit", "signed", day(10))
    counter_offer = SpeechAct(
        Move.COUNTER_OFFER, PERFORMER, "pe_bo", day(1), "Two weeks later", due_at=day(24)
    )
    countered = replay([request, counter_offer])
    assert countered.terms == Terms("Audit", "signed", day(10))
    assert countered.proposal == Terms("Audit", "signed", day(24))
    promised = step(countered, SpeechAct(Move.ACCEPT_COUNTER, CUSTOMER, "cu_ana", day(2)))
    assert promised.phase is Phase.PROMISED
    assert promised.terms == Terms("Audit", "signed", day(24))
    assert promised.proposal is None


def test_a_counter_to_a_counter_offer_is_asked_again_and_rejecting_keeps_the_old_terms() -> None:
    acts = [
        SpeechAct(Move.REQUEST, CUSTOMER, "cu_ana", day(0), "Audit", "signed", day(10)),
        SpeechAct(Move.COUNTER_OFFER, PERFORMER, "pe_bo", day(1), "later", "draft", day(24)),
        SpeechAct(Move.COUNTER, CUSTOMER, "cu_ana", day(2), "meet halfway", due_at=day(17)),
    ]
    asked_again = replay(acts)
    assert asked_again.phase is Phase.REQUESTED
    # The counter answers the counter-offer: its conditions ("draft") stay, the date moves.
    assert asked_again.terms == Terms("Audit", "draft", day(17))
    assert asked_again.proposal is None


def test_renegotiation_pending_accepted_or_rejected() -> None:
    promised = replay(
        [
            SpeechAct(Move.REQUEST, CUSTOMER, "cu_ana", day(0), "Audit", "signed", day(10)),
            SpeechAct(Move.PROMISE, PERFORMER, "pe_bo", day(1)),
        ]
    )
    proposal = SpeechAct(
        Move.RENEGOTIATE, PERFORMER, "pe_bo", day(5), "supplier late", "summary", day(20)
    )
    pending = step(promised, proposal)
    assert pending.phase is Phase.RENEGOTIATING and pending.state is State.PROMISED
    assert pending.pending_renegotiation == Terms("Audit", "summary", day(20))
    assert pending.terms == Terms("Audit", "signed", day(10))

    accepted = step(pending, SpeechAct(Move.ACCEPT, CUSTOMER, "cu_ana", day(6)))
    assert (accepted.phase, accepted.terms) == (Phase.PROMISED, Terms("Audit", "summary", day(20)))
    assert accepted.pending_renegotiation is None

    rejected = step(pending, SpeechAct(Move.REJECT, CUSTOMER, "cu_ana", day(6)))
    assert (rejected.phase, rejected.terms) == (Phase.PROMISED, Terms("Audit", "signed", day(10)))

    reported = step(pending, SpeechAct(Move.REPORT_COMPLETION, PERFORMER, "pe_bo", day(7)))
    assert reported.phase is Phase.REPORTED and reported.proposal is None
    assert reported.terms == Terms("Audit", "signed", day(10))


def test_an_offer_accepted_by_the_customer_is_a_promise() -> None:
    offer = SpeechAct(Move.OFFER, PERFORMER, "pe_bo", day(0), "Training", "2 sessions", day(30))
    accepted = replay([offer, SpeechAct(Move.ACCEPT, CUSTOMER, "cu_ana", day(1))])
    assert accepted.phase is Phase.PROMISED and accepted.opened_by is Move.OFFER
    assert accepted.terms == Terms("Training", "2 sessions", day(30))
    with pytest.raises(MoveNotAllowed, match="the customer may accept, make a counter-offer"):
        replay([offer, SpeechAct(Move.PROMISE, PERFORMER, "pe_bo", day(1))])


def test_commit_to_commit_keeps_state_two_until_the_answer() -> None:
    asked = SpeechAct(Move.REQUEST, CUSTOMER, "cu_ana", day(0), "Audit")
    later = SpeechAct(Move.COMMIT_TO_COMMIT, PERFORMER, "pe_bo", day(1), reply_by=day(4))
    waiting = replay([asked, later])
    assert (waiting.phase, waiting.reply_by) == (Phase.REQUESTED, day(4))
    assert waiting.path == replay([asked]).path
    promised = step(waiting, SpeechAct(Move.PROMISE, PERFORMER, "pe_bo", day(3)))
    assert promised.reply_by is None


def test_entries_count_each_arrival_in_a_state() -> None:
    moves = [
        (Move.REQUEST, CUSTOMER),
        (Move.PROMISE, PERFORMER),
        (Move.RENEGOTIATE, PERFORMER),
        (Move.ACCEPT, CUSTOMER),
        (Move.REPORT_COMPLETION, PERFORMER),
        (Move.DECLARE_NOT_SATISFIED, CUSTOMER),
        (Move.REPORT_COMPLETION, PERFORMER),
    ]
    state = replay(act(move, party, day(i)) for i, (move, party) in enumerate(moves))
    # 3 entered on day 1 and again on day 5 (rework); the renegotiation does not re-enter 3.
    assert state.entries(State.PROMISED) == (day(1), day(5))
    assert state.entries(State.REPORTED_COMPLETE) == (day(4), day(6))
    assert state.entered_at(State.REPORTED_COMPLETE) == day(6)
    assert state.entered_at(State.FULFILLED) is None
    assert state.moves_made == len(moves) and state.last_move_at == day(6)


def test_acts_out_of_time_order_are_refused() -> None:
    asked = replay([act(Move.REQUEST, CUSTOMER, day(2))])
    with pytest.raises(ValidationFailed, match="earlier than the previous move") as refused:
        step(asked, act(Move.PROMISE, PERFORMER, day(1)))
    assert refused.value.errors[0].loc == ("at",)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: SpeechAct(Move.PROMISE, PERFORMER, "pe", datetime(2024, 3, 4)), "at"),
        (lambda: SpeechAct(Move.REQUEST, CUSTOMER, "cu", T0, "  "), "text"),
        (lambda: SpeechAct(Move.REQUEST, CUSTOMER, "", T0, "Audit"), "actor_id"),
        (lambda: SpeechAct(Move.PROMISE, PERFORMER, "pe", T0, due_at=day(3)), "due_at"),
        (lambda: SpeechAct(Move.DECLINE, PERFORMER, "pe", T0, conditions="x"), "conditions"),
        (lambda: SpeechAct(Move.RENEGOTIATE, PERFORMER, "pe", T0, "later"), "conditions"),
        (lambda: SpeechAct(Move.COMMIT_TO_COMMIT, PERFORMER, "pe", T0), "reply_by"),
        (lambda: SpeechAct(Move.COMMIT_TO_COMMIT, PERFORMER, "pe", T0, reply_by=T0), "reply_by"),
        (lambda: SpeechAct(Move.PROMISE, PERFORMER, "pe", T0, reply_by=day(1)), "reply_by"),
    ],
)
def test_malformed_acts_name_their_field(build: object, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        build()  # type: ignore[operator]
    assert [error.field for error in refused.value.errors] == [field]


# ------------------------------------------------------------------- joint commitments


def test_any_co_performer_may_make_performer_moves() -> None:
    roster = Roster(frozenset({"cu_ana"}), frozenset({"pe_bo", "pe_cy"}))
    acts = [
        act(Move.REQUEST, CUSTOMER, day(0), "cu_ana"),
        act(Move.PROMISE, PERFORMER, day(1), "pe_bo"),
        act(Move.REPORT_COMPLETION, PERFORMER, day(2), "pe_cy"),
    ]
    assert replay(acts, roster).phase is Phase.REPORTED
    with pytest.raises(PermissionDenied, match="pe_zed is not among this commitment's performers"):
        replay([*acts[:2], act(Move.REPORT_COMPLETION, PERFORMER, day(2), "pe_zed")], roster)
    with pytest.raises(PermissionDenied, match="cu_ana is not among"):
        replay([*acts[:1], act(Move.PROMISE, PERFORMER, day(1), "cu_ana")], roster)


def test_nobody_is_both_customer_and_performer() -> None:
    with pytest.raises(ValidationFailed, match="pe_bo cannot be both"):
        Roster(frozenset({"cu_ana", "pe_bo"}), frozenset({"pe_bo"}))


# ------------------------------------------------------------------------ properties


@st.composite
def allowed_runs(draw: st.DrawFn) -> tuple[list[SpeechAct], str]:
    """A run of allowed acts chosen from the expected table, and the key it should end in."""
    key, at, acts = "1", T0, []
    for _ in range(draw(st.integers(0, 14))):
        choices = sorted((who, move) for (source, who, move) in EXPECTED if source == key)
        if not choices:
            break
        who, move = draw(st.sampled_from(choices))
        at += timedelta(minutes=draw(st.integers(0, 5 * 24 * 60)))
        acts.append(act(Move(move), WHO[who], at))
        key = EXPECTED[(key, who, move)]
    return acts, key


@FAST
@given(allowed_runs())
def test_allowed_runs_replay_deterministically_and_step_by_step(run: tuple) -> None:
    acts, key = run
    state = replay(acts)
    assert state.phase is KEY_PHASES[key]
    assert replay(acts) == state
    stepped = CommitmentState()
    for index, each in enumerate(acts):
        stepped = step(stepped, each)
        assert stepped == replay(acts[: index + 1])
    assert stepped == state


@FAST
@given(
    st.lists(
        st.tuples(st.sampled_from(list(Move)), st.sampled_from(list(Party)), st.integers(0, 600)),
        max_size=25,
    )
)
def test_refused_moves_change_nothing(attempts: list[tuple[Move, Party, int]]) -> None:
    key, at, state, kept = "1", T0, CommitmentState(), []
    for move, party, minutes in attempts:
        at += timedelta(minutes=minutes)
        attempt = act(move, party, at)
        target = expected_target(key, move, party)
        if target is None:
            with pytest.raises(MoveNotAllowed):
                step(state, attempt)
            continue
        state = step(state, attempt)
        kept.append(attempt)
        key = target
    assert state.phase is KEY_PHASES[key]
    assert state == replay(kept)
