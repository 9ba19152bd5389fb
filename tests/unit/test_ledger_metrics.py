"""Ledger metrics on a small hand-worked alliance (every figure computed by hand below)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from coauthor.analysis.ledger_metrics import (
    CommitmentRecord,
    by_alliance,
    by_partner,
    by_period,
    ledger_metrics,
    period_of,
)
from coauthor.domain.ledger import Move, Party, SpeechAct, replay

T0 = datetime(2024, 3, 25, tzinfo=UTC)  # day 7 is 1 April, day 37 is 1 May
A, B, C = "pa_a", "pa_b", "pa_c"


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


NOW = day(40)


def cu(move: Move, at: float, text: str = "", **terms: object) -> SpeechAct:
    return SpeechAct(move, Party.CUSTOMER, "customer", day(at), text, **terms)  # type: ignore[arg-type]


def pe(move: Move, at: float, text: str = "", **terms: object) -> SpeechAct:
    return SpeechAct(move, Party.PERFORMER, "performer", day(at), text, **terms)  # type: ignore[arg-type]


def commitment(
    cid: str, customer: str, performers: tuple[str, ...], *acts: SpeechAct, alliance: str = "al_1"
) -> CommitmentRecord:
    return CommitmentRecord.from_acts(
        alliance_id=alliance,
        commitment_id=cid,
        customer_partner_id=customer,
        performer_partner_ids=performers,
        acts=acts,
    )


# The alliance at day 40. Per commitment: waits in state 2 (hours, who answered),
# waits in state 4, outcome for reliability, silent-lapse status.
ALLIANCE = [
    # c1 A asks B: answered in 24 h, reported day 8 ≤ due 10, declared after 24 h → kept.
    commitment(
        "c1",
        A,
        (B,),
        cu(Move.REQUEST, 0, "Audit", conditions="signed report", due_at=day(10)),
        pe(Move.PROMISE, 1),
        pe(Move.REPORT_COMPLETION, 8),
        cu(Move.DECLARE_SATISFIED, 9),
    ),
    # c2 A asks B (due 5): counter-offer after 12 h (due 14), customer counters (due 12),
    # promise 6 h later. Reported day 10, sent back day 11 (4-wait 24 h, one rework loop),
    # reported again day 14 > due 12, declared day 16 (4-wait 48 h) → fulfilled late: broken.
    # Due 12 passed in state 3 but the day-14 report came after it → past due, not silent.
    commitment(
        "c2",
        A,
        (B,),
        cu(Move.REQUEST, 0, "Forecast", conditions="by region", due_at=day(5)),
        pe(Move.COUNTER_OFFER, 0.5, "need more time", due_at=day(14)),
        cu(Move.COUNTER, 0.75, "meet halfway", due_at=day(12)),
        pe(Move.PROMISE, 1),
        pe(Move.REPORT_COMPLETION, 10),
        cu(Move.DECLARE_NOT_SATISFIED, 11),
        pe(Move.REPORT_COMPLETION, 14),
        cu(Move.DECLARE_SATISFIED, 16),
    ),
    # c3 B asks A, no conditions, no due date: declined after 72 h.
    commitment("c3", B, (A,), cu(Move.REQUEST, 2, "Logo files"), pe(Move.DECLINE, 5)),
    # c4 A asks B and C jointly (due 20): commit-to-commit, promise after 24 h, a note on
    # day 15, then silence past day 20 → broken now, silent lapse, current.
    commitment(
        "c4",
        A,
        (B, C),
        cu(Move.REQUEST, 3, "Joint pitch", conditions="deck", due_at=day(20)),
        pe(Move.COMMIT_TO_COMMIT, 3.25, "by Friday", reply_by=day(6)),
        pe(Move.PROMISE, 4),
        pe(Move.PROGRESS_NOTE, 15, "halfway"),
    ),
    # c5 C offers A (due 25); A counter-offers after 24 h (due 28), C accepts; C asks on
    # day 20 to move to day 35, still unanswered → not judged; past due 28, not silent.
    commitment(
        "c5",
        A,
        (C,),
        pe(Move.OFFER, 5, "Training", conditions="2 sessions", due_at=day(25)),
        cu(Move.COUNTER_OFFER, 6, "later please", due_at=day(28)),
        pe(Move.ACCEPT_COUNTER, 7),
        pe(Move.RENEGOTIATE, 20, "trainer ill", due_at=day(35)),
    ),
    # c6 A asks C (due 12): promised after 12 h, no word after day 12, cancelled day 18
    # → broken (cancelled when overdue), silent lapse (not current).
    commitment(
        "c6",
        A,
        (C,),
        cu(Move.REQUEST, 6, "Data set", conditions="cleaned", due_at=day(12)),
        pe(Move.PROMISE, 6.5),
        cu(Move.CANCEL, 18),
    ),
    # c7 B asks A (due 30): promised after 48 h, reneged day 14 → broken.
    commitment(
        "c7",
        B,
        (A,),
        cu(Move.REQUEST, 10, "Intro call", conditions="30 min", due_at=day(30)),
        pe(Move.PROMISE, 12),
        pe(Move.RENEGE, 14),
    ),
    # c8 A asks B, withdraws after a day: the wait had no answer and is not counted.
    commitment(
        "c8",
        A,
        (B,),
        cu(Move.REQUEST, 20, "Venue", conditions="50 seats", due_at=day(30)),
        cu(Move.WITHDRAW, 21),
    ),
    # c9 A asks B (due 38): promised after 24 h, reported day 35, waiting 120 h for A to
    # declare → on time so far, not judged.
    commitment(
        "c9",
        A,
        (B,),
        cu(Move.REQUEST, 30, "Minutes", conditions="approved", due_at=day(38)),
        pe(Move.PROMISE, 31),
        pe(Move.REPORT_COMPLETION, 35),
    ),
    # c10 B asks C, vague: waiting 24 h for C's answer.
    commitment("c10", B, (C,), cu(Move.REQUEST, 39, "Help", conditions="do it")),
]


def test_the_alliance_figures_by_hand() -> None:
    figures = ledger_metrics(ALLIANCE, NOW).to_dict()
    assert figures["requests"] == 10
    assert figures["promises"] == 7  # c1 c2 c4 c5 c6 c7 c9
    # Judged: c1 kept; c2 late, c4 overdue, c6 cancelled overdue, c7 reneged (c5, c9 not yet).
    assert figures["reliability"] == {"value": 1 / 5, "count": 1, "of": 5}
    # Ended promises: c1 (5), c2 (5), c6 (9), c7 (7).
    assert figures["renege_rate"] == {"value": 1 / 4, "count": 1, "of": 4}
    assert figures["cancel_rate"] == {"value": 1 / 4, "count": 1, "of": 4}
    # State 2, answered: 6 12 12 24 24 24 24 48 72 → median 24;
    # p90 at rank 0.9·8 = 7.2: 48 + 0.2·(72 − 48) = 52.8. c10 waits 24 h.
    assert figures["responsiveness"]["answer"] == {
        "answered": 9,
        "median_hours": 24.0,
        "p90_hours": pytest.approx(52.8),
        "currently_waiting": 1,
        "longest_waiting_hours": 24.0,
    }
    # State 4, declared: 24 24 48 → median 24; p90 at rank 1.8: 24 + 0.8·24 = 43.2.
    assert figures["responsiveness"]["declaration"] == {
        "answered": 3,
        "median_hours": 24.0,
        "p90_hours": pytest.approx(43.2),
        "currently_waiting": 1,
        "longest_waiting_hours": 120.0,
    }
    # Explicit: all but c3 and c10; counter-offers: c2, c5.
    assert figures["clarity"] == {
        "explicit": {"value": 8 / 10, "count": 8, "of": 10},
        "requests": 10,
        "counter_offers": 2,
        "counter_offers_per_request": 2 / 10,
    }
    # Declines: c3. Counters: c2's counter-offer and counter, c5's counter-offer.
    assert figures["candor"] == {
        "requests": 10,
        "declines": 1,
        "counters": 3,
        "declines_per_request": 1 / 10,
        "counters_per_request": 3 / 10,
    }
    # Past due in state 3: c2, c4, c5, c6; silent: c4 (now) and c6.
    assert figures["silent_lapses"] == {
        "count": 2,
        "current": 1,
        "past_due": 4,
        "share_of_past_due": 2 / 4,
    }
    # Reports: c1 1, c2 2, c9 1; one sent back (c2).
    assert figures["rework_loops"] == {"value": 1 / 4, "count": 1, "of": 4}
    # Asked (requests only): A→B c1 c2 c4 c8 c9, A→C c4 c6, B→A c3 c7, B→C c10.
    # Promised: A→B c1 c2 c4 c9, A→C c4 c5 c6, B→A c7.
    assert figures["reciprocity"] == {
        "partners": [A, B, C],
        "asked": [[0, 5, 2], [2, 0, 1], [0, 0, 0]],
        "promised": [[0, 4, 3], [1, 0, 0], [0, 0, 0]],
    }
    json.dumps(figures)


def test_a_performer_partner_view_by_hand() -> None:
    # C takes part in c4, c5, c6 (performer) and c10 (performer).
    figures = by_partner(ALLIANCE, NOW)[C].to_dict()
    assert (figures["requests"], figures["promises"]) == (4, 3)
    assert figures["reliability"] == {"value": 0.0, "count": 0, "of": 2}  # c4, c6 broken
    assert figures["renege_rate"] == {"value": 0.0, "count": 0, "of": 1}  # c6 ended
    assert figures["cancel_rate"] == {"value": None, "count": 0, "of": 0}  # never a customer
    # C owed answers in c4 (24 h), c6 (12 h), c10 (still waiting 24 h); c5's wait was A's.
    # Median 18; p90 at rank 0.9: 12 + 0.9·12 = 22.8.
    assert figures["responsiveness"]["answer"] == {
        "answered": 2,
        "median_hours": 18.0,
        "p90_hours": pytest.approx(22.8),
        "currently_waiting": 1,
        "longest_waiting_hours": 24.0,
    }
    assert figures["responsiveness"]["declaration"]["median_hours"] is None
    # C opened only c5 (its offer), which was explicit; one counter-offer round (c5) in 4.
    assert figures["clarity"]["explicit"] == {"value": 1.0, "count": 1, "of": 1}
    assert figures["clarity"]["counter_offers_per_request"] == 1 / 4
    # C itself never declined or countered.
    assert (figures["candor"]["declines"], figures["candor"]["counters"]) == (0, 0)
    assert figures["candor"]["counters_per_request"] == 0.0
    assert figures["silent_lapses"] == {
        "count": 2,
        "current": 1,
        "past_due": 3,
        "share_of_past_due": 2 / 3,
    }
    assert figures["rework_loops"]["value"] is None  # no completion report in C's commitments
    assert figures["reciprocity"] == {
        "partners": [A, B, C],
        "asked": [[0, 1, 2], [0, 0, 1], [0, 0, 0]],
        "promised": [[0, 1, 3], [0, 0, 0], [0, 0, 0]],
    }


def test_a_customer_partner_view_by_hand() -> None:
    # A: customer in c1 c2 c4 c5 c6 c8 c9, performer in c3 c7.
    figures = by_partner(ALLIANCE, NOW)[A].to_dict()
    assert figures["requests"] == 9
    assert figures["reliability"] == {"value": 0.0, "count": 0, "of": 1}  # c7 reneged
    assert figures["renege_rate"] == {"value": 1.0, "count": 1, "of": 1}
    assert figures["cancel_rate"] == {"value": 1 / 3, "count": 1, "of": 3}  # c6 of c1 c2 c6
    # A owed answers in c3 (72 h), c7 (48 h) as performer and c5 (24 h) as customer:
    # median 48; p90 at rank 1.8: 48 + 0.8·24 = 67.2.
    answer = figures["responsiveness"]["answer"]
    assert (answer["median_hours"], answer["p90_hours"]) == (48.0, pytest.approx(67.2))
    assert (answer["currently_waiting"], answer["longest_waiting_hours"]) == (0, None)
    # A declares in every state-4 wait of the alliance.
    assert figures["responsiveness"]["declaration"]["answered"] == 3
    # A opened c1 c2 c4 c6 c8 c9, all explicit.
    assert figures["clarity"]["explicit"] == {"value": 1.0, "count": 6, "of": 6}
    # A's own candor: declined c3; countered in c2 (counter) and c5 (counter-offer).
    assert figures["candor"]["declines_per_request"] == 1 / 9
    assert figures["candor"]["counters_per_request"] == 2 / 9


def test_by_period_groups_by_the_month_or_quarter_a_commitment_opened() -> None:
    months = by_period(ALLIANCE, NOW, "month")
    # Opened: c1–c6 in March (days 0–6), c7–c9 in April (days 10–30), c10 in May (day 39).
    assert {key: value.requests for key, value in months.items()} == {
        "2024-03": 6,
        "2024-04": 3,
        "2024-05": 1,
    }
    # April: c7 reneged (judged, broken), c9 not yet judged, c8 never promised.
    assert months["2024-04"].reliability.to_dict() == {"value": 0.0, "count": 0, "of": 1}
    assert months["2024-05"].reliability.value is None
    quarters = by_period(ALLIANCE, NOW, "quarter")
    assert {key: value.requests for key, value in quarters.items()} == {
        "2024-Q1": 6,
        "2024-Q2": 4,
    }
    # Q1 judged: c1 kept; c2, c4, c6 broken.
    assert quarters["2024-Q1"].reliability.to_dict() == {"value": 1 / 4, "count": 1, "of": 4}
    c_in_q2 = by_period(ALLIANCE, NOW, "quarter", partner_id=C)["2024-Q2"]
    assert c_in_q2.answer_waits.waiting_hours == (24.0,)


def test_period_names() -> None:
    assert period_of(datetime(2024, 12, 31, 23, tzinfo=UTC), "month") == "2024-12"
    assert period_of(datetime(2024, 12, 31, 23, tzinfo=UTC), "quarter") == "2024-Q4"
    # 1 April 01:00 in UTC+2 is still 31 March in UTC.
    moment = datetime(2024, 4, 1, 1, tzinfo=timezone(timedelta(hours=2)))
    assert (period_of(moment, "month"), period_of(moment, "quarter")) == ("2024-03", "2024-Q1")


def test_by_alliance_keeps_alliances_apart() -> None:
    other = commitment(
        "x1",
        "pa_x",
        ("pa_y",),
        cu(Move.REQUEST, 1, "Report", conditions="ok", due_at=day(3)),
        pe(Move.PROMISE, 2),
        pe(Move.REPORT_COMPLETION, 3),
        cu(Move.DECLARE_SATISFIED, 4),
        alliance="al_2",
    )
    alliances = by_alliance([*ALLIANCE, other], NOW)
    assert list(alliances) == ["al_1", "al_2"]
    assert alliances["al_1"] == ledger_metrics(ALLIANCE, NOW)
    assert alliances["al_2"].reliability.to_dict() == {"value": 1.0, "count": 1, "of": 1}
    assert alliances["al_2"].reciprocity.partner_ids == ("pa_x", "pa_y")


def test_renegotiating_and_countering_carry_no_penalty() -> None:
    # Reported on day 12, after the first due date (10) but before the renegotiated one (15).
    renegotiated = commitment(
        "r1",
        A,
        (B,),
        cu(Move.REQUEST, 0, "Audit", conditions="signed", due_at=day(10)),
        pe(Move.COUNTER_OFFER, 1, "a bit later", due_at=day(11)),
        cu(Move.ACCEPT_COUNTER, 2),
        pe(Move.RENEGOTIATE, 9, "supplier late", due_at=day(15)),
        cu(Move.ACCEPT, 11),
        pe(Move.REPORT_COMPLETION, 12),
        cu(Move.DECLARE_SATISFIED, 13),
    )
    figures = ledger_metrics([renegotiated], NOW)
    assert figures.reliability.to_dict() == {"value": 1.0, "count": 1, "of": 1}
    assert figures.silent_lapses.past_due == 0
    # A renegotiation proposed before the due date and still unanswered after it is not
    # judged and is not a silent lapse: the customer owes the answer.
    pending = commitment(
        "r2",
        A,
        (B,),
        cu(Move.REQUEST, 0, "Audit", conditions="signed", due_at=day(10)),
        pe(Move.PROMISE, 1),
        pe(Move.RENEGOTIATE, 9, "supplier late", due_at=day(15)),
    )
    waiting = ledger_metrics([pending], NOW)
    assert waiting.reliability.of == 0 and waiting.silent_lapses.lapsed == 0
    # Once the customer rejects, the old due date stands and the silence after it counts.
    rejected = commitment("r3", A, (B,), *pending.acts, cu(Move.REJECT, 12))
    after_rejection = ledger_metrics([rejected], NOW)
    assert after_rejection.reliability.to_dict() == {"value": 0.0, "count": 0, "of": 1}
    assert after_rejection.silent_lapses.to_dict()["current"] == 1


def test_nothing_to_count_gives_none_not_zero() -> None:
    figures = ledger_metrics([], NOW).to_dict()
    assert figures["reliability"]["value"] is None
    assert figures["responsiveness"]["answer"]["median_hours"] is None
    assert figures["clarity"]["counter_offers_per_request"] is None
    assert figures["candor"]["declines_per_request"] is None
    assert figures["silent_lapses"]["share_of_past_due"] is None
    assert figures["reciprocity"] == {"partners": [], "asked": [], "promised": []}


def test_records_must_be_consistent_with_now_and_their_acts() -> None:
    with pytest.raises(ValueError, match="acts after now"):
        ledger_metrics(ALLIANCE, day(38.5))
    first = ALLIANCE[0]
    stale = CommitmentRecord(first.alliance_id, "c1", A, (B,), first.acts, replay(first.acts[:2]))
    with pytest.raises(ValueError, match="not what its acts add up to"):
        ledger_metrics([stale], NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        ledger_metrics(ALLIANCE, datetime(2024, 6, 1))


def test_a_word_exactly_at_the_due_date_is_not_after_it() -> None:
    def noted(at: float) -> CommitmentRecord:
        return commitment(
            "n1",
            A,
            (B,),
            cu(Move.REQUEST, 0, "Audit", conditions="signed", due_at=day(10)),
            pe(Move.PROMISE, 1),
            pe(Move.PROGRESS_NOTE, at, "still on it"),
        )

    at_due = ledger_metrics([noted(10)], NOW).silent_lapses
    assert (at_due.past_due, at_due.lapsed, at_due.current) == (1, 1, 1)
    after_due = ledger_metrics([noted(10.5)], NOW).silent_lapses
    assert (after_due.past_due, after_due.lapsed, after_due.current) == (1, 0, 0)


def test_withdrawing_after_an_on_time_report_is_the_customers_doing() -> None:
    # Reported day 8 ≤ due 10; the customer withdraws on day 12 instead of declaring:
    # not judged for reliability, a cancellation, and a 96-hour declaration wait.
    withdrawn = commitment(
        "w1",
        A,
        (B,),
        cu(Move.REQUEST, 0, "Audit", conditions="signed", due_at=day(10)),
        pe(Move.PROMISE, 1),
        pe(Move.REPORT_COMPLETION, 8),
        cu(Move.WITHDRAW, 12),
    )
    figures = ledger_metrics([withdrawn], NOW)
    assert figures.reliability.of == 0
    assert figures.cancel_rate.to_dict() == {"value": 1.0, "count": 1, "of": 1}
    assert figures.declaration_waits.answered_hours == (96.0,)
    assert figures.silent_lapses.past_due == 0
