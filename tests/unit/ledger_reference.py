"""The ledger's figures computed commitment by commitment, in plain Python: the reference
that the columnar aggregation of ``coauthor.analysis.ledger_metrics`` is checked against
on random ledgers (tests/unit/test_ledger_figures_properties.py).

This is the first implementation of the definitions in docs/ledger.md, kept as it was
but for one later rule: an answer given at the very moment of the question is no wait.
The result types (``Ratio``, ``Waits``, ``LedgerMetrics`` …) are the analysis module's own:
what is checked is how the figures are computed, not how they are held.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from coauthor.analysis.ledger_metrics import (
    Candor,
    Clarity,
    CommitmentRecord,
    LedgerMetrics,
    Ratio,
    Reciprocity,
    SilentLapses,
    Waits,
)
from coauthor.domain.ledger import (
    CommitmentState,
    Move,
    Party,
    Phase,
    SpeechAct,
    State,
    step,
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


@dataclass(frozen=True)
class _Step:
    act: SpeechAct
    before: CommitmentState
    after: CommitmentState


@dataclass(frozen=True)
class _Wait:
    answerer: Party
    hours: float
    answered: bool


@dataclass(frozen=True)
class _Lapse:
    past_due: bool = False
    lapsed: bool = False
    current: bool = False


@dataclass(frozen=True)
class _Facts:
    """Everything the figures need from one opened commitment."""

    record: CommitmentRecord
    opener: Party
    explicit: bool
    promised: bool
    outcome: Outcome | None
    ended: State | None
    waits_in_2: tuple[_Wait, ...]
    waits_in_4: tuple[_Wait, ...]
    candid: tuple[tuple[Party, Move], ...]
    counter_offers: int
    reports: int
    rework_loops: int
    lapse: _Lapse


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / SECONDS_PER_HOUR


def _steps(acts: Sequence[SpeechAct]) -> list[_Step]:
    steps, state = [], CommitmentState()
    for act in acts:
        after = step(state, act)
        steps.append(_Step(act, state, after))
        state = after
    return steps


def _waits(steps: list[_Step], now: datetime, state: State) -> tuple[_Wait, ...]:
    """Each stay in ``state``: answered when the party who owed the answer moved it on.

    A stay ended by the other party (an asker withdrawing in state 2) had no
    answer and is left out; a stay that lasts until ``now`` is still waiting.
    """
    waits: list[_Wait] = []
    started: tuple[datetime, Party] | None = None
    for each in steps:
        arrives = each.after.state is state and each.before.state is not state
        leaves = each.before.state is state and each.after.state is not state
        if arrives:
            started = (each.act.at, ANSWERER[each.after.phase])
        elif leaves and started is not None:
            since, answerer = started
            waited = _hours(since, each.act.at)
            if each.act.party is answerer and waited > 0:
                waits.append(_Wait(answerer, waited, answered=True))
            started = None
    if started is not None:
        since, answerer = started
        waits.append(_Wait(answerer, _hours(since, now), answered=False))
    return tuple(waits)


def _overdue(state: CommitmentState, last_report: datetime | None, at: datetime) -> bool:
    """Whether a promise standing as ``state`` is late at ``at``.

    A pending renegotiation is not judged; a completion report made by the due
    date and waiting for the customer is not late.
    """
    due = state.terms.due_at if state.terms else None
    if state.phase is Phase.RENEGOTIATING or due is None or at <= due:
        return False
    reported_in_time = last_report is not None and last_report <= due
    return not (state.phase is Phase.REPORTED and reported_in_time)


def _outcome(steps: list[_Step], final: CommitmentState, now: datetime) -> Outcome | None:
    """Kept, broken, or not yet judged (see ``reliability`` in docs/ledger.md)."""
    reports = [each.act.at for each in steps if each.act.move is Move.REPORT_COMPLETION]
    last_report = reports[-1] if reports else None
    if final.phase is Phase.FULFILLED:
        due = final.terms.due_at if final.terms else None
        on_time = due is None or (last_report is not None and last_report <= due)
        return "kept" if on_time else "broken"
    if final.phase is Phase.RENEGED:
        return "broken"
    if final.phase is Phase.CANCELLED:
        cancelling = steps[-1]
        late = _overdue(cancelling.before, last_report, cancelling.act.at)
    else:
        late = _overdue(final, last_report, now)
    return "broken" if late else None


def _span_lapse(end_state: CommitmentState, end: datetime, spoke: list[datetime]) -> _Lapse:
    due = end_state.terms.due_at if end_state.terms else None
    if due is None or end <= due:
        return _Lapse()
    waiting_for_customer = end_state.phase is Phase.RENEGOTIATING
    silent = not waiting_for_customer and not any(at > due for at in spoke)
    return _Lapse(past_due=True, lapsed=silent)


def _lapse(steps: list[_Step], final: CommitmentState, now: datetime) -> _Lapse:
    """Whether a due date passed in state 3 and the performer said nothing after it.

    Each stay in state 3 is judged on the due date in force when it ends (by
    the move that leaves 3, or ``now``): past due if that date is before the
    end; lapsed if, besides, no completion report, renegotiation, renege or
    progress note came from the performer after it, unless the stay ends with a
    renegotiation waiting for the customer's answer.
    """
    spans: list[_Lapse] = []
    spoke: list[datetime] = []
    for each in steps:
        in_3 = each.before.state is State.PROMISED
        if in_3 and each.act.party is Party.PERFORMER and each.act.move in SPEAKING_UP:
            spoke.append(each.act.at)
        if in_3 and each.after.state is not State.PROMISED:
            spans.append(_span_lapse(each.before, each.act.at, spoke))
        if not in_3:
            spoke = []
    current = _Lapse()
    if final.state is State.PROMISED:
        current = _span_lapse(final, now, spoke)
        spans.append(current)
    return _Lapse(
        past_due=any(span.past_due for span in spans),
        lapsed=any(span.lapsed for span in spans),
        current=current.lapsed,
    )


def _facts(record: CommitmentRecord, now: datetime) -> _Facts | None:
    """The per-commitment facts, or None for a commitment not opened yet."""
    if not record.acts:
        return None
    if record.acts[-1].at > now:
        raise ValueError(f"commitment {record.commitment_id} has acts after now ({now})")
    steps = _steps(record.acts)
    final = steps[-1].after
    if final != record.state:
        raise ValueError(
            f"commitment {record.commitment_id}: its state is not what its acts add up to"
        )
    moves = Counter(each.act.move for each in steps)
    promised = bool(final.entries(State.PROMISED))
    return _Facts(
        record=record,
        opener=OPENER[record.acts[0].move],
        explicit=record.acts[0].terms.is_explicit,
        promised=promised,
        outcome=_outcome(steps, final, now) if promised else None,
        ended=final.state if promised and final.is_terminal else None,
        waits_in_2=_waits(steps, now, State.WAITING_FOR_ANSWER),
        waits_in_4=_waits(steps, now, State.REPORTED_COMPLETE),
        candid=tuple((act.party, act.move) for act in record.acts if act.move in CANDID_MOVES),
        counter_offers=moves[Move.COUNTER_OFFER],
        reports=moves[Move.REPORT_COMPLETION],
        rework_loops=moves[Move.DECLARE_NOT_SATISFIED],
        lapse=_lapse(steps, final, now),
    )


# ---------------------------------------------------------------- aggregation


@dataclass(frozen=True)
class _View:
    """Which facts count: all of them, or those of one partner on the side a figure is about."""

    facts: tuple[_Facts, ...]
    partner_id: str | None

    def on_side(self, facts: _Facts, party: Party) -> bool:
        return self.partner_id is None or self.partner_id in facts.record.partners(party)

    def involved(self, facts: _Facts) -> bool:
        return any(self.on_side(facts, party) for party in Party)

    def where(self, party: Party) -> list[_Facts]:
        return [each for each in self.facts if self.on_side(each, party)]


def _reliability(view: _View) -> tuple[Ratio, Ratio, Ratio]:
    """(reliability, renege rate) on the performer side; cancel rate on the customer side."""
    performing = [each for each in view.where(Party.PERFORMER) if each.promised]
    judged = [each.outcome for each in performing if each.outcome is not None]
    ended = [each.ended for each in performing if each.ended is not None]
    asking_ended = [
        each.ended for each in view.where(Party.CUSTOMER) if each.promised and each.ended
    ]
    return (
        Ratio(judged.count("kept"), len(judged)),
        Ratio(ended.count(State.RENEGED), len(ended)),
        Ratio(asking_ended.count(State.CANCELLED), len(asking_ended)),
    )


def _waits_seen(view: _View, stays: Iterable[tuple[_Facts, _Wait]]) -> Waits:
    """The waits where the party who owed the answer is on the view's side."""
    seen = [wait for facts, wait in stays if view.on_side(facts, wait.answerer)]
    return Waits(
        tuple(wait.hours for wait in seen if wait.answered),
        tuple(wait.hours for wait in seen if not wait.answered),
    )


