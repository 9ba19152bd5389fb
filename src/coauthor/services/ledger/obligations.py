"""Obligations become commitments: one per period, performed by the person the debtor names.

An agreement's obligation is a request and a promise made when the agreement
was signed. Once a manager names who performs it for the debtor partner and
who receives it for the creditor partner, the ledger holds one commitment per
period (one for a one-off obligation): the counterpart's request and the
performer's promise, recorded at the naming, due at the end of the period's
due day. From there each period is an ordinary commitment — reported,
declared satisfied, renegotiated — and the obligation shows, per period, met,
late, waived (by a declaration) or open.

Periods run to ``last_due_on``, or for an open-ended obligation to a year
after the naming; naming again (the same people or others) adds the periods
that came into that horizon and hands the open ones to the people named.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.commitments import Commitment, CommitmentParty, ObligationAssignment
from coauthor.domain.errors import NotFound, ValidationFailed
from coauthor.domain.ledger import Move, Party, Phase, SpeechAct
from coauthor.services import eventlog, inputs
from coauthor.services.ledger.commitments import (
    Sides,
    new_commitment,
    participant,
    party_rows,
    record_act,
)
from coauthor.services.ledger.facts import obligation_outcomes
from coauthor.services.ledger.inputs import AssignmentInput, end_of_day
from coauthor.services.mechanics.alliances import open_alliance, open_for_edit
from coauthor.services.mechanics.views import RECURRENCE_MONTHS, add_months

HORIZON = timedelta(days=365)
PeriodStatus = Literal["met", "late", "waived", "open", "cancelled"]


def due_dates(obligation: m.Obligation, until: date) -> list[date]:
    """The obligation's due dates from ``first_due_on`` to its last one or ``until``."""
    step = RECURRENCE_MONTHS[obligation.recurrence]
    last = obligation.last_due_on or until
    if not step:
        return [obligation.first_due_on]
    dates, n = [], 0
    while (day := add_months(obligation.first_due_on, n * step)) <= min(last, until):
        dates.append(day)
        n += 1
    return dates


def _obligation(uow: UnitOfWork, alliance_id: str, obligation_id: str) -> m.Obligation:
    obligation = uow.get(m.Obligation, alliance_id=alliance_id, id=obligation_id)
    if obligation is None:
        raise NotFound("no such obligation in this alliance")
    return obligation


def _named(
    uow: UnitOfWork, obligation: m.Obligation, data: AssignmentInput
) -> tuple[m.Member, m.Member]:
    alliance_id = obligation.alliance_id
    performer = participant(uow, alliance_id, data.performer_id, ("performer_id",))
    customer = participant(uow, alliance_id, data.customer_id, ("customer_id",))
    if performer.partner_id != obligation.debtor_partner_id:
        raise ValidationFailed.one("performer_id", "must be a member of the debtor partner")
    if customer.partner_id != obligation.creditor_partner_id:
        raise ValidationFailed.one("customer_id", "must be a member of the creditor partner")
    return performer, customer


def _period_text(obligation: m.Obligation, due_on: date) -> str:
    if obligation.recurrence == m.Recurrence.ONCE:
        return obligation.title
    return f"{obligation.title} — due {due_on:%d %b %Y}"


def _open_period(
    uow: UnitOfWork, obligation: m.Obligation, sides: Sides, due_on: date, now: datetime
) -> Commitment:
    text = _period_text(obligation, due_on)
    commitment = new_commitment(
        obligation.alliance_id,
        text,
        sides.customer.partner_id,
        now,
        obligation_id=obligation.id,
        period_due_on=due_on,
    )
    parties = party_rows(commitment, sides)
    uow.add(commitment)
    uow.flush()
    uow.add_all(parties)
    request = SpeechAct(
        Move.REQUEST,
        Party.CUSTOMER,
        sides.customer.person_id,
        now,
        text,
        conditions=obligation.description,
        due_at=end_of_day(due_on),
    )
    record_act(uow, commitment, parties, [], request)
    promise = SpeechAct(
        Move.PROMISE, Party.PERFORMER, sides.performers[0].person_id, now, "Under the agreement."
    )
    record_act(uow, commitment, parties, [request], promise)
    return commitment


def _hand_over(uow: UnitOfWork, commitment: Commitment, side: Party, member: m.Member) -> None:
    rows = uow.find(
        CommitmentParty,
        alliance_id=commitment.alliance_id,
        commitment_id=commitment.id,
        side=side,
    )
    if [row.person_id for row in rows] == [member.person_id]:
        return
    for row in rows:
        uow.delete(row)
    uow.flush()
    uow.add(
        CommitmentParty(
            commitment.alliance_id, commitment.id, member.person_id, side, member.partner_id
        )
    )


