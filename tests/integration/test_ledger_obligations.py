"""Obligations become commitments: one per period, performed and received by the people a
manager names; each period met, late, waived or open; a waived one leaves the figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from coauthor.domain.commitments import Commitment, CommitmentParty
from coauthor.domain.errors import PermissionDenied, ValidationFailed
from coauthor.domain.ledger import Party, Phase
from coauthor.runtime import Runtime
from coauthor.services.ledger import commitments as ledger
from coauthor.services.ledger import declarations, facts, obligations
from coauthor.services.mechanics import registers
from tests.integration.ledger_world import World, seed


@pytest.fixture
def world(runtime: Runtime) -> Iterator[World]:
    with runtime.uow() as uow:
        yield seed(uow, runtime.clock)  # type: ignore[arg-type]


def monthly(world: World) -> str:
    """Red Cedar owes Nordwerk a report each month from 1 April to 1 July 2026."""
    agreement = registers.do_create_item(
        world.uow,
        world.ann,
        world.alliance_id,
        "agreement",
        {"title": "JV", "kind": "jv_agreement"},
    )
    obligation = registers.do_create_item(
        world.uow,
        world.ann,
        world.alliance_id,
        "obligation",
        {
            "agreement_id": agreement.id,
            "title": "Yield report",
            "debtor_partner_id": world.partners["red_cedar"],
            "creditor_partner_id": world.partners["nordwerk"],
            "recurrence": "monthly",
            "first_due_on": "2026-04-01",
            "last_due_on": "2026-07-01",
        },
    )
    return obligation.id


def assign(
    world: World, obligation_id: str, performer: str, customer: str, who: str = "ann"
) -> list:
    payload = {"performer_id": world.people[performer].id, "customer_id": world.people[customer].id}
    return obligations.do_assign_obligation(
        world.uow, world.people[who], world.alliance_id, obligation_id, payload
    )


def test_each_period_is_a_promise_due_at_the_end_of_its_day(world: World) -> None:
    obligation = monthly(world)
    with pytest.raises(PermissionDenied):
        assign(world, obligation, "bob", "ann", who="nina")
    with pytest.raises(ValidationFailed) as caught:
        assign(world, obligation, "ann", "bob")
    assert caught.value.errors[0].loc == ("performer_id",)
    added = assign(world, obligation, "bob", "nina")
    assert [c.period_due_on for c in added] == [date(2026, m, 1) for m in (4, 5, 6, 7)]
    first = added[0]
    assert (first.phase, first.due_at) == (
        Phase.PROMISED,
        datetime(2026, 4, 1, 23, 59, 59, tzinfo=UTC),
    )
    acts = ledger.acts_of(world.uow, world.alliance_id, first.id)
    assert [(a.move.value, a.actor_person_id) for a in acts] == [
        ("request", world.nina.id),
        ("promise", world.bob.id),
    ]
    assert assign(world, obligation, "bob", "nina") == []  # naming again adds nothing new


def test_naming_others_hands_the_open_periods_over(world: World) -> None:
    obligation = monthly(world)
    [april, *_] = assign(world, obligation, "bob", "nina")
    world.move("bob", april, "report_completion")
    world.move("nina", april, "declare_satisfied")
    assign(world, obligation, "cleo", "ann")
    for c in world.uow.find(Commitment, alliance_id=world.alliance_id, obligation_id=obligation):
        performer = world.uow.find_one(
            CommitmentParty, alliance_id=world.alliance_id, commitment_id=c.id, side=Party.PERFORMER
        )
        expected = world.bob.id if c.id == april.id else world.cleo.id
        assert performer is not None and performer.person_id == expected


def test_periods_read_met_late_waived_or_open_and_a_waived_one_leaves_the_figures(
    world: World,
) -> None:
    obligation = monthly(world)
    april, may, june, _july = assign(world, obligation, "bob", "nina")
    world.clock.set(datetime(2026, 3, 30, tzinfo=UTC))
    world.move("bob", april, "report_completion")
    world.move("nina", april, "declare_satisfied")
    world.clock.set(datetime(2026, 6, 3, tzinfo=UTC))
    world.move("bob", may, "report_completion")  # two days late
    world.move("nina", may, "declare_satisfied")
    payload = {
        "text": "Waive the June report: the line was down.",
        "body_id": world.items["body"],
        "decision_right_id": world.items["budget"],
        "meeting_id": world.items["meeting"],
        "positions": [
            {"member_id": world.members["ann"], "position": "for"},
            {"member_id": world.members["bob"], "position": "for"},
            {"member_id": world.members["lee"], "position": "absent"},
        ],
        "waives": [june.id],
    }
    declarations.do_declare(world.uow, world.ann, world.alliance_id, payload)
    world.clock.set(datetime(2026, 7, 5, tzinfo=UTC))
    [item] = obligations.obligation_ledger(world.uow, world.ann, world.alliance_id)
    assert [p.status for p in item.periods] == ["met", "late", "waived", "late"]
    from coauthor.domain.errors import Conflict

    with pytest.raises(Conflict, match="waived"):
        world.move("bob", june, "report_completion")
    table = facts.load_table(world.uow, world.alliance_id)
    assert len(table) == 3  # April, May, July: June was waived