def _responsiveness(view: _View) -> tuple[Waits, Waits]:
    """(waits in state 2 for an answer, waits in state 4 for the customer to declare)."""
    in_2 = ((facts, wait) for facts in view.facts for wait in facts.waits_in_2)
    in_4 = ((facts, wait) for facts in view.facts for wait in facts.waits_in_4)
    return _waits_seen(view, in_2), _waits_seen(view, in_4)


def _clarity_and_candor(view: _View) -> tuple[Clarity, Candor]:
    involved = [each for each in view.facts if view.involved(each)]
    opened_by_view = [each for each in involved if view.on_side(each, each.opener)]
    candid = [move for each in involved for party, move in each.candid if view.on_side(each, party)]
    clarity = Clarity(
        explicit=Ratio(sum(each.explicit for each in opened_by_view), len(opened_by_view)),
        counter_offers=sum(each.counter_offers for each in involved),
        requests=len(involved),
    )
    candor = Candor(
        declines=candid.count(Move.DECLINE),
        counters=len(candid) - candid.count(Move.DECLINE),
        requests=len(involved),
    )
    return clarity, candor


def _silent_lapses(view: _View) -> SilentLapses:
    lapses = [each.lapse for each in view.where(Party.PERFORMER) if each.promised]
    return SilentLapses(
        lapsed=sum(lapse.lapsed for lapse in lapses),
        current=sum(lapse.current for lapse in lapses),
        past_due=sum(lapse.past_due for lapse in lapses),
    )


