"""What the commitment ledger says about an alliance: reliability, responsiveness, clarity, …

Pure functions over plain records: a commitment's acts and derived state, the
partners on each side, and the moment the figures are taken (``now``). The
definitions are in the docstrings below and in docs/ledger.md, "Metrics".

Conventions that hold for every figure:

- A *request* is any conversation that has been opened, by a request or by an
  offer; a *promise* is a commitment that reached state 3.
- Declining, countering and renegotiating never count against anyone: no
  figure has them in a failure count, and a promise whose renegotiation waits
  for the customer's answer is not judged.
- A ratio with nothing to divide by is ``None``, never 0.
- In one partner's view, a figure about one side's conduct (a performer's
  reliability, a customer's cancellations, whoever owed an answer) counts
  only what that partner did on that side; a figure about a conversation as a
  whole (requests, counter-offer rounds, rework loops, reciprocity) counts
  every conversation the partner takes part in.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, Literal

import numpy as np

from coauthor.domain.ledger import (
    PHASE_STATES,
    TERMINAL_STATES,
    ActStep,
    CommitmentState,
    Move,
    Party,
    Phase,
    SpeechAct,
    State,
    Terms,
    act_steps,
    replay,
)

Period = Literal["month", "quarter"]
Outcome = Literal["kept", "broken"]

SECONDS_PER_HOUR = 3600.0
# Moves by which a performer speaks up about a promise; one after the due date
# means the due date did not pass in silence.
SPEAKING_UP = frozenset({Move.REPORT_COMPLETION, Move.RENEGOTIATE, Move.RENEGE, Move.PROGRESS_NOTE})
CANDID_MOVES = frozenset({Move.DECLINE, Move.COUNTER_OFFER, Move.COUNTER})
# Who owes the answer while a commitment waits in state 2 or 4.
ANSWERER = {
    Phase.REQUESTED: Party.PERFORMER,
    Phase.OFFERED: Party.CUSTOMER,
    Phase.REPORTED: Party.CUSTOMER,
}
OPENER = {Move.REQUEST: Party.CUSTOMER, Move.OFFER: Party.PERFORMER}
WAITING_STATES = frozenset({State.WAITING_FOR_ANSWER, State.REPORTED_COMPLETE})


@dataclass(frozen=True)
class CommitmentRecord:
    """One commitment as the metrics see it.

    A joint commitment lists every co-performer's partner; each of them is on
    the performer side of every figure.
    """

    alliance_id: str
    commitment_id: str
    customer_partner_id: str
    performer_partner_ids: tuple[str, ...]
    acts: tuple[SpeechAct, ...]
    state: CommitmentState

    @classmethod
    def from_acts(
        cls,
        *,
        alliance_id: str,
        commitment_id: str,
        customer_partner_id: str,
        performer_partner_ids: Sequence[str],
        acts: Sequence[SpeechAct],
    ) -> CommitmentRecord:
        return cls(
            alliance_id=alliance_id,
            commitment_id=commitment_id,
            customer_partner_id=customer_partner_id,
            performer_partner_ids=tuple(performer_partner_ids),
            acts=tuple(acts),
            state=replay(acts),
        )

    def partners(self, party: Party) -> frozenset[str]:
        if party is Party.CUSTOMER:
            return frozenset({self.customer_partner_id})
        return frozenset(self.performer_partner_ids)


# ---------------------------------------------------------------- result types


def _share(count: int, of: int) -> float | None:
    return count / of if of else None


@dataclass(frozen=True)
class Ratio:
    """``count`` out of ``of``; ``value`` is None when ``of`` is 0."""

    count: int
    of: int

    @property
    def value(self) -> float | None:
        return _share(self.count, self.of)

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "count": self.count, "of": self.of}


@dataclass(frozen=True)
class Waits:
    """Hours waited for an answer: waits that ended in one, and waits still open at ``now``."""

    answered_hours: tuple[float, ...]
    waiting_hours: tuple[float, ...]

    @property
    def median_hours(self) -> float | None:
        return float(np.median(self.answered_hours)) if self.answered_hours else None

    @property
    def p90_hours(self) -> float | None:
        """90th percentile, linear between order statistics (numpy's default)."""
        return float(np.percentile(self.answered_hours, 90)) if self.answered_hours else None

    @property
    def longest_waiting_hours(self) -> float | None:
        return max(self.waiting_hours) if self.waiting_hours else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "answered": len(self.answered_hours),
            "median_hours": self.median_hours,
            "p90_hours": self.p90_hours,
            "currently_waiting": len(self.waiting_hours),
            "longest_waiting_hours": self.longest_waiting_hours,
        }


@dataclass(frozen=True)
class Clarity:
    """Requests stating conditions of satisfaction and a due date; counter-offer rounds."""

    explicit: Ratio
    counter_offers: int
    requests: int

    @property
    def counter_offers_per_request(self) -> float | None:
        return _share(self.counter_offers, self.requests)

    def to_dict(self) -> dict[str, Any]:
        return {
            "explicit": self.explicit.to_dict(),
            "requests": self.requests,
            "counter_offers": self.counter_offers,
            "counter_offers_per_request": self.counter_offers_per_request,
        }


