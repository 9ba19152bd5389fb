"""Emergence on SQLite and PostgreSQL: each lifecycle, the links across pillars, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from coauthor.domain import model as m
from coauthor.domain.emergence import (
    EmergenceLink,
    ExperimentState,
    Learning,
    LinkKind,
    PlotTwist,
    Tension,
    TensionState,
    TensionStep,
)
from coauthor.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from coauthor.runtime import Runtime
from coauthor.services import eventlog
from coauthor.services.emergence import experiments, learnings, links, plot_twists, tensions
from coauthor.services.ledger import declarations
from coauthor.services.mechanics import alliances, registers
from coauthor.services.mechanics.inputs import AllianceCreate, MemberInput, PartnerInput
from coauthor.services.paging import PageRequest
from tests.integration.ledger_world import World, seed


@pytest.fixture
def world(runtime: Runtime) -> Iterator[World]:
    with runtime.uow() as uow:
        seeded = seed(uow, runtime.clock)  # type: ignore[arg-type]
        seeded.later()
        yield seeded


def raise_twist(world: World, who: str = "bob", **fields: Any) -> PlotTwist:
    payload = {"title": "Main customer doubles its order", "kind": "opportunity"} | fields
    return plot_twists.do_raise_plot_twist(world.uow, world.people[who], world.alliance_id, payload)


def link(world: World, who: str, source_id: str, kind: str, target_id: str) -> EmergenceLink:
    payload = {"target_kind": kind, "target_id": target_id}
    return links.do_link(world.uow, world.people[who], world.alliance_id, source_id, payload)


def written(world: World) -> tuple[int, ...]:
    """How many rows of each emergence kind and events the alliance holds."""
    kinds = (PlotTwist, Tension, TensionStep, EmergenceLink, Learning)
    counted = tuple(len(world.uow.find(k, alliance_id=world.alliance_id)) for k in kinds)
    return (*counted, len(eventlog.chain_events(world.uow, world.alliance_id)))


def other_alliance(world: World) -> dict[str, str]:
    """A second alliance of Ann's, with Bob in it, a meeting and a commitment."""
    data = AllianceCreate(name="Borealis", kind="consortium", organization_name="Nordwerk")
    other = alliances.do_create_alliance(world.uow, world.ann, data)
    partner = alliances.do_add_partner(
        world.uow, world.ann, other.id, PartnerInput(organization_name="Red Cedar")
    )
    alliances.do_add_member(
        world.uow,
        world.ann,
        other.id,
        MemberInput(email="bob@example.org", name="Bob", partner_id=partner.id, role="member"),
    )
    ann_member = alliances.membership_of(world.uow, world.ann, other.id)
    assert ann_member is not None
    seats = [{"member_id": ann_member.id}]
    body = registers.do_create_item(
        world.uow,
        world.ann,
        other.id,
        "body",
        {"name": "Board", "kind": "jv_board", "seats": seats},
    )
    meeting = registers.do_create_item(
        world.uow,
        world.ann,
        other.id,
        "meeting",
        {"body_id": body.id, "title": "Board", "starts_at": world.clock.now().isoformat()},
    )
    from coauthor.services.ledger import commitments

    asked = commitments.do_open_commitment(
        world.uow,
        world.ann,
        other.id,
        {"move": "request", "what": "Samples", "performer_ids": [world.bob.id]},
    )
    return {"alliance": other.id, "meeting": meeting.id, "commitment": asked.id}


def declared(world: World) -> m.Declaration:
    positions = [
        {"member_id": world.members["ann"], "position": "for"},
        {"member_id": world.members["bob"], "position": "for"},
        {"member_id": world.members["lee"], "position": "absent"},
    ]
    payload = {
        "text": "Add a night shift until the order is delivered.",
        "body_id": world.items["body"],
        "decision_right_id": world.items["budget"],
        "meeting_id": world.items["meeting"],
        "positions": positions,
    }
    return declarations.do_declare(world.uow, world.ann, world.alliance_id, payload)