def _reciprocity(view: _View) -> Reciprocity:
    involved = [each for each in view.facts if view.involved(each)]
    asked: Counter[tuple[str, str]] = Counter()
    promised: Counter[tuple[str, str]] = Counter()
    partners: set[str] = set()
    for each in involved:
        record = each.record
        partners |= {record.customer_partner_id, *record.performer_partner_ids}
        for performer in record.performer_partner_ids:
            cell = (record.customer_partner_id, performer)
            asked[cell] += each.opener is Party.CUSTOMER
            promised[cell] += each.promised
    ids = tuple(sorted(partners))
    return Reciprocity(
        partner_ids=ids,
        asked=tuple(tuple(asked[(row, col)] for col in ids) for row in ids),
        promised=tuple(tuple(promised[(row, col)] for col in ids) for row in ids),
    )


def _metrics(view: _View) -> LedgerMetrics:
    reliability, renege_rate, cancel_rate = _reliability(view)
    answer_waits, declaration_waits = _responsiveness(view)
    clarity, candor = _clarity_and_candor(view)
    involved = [each for each in view.facts if view.involved(each)]
    return LedgerMetrics(
        requests=len(involved),
        promises=sum(each.promised for each in involved),
        reliability=reliability,
        renege_rate=renege_rate,
        cancel_rate=cancel_rate,
        answer_waits=answer_waits,
        declaration_waits=declaration_waits,
        clarity=clarity,
        candor=candor,
        silent_lapses=_silent_lapses(view),
        rework_loops=Ratio(
            sum(each.rework_loops for each in involved), sum(each.reports for each in involved)
        ),
        reciprocity=_reciprocity(view),
    )


def _all_facts(records: Iterable[CommitmentRecord], now: datetime) -> tuple[_Facts, ...]:
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return tuple(facts for record in records if (facts := _facts(record, now)) is not None)


# ------------------------------------------------------------------ public API


def ledger_metrics(
    records: Iterable[CommitmentRecord], now: datetime, *, partner_id: str | None = None
) -> LedgerMetrics:
    """The figures over ``records`` as at ``now``; with ``partner_id``, that partner's view."""
    return _metrics(_View(_all_facts(records, now), partner_id))


def by_alliance(records: Iterable[CommitmentRecord], now: datetime) -> dict[str, LedgerMetrics]:
    groups: defaultdict[str, list[_Facts]] = defaultdict(list)
    for facts in _all_facts(records, now):
        groups[facts.record.alliance_id].append(facts)
    return {key: _metrics(_View(tuple(groups[key]), None)) for key in sorted(groups)}


def by_partner(records: Iterable[CommitmentRecord], now: datetime) -> dict[str, LedgerMetrics]:
    """Each partner's view (see the module docstring), for every partner in ``records``."""
    facts = _all_facts(records, now)
    partners = sorted({p for each in facts for party in Party for p in each.record.partners(party)})
    return {partner: _metrics(_View(facts, partner)) for partner in partners}


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
    groups: defaultdict[str, list[_Facts]] = defaultdict(list)
    for facts in _all_facts(records, now):
        groups[period_of(facts.record.acts[0].at, period)].append(facts)
    return {key: _metrics(_View(tuple(groups[key]), partner_id)) for key in sorted(groups)}