@dataclass(frozen=True)
class Candor:
    """Declines and counters (counter-offers and counters) per request: healthy, not failure."""

    declines: int
    counters: int
    requests: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "declines": self.declines,
            "counters": self.counters,
            "declines_per_request": _share(self.declines, self.requests),
            "counters_per_request": _share(self.counters, self.requests),
        }


@dataclass(frozen=True)
class SilentLapses:
    """Promises whose due date passed in state 3 with the performer silent after it."""

    lapsed: int
    current: int
    past_due: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.lapsed,
            "current": self.current,
            "past_due": self.past_due,
            "share_of_past_due": _share(self.lapsed, self.past_due),
        }


@dataclass(frozen=True)
class Reciprocity:
    """Partner × partner counts; row = customer partner, column = performer partner."""

    partner_ids: tuple[str, ...]
    asked: tuple[tuple[int, ...], ...]
    promised: tuple[tuple[int, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "partners": list(self.partner_ids),
            "asked": [list(row) for row in self.asked],
            "promised": [list(row) for row in self.promised],
        }


@dataclass(frozen=True)
class LedgerMetrics:
    """The ledger's figures over a set of commitments (or one partner's view of them).

    - ``requests``: conversations opened; ``promises``: of them, those that reached 3.
    - ``reliability``: promises kept out of promises judged. Kept: fulfilled, the
      accepted completion report made by the due date in force (or no due date).
      Broken: reneged; fulfilled on a later report; open or cancelled after the
      due date, unless in state 4 on a report made in time. Not judged: not yet
      due, cancelled before due, or a renegotiation waiting for the customer.
    - ``renege_rate`` / ``cancel_rate``: reneged / cancelled out of ended promises.
    - ``answer_waits``: stays in state 2 until the party owing the answer moved
      it on; ``declaration_waits``: stays in state 4 until the customer did.
    - ``clarity``: requests stating conditions and a due date; counter-offer rounds.
    - ``candor``: declines and counters per request.
    - ``silent_lapses``: see ``_lapse``.
    - ``rework_loops``: 4 → 3 transitions out of completion reports.
    - ``reciprocity``: requests asked and promises made, customer × performer partner.
    """

    requests: int
    promises: int
    reliability: Ratio
    renege_rate: Ratio
    cancel_rate: Ratio
    answer_waits: Waits
    declaration_waits: Waits
    clarity: Clarity
    candor: Candor
    silent_lapses: SilentLapses
    rework_loops: Ratio
    reciprocity: Reciprocity

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures; the keys are documented in docs/ledger.md, "Metrics"."""
        return {
            "requests": self.requests,
            "promises": self.promises,
            "reliability": self.reliability.to_dict(),
            "renege_rate": self.renege_rate.to_dict(),
            "cancel_rate": self.cancel_rate.to_dict(),
            "responsiveness": {
                "answer": self.answer_waits.to_dict(),
                "declaration": self.declaration_waits.to_dict(),
            },
            "clarity": self.clarity.to_dict(),
            "candor": self.candor.to_dict(),
            "silent_lapses": self.silent_lapses.to_dict(),
            "rework_loops": self.rework_loops.to_dict(),
            "reciprocity": self.reciprocity.to_dict(),
        }


# ------------------------------------------------------- per-commitment facts
#
# The figures are computed in two stages. ``summarize`` folds one commitment's
# acts into ``CommitmentFacts``: everything the figures need that does not
# depend on the moment they are taken (an answered wait, how a promise ended,
# when an open promise becomes late). Services store these facts beside each
# commitment, recomputed in the same write as every move, so figures over a
# large ledger never replay acts. ``FactsTable`` holds many commitments'
# facts as columns, and the aggregation resolves what depends on ``now``
# (waits still open, promises still open past their due date, silence in
# state 3) with array arithmetic.


@dataclass(frozen=True)
class AnsweredWait:
    """A stay in state 2 or 4 that the party owing the answer ended, and its length."""

    state: State
    answerer: Party
    hours: float


@dataclass(frozen=True)
class CommitmentFacts:
    """What the figures need from one opened commitment; nothing here depends on ``now``.

    - ``outcome`` is the judgement of a closed promise ("kept", "broken" or None:
      not judged); ``broken_after`` is the moment after which an open promise is
      late (None: it cannot become late as it stands).
    - ``lapsed_before`` / ``past_due_before`` cover the stays in state 3 that
      ended; the current stay, if any, is described by ``due_in_3`` (the due date
      in force, None when not in 3 or without one), ``renegotiating`` and
      ``spoke_in_3`` (the performer's last completion report, renegotiation,
      renege or note in this stay).
    - ``waiting_since`` / ``waiting_state`` / ``waiting_answerer``: a stay in 2
      or 4 still waiting for an answer.
    """

    alliance_id: str
    commitment_id: str
    customer_partner_id: str
    performer_partner_ids: tuple[str, ...]
    opened_at: datetime
    last_move_at: datetime
    opener: Party
    explicit: bool
    promised: bool
    ended: State | None
    outcome: Outcome | None
    broken_after: datetime | None
    counter_offers: int
    reports: int
    rework_loops: int
    customer_declines: int
    performer_declines: int
    customer_counters: int
    performer_counters: int
    lapsed_before: bool
    past_due_before: bool
    due_in_3: datetime | None
    renegotiating: bool
    spoke_in_3: datetime | None
    waiting_since: datetime | None
    waiting_state: State | None
    waiting_answerer: Party | None
    answered: tuple[AnsweredWait, ...]


def _late_after(phase: Phase, terms: Terms | None, last_report: datetime | None) -> datetime | None:
    """After which moment a promise standing in ``phase`` on ``terms`` is late (None: it is
    not judged).

    A pending renegotiation is not judged; a completion report made by the due
    date and waiting for the customer is not late.
    """
    due = terms.due_at if terms else None
    if phase is Phase.RENEGOTIATING or due is None:
        return None
    reported_in_time = last_report is not None and last_report <= due
    if phase is Phase.REPORTED and reported_in_time:
        return None
    return due


def _judgement(
    final: ActStep, before_final: ActStep | None, last_report: datetime | None
) -> tuple[Outcome | None, datetime | None]:
    """(outcome of a closed promise, moment an open one turns late); see ``reliability``."""
    if final.phase is Phase.FULFILLED:
        due = final.terms.due_at if final.terms else None
        on_time = due is None or (last_report is not None and last_report <= due)
        return ("kept" if on_time else "broken"), None
    if final.phase is Phase.RENEGED:
        return "broken", None
    if final.phase is Phase.CANCELLED:
        before = (Phase.OPENED, None) if before_final is None else before_final[3:]
        late_after = _late_after(*before, last_report)
        late = late_after is not None and final.at > late_after
        return ("broken" if late else None), None
    return None, _late_after(final.phase, final.terms, last_report)


class _Fold:
    """One pass over a commitment's steps (each act with the phase and terms after it),
    gathering its facts.

    Waits: each stay in state 2 or 4 is answered when the party who owed the
    answer moves it on; a stay ended by the other party (an asker withdrawing
    in state 2) had no answer and is left out, and so is an answer given at
    the very moment of the question (an obligation's period enters the ledger
    asked and promised at once: nobody waited); a stay that has not ended is
    kept apart as (since, state, who owes the answer).

    Silent lapses: each stay in state 3 is judged on the due date in force
    when it ends (by the move that leaves 3, or ``now``): past due if that date
    is before the end; lapsed if, besides, no completion report,
    renegotiation, renege or progress note came from the performer after it,
    unless the stay ends with a renegotiation waiting for the customer's
    answer. The stays that ended are judged here; the current one is left to
    ``now`` (``due_in_3``, ``renegotiating``, ``spoke_in_3``).

    Plain attributes and one method per act, no ``Counter``: an archive import
    folds a million acts through it.
    """

    __slots__ = (
        "answered",
        "candid",
        "counter_offers",
        "lapsed",
        "last_report",
        "past_due",
        "promised",
        "reports",
        "rework_loops",
        "spoke",
        "waiting",
    )

    def __init__(self) -> None:
        self.counter_offers = self.reports = self.rework_loops = 0
        self.candid = [0, 0, 0, 0]  # by (the performer spoke, it was a decline)
        self.last_report: datetime | None = None
        self.answered: list[AnsweredWait] = []
        self.waiting: tuple[datetime, State, Party] | None = None
        self.lapsed = self.past_due = self.promised = False
        self.spoke: datetime | None = None

    def add(self, act: ActStep, was: State, before_phase: Phase, before: Terms | None) -> State:
        """Fold one step taken from state ``was`` (phase ``before_phase`` on terms ``before``);
        returns the state it entered."""
        move, party, at, phase, _ = act
        if move is Move.REPORT_COMPLETION:
            self.reports += 1
            self.last_report = at
        elif move is Move.COUNTER_OFFER:
            self.counter_offers += 1
        elif move is Move.DECLARE_NOT_SATISFIED:
            self.rework_loops += 1
        if move in CANDID_MOVES:
            self.candid[(party is Party.PERFORMER) * 2 + (move is Move.DECLINE)] += 1
        now = PHASE_STATES[phase]
        if now is State.PROMISED:
            self.promised = True
        if was is not now:
            self._wait_ends(party, at, now, phase)
        if was is State.PROMISED:
            self._in_3(move, party, at, before_phase, before, now)
        else:
            self.spoke = None
        return now

    def _wait_ends(self, party: Party, at: datetime, now: State, phase: Phase) -> None:
        if self.waiting is not None:
            since, state, answerer = self.waiting
            waited = (at - since).total_seconds() / SECONDS_PER_HOUR
            if party is answerer and waited > 0:
                self.answered.append(AnsweredWait(state, answerer, waited))
            self.waiting = None
        if now in WAITING_STATES:
            self.waiting = (at, now, ANSWERER[phase])

    def _in_3(
        self,
        move: Move,
        party: Party,
        at: datetime,
        before_phase: Phase,
        before: Terms | None,
        now: State,
    ) -> None:
        if party is Party.PERFORMER and move in SPEAKING_UP:
            self.spoke = at
        if now is State.PROMISED:
            return
        due = before.due_at if before else None
        if due is not None and at > due:
            self.past_due = True
            waiting_for_customer = before_phase is Phase.RENEGOTIATING
            spoke_after = self.spoke is not None and self.spoke > due
            self.lapsed |= not waiting_for_customer and not spoke_after

    def counted(self, performer: bool, decline: bool) -> int:
        return self.candid[performer * 2 + decline]


def summarize_steps(
    steps: Sequence[ActStep],
    *,
    alliance_id: str,
    commitment_id: str,
    customer_partner_id: str,
    performer_partner_ids: Sequence[str],
) -> CommitmentFacts | None:
    """The facts of one commitment from its steps (its acts in time order, each with the
    phase and terms it left: ``act_steps`` from ``SpeechAct``s, or an import's ``Replay``);
    None if not opened yet. The one definition of every fact."""
    if not steps:
        return None
    fold = _Fold()
    was, before_phase, before = State.OPENED, Phase.OPENED, None
    for act in steps:
        was = fold.add(act, was, before_phase, before)
        before_phase, before = act.phase, act.terms
    first, final = steps[0], steps[-1]
    promised = fold.promised
    before_final = steps[-2] if len(steps) > 1 else None
    judged = _judgement(final, before_final, fold.last_report)
    outcome, broken_after = judged if promised else (None, None)
    in_3 = was is State.PROMISED
    waiting = fold.waiting
    return CommitmentFacts(
        alliance_id=alliance_id,
        commitment_id=commitment_id,
        customer_partner_id=customer_partner_id,
        performer_partner_ids=tuple(performer_partner_ids),
        opened_at=first.at,
        last_move_at=final.at,
        opener=OPENER[first.move],
        explicit=first.terms is not None and first.terms.is_explicit,
        promised=promised,
        ended=was if promised and was in TERMINAL_STATES else None,
        outcome=outcome,
        broken_after=broken_after,
        counter_offers=fold.counter_offers,
        reports=fold.reports,
        rework_loops=fold.rework_loops,
        customer_declines=fold.counted(performer=False, decline=True),
        performer_declines=fold.counted(performer=True, decline=True),
        customer_counters=fold.counted(performer=False, decline=False),
        performer_counters=fold.counted(performer=True, decline=False),
        lapsed_before=fold.lapsed,
        past_due_before=fold.past_due,
        due_in_3=(final.terms.due_at if final.terms else None) if in_3 else None,
        renegotiating=in_3 and final.phase is Phase.RENEGOTIATING,
        spoke_in_3=fold.spoke if in_3 else None,
        waiting_since=waiting[0] if waiting else None,
        waiting_state=waiting[1] if waiting else None,
        waiting_answerer=waiting[2] if waiting else None,
        answered=tuple(fold.answered),
    )


def summarize(
    acts: Sequence[SpeechAct],
    *,
    alliance_id: str,
    commitment_id: str,
    customer_partner_id: str,
    performer_partner_ids: Sequence[str],
) -> CommitmentFacts | None:
    """The facts of one commitment from its acts (in time order); None if not opened yet."""
    return summarize_steps(
        act_steps(acts),
        alliance_id=alliance_id,
        commitment_id=commitment_id,
        customer_partner_id=customer_partner_id,
        performer_partner_ids=performer_partner_ids,
    )


def facts_of_record(record: CommitmentRecord) -> CommitmentFacts | None:
    """The facts of a record, after checking its state is what its acts add up to."""
    if record.acts and replay(record.acts) != record.state:
        raise ValueError(
            f"commitment {record.commitment_id}: its state is not what its acts add up to"
        )
    return summarize(
        record.acts,
        alliance_id=record.alliance_id,
        commitment_id=record.commitment_id,
        customer_partner_id=record.customer_partner_id,
        performer_partner_ids=record.performer_partner_ids,
    )


# ----------------------------------------------------------------- the table
#
# Stored, a commitment's facts are two binary records of fixed layout: its
# numbers (``FACT_RECORD``, one) and its answered waits (``WAIT_RECORD``, one
# per wait, in the order they ended). Reading a large ledger then costs one
# bytes object per commitment, not a Python object per value: numpy turns the
# concatenated records into columns in one step (``FactsTable.from_rows``).

_FACT_LAYOUT = (
    ("opened_at", "d"),
    ("last_move_at", "d"),
    ("broken_after", "d"),
    ("due_in_3", "d"),
    ("spoke_in_3", "d"),
    ("waiting_since", "d"),
    ("counter_offers", "i"),
    ("reports", "i"),
    ("rework_loops", "i"),
    ("customer_declines", "i"),
    ("performer_declines", "i"),
    ("customer_counters", "i"),
    ("performer_counters", "i"),
    ("opened_by_customer", "B"),
    ("explicit", "B"),
    ("promised", "B"),
    ("ended", "B"),
    ("outcome", "B"),
    ("lapsed_before", "B"),
    ("past_due_before", "B"),
    ("renegotiating", "B"),
    ("waiting_state", "B"),
    ("waiting_by_customer", "B"),
)
_WAIT_LAYOUT = (("state", "B"), ("by_customer", "B"), ("hours", "d"))


def _record(layout: tuple[tuple[str, str], ...]) -> tuple[np.dtype, struct.Struct]:
    """The numpy type that reads records of ``layout`` and the struct that writes one:
    little-endian, packed (struct's standard sizes are numpy's)."""
    return (
        np.dtype([(name, "<" + code) for name, code in layout]),
        struct.Struct("<" + "".join(code for _, code in layout)),
    )


FACT_RECORD, _FACT_STRUCT = _record(_FACT_LAYOUT)
"""One commitment's facts as stored: moments in seconds since the epoch (UTC; NaN for
none), counts as 32-bit integers, states as their numbers (0 for none), outcomes as
``OUTCOME_CODES``, parties as "is it the customer", flags as 0 or 1."""

WAIT_RECORD, _WAIT_STRUCT = _record(_WAIT_LAYOUT)
"""One answered wait as stored: the state waited in, whether the customer owed the answer,
and the hours waited."""

OUTCOME_CODES: dict[Outcome | None, int] = {None: 0, "kept": 1, "broken": 2}
OUTCOMES: dict[int, Outcome | None] = {code: outcome for outcome, code in OUTCOME_CODES.items()}

FLOAT_FACTS = (
    "opened_at",
    "last_move_at",
    "broken_after",
    "due_in_3",
    "spoke_in_3",
    "waiting_since",
)
FLAG_FACTS = (
    "opened_by_customer",
    "explicit",
    "promised",
    "lapsed_before",
    "past_due_before",
    "renegotiating",
    "waiting_by_customer",
)
INT_FACTS = (
    "ended",
    "outcome",
    "waiting_state",
    "counter_offers",
    "reports",
    "rework_loops",
    "customer_declines",
    "performer_declines",
    "customer_counters",
    "performer_counters",
)


def _seconds(moment: datetime | None) -> float:
    return np.nan if moment is None else moment.timestamp()


def _number(state: State | None) -> int:
    return 0 if state is None else int(state)


def fact_record(facts: CommitmentFacts) -> bytes:
    """The numbers of ``facts`` as one ``FACT_RECORD``."""
    values = (
        _seconds(facts.opened_at),
        _seconds(facts.last_move_at),
        _seconds(facts.broken_after),
        _seconds(facts.due_in_3),
        _seconds(facts.spoke_in_3),
        _seconds(facts.waiting_since),
        facts.counter_offers,
        facts.reports,
        facts.rework_loops,
        facts.customer_declines,
        facts.performer_declines,
        facts.customer_counters,
        facts.performer_counters,
        facts.opener is Party.CUSTOMER,
        facts.explicit,
        facts.promised,
        _number(facts.ended),
        OUTCOME_CODES[facts.outcome],
        facts.lapsed_before,
        facts.past_due_before,
        facts.renegotiating,
        _number(facts.waiting_state),
        facts.waiting_answerer is Party.CUSTOMER,
    )
    return _FACT_STRUCT.pack(*values)


def wait_records(facts: CommitmentFacts) -> bytes:
    """The answered waits of ``facts`` as ``WAIT_RECORD``s, in the order they ended."""
    return b"".join(
        _WAIT_STRUCT.pack(int(wait.state), wait.answerer is Party.CUSTOMER, wait.hours)
        for wait in facts.answered
    )


def stored_outcome(record: bytes) -> Outcome | None:
    """The outcome kept in a stored ``FACT_RECORD`` (see ``CommitmentFacts.outcome``)."""
    return OUTCOMES[int(np.frombuffer(record, dtype=FACT_RECORD)["outcome"][0])]


def fact_row(facts: CommitmentFacts) -> tuple[str, str, bytes, bytes]:
    """``facts`` as ``FactsTable.from_rows`` reads them: customer partner, performer
    partners joined by spaces, the ``FACT_RECORD`` and the ``WAIT_RECORD``s."""
    return (
        facts.customer_partner_id,
        " ".join(facts.performer_partner_ids),
        fact_record(facts),
        wait_records(facts),
    )


def _column(records: np.ndarray, name: str) -> np.ndarray:
    values = records[name]
    if name in FLAG_FACTS:
        return values.astype(bool)
    if name in INT_FACTS:
        return values.astype(np.int64)
    return values.astype(float)


@dataclass(frozen=True)
class FactsTable:
    """Many commitments' facts as columns (numpy arrays), ready to aggregate.

    Rows are commitments; ``partner_ids`` (sorted) index the partner columns:
    ``customer`` holds the customer partner's index and ``performers`` says,
    per row and partner, whether that partner is on the performer side. The
    rows' pairs of customer and performer partners are few: ``pair`` numbers
    each row's pair, and ``pair_customer`` / ``pair_performers`` describe each
    pair once. Times are seconds since the epoch (NaN for none). The answered
    waits are a table of their own, each pointing at its commitment's row.
    """

    alliance_ids: np.ndarray
    partner_ids: tuple[str, ...]
    pair: np.ndarray
    pair_customer: np.ndarray
    pair_performers: np.ndarray
    columns: dict[str, np.ndarray]
    wait_row: np.ndarray
    wait_state: np.ndarray
    wait_by_customer: np.ndarray
    wait_hours: np.ndarray

    def __len__(self) -> int:
        return len(self.alliance_ids)

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["columns"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def customer(self) -> np.ndarray:
        return self.pair_customer[self.pair]

    @property
    def performers(self) -> np.ndarray:
        return self.pair_performers[self.pair]

    @classmethod
    def from_rows(
        cls, rows: Sequence[Sequence[Any]], alliance_ids: str | Sequence[str]
    ) -> FactsTable:
        """Build from ``fact_row`` tuples (database rows) of ``alliance_ids`` (one per row,
        or one for every row).

        The records become columns by numpy in one step; the partners are resolved
        once per distinct pair of customer and performers, not once per row, and
        every step over the rows runs in C (``map``, ``itemgetter``, ``bytes.join``).
        """
        keys = list(map(itemgetter(0, 1), rows))
        seen = {key: number for number, key in enumerate(dict.fromkeys(keys))}
        pair = np.fromiter(map(seen.__getitem__, keys), np.int64, len(keys))
        pairs = [(customer, tuple(performers.split())) for customer, performers in seen]
        partner_ids = tuple(sorted({p for customer, ids in pairs for p in (customer, *ids)}))
        index = {partner: i for i, partner in enumerate(partner_ids)}
        pair_performers = np.zeros((len(pairs), len(partner_ids)), dtype=bool)
        for number, (_, ids) in enumerate(pairs):
            pair_performers[number, [index[p] for p in ids]] = True
        records = np.frombuffer(b"".join(map(itemgetter(2), rows)), dtype=FACT_RECORD)
        wait_records = list(map(itemgetter(3), rows))
        waits = np.frombuffer(b"".join(wait_records), dtype=WAIT_RECORD)
        wait_counts = np.fromiter(map(len, wait_records), np.int64, len(rows))
        return cls(
            alliance_ids=np.full(len(rows), alliance_ids, dtype=object)
            if isinstance(alliance_ids, str)
            else np.array(alliance_ids, dtype=object),
            partner_ids=partner_ids,
            pair=pair,
            pair_customer=np.array([index[customer] for customer, _ in pairs], dtype=np.int64),
            pair_performers=pair_performers,
            columns={name: _column(records, name) for name in FACT_RECORD.names},
            wait_row=np.repeat(np.arange(len(rows)), wait_counts // WAIT_RECORD.itemsize),
            wait_state=waits["state"].astype(np.int64),
            wait_by_customer=waits["by_customer"].astype(bool),
            wait_hours=waits["hours"].astype(float),
        )

    @classmethod
    def of(cls, facts: Iterable[CommitmentFacts]) -> FactsTable:
        every = list(facts)
        return cls.from_rows([fact_row(each) for each in every], [f.alliance_id for f in every])

    def take(self, mask: np.ndarray) -> FactsTable:
        """The rows where ``mask`` holds (and their waits); the partner columns stay as they are."""
        new_row = np.cumsum(mask) - 1
        kept_waits = mask[self.wait_row] if len(self.wait_row) else np.zeros(0, dtype=bool)
        return FactsTable(
            alliance_ids=self.alliance_ids[mask],
            partner_ids=self.partner_ids,
            pair=self.pair[mask],
            pair_customer=self.pair_customer,
            pair_performers=self.pair_performers,
            columns={name: values[mask] for name, values in self.columns.items()},
            wait_row=new_row[self.wait_row[kept_waits]],
            wait_state=self.wait_state[kept_waits],
            wait_by_customer=self.wait_by_customer[kept_waits],
            wait_hours=self.wait_hours[kept_waits],
        )

    def periods(self, period: Period) -> tuple[list[str], np.ndarray]:
        """The periods of opening (UTC), oldest first — '2024-03' or '2024-Q1' — and each
        row's index among them; each label is made once, not once per row."""
        seconds = np.floor(self.opened_at).astype(np.int64)
        months = seconds.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
        keys = months if period == "month" else months // 3
        distinct, row_period = np.unique(keys, return_inverse=True)
        if period == "month":
            labels = [f"{m // 12 + 1970}-{m % 12 + 1:02d}" for m in distinct.tolist()]
        else:
            labels = [f"{q // 4 + 1970}-Q{q % 4 + 1}" for q in distinct.tolist()]
        return labels, row_period.reshape(-1)


# ---------------------------------------------------------------- aggregation


@dataclass(frozen=True)
class _Sides:
    """Which rows count on each side: every row, or those where one partner stands there."""

    customer: np.ndarray
    performer: np.ndarray

    @classmethod
    def of(cls, table: FactsTable, partner_id: str | None) -> _Sides:
        if partner_id is None:
            every = np.ones(len(table), dtype=bool)
            return cls(every, every)
        if partner_id not in table.partner_ids:
            none = np.zeros(len(table), dtype=bool)
            return cls(none, none)
        column = table.partner_ids.index(partner_id)
        customer = table.pair_customer == column
        return cls(customer[table.pair], table.pair_performers[:, column][table.pair])

    def of_party(self, by_customer: np.ndarray) -> np.ndarray:
        return np.where(by_customer, self.customer, self.performer)


def _count(mask: np.ndarray) -> int:
    return int(np.count_nonzero(mask))


def _total(values: np.ndarray, mask: np.ndarray) -> int:
    return int(values[mask].sum())


def _reliability(table: FactsTable, sides: _Sides, now: float) -> tuple[Ratio, Ratio, Ratio]:
    """(reliability, renege rate) on the performer side; cancel rate on the customer side."""
    promised = table.promised
    late_now = now > table.broken_after  # NaN (never late) compares False
    outcome = np.where(table.outcome != 0, table.outcome, np.where(late_now, 2, 0))
    performing = sides.performer & promised
    ended = table.ended != 0
    asking_ended = sides.customer & promised & ended
    return (
        Ratio(_count(performing & (outcome == 1)), _count(performing & (outcome != 0))),
        Ratio(_count(performing & (table.ended == int(State.RENEGED))), _count(performing & ended)),
        Ratio(_count(asking_ended & (table.ended == int(State.CANCELLED))), _count(asking_ended)),
    )


def _hours_list(values: np.ndarray) -> tuple[float, ...]:
    return tuple(values.tolist())


def _waits_in(table: FactsTable, sides: _Sides, now: float, state: State) -> Waits:
    """The waits in ``state`` where the party who owed the answer is on the view's side."""
    rows = table.wait_row
    side = np.where(table.wait_by_customer, sides.customer[rows], sides.performer[rows])
    answered = table.wait_hours[side & (table.wait_state == int(state))]
    waiting = (table.waiting_state == int(state)) & sides.of_party(table.waiting_by_customer)
    hours = (now - table.waiting_since[waiting]) / SECONDS_PER_HOUR
    return Waits(_hours_list(answered), _hours_list(hours))


def _clarity_and_candor(table: FactsTable, sides: _Sides) -> tuple[Clarity, Candor]:
    involved = sides.customer | sides.performer
    opened_by_view = involved & sides.of_party(table.opened_by_customer)
    requests = _count(involved)
    by_customer, by_performer = involved & sides.customer, involved & sides.performer
    declines = _total(table.customer_declines, by_customer) + _total(
        table.performer_declines, by_performer
    )
    counters = _total(table.customer_counters, by_customer) + _total(
        table.performer_counters, by_performer
    )
    clarity = Clarity(
        explicit=Ratio(_count(opened_by_view & table.explicit), _count(opened_by_view)),
        counter_offers=_total(table.counter_offers, involved),
        requests=requests,
    )
    return clarity, Candor(declines=declines, counters=counters, requests=requests)


def _silent_lapses(table: FactsTable, sides: _Sides, now: float) -> SilentLapses:
    performing = sides.performer & table.promised
    past_due_now = now > table.due_in_3
    spoke_after = table.spoke_in_3 > table.due_in_3
    lapsed_now = past_due_now & ~table.renegotiating & ~spoke_after
    return SilentLapses(
        lapsed=_count(performing & (table.lapsed_before | lapsed_now)),
        current=_count(performing & lapsed_now),
        past_due=_count(performing & (table.past_due_before | past_due_now)),
    )


def _reciprocity(table: FactsTable, sides: _Sides) -> Reciprocity:
    """Counted per pair of customer and performers (few), then spread over the partners."""
    involved = sides.customer | sides.performer
    pairs = len(table.pair_customer)
    customers = np.zeros((pairs, len(table.partner_ids)), dtype=np.int64)
    customers[np.arange(pairs), table.pair_customer] = 1
    performers = table.pair_performers.astype(np.int64)

    def per_pair(mask: np.ndarray) -> np.ndarray:
        return np.bincount(table.pair[mask], minlength=pairs)

    def matrix(mask: np.ndarray) -> np.ndarray:
        return (customers * per_pair(mask)[:, None]).T @ performers

    asked = matrix(involved & table.opened_by_customer)
    promised = matrix(involved & table.promised)
    in_view = per_pair(involved) > 0
    present = (customers[in_view].sum(axis=0) + performers[in_view].sum(axis=0)) > 0
    keep = np.flatnonzero(present)
    ids = tuple(table.partner_ids[i] for i in keep)

    def square(values: np.ndarray) -> tuple[tuple[int, ...], ...]:
        return tuple(tuple(int(v) for v in values[row, keep]) for row in keep)

    return Reciprocity(partner_ids=ids, asked=square(asked), promised=square(promised))


def table_metrics(
    table: FactsTable, now: datetime, *, partner_id: str | None = None
) -> LedgerMetrics:
    """The figures over every row of ``table`` as at ``now``; with ``partner_id``, its view."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    moment = now.timestamp()
    if len(table) and float(np.nanmax(table.last_move_at)) > moment:
        raise ValueError(f"some commitments have acts after now ({now})")
    sides = _Sides.of(table, partner_id)
    involved = sides.customer | sides.performer
    reliability, renege_rate, cancel_rate = _reliability(table, sides, moment)
    clarity, candor = _clarity_and_candor(table, sides)
    return LedgerMetrics(
        requests=_count(involved),
        promises=_count(involved & table.promised),
        reliability=reliability,
        renege_rate=renege_rate,
        cancel_rate=cancel_rate,
        answer_waits=_waits_in(table, sides, moment, State.WAITING_FOR_ANSWER),
        declaration_waits=_waits_in(table, sides, moment, State.REPORTED_COMPLETE),
        clarity=clarity,
        candor=candor,
        silent_lapses=_silent_lapses(table, sides, moment),
        rework_loops=Ratio(_total(table.rework_loops, involved), _total(table.reports, involved)),
        reciprocity=_reciprocity(table, sides),
    )


def table_by_partner(table: FactsTable, now: datetime) -> dict[str, LedgerMetrics]:
    """Each partner's view (see the module docstring), for every partner in ``table``."""
    return {partner: table_metrics(table, now, partner_id=partner) for partner in table.partner_ids}


def table_by_period(
    table: FactsTable, now: datetime, period: Period = "month", *, partner_id: str | None = None
) -> dict[str, LedgerMetrics]:
    """The figures of the commitments opened in each period (UTC), oldest period first."""
    labels, row_period = table.periods(period)
    return {
        label: table_metrics(table.take(row_period == number), now, partner_id=partner_id)
        for number, label in enumerate(labels)
    }


def table_by_alliance(table: FactsTable, now: datetime) -> dict[str, LedgerMetrics]:
    return {
        key: table_metrics(table.take(table.alliance_ids == key), now)
        for key in sorted(set(table.alliance_ids.tolist()))
    }


# ------------------------------------------------------------------ public API


def _table(records: Iterable[CommitmentRecord], now: datetime) -> FactsTable:
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    facts = []
    for record in records:
        if record.acts and record.acts[-1].at > now:
            raise ValueError(f"commitment {record.commitment_id} has acts after now ({now})")
        summary = facts_of_record(record)
        if summary is not None:
            facts.append(summary)
    return FactsTable.of(facts)


def ledger_metrics(
    records: Iterable[CommitmentRecord], now: datetime, *, partner_id: str | None = None
) -> LedgerMetrics:
    """The figures over ``records`` as at ``now``; with ``partner_id``, that partner's view."""
    return table_metrics(_table(records, now), now, partner_id=partner_id)


def by_alliance(records: Iterable[CommitmentRecord], now: datetime) -> dict[str, LedgerMetrics]:
    return table_by_alliance(_table(records, now), now)


def by_partner(records: Iterable[CommitmentRecord], now: datetime) -> dict[str, LedgerMetrics]:
    """Each partner's view (see the module docstring), for every partner in ``records``."""
    return table_by_partner(_table(records, now), now)


def period_of(moment: datetime, period: Period) -> str:
    """'2024-03' (month) or '2024-Q1' (quarter), in UTC."""
    utc = moment.astimezone(UTC)
    if period == "month":
        return f"{utc.year}-{utc.month:02d}"
    return f"{utc.year}-Q{(utc.month - 1) // 3 + 1}"


def by_period(
    records: Iterable[CommitmentRecord],
    now: datetime,
    period: Period = "month",
    *,
    partner_id: str | None = None,
) -> dict[str, LedgerMetrics]:
    """The figures of the commitments opened in each period (UTC), oldest period first."""
    return table_by_period(_table(records, now), now, period, partner_id=partner_id)