def test_a_plot_twist_raised_answered_and_resolved(world: World) -> None:
    twist = raise_twist(world, severity="high", description="They need 2,000 t more.")
    assert twist.occurred_on == world.clock.now().date()
    assert twist.raised_by_partner_id == world.partners["red_cedar"]
    world.later(5)
    asked = world.ask("ann", ["bob"], what="Quote for 2,000 t")
    link(world, "ann", twist.id, "commitment", asked.id)
    world.later(2)
    declaration = declared(world)
    link(world, "cleo", twist.id, "declaration", declaration.id)
    link(world, "ann", twist.id, "meeting", world.items["meeting"])
    view = plot_twists.plot_twist(world.uow, world.olga, world.alliance_id, twist.id)
    assert [(x.target_kind, x.target_id) for x in view.responses] == [
        (LinkKind.COMMITMENT, asked.id),
        (LinkKind.DECLARATION, declaration.id),
    ]
    assert len(view.links) == 3 and view.raised_by == "Bob"
    with pytest.raises(ValidationFailed) as caught:
        plot_twists.do_resolve_plot_twist(
            world.uow, world.bob, world.alliance_id, twist.id, {"resolution": "  "}
        )
    assert caught.value.errors[0].loc == ("resolution",)
    world.later(24)
    plot_twists.do_resolve_plot_twist(
        world.uow, world.bob, world.alliance_id, twist.id, {"resolution": "Night shift, 3 months"}
    )
    assert twist.resolved_at == world.clock.now() and twist.resolution == "Night shift, 3 months"
    with pytest.raises(Conflict):
        plot_twists.do_resolve_plot_twist(
            world.uow, world.bob, world.alliance_id, twist.id, {"resolution": "Again"}
        )
    kinds = [e.kind for e in eventlog.chain_events(world.uow, world.alliance_id)]
    assert kinds.count("emergence.linked") == 3
    assert kinds[-1] == "plot_twist.resolved" and "plot_twist.raised" in kinds
    assert all(report.ok for report in eventlog.verify_all(world.uow))


def test_plot_twist_refusals_name_their_field_and_write_nothing(world: World) -> None:
    before = written(world)
    for fields, loc in (
        ({"title": ""}, ("title",)),
        ({"kind": "catastrophe"}, ("kind",)),
        ({"severity": "huge"}, ("severity",)),
        ({"occurred_on": "2099-01-01"}, ("occurred_on",)),
        ({"occurred_on": 1700000000}, ("occurred_on",)),
        ({"colour": "red"}, ("colour",)),
    ):
        with pytest.raises(ValidationFailed) as caught:
            raise_twist(world, **fields)
        assert caught.value.errors[0].loc == loc, fields
    with pytest.raises(PermissionDenied):
        raise_twist(world, "olga")
    assert written(world) == before


def test_links_stay_inside_the_alliance(world: World) -> None:
    twist = raise_twist(world)
    elsewhere = other_alliance(world)
    before = written(world)
    for kind in ("commitment", "meeting"):
        with pytest.raises(ValidationFailed) as caught:
            link(world, "ann", twist.id, kind, elsewhere[kind])
        assert caught.value.errors[0].loc == ("target_id",)
        assert f"no such {kind} in this alliance" in caught.value.detail
    with pytest.raises(ValidationFailed) as caught:
        link(world, "ann", twist.id, "risk", elsewhere["commitment"])
    assert caught.value.errors[0].loc == ("target_kind",)
    with pytest.raises(NotFound):
        link(world, "ann", "pt_AAAAAAAAAAAAAAAA", "meeting", world.items["meeting"])
    with pytest.raises(NotFound):
        links.do_link(
            world.uow,
            world.bob,
            elsewhere["alliance"],
            twist.id,
            {"target_kind": "commitment", "target_id": elsewhere["commitment"]},
        )
    assert written(world) == before
    link(world, "ann", twist.id, "meeting", world.items["meeting"])
    with pytest.raises(Conflict):
        link(world, "ann", twist.id, "meeting", world.items["meeting"])