def do_assign_obligation(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    obligation_id: str,
    payload: Any,
) -> list[Commitment]:
    """Name an obligation's performer and counterpart; returns the periods it added."""
    open_for_edit(uow, actor, alliance_id)
    obligation = _obligation(uow, alliance_id, obligation_id)
    data = inputs.parse(AssignmentInput, payload)
    performer, customer = _named(uow, obligation, data)
    now = uow.clock.now()
    assignment = uow.get(ObligationAssignment, alliance_id=alliance_id, obligation_id=obligation_id)
    if assignment is None:
        assignment = ObligationAssignment(
            alliance_id, obligation_id, performer.person_id, customer.person_id, now
        )
        uow.add(assignment)
    else:
        assignment.performer_person_id = performer.person_id
        assignment.customer_person_id = customer.person_id
    existing = {
        c.period_due_on: c
        for c in uow.find(Commitment, alliance_id=alliance_id, obligation_id=obligation_id)
    }
    for commitment in existing.values():
        if commitment.is_open:
            _hand_over(uow, commitment, Party.PERFORMER, performer)
            _hand_over(uow, commitment, Party.CUSTOMER, customer)
    sides = Sides(customer, (performer,))
    added = [
        _open_period(uow, obligation, sides, due_on, now)
        for due_on in due_dates(obligation, (now + HORIZON).date())
        if due_on not in existing
    ]
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "obligation.assigned",
        {
            "id": obligation_id,
            "performer": performer.person_id,
            "customer": customer.person_id,
            "periods_added": [c.id for c in added],
        },
    )
    return added


# --------------------------------------------------------------- reading


@dataclass(frozen=True)
class Period:
    commitment: Commitment
    status: PeriodStatus


@dataclass(frozen=True)
class ObligationLedger:
    obligation: m.Obligation
    agreement: str
    debtor: str
    creditor: str
    performer: str | None
    customer: str | None
    periods: list[Period]

    def count(self, status: PeriodStatus) -> int:
        return sum(1 for period in self.periods if period.status == status)


def period_status(commitment: Commitment, outcome: str | None, now: datetime) -> PeriodStatus:
    """Met (fulfilled by the due date), late, waived (by a declaration), cancelled or open."""
    if commitment.waived_by_declaration_id is not None:
        return "waived"
    if commitment.phase is Phase.FULFILLED:
        return "met" if outcome == "kept" else "late"
    if commitment.phase is Phase.RENEGED or outcome == "broken":
        return "late"
    if commitment.phase is Phase.CANCELLED:
        return "cancelled"
    due = commitment.due_at
    past_due = due is not None and due < now and commitment.phase is not Phase.REPORTED
    return "late" if past_due and commitment.is_open else "open"


def obligation_ledger(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str
) -> list[ObligationLedger]:
    """Every obligation with whoever performs and receives it and its periods' status."""
    open_alliance(uow, actor, alliance_id)
    now = uow.clock.now()
    obligations = uow.find(m.Obligation, order_by=m.Obligation.title, alliance_id=alliance_id)
    agreements = {a.id: a.title for a in uow.find(m.Agreement, alliance_id=alliance_id)}
    partners = dict(
        uow.session.execute(
            sa.select(m.Partner.id, m.Organization.name)
            .join(m.Organization, m.Organization.id == m.Partner.organization_id)
            .where(m.Partner.alliance_id == alliance_id)
        ).all()
    )
    assignments = {
        a.obligation_id: a for a in uow.find(ObligationAssignment, alliance_id=alliance_id)
    }
    named = {a.performer_person_id for a in assignments.values()} | {
        a.customer_person_id for a in assignments.values()
    }
    names = (
        dict(
            uow.session.execute(
                sa.select(m.Person.id, m.Person.name).where(m.Person.id.in_(named))
            ).all()
        )
        if named
        else {}
    )
    outcomes = obligation_outcomes(uow, alliance_id)
    periods: dict[str, list[Period]] = defaultdict(list)
    for c in uow.find(
        Commitment,
        Commitment.obligation_id.is_not(None),
        order_by=Commitment.period_due_on,
        alliance_id=alliance_id,
    ):
        periods[c.obligation_id or ""].append(Period(c, period_status(c, outcomes.get(c.id), now)))
    result = []
    for ob in obligations:
        assignment = assignments.get(ob.id)
        result.append(
            ObligationLedger(
                obligation=ob,
                agreement=agreements.get(ob.agreement_id, ""),
                debtor=partners.get(ob.debtor_partner_id, "?"),
                creditor=partners.get(ob.creditor_partner_id, "?"),
                performer=names.get(assignment.performer_person_id) if assignment else None,
                customer=names.get(assignment.customer_person_id) if assignment else None,
                periods=periods.get(ob.id, []),
            )
        )
    return result
