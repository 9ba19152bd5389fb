"""The commitment ledger: Winograd & Flores's conversation for action as data.

A commitment is never edited; its state is derived by folding its speech acts
through ``TRANSITIONS``, one row per allowed (phase, move, party). A *phase*
is one of the book's nine states, refined where the table needs to know more:

- an offer enters state 2 with the roles reversed, so state 2 is ``REQUESTED``
  (the performer answers) or ``OFFERED`` (the customer answers), and state 6 is
  ``COUNTERED`` (the customer answers the performer's counter-offer) or
  ``OFFER_COUNTERED`` (the performer answers the customer's counter-offer);
- a renegotiation waiting for the customer's answer is ``RENEGOTIATING``, a
  sub-state of 3: the promise stands on its old terms, every state-3 move stays
  open, and the customer may also accept or reject the proposal.

See docs/ledger.md for the whole table.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from coauthor.domain.errors import Conflict, PermissionDenied, ValidationFailed


class State(enum.IntEnum):
    """The nine states of the conversation for action (Fig. 5.1 of the book)."""

    OPENED = 1
    WAITING_FOR_ANSWER = 2
    PROMISED = 3
    REPORTED_COMPLETE = 4
    FULFILLED = 5
    COUNTERED = 6
    RENEGED = 7
    NO_AGREEMENT = 8
    CANCELLED = 9

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES


STATE_LABELS: Mapping[State, str] = {
    State.OPENED: "opened (nothing asked or offered yet)",
    State.WAITING_FOR_ANSWER: "waiting for an answer",
    State.PROMISED: "promised (in progress)",
    State.REPORTED_COMPLETE: "reported complete",
    State.FULFILLED: "fulfilled",
    State.COUNTERED: "countered",
    State.RENEGED: "reneged",
    State.NO_AGREEMENT: "closed without agreement",
    State.CANCELLED: "cancelled",
}

TERMINAL_STATES = frozenset({State.FULFILLED, State.RENEGED, State.NO_AGREEMENT, State.CANCELLED})


class Phase(enum.StrEnum):
    """A state, refined where the transition table depends on more than its number."""

    OPENED = "opened"
    REQUESTED = "requested"
    OFFERED = "offered"
    COUNTERED = "countered"
    OFFER_COUNTERED = "offer_countered"
    PROMISED = "promised"
    RENEGOTIATING = "renegotiating"
    REPORTED = "reported"
    FULFILLED = "fulfilled"
    RENEGED = "reneged"
    NO_AGREEMENT = "no_agreement"
    CANCELLED = "cancelled"

    @property
    def state(self) -> State:
        return PHASE_STATES[self]

    @property
    def label(self) -> str:
        return PHASE_LABELS[self]

    @property
    def awaits(self) -> Party | None:
        """The party who owes the next answer (a request, an offer, a counter, a proposal
        or a completion report to answer); None while the performer works or once closed."""
        return AWAITS.get(self)


PHASE_STATES: Mapping[Phase, State] = {
    Phase.OPENED: State.OPENED,
    Phase.REQUESTED: State.WAITING_FOR_ANSWER,
    Phase.OFFERED: State.WAITING_FOR_ANSWER,
    Phase.COUNTERED: State.COUNTERED,
    Phase.OFFER_COUNTERED: State.COUNTERED,
    Phase.PROMISED: State.PROMISED,
    Phase.RENEGOTIATING: State.PROMISED,
    Phase.REPORTED: State.REPORTED_COMPLETE,
    Phase.FULFILLED: State.FULFILLED,
    Phase.RENEGED: State.RENEGED,
    Phase.NO_AGREEMENT: State.NO_AGREEMENT,
    Phase.CANCELLED: State.CANCELLED,
}

PHASE_LABELS: Mapping[Phase, str] = {
    Phase.OPENED: "opened (nothing asked or offered yet)",
    Phase.REQUESTED: "requested (waiting for the performer's answer)",
    Phase.OFFERED: "offered (waiting for the customer's answer)",
    Phase.COUNTERED: "countered (waiting for the customer's answer to a counter-offer)",
    Phase.OFFER_COUNTERED: (
        "countered (waiting for the performer's answer to the customer's counter-offer)"
    ),
    Phase.PROMISED: "promised (in progress)",
    Phase.RENEGOTIATING: (
        "promised (in progress), with new terms waiting for the customer's answer"
    ),
    Phase.REPORTED: "reported complete (waiting for the customer to declare)",
    Phase.FULFILLED: "fulfilled",
    Phase.RENEGED: "reneged",
    Phase.NO_AGREEMENT: "closed without agreement",
    Phase.CANCELLED: "cancelled",
}


class Party(enum.StrEnum):
    """Who speaks: the customer (A, who is served) or the performer (B, who does the work)."""

    CUSTOMER = "customer"
    PERFORMER = "performer"

    @property
    def other(self) -> Party:
        return Party.PERFORMER if self is Party.CUSTOMER else Party.CUSTOMER


AWAITS: Mapping[Phase, Party] = {
    Phase.REQUESTED: Party.PERFORMER,
    Phase.OFFERED: Party.CUSTOMER,
    Phase.COUNTERED: Party.CUSTOMER,
    Phase.OFFER_COUNTERED: Party.PERFORMER,
    Phase.RENEGOTIATING: Party.CUSTOMER,
    Phase.REPORTED: Party.CUSTOMER,
}


class Move(enum.StrEnum):
    """Every speech act the ledger knows; declared in the order messages list them."""

    REQUEST = "request"
    OFFER = "offer"
    PROMISE = "promise"
    ACCEPT = "accept"
    COUNTER_OFFER = "counter_offer"
    ACCEPT_COUNTER = "accept_counter"
    COUNTER = "counter"
    DECLINE = "decline"
    REJECT = "reject"
    COMMIT_TO_COMMIT = "commit_to_commit"
    REPORT_COMPLETION = "report_completion"
    RENEGOTIATE = "renegotiate"
    RENEGE = "renege"
    CANCEL = "cancel"
    DECLARE_SATISFIED = "declare_satisfied"
    DECLARE_NOT_SATISFIED = "declare_not_satisfied"
    WITHDRAW = "withdraw"
    PROGRESS_NOTE = "progress_note"

    @property
    def phrase(self) -> str:
        """The move as a verb phrase: "the customer may <phrase>"."""
        return MOVE_PHRASES[self]


MOVE_PHRASES: Mapping[Move, str] = {
    Move.REQUEST: "request",
    Move.OFFER: "offer",
    Move.PROMISE: "promise",
    Move.ACCEPT: "accept",
    Move.COUNTER_OFFER: "make a counter-offer",
    Move.ACCEPT_COUNTER: "accept the counter-offer",
    Move.COUNTER: "counter with new terms",
    Move.DECLINE: "decline",
    Move.REJECT: "reject",
    Move.COMMIT_TO_COMMIT: "commit to answer by a date",
    Move.REPORT_COMPLETION: "report completion",
    Move.RENEGOTIATE: "renegotiate",
    Move.RENEGE: "renege",
    Move.CANCEL: "cancel",
    Move.DECLARE_SATISFIED: "declare satisfied",
    Move.DECLARE_NOT_SATISFIED: "declare not satisfied",
    Move.WITHDRAW: "withdraw",
    Move.PROGRESS_NOTE: "add a progress note",
}

OPENING_MOVES = frozenset({Move.REQUEST, Move.OFFER})
# Moves whose conditions and due date are terms: the terms asked or offered, or a
# proposal to change them.
TERM_MOVES = frozenset(
    {Move.REQUEST, Move.OFFER, Move.COUNTER_OFFER, Move.COUNTER, Move.RENEGOTIATE}
)
PROPOSAL_MOVES = TERM_MOVES - OPENING_MOVES
# Assertions: the moves that report on the work, which may point at evidence.
ASSERTION_MOVES = frozenset({Move.REPORT_COMPLETION, Move.PROGRESS_NOTE})
MAX_EVIDENCE = 10


@dataclass(frozen=True)
class Transition:
    """One row of the table: in ``source``, ``party`` may make ``move``, leading to ``target``."""

    source: Phase
    move: Move
    party: Party
    target: Phase


CUSTOMER, PERFORMER = Party.CUSTOMER, Party.PERFORMER

TRANSITIONS: tuple[Transition, ...] = (
    # Winograd & Flores, Fig. 5.1 (DESIGN.md, A = customer, B = performer).
    Transition(Phase.OPENED, Move.REQUEST, CUSTOMER, Phase.REQUESTED),
    Transition(Phase.REQUESTED, Move.PROMISE, PERFORMER, Phase.PROMISED),
    Transition(Phase.REQUESTED, Move.COUNTER_OFFER, PERFORMER, Phase.COUNTERED),
    Transition(Phase.REQUESTED, Move.DECLINE, PERFORMER, Phase.NO_AGREEMENT),
    Transition(Phase.REQUESTED, Move.WITHDRAW, CUSTOMER, Phase.NO_AGREEMENT),
    Transition(Phase.COUNTERED, Move.ACCEPT_COUNTER, CUSTOMER, Phase.PROMISED),
    Transition(Phase.COUNTERED, Move.COUNTER, CUSTOMER, Phase.REQUESTED),
    Transition(Phase.COUNTERED, Move.REJECT, CUSTOMER, Phase.NO_AGREEMENT),
    Transition(Phase.COUNTERED, Move.WITHDRAW, PERFORMER, Phase.NO_AGREEMENT),
    Transition(Phase.PROMISED, Move.REPORT_COMPLETION, PERFORMER, Phase.REPORTED),
    Transition(Phase.PROMISED, Move.RENEGE, PERFORMER, Phase.RENEGED),
    Transition(Phase.PROMISED, Move.CANCEL, CUSTOMER, Phase.CANCELLED),
    Transition(Phase.REPORTED, Move.DECLARE_SATISFIED, CUSTOMER, Phase.FULFILLED),
    Transition(Phase.REPORTED, Move.DECLARE_NOT_SATISFIED, CUSTOMER, Phase.PROMISED),
    Transition(Phase.REPORTED, Move.WITHDRAW, CUSTOMER, Phase.CANCELLED),
    # Offer: states 2 and 6 with the roles reversed; the customer's acceptance is the promise.
    Transition(Phase.OPENED, Move.OFFER, PERFORMER, Phase.OFFERED),
    Transition(Phase.OFFERED, Move.ACCEPT, CUSTOMER, Phase.PROMISED),
    Transition(Phase.OFFERED, Move.COUNTER_OFFER, CUSTOMER, Phase.OFFER_COUNTERED),
    Transition(Phase.OFFERED, Move.DECLINE, CUSTOMER, Phase.NO_AGREEMENT),
    Transition(Phase.OFFERED, Move.WITHDRAW, PERFORMER, Phase.NO_AGREEMENT),
    Transition(Phase.OFFER_COUNTERED, Move.ACCEPT_COUNTER, PERFORMER, Phase.PROMISED),
    Transition(Phase.OFFER_COUNTERED, Move.COUNTER, PERFORMER, Phase.OFFERED),
    Transition(Phase.OFFER_COUNTERED, Move.REJECT, PERFORMER, Phase.NO_AGREEMENT),
    Transition(Phase.OFFER_COUNTERED, Move.WITHDRAW, CUSTOMER, Phase.NO_AGREEMENT),
    # Commit-to-commit: whoever owes the answer in state 2 says when it will come.
    Transition(Phase.REQUESTED, Move.COMMIT_TO_COMMIT, PERFORMER, Phase.REQUESTED),
    Transition(Phase.OFFERED, Move.COMMIT_TO_COMMIT, CUSTOMER, Phase.OFFERED),
    # Renegotiation: a pending proposal is a sub-state of 3 that keeps state 3's moves.
    Transition(Phase.PROMISED, Move.RENEGOTIATE, PERFORMER, Phase.RENEGOTIATING),
    Transition(Phase.RENEGOTIATING, Move.ACCEPT, CUSTOMER, Phase.PROMISED),
    Transition(Phase.RENEGOTIATING, Move.REJECT, CUSTOMER, Phase.PROMISED),
    Transition(Phase.RENEGOTIATING, Move.RENEGOTIATE, PERFORMER, Phase.RENEGOTIATING),
    Transition(Phase.RENEGOTIATING, Move.REPORT_COMPLETION, PERFORMER, Phase.REPORTED),
    Transition(Phase.RENEGOTIATING, Move.RENEGE, PERFORMER, Phase.RENEGED),
    Transition(Phase.RENEGOTIATING, Move.CANCEL, CUSTOMER, Phase.CANCELLED),
    # Progress notes: either party, any open state once the conversation has begun.
    Transition(Phase.REQUESTED, Move.PROGRESS_NOTE, CUSTOMER, Phase.REQUESTED),
    Transition(Phase.REQUESTED, Move.PROGRESS_NOTE, PERFORMER, Phase.REQUESTED),
    Transition(Phase.OFFERED, Move.PROGRESS_NOTE, CUSTOMER, Phase.OFFERED),
    Transition(Phase.OFFERED, Move.PROGRESS_NOTE, PERFORMER, Phase.OFFERED),
    Transition(Phase.COUNTERED, Move.PROGRESS_NOTE, CUSTOMER, Phase.COUNTERED),
    Transition(Phase.COUNTERED, Move.PROGRESS_NOTE, PERFORMER, Phase.COUNTERED),
    Transition(Phase.OFFER_COUNTERED, Move.PROGRESS_NOTE, CUSTOMER, Phase.OFFER_COUNTERED),
    Transition(Phase.OFFER_COUNTERED, Move.PROGRESS_NOTE, PERFORMER, Phase.OFFER_COUNTERED),
    Transition(Phase.PROMISED, Move.PROGRESS_NOTE, CUSTOMER, Phase.PROMISED),
    Transition(Phase.PROMISED, Move.PROGRESS_NOTE, PERFORMER, Phase.PROMISED),
    Transition(Phase.RENEGOTIATING, Move.PROGRESS_NOTE, CUSTOMER, Phase.RENEGOTIATING),
    Transition(Phase.RENEGOTIATING, Move.PROGRESS_NOTE, PERFORMER, Phase.RENEGOTIATING),
    Transition(Phase.REPORTED, Move.PROGRESS_NOTE, CUSTOMER, Phase.REPORTED),
    Transition(Phase.REPORTED, Move.PROGRESS_NOTE, PERFORMER, Phase.REPORTED),
)


def _index(rows: tuple[Transition, ...]) -> dict[tuple[Phase, Move, Party], Phase]:
    targets: dict[tuple[Phase, Move, Party], Phase] = {}
    for row in rows:
        key = (row.source, row.move, row.party)
        if key in targets:
            raise AssertionError(f"the transition table lists {key} twice")
        targets[key] = row.target
    return targets


_TARGETS = _index(TRANSITIONS)


def allowed_moves(where: Phase | CommitmentState, party: Party) -> tuple[Move, ...]:
    """The moves ``party`` may make in a phase (or a commitment's phase), in ``Move`` order."""
    phase = where.phase if isinstance(where, CommitmentState) else where
    return tuple(move for move in Move if (phase, move, party) in _TARGETS)


def _join(phrases: list[str]) -> str:
    if len(phrases) <= 1:
        return "".join(phrases)
    return f"{', '.join(phrases[:-1])} or {phrases[-1]}"


def describe_allowed(phase: Phase) -> str:
    """'This commitment is <phase>; the performer may …; the customer may ….'"""
    if phase.state.is_terminal:
        return f"This commitment is {phase.label}; no further move can be made on it."
    clauses = []
    for party in (Party.PERFORMER, Party.CUSTOMER):
        phrases = [move.phrase for move in allowed_moves(phase, party)]
        if phrases:
            clauses.append(f"the {party} may {_join(phrases)}")
        else:
            clauses.append(f"the {party} has no move to make")
    return f"This commitment is {phase.label}; {'; '.join(clauses)}."


class MoveNotAllowed(Conflict):
    """A move the transition table does not allow in the commitment's current phase.

    A ``Conflict`` (409), not a ``ValidationFailed``: the act itself is well
    formed; it clashes with where the conversation stands, often because the
    other party moved first.
    """

    def __init__(self, phase: Phase, move: Move, party: Party) -> None:
        self.phase = phase
        self.move = move
        self.party = party
        self.allowed: Mapping[Party, tuple[Move, ...]] = {
            each: allowed_moves(phase, each) for each in Party
        }
        super().__init__(
            f"The {party} cannot {move.phrase} now. {describe_allowed(phase)}", loc=("move",)
        )


def next_phase(phase: Phase, move: Move, party: Party) -> Phase:
    """The table lookup; raises ``MoveNotAllowed`` for a (phase, move, party) it lacks."""
    try:
        return _TARGETS[(phase, move, party)]
    except KeyError:
        raise MoveNotAllowed(phase, move, party) from None


@dataclass(frozen=True)
class Terms:
    """What is asked or offered: a description, conditions of satisfaction, a due moment."""

    text: str
    conditions: str = ""
    due_at: datetime | None = None

    def revised(self, conditions: str | None, due_at: datetime | None) -> Terms:
        """These terms with a proposal's conditions and due date applied; one it leaves out
        (None) stays as is."""
        return Terms(
            text=self.text,
            conditions=self.conditions if conditions is None else conditions,
            due_at=self.due_at if due_at is None else due_at,
        )

    @property
    def is_explicit(self) -> bool:
        """Both conditions of satisfaction and a due date are stated."""
        return bool(self.conditions.strip()) and self.due_at is not None


def _require_aware(value: datetime | None, name: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValidationFailed.one(name, "must include a time zone")


def check_act(
    move: Move,
    actor_id: str,
    at: datetime,
    text: str,
    conditions: str | None,
    due_at: datetime | None,
    reply_by: datetime | None,
    evidence: Sequence[str],
) -> None:
    """What makes a speech act well formed, whatever the commitment's state (see
    ``SpeechAct``); raises ``ValidationFailed`` naming the field. The import checks an
    archive's acts with it without building a ``SpeechAct`` each."""
    _require_aware(at, "at")
    _require_aware(due_at, "due_at")
    _require_aware(reply_by, "reply_by")
    if not actor_id:
        raise ValidationFailed.one("actor_id", "says who made the move and cannot be empty")
    _check_terms(move, text, conditions, due_at)
    _check_reply_by(move, at, reply_by)
    if evidence:
        _check_evidence(move, evidence)


def _check_evidence(move: Move, evidence: Sequence[str]) -> None:
    if move not in ASSERTION_MOVES:
        raise ValidationFailed.one(
            "evidence",
            f"only a completion report or a progress note carries evidence, "
            f"not a {move.phrase} move",
        )
    if len(evidence) > MAX_EVIDENCE:
        raise ValidationFailed.one("evidence", f"at most {MAX_EVIDENCE} links")


def _check_terms(move: Move, text: str, conditions: str | None, due_at: datetime | None) -> None:
    if move in OPENING_MOVES and not text.strip():
        raise ValidationFailed.one("text", f"say what the {move} is for")
    states_terms = conditions is not None or due_at is not None
    if move not in TERM_MOVES and states_terms:
        raise ValidationFailed.one(
            "conditions" if conditions is not None else "due_at",
            f"only a request, an offer, a counter-offer, a counter or a renegotiation "
            f"states terms, not a {move.phrase} move",
        )
    if move in PROPOSAL_MOVES and not states_terms:
        raise ValidationFailed.one(
            "conditions", "propose new conditions of satisfaction, a new due date or both"
        )


def _check_reply_by(move: Move, at: datetime, reply_by: datetime | None) -> None:
    if move is Move.COMMIT_TO_COMMIT:
        if reply_by is None:
            raise ValidationFailed.one("reply_by", "say by when the answer will come")
        if reply_by <= at:
            raise ValidationFailed.one("reply_by", "must be later than the move itself")
    elif reply_by is not None:
        raise ValidationFailed.one("reply_by", "only a commit-to-commit has a reply-by date")


@dataclass(frozen=True)
class SpeechAct:
    """One move, immutable once made.

    ``text`` is what the speaker said; for a request or an offer it is also the
    description of the work. ``conditions`` and ``due_at`` are terms: on a
    request or an offer the terms asked or offered; on a counter-offer, a
    counter or a renegotiation the proposed new terms, where ``None`` keeps the
    current value. ``reply_by`` is the date a commit-to-commit promises an
    answer by. ``evidence`` points at what backs an assertion (a completion
    report or a progress note): links, as the speaker gave them. Times are
    timezone-aware; a calendar due date is the caller's to turn into a moment
    (e.g. the end of that day in the alliance's time zone).
    """

    move: Move
    party: Party
    actor_id: str
    at: datetime
    text: str = ""
    conditions: str | None = None
    due_at: datetime | None = None
    reply_by: datetime | None = None
    evidence: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_act(
            self.move,
            self.actor_id,
            self.at,
            self.text,
            self.conditions,
            self.due_at,
            self.reply_by,
            self.evidence,
        )

    @property
    def terms(self) -> Terms:
        """The terms an opening move states."""
        return Terms(self.text, self.conditions or "", self.due_at)


@dataclass(frozen=True)
class Roster:
    """Who may speak for each party.

    A joint commitment has co-performers from several partners; any one of
    them may make a performer move, and it binds the performer side as a whole.
    """

    customer_ids: frozenset[str]
    performer_ids: frozenset[str]

    def __post_init__(self) -> None:
        if not self.customer_ids:
            raise ValidationFailed.one("customer_ids", "a commitment needs a customer")
        if not self.performer_ids:
            raise ValidationFailed.one("performer_ids", "a commitment needs a performer")
        both = sorted(self.customer_ids & self.performer_ids)
        if both:
            raise ValidationFailed.one(
                "performer_ids", f"{', '.join(both)} cannot be both customer and performer"
            )

    def ids(self, party: Party) -> frozenset[str]:
        return self.customer_ids if party is Party.CUSTOMER else self.performer_ids


@dataclass(frozen=True)
class Visit:
    """The commitment entered ``phase`` at ``at``."""

    phase: Phase
    at: datetime


_PROPOSAL_PHASES = frozenset({Phase.COUNTERED, Phase.OFFER_COUNTERED, Phase.RENEGOTIATING})


@dataclass(frozen=True)
class CommitmentState:
    """What a commitment's acts add up to.

    ``terms`` are the terms on the table: asked or offered while in state 2,
    agreed from state 3 on. ``proposal`` is a counter-offer (state 6) or a
    renegotiation (``RENEGOTIATING``) waiting for an answer. ``path`` lists
    every phase entered, with when; self-loops (progress notes,
    commit-to-commit, a second renegotiation) do not add to it.
    """

    phase: Phase = Phase.OPENED
    opened_by: Move | None = None
    terms: Terms | None = None
    proposal: Terms | None = None
    reply_by: datetime | None = None
    path: tuple[Visit, ...] = ()
    last_move_at: datetime | None = None
    moves_made: int = 0

    @property
    def state(self) -> State:
        return self.phase.state

    @property
    def is_terminal(self) -> bool:
        return self.state.is_terminal

    @property
    def pending_renegotiation(self) -> Terms | None:
        return self.proposal if self.phase is Phase.RENEGOTIATING else None

    def entries(self, state: State) -> tuple[datetime, ...]:
        """Every moment the commitment entered ``state`` from another state."""
        moments = []
        previous = State.OPENED
        for visit in self.path:
            if visit.phase.state is state and previous is not state:
                moments.append(visit.at)
            previous = visit.phase.state
        return tuple(moments)

    def entered_at(self, state: State) -> datetime | None:
        """The last time the commitment entered ``state``, if it ever did."""
        moments = self.entries(state)
        return moments[-1] if moments else None


def next_terms(
    terms: Terms | None,
    proposal: Terms | None,
    move: Move,
    text: str,
    conditions: str | None,
    due_at: datetime | None,
) -> tuple[Terms | None, Terms | None]:
    """(terms, proposal) after a move, before the phase rule clears stale proposals."""
    match move:
        case Move.REQUEST | Move.OFFER:
            return Terms(text, conditions or "", due_at), None
        case Move.COUNTER_OFFER | Move.RENEGOTIATE:
            assert terms is not None
            return terms, terms.revised(conditions, due_at)
        case Move.COUNTER:
            assert proposal is not None
            return proposal.revised(conditions, due_at), None
        case Move.ACCEPT_COUNTER:
            return proposal, None
        case Move.ACCEPT if proposal is not None:
            return proposal, None
        case _:
            return terms, proposal


def _check_speaker(act: SpeechAct, roster: Roster | None) -> None:
    if roster is not None and act.actor_id not in roster.ids(act.party):
        raise PermissionDenied(
            f"{act.actor_id} is not among this commitment's {act.party}s, "
            f"so cannot {act.move.phrase} as its {act.party}."
        )


def _check_order(last: datetime | None, at: datetime) -> None:
    if last is not None and at < last:
        raise ValidationFailed.one("at", f"is earlier than the previous move ({last.isoformat()})")


def next_reply_by(
    current: datetime | None, move: Move, reply_by: datetime | None, moved: bool
) -> datetime | None:
    """A commit-to-commit sets the reply-by date; it lapses when the phase changes."""
    if move is Move.COMMIT_TO_COMMIT:
        return reply_by
    return None if moved else current


def step(state: CommitmentState, act: SpeechAct, roster: Roster | None = None) -> CommitmentState:
    """The state after one more act; raises and leaves ``state`` as it was if it is refused.

    Acts come in time order; ``roster``, when given, says who may speak for
    each party.
    """
    _check_order(state.last_move_at, act.at)
    if roster is not None:
        _check_speaker(act, roster)
    target = _TARGETS.get((state.phase, act.move, act.party))
    if target is None:
        raise MoveNotAllowed(state.phase, act.move, act.party)
    terms, proposal = next_terms(
        state.terms, state.proposal, act.move, act.text, act.conditions, act.due_at
    )
    moved = target is not state.phase
    return CommitmentState(
        target,
        act.move if act.move in OPENING_MOVES else state.opened_by,
        terms,
        proposal if target in _PROPOSAL_PHASES else None,
        next_reply_by(state.reply_by, act.move, act.reply_by, moved),
        (*state.path, Visit(target, act.at)) if moved else state.path,
        act.at,
        state.moves_made + 1,
    )


def replay(acts: Iterable[SpeechAct], roster: Roster | None = None) -> CommitmentState:
    """Fold a commitment's acts, in time order, into its state."""
    state = CommitmentState()
    for act in acts:
        state = step(state, act, roster)
    return state


class ActStep(NamedTuple):
    """One act as the figures' facts read it (``ledger_metrics.summarize_steps``): the move,
    who made it and when, and the phase and terms it left the commitment in."""

    move: Move
    party: Party
    at: datetime
    phase: Phase
    terms: Terms | None


def act_steps(acts: Iterable[SpeechAct]) -> list[ActStep]:
    """Each act with the phase and terms after it, replayed through ``step``."""
    steps, state = [], CommitmentState()
    for act in acts:
        state = step(state, act)
        steps.append(ActStep(act.move, act.party, act.at, state.phase, state.terms))
    return steps


# The transition table once more, on small ints for ``Replay``: a phase, a move and a
# party are numbered by their order in their enum, and ``_NEXT_CODES`` holds, at
# ``(phase * len(Move) + move) * len(Party) + party``, the target phase's number, or -1
# where the table has no row.
_PHASES: tuple[Phase, ...] = tuple(Phase)
_PHASE_CODES: Mapping[Phase, int] = {phase: code for code, phase in enumerate(_PHASES)}
_MOVE_CODES: Mapping[Move, int] = {move: code for code, move in enumerate(Move)}
_PARTY_CODES: Mapping[Party, int] = {party: code for code, party in enumerate(Party)}
_NEXT_CODES: list[int] = [-1] * (len(_PHASES) * len(_MOVE_CODES) * len(_PARTY_CODES))
for (_source, _move, _party), _target in _TARGETS.items():
    _slot = (_PHASE_CODES[_source] * len(_MOVE_CODES) + _MOVE_CODES[_move]) * len(
        _PARTY_CODES
    ) + _PARTY_CODES[_party]
    _NEXT_CODES[_slot] = _PHASE_CODES[_target]
_HOLDS_PROPOSAL: tuple[bool, ...] = tuple(phase in _PROPOSAL_PHASES for phase in _PHASES)


class Replay:
    """One commitment's acts folded from plain values, one at a time, as ``step`` folds
    them: the same checks (``check_act``, time order), the same table (numbered), the same
    terms (``next_terms``) and reply-by rule, without a ``SpeechAct`` and a
    ``CommitmentState`` per act — an archive import folds a million acts. ``steps`` is
    every act as the figures' facts read it; no roster is checked (an archive's parties
    are checked as a whole)."""

    __slots__ = ("code", "last_move_at", "proposal", "reply_by", "steps", "terms")

    def __init__(self) -> None:
        self.code = _PHASE_CODES[Phase.OPENED]
        self.terms: Terms | None = None
        self.proposal: Terms | None = None
        self.reply_by: datetime | None = None
        self.last_move_at: datetime | None = None
        self.steps: list[ActStep] = []

    def advance(
        self,
        move: Move,
        party: Party,
        actor_id: str,
        at: datetime,
        text: str,
        conditions: str | None,
        due_at: datetime | None,
        reply_by: datetime | None,
        evidence: Sequence[str],
    ) -> None:
        """Fold one more act; raises as ``step`` does, leaving the fold as it was."""
        check_act(move, actor_id, at, text, conditions, due_at, reply_by, evidence)
        _check_order(self.last_move_at, at)
        code = self.code
        slot = (code * len(_MOVE_CODES) + _MOVE_CODES[move]) * len(_PARTY_CODES)
        target = _NEXT_CODES[slot + _PARTY_CODES[party]]
        if target < 0:
            raise MoveNotAllowed(_PHASES[code], move, party)
        terms, proposal = next_terms(self.terms, self.proposal, move, text, conditions, due_at)
        self.reply_by = next_reply_by(self.reply_by, move, reply_by, target != code)
        self.proposal = proposal if _HOLDS_PROPOSAL[target] else None
        self.code, self.terms, self.last_move_at = target, terms, at
        self.steps.append(ActStep(move, party, at, _PHASES[target], terms))

    @property
    def phase(self) -> Phase:
        return _PHASES[self.code]