def surface(world: World, who: str = "ann", *partners: str) -> Tension:
    ids = [world.partners[p] for p in partners or ("nordwerk", "red_cedar")]
    payload = {"about": "Who pays for the second screen", "partner_ids": ids}
    return tensions.do_surface_tension(world.uow, world.people[who], world.alliance_id, payload)


def step(world: World, tension: Tension, to: str, who: str = "ann", **fields: Any) -> Tension:
    world.later(24)
    payload = {"to": to} | fields
    return tensions.do_move_tension(
        world.uow, world.people[who], world.alliance_id, tension.id, payload
    )


def test_a_tension_engaged_at_a_meeting_escalated_and_resolved(world: World) -> None:
    tension = surface(world)
    surfaced = tension.surfaced_at
    step(world, tension, "engaged", meeting_id=world.items["meeting"], note="Frank talk")
    step(world, tension, "escalated", who="bob", note="To the owners")
    step(world, tension, "engaged", who="lee")
    with pytest.raises(ValidationFailed) as caught:
        step(world, tension, "resolved")
    assert caught.value.errors[0].loc == ("outcome",)
    step(world, tension, "resolved", outcome="Split 60/40 by volume")
    assert tension.state is TensionState.RESOLVED and not tension.open
    assert (tension.engaged_at - surfaced).days == 1
    assert tension.age_days(world.clock.now()) == 5  # five tries, a day apart
    view = tensions.tension(world.uow, world.olga, world.alliance_id, tension.id)
    assert [s.state.value for s in view.steps] == [
        "surfaced",
        "engaged",
        "escalated",
        "engaged",
        "resolved",
    ]
    assert view.meeting_ids == [world.items["meeting"]]
    assert view.partner_ids == sorted([world.partners["nordwerk"], world.partners["red_cedar"]])
    with pytest.raises(ValidationFailed) as caught:
        step(world, tension, "engaged")
    assert "a tension resolved cannot become engaged" in caught.value.detail


def test_a_tension_refuses_bad_steps_and_partners_writing_nothing(world: World) -> None:
    tension = surface(world)
    elsewhere = other_alliance(world)
    before = written(world)
    with pytest.raises(ValidationFailed) as caught:
        step(world, tension, "resolved", outcome="Agreed")
    assert caught.value.errors[0].loc == ("to",)
    assert "it may become abandoned, engaged" in caught.value.detail
    with pytest.raises(ValidationFailed) as caught:
        step(world, tension, "engaged", meeting_id=elsewhere["meeting"])
    assert caught.value.errors[0].loc == ("meeting_id",)
    with pytest.raises(ValidationFailed) as caught:
        step(world, tension, "abandoned", meeting_id=world.items["meeting"], outcome="x")
    assert caught.value.errors[0].loc == ("meeting_id",)
    with pytest.raises(ValidationFailed) as caught:
        surface(world, "ann", "nordwerk")
    assert caught.value.errors[0].loc == ("partner_ids",)
    with pytest.raises(ValidationFailed) as caught:
        tensions.do_surface_tension(
            world.uow,
            world.ann,
            world.alliance_id,
            {"about": "x", "partner_ids": [world.partners["nordwerk"], elsewhere["alliance"]]},
        )
    assert caught.value.errors[0].loc == ("partner_ids", 1)
    with pytest.raises(PermissionDenied):
        step(world, tension, "engaged", who="olga")
    assert written(world) == before
    step(world, tension, "abandoned", outcome="Nobody wanted to talk about it")
    assert tension.closed_at == world.clock.now()


