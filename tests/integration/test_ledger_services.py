"""The ledger's services on SQLite and PostgreSQL: moves, parties, the cache, the facts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from coauthor.analysis.ledger_metrics import CommitmentRecord, ledger_metrics, table_metrics
from coauthor.domain.commitments import Commitment, CommitmentParty
from coauthor.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from coauthor.domain.ledger import MoveNotAllowed, Party, Phase, State, replay
from coauthor.runtime import Runtime
from coauthor.services import eventlog
from coauthor.services.ledger import commitments as ledger
from coauthor.services.ledger import facts, views
from coauthor.services.paging import PageRequest
from tests.integration.ledger_world import World, seed


@pytest.fixture
def world(runtime: Runtime) -> Iterator[World]:
    with runtime.uow() as uow:
        yield seed(uow, runtime.clock)  # type: ignore[arg-type]


def cached_equals_replayed(world: World) -> None:
    """The cache on every commitment is what its stored acts add up to."""
    for commitment in world.uow.find(Commitment, alliance_id=world.alliance_id):
        acts = ledger.acts_of(world.uow, world.alliance_id, commitment.id)
        state = replay(act.speech_act() for act in acts)
        assert commitment.phase == state.phase
        assert commitment.state == int(state.state)
        assert commitment.awaits == state.phase.awaits
        assert commitment.due_at == (state.terms.due_at if state.terms else None)
        assert commitment.reply_by == state.reply_by
        assert commitment.moves == len(acts) == state.moves_made


def test_a_request_promised_reported_and_declared_satisfied(world: World) -> None:
    due = datetime(2026, 4, 10, 23, 59, 59, tzinfo=UTC)
    asked = world.ask("ann", ["bob"], conditions="tonnes and grade", due_on="2026-04-10")
    assert (asked.phase, asked.awaits, asked.due_at) == (Phase.REQUESTED, Party.PERFORMER, due)
    world.move("bob", asked, "promise", text="On it.")
    world.move("bob", asked, "report_completion", evidence=["https://example.org/report.pdf"])
    assert asked.awaits == Party.CUSTOMER
    world.move("ann", asked, "declare_satisfied", text="Thank you")
    assert (asked.phase, asked.state, asked.moves) == (Phase.FULFILLED, 5, 4)
    acts = ledger.acts_of(world.uow, world.alliance_id, asked.id)
    assert [a.move.value for a in acts] == [
        "request",
        "promise",
        "report_completion",
        "declare_satisfied",
    ]
    assert acts[2].evidence == ["https://example.org/report.pdf"]
    assert [a.seq for a in acts] == [1, 2, 3, 4]
    cached_equals_replayed(world)
    kinds = [e.kind for e in eventlog.chain_events(world.uow, world.alliance_id)][-4:]
    assert kinds == [
        "commitment.opened",
        "commitment.moved",
        "commitment.moved",
        "commitment.moved",
    ]
    assert all(report.ok for report in eventlog.verify_all(world.uow))


def test_only_the_parties_make_moves_and_only_those_the_table_allows(world: World) -> None:
    asked = world.ask("ann", ["bob"])
    with pytest.raises(PermissionDenied, match="only this commitment's customer and performers"):
        world.move("cleo", asked, "promise")
    with pytest.raises(PermissionDenied, match="observers"):
        world.move("olga", asked, "promise")
    with pytest.raises(MoveNotAllowed) as refused:
        world.move("ann", asked, "promise")
    assert "The customer cannot promise now" in refused.value.detail
    assert "the performer may promise, make a counter-offer, decline" in refused.value.detail
    with pytest.raises(MoveNotAllowed):
        world.move("bob", asked, "declare_satisfied")
    assert asked.moves == 1
    cached_equals_replayed(world)


def test_a_malformed_move_names_its_field(world: World) -> None:
    asked = world.ask("ann", ["bob"], due_on="2026-04-10")
    with pytest.raises(ValidationFailed) as caught:
        world.move("bob", asked, "counter_offer")
    assert caught.value.errors[0].loc == ("conditions",)
    with pytest.raises(ValidationFailed) as caught:
        world.move("bob", asked, "promise", due_on="2026-05-01")
    assert caught.value.errors[0].loc == ("due_on",)
    with pytest.raises(ValidationFailed) as caught:
        world.move("bob", asked, "commit_to_commit")
    assert caught.value.errors[0].loc == ("reply_by",)
    with pytest.raises(ValidationFailed) as caught:
        world.move("bob", asked, "request")
    assert caught.value.errors[0].loc == ("move",)
    with pytest.raises(ValidationFailed) as caught:
        world.move("bob", asked, "promise", evidence=["https://example.org/x"])
    assert caught.value.errors[0].loc == ("evidence",)


def test_opening_names_real_participants_on_two_sides(world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        world.ask("ann", ["olga"])
    assert caught.value.errors[0].loc == ("performer_ids", 0)
    with pytest.raises(ValidationFailed) as caught:
        world.ask("ann", ["ann"])
    assert "both customer and performer" in caught.value.errors[0].message
    with pytest.raises(ValidationFailed) as caught:
        world.ask("ann", ["bob"], due_on="2026-04-10", due_at="2026-04-10T12:00:00Z")
    assert caught.value.errors[0].loc == ("due_on",)
    with pytest.raises(PermissionDenied):
        world.ask("olga", ["bob"])


def test_a_joint_commitment_any_co_performer_speaks_for_the_performers(world: World) -> None:
    joint = world.ask("ann", ["bob", "lee"], what="Joint pitch")
    world.move("lee", joint, "promise")
    world.move("bob", joint, "report_completion")
    assert joint.phase == Phase.REPORTED
    rows = world.uow.find(CommitmentParty, alliance_id=world.alliance_id, commitment_id=joint.id)
    assert {(p.person_id, p.side) for p in rows} == {
        (world.ann.id, Party.CUSTOMER),
        (world.bob.id, Party.PERFORMER),
        (world.lee.id, Party.PERFORMER),
    }


def test_an_offer_puts_the_offerer_on_the_performer_side(world: World) -> None:
    offered = world.offer("lee", "ann", conditions="two sessions", due_on="2026-05-01")
    assert (offered.phase, offered.awaits) == (Phase.OFFERED, Party.CUSTOMER)
    world.move("ann", offered, "commit_to_commit", reply_by_on="2026-03-20")
    assert offered.reply_by == datetime(2026, 3, 20, 23, 59, 59, tzinfo=UTC)
    world.move("ann", offered, "accept")
    assert offered.phase == Phase.PROMISED and offered.reply_by is None
    cached_equals_replayed(world)


def test_managers_hand_a_side_to_a_colleague_of_the_same_partner(world: World) -> None:
    asked = world.ask("nina", ["bob"])
    payload = {"person_id": world.bob.id, "to_person_id": world.cleo.id}
    with pytest.raises(PermissionDenied):
        ledger.do_reassign(world.uow, world.nina, world.alliance_id, asked.id, payload)
    wrong = {"person_id": world.bob.id, "to_person_id": world.lee.id}
    with pytest.raises(ValidationFailed) as caught:
        ledger.do_reassign(world.uow, world.ann, world.alliance_id, asked.id, wrong)
    assert caught.value.errors[0].loc == ("to_person_id",)
    ledger.do_reassign(world.uow, world.ann, world.alliance_id, asked.id, payload)
    world.uow.flush()
    with pytest.raises(PermissionDenied):
        world.move("bob", asked, "promise")
    world.move("cleo", asked, "promise")
    assert asked.phase == Phase.PROMISED
    world.move("cleo", asked, "renege", text="Plant closed")
    with pytest.raises(Conflict, match="closed"):
        back = {"person_id": world.cleo.id, "to_person_id": world.bob.id}
        ledger.do_reassign(world.uow, world.ann, world.alliance_id, asked.id, back)


def test_my_commitments_waits_owe_owed_and_the_notice_count(world: World) -> None:
    first = world.ask("ann", ["bob"], due_on="2026-04-01")
    second = world.ask("ann", ["bob"], what="Samples", due_on="2026-03-20")
    third = world.ask("bob", ["ann"], what="Offtake forecast")
    world.move("bob", first, "promise")
    assert views.waiting_count(world.uow, world.bob.id) == 1  # the second request
    assert views.waiting_count(world.uow, world.ann.id) == 1  # Bob's request
    request = PageRequest()
    owe = views.my_commitments(world.uow, world.bob, "owe", request)
    assert [row.commitment.id for row in owe.items] == [second.id, first.id]  # soonest due first
    owed = views.my_commitments(world.uow, world.bob, "owed", request)
    assert [row.commitment.id for row in owed.items] == [third.id]
    waiting = views.my_commitments(world.uow, world.bob, "waiting", request)
    assert [row.commitment.id for row in waiting.items] == [second.id]
    assert waiting.items[0].awaits_me and waiting.items[0].counterparts[0].name == "Ann"
    world.clock.set(datetime(2026, 3, 25, tzinfo=UTC))
    late = views.my_commitments(world.uow, world.bob, "owe", request).items
    assert [row.overdue for row in late] == [True, False]
    paged = views.my_commitments(world.uow, world.bob, "owe", PageRequest(limit=1))
    assert paged.next_cursor is not None
    rest = PageRequest.parse(1, paged.next_cursor)
    assert [
        r.commitment.id for r in views.my_commitments(world.uow, world.bob, "owe", rest).items
    ] == [first.id]


def test_the_ledger_filters_by_partner_state_due_and_body(world: World) -> None:
    at_meeting = world.ask("ann", ["bob"], what="Minutes", meeting_id=world.items["meeting"])
    assert at_meeting.body_id == world.items["body"]
    lakeshore = world.ask("ann", ["lee"], what="Lab slot", due_on="2026-03-05")
    declined = world.ask("nina", ["bob"], what="Logo")
    world.move("bob", declined, "decline")

    def ids(**query: str) -> list[str]:
        from coauthor.services.ledger.inputs import LedgerQuery

        page = views.ledger(
            world.uow, world.olga, world.alliance_id, LedgerQuery(**query), PageRequest()
        )
        return [row.commitment.id for row in page.rows.items]

    assert ids() == [lakeshore.id, at_meeting.id]  # open, newest first
    assert ids(state="closed") == [declined.id]
    assert set(ids(state="all")) == {at_meeting.id, lakeshore.id, declined.id}
    assert ids(partner_id=world.partners["lakeshore"]) == [lakeshore.id]
    assert ids(body_id=world.items["body"]) == [at_meeting.id]
    assert ids(due="week") == [lakeshore.id]
    assert ids(due="none") == [at_meeting.id]
    world.clock.advance(timedelta(days=10))
    assert ids(due="overdue") == [lakeshore.id]
    with pytest.raises(ValidationFailed):
        ids(partner_id="pa_nope")


def test_a_commitment_reads_as_its_conversation(world: World) -> None:
    asked = world.ask("ann", ["bob"], due_on="2026-04-10", conditions="signed")
    world.move("bob", asked, "counter_offer", text="Need a week more", due_on="2026-04-17")
    seen = views.conversation(world.uow, world.ann, world.alliance_id, asked.id)
    assert [(line.speaker, line.partner, line.act.move.value) for line in seen.lines] == [
        ("Ann", "Nordwerk", "request"),
        ("Bob", "Red Cedar", "counter_offer"),
    ]
    assert [move.value for move in seen.my_moves] == [
        "accept_counter",
        "counter",
        "reject",
        "progress_note",
    ]
    assert seen.state.proposal is not None
    assert seen.state.proposal.due_at == datetime(2026, 4, 17, 23, 59, 59, tzinfo=UTC)
    assert views.conversation(world.uow, world.olga, world.alliance_id, asked.id).my_moves == ()
    assert seen.can_reassign and [c.id for c in seen.colleagues[world.bob.id]] == [world.cleo.id]
    with pytest.raises(NotFound):
        views.conversation(world.uow, world.ann, world.alliance_id, "cm_nope")


def test_the_stored_facts_give_the_figures_the_acts_give(world: World) -> None:
    start = world.clock.now()
    kept = world.ask("ann", ["bob"], conditions="c", due_on="2026-03-10")
    world.move("bob", kept, "promise")
    world.move("bob", kept, "report_completion")
    world.move("ann", kept, "declare_not_satisfied")
    world.move("bob", kept, "report_completion")
    world.move("ann", kept, "declare_satisfied")
    silent = world.ask("lee", ["cleo"], due_on="2026-03-03")
    world.move("cleo", silent, "promise")
    world.ask("bob", ["lee"])
    world.clock.set(start + timedelta(days=20))
    now = world.clock.now()
    table = facts.load_table(world.uow, world.alliance_id)
    records = []
    for c in world.uow.find(Commitment, alliance_id=world.alliance_id):
        parties = ledger.parties_of(world.uow, world.alliance_id, c.id)
        acts = [a.speech_act() for a in ledger.acts_of(world.uow, world.alliance_id, c.id)]
        performers = sorted({p.partner_id for p in parties if p.side == Party.PERFORMER})
        records.append(
            CommitmentRecord.from_acts(
                alliance_id=c.alliance_id,
                commitment_id=c.id,
                customer_partner_id=c.customer_partner_id,
                performer_partner_ids=performers,
                acts=acts,
            )
        )
    assert table_metrics(table, now) == ledger_metrics(records, now)
    figures = table_metrics(table, now).to_dict()
    assert figures["rework_loops"] == {"value": 0.5, "count": 1, "of": 2}
    assert figures["silent_lapses"]["current"] == 1
    for partner in world.partners.values():
        assert table_metrics(table, now, partner_id=partner) == ledger_metrics(
            records, now, partner_id=partner
        )
    stale = world.uow.session.execute(
        sa.select(sa.func.count()).select_from(Commitment).where(Commitment.state == State.OPENED)
    ).scalar()
    assert stale == 0