def test_an_experiment_prompted_by_a_plot_twist_runs_and_teaches(world: World) -> None:
    twist = raise_twist(world, kind="disruption")
    review = date(2026, 4, 30)
    payload = {
        "hypothesis": "A weekly call cuts the lead time",
        "action": "Thirty minutes each Monday",
        "signal": "Lead time in days",
        "review_on": review.isoformat(),
        "prompted_by": twist.id,
    }
    experiment = experiments.do_propose_experiment(world.uow, world.bob, world.alliance_id, payload)
    assert experiment.state is ExperimentState.PLANNED
    view = plot_twists.plot_twist(world.uow, world.bob, world.alliance_id, twist.id)
    assert [(x.target_kind, x.target_id) for x in view.responses] == [
        (LinkKind.EXPERIMENT, experiment.id)
    ]

    def move(to: str, **fields: Any) -> None:
        world.later(24)
        experiments.do_move_experiment(
            world.uow, world.bob, world.alliance_id, experiment.id, {"to": to} | fields
        )

    with pytest.raises(ValidationFailed) as caught:
        move("concluded", result="Too early")
    assert caught.value.errors[0].loc == ("to",)
    move("running")
    with pytest.raises(ValidationFailed) as caught:
        move("concluded")
    assert caught.value.errors[0].loc == ("result",)
    with pytest.raises(ValidationFailed) as caught:
        learnings.do_record_learning(
            world.uow,
            world.bob,
            world.alliance_id,
            {"text": "x", "source": "experiment", "experiment_id": experiment.id},
        )
    assert "still running" in caught.value.detail
    move(
        "concluded",
        result="From 9 days to 6",
        adjustment="Keep the call, drop the report",
        learning="Talking weekly beats writing monthly",
    )
    assert experiment.state is ExperimentState.CONCLUDED and experiment.closed_at is not None
    world.later()
    learnings.do_record_learning(
        world.uow,
        world.cleo,
        world.alliance_id,
        {"text": "Agendas a day ahead", "source": "experiment", "experiment_id": experiment.id},
    )
    world.later()
    learnings.do_record_learning(
        world.uow, world.ann, world.alliance_id, {"text": "Retro: celebrate small wins"}
    )
    page = learnings.learnings(world.uow, world.olga, world.alliance_id, PageRequest(limit=2))
    assert [x.text for x in page.items] == ["Retro: celebrate small wins", "Agendas a day ahead"]
    assert page.next_cursor is not None
    rest = learnings.learnings(
        world.uow, world.olga, world.alliance_id, PageRequest.parse(2, page.next_cursor)
    )
    assert [(x.text, x.experiment_id) for x in rest.items] == [
        ("Talking weekly beats writing monthly", experiment.id)
    ]


def test_experiment_refusals_name_their_field(world: World) -> None:
    base = {"hypothesis": "h", "action": "a", "signal": "s", "review_on": "2026-05-01"}
    before = written(world)
    for changes, loc in (
        ({"hypothesis": " "}, ("hypothesis",)),
        ({"review_on": "2026-01-01"}, ("review_on",)),
        ({"prompted_by": "pt_AAAAAAAAAAAAAAAA"}, ("prompted_by",)),
    ):
        with pytest.raises(ValidationFailed) as caught:
            experiments.do_propose_experiment(
                world.uow, world.bob, world.alliance_id, base | changes
            )
        assert caught.value.errors[0].loc == loc, changes
    with pytest.raises(ValidationFailed) as caught:
        learnings.do_record_learning(
            world.uow, world.bob, world.alliance_id, {"text": "x", "source": "experiment"}
        )
    assert caught.value.errors[0].loc == ("experiment_id",)
    assert written(world) == before


def test_the_figures_need_no_signed_in_person(world: World) -> None:
    from coauthor.services.emergence.facts import alliance_metrics

    first = raise_twist(world, "bob")
    raise_twist(world, "ann", title="Plant fire")
    world.later(3)
    link(world, "ann", first.id, "commitment", world.ask("ann", ["bob"]).id)
    link(world, "ann", first.id, "meeting", world.items["meeting"])
    surface(world)
    world.later(24 * 31)
    got = alliance_metrics(world.uow, world.alliance_id)
    assert got.plot_twists == 2 and got.with_response == 1
    assert got.median_hours_to_first_response == 4.0  # 3 h later, and 1 h to ask
    assert got.by_partner == {
        world.partners["nordwerk"]: 1,
        world.partners["red_cedar"]: 1,
        world.partners["lakeshore"]: 0,
    }
    assert len(got.tensions_open_past_limit) == 1
