"""The shared story composed on a small alliance: its chapters and what each holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from coauthor.domain import model as m
from coauthor.domain.errors import NotFound
from coauthor.reports.story import to_html, to_markdown
from coauthor.runtime import Runtime
from coauthor.services import story
from coauthor.services.emergence import experiments, learnings, links, plot_twists, tensions
from coauthor.services.ledger import declarations
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import AllianceInput, PartnerNoteInput
from tests.integration.ledger_world import World, seed


@pytest.fixture
def world(runtime: Runtime) -> Iterator[World]:
    with runtime.uow() as uow:
        seeded = seed(uow, runtime.clock)  # type: ignore[arg-type]
        seeded.later()
        yield seeded


def live_a_little(world: World) -> dict[str, str]:
    """March: a request kept, a declaration with dissent, a plot twist met with a commitment.
    April: a tension engaged and resolved, an experiment concluded with a learning, a promise
    reneged. A private note of Nordwerk's that the story must never tell."""
    uow, alliance_id = world.uow, world.alliance_id
    kept = world.ask("ann", ["bob"], what="Yield report for March")
    world.move("bob", kept, "promise")
    world.move("bob", kept, "report_completion")
    world.move("ann", kept, "declare_satisfied")
    positions = [
        {"member_id": world.members["ann"], "position": "for"},
        {"member_id": world.members["bob"], "position": "abstain", "reason": "Too early to tell"},
        {"member_id": world.members["lee"], "position": "absent"},
    ]
    world.later()
    declared = declarations.do_declare(
        uow,
        world.ann,
        alliance_id,
        {
            "text": "Buy a second shredder screen.",
            "body_id": world.items["body"],
            "decision_right_id": world.items["budget"],
            "meeting_id": world.items["meeting"],
            "positions": positions,
            "charter": True,
        },
    )
    world.later()
    twist = plot_twists.do_raise_plot_twist(
        uow, world.cleo, alliance_id, {"title": "Foil in the feedstock", "kind": "disruption"}
    )
    answer = world.ask("cleo", ["ann"], what="Sort the foil at the gate")
    links.do_link(
        uow,
        world.cleo,
        alliance_id,
        twist.id,
        {"target_kind": "commitment", "target_id": answer.id},
    )
    alliances.do_add_partner_note(
        uow,
        world.ann,
        alliance_id,
        world.partners["nordwerk"],
        PartnerNoteInput(body="Nordwerk only: our walk-away price."),
    )
    world.clock.advance(timedelta(days=31))  # into April
    pair = [world.partners["nordwerk"], world.partners["red_cedar"]]
    tension = tensions.do_surface_tension(
        uow, world.bob, alliance_id, {"about": "Who pays the screen", "partner_ids": pair}
    )
    world.later(24)
    tensions.do_move_tension(
        uow,
        world.bob,
        alliance_id,
        tension.id,
        {"to": "engaged", "meeting_id": world.items["meeting"]},
    )
    world.later(48)
    tensions.do_move_tension(
        uow, world.ann, alliance_id, tension.id, {"to": "resolved", "outcome": "Split 60/40"}
    )
    experiment = experiments.do_propose_experiment(
        uow,
        world.lee,
        alliance_id,
        {
            "hypothesis": "Gate sorting halves the stops",
            "action": "Sort at the gate for four weeks",
            "signal": "Stops per week",
            "review_on": "2026-05-15",
            "prompted_by": twist.id,
        },
    )
    for step in (
        {"to": "running"},
        {"to": "concluded", "result": "Stops 4 → 1", "learning": "Sort early"},
    ):
        world.later(24)
        experiments.do_move_experiment(uow, world.lee, alliance_id, experiment.id, step)
    broken = world.ask("lee", ["bob"], what="Spare parts list")
    world.move("bob", broken, "promise")
    world.move("bob", broken, "renege", text="Our supplier folded")
    learnings.do_record_learning(uow, world.nina, alliance_id, {"text": "Name tensions early"})
    return {"declaration": declared.id, "twist": twist.id, "tension": tension.id}


def test_the_story_in_quarters_holds_what_each_quarter_lived(world: World) -> None:
    ids = live_a_little(world)
    told = story.compose_story(world.uow, world.olga, world.alliance_id, pulse_threshold=5)
    assert [c.title for c in told.chapters] == [
        "2026, Q1: January to March",
        "2026, Q2: April to June",
    ]
    first, second = told.chapters
    assert [e.kind.value for e in first.entries] == [
        "kept",
        "declaration",
        "plot_twist",
    ]
    declared = first.entries[1]
    assert declared.ref == ids["declaration"]
    assert declared.details == [
        "Written into the charter.",
        "Dissent — Bob (abstain): “Too early to tell”",
    ]
    twist = first.entries[2]
    assert twist.details[1:] == [
        "Answered by the commitment: Sort the foil at the gate",
        "Answered by the experiment: Gate sorting halves the stops",
    ]
    assert sorted(e.kind.value for e in second.entries) == [
        "broken",
        "experiment",
        "learning",
        "learning",
        "tension",
    ]
    tension = next(e for e in second.entries if e.kind.value == "tension")
    assert "Course: surfaced → engaged → resolved" in tension.details
    assert "Engaged at: March steering" in tension.details
    assert "Resolved after 3 days: Split 60/40" in tension.details
    assert (told.kept, told.broken) == (1, 1)
    assert told.charter == ["Buy a second shredder screen."]
    assert told.metrics.with_response == 1
    markdown = to_markdown(told)
    html = to_html(told)
    for text in (markdown, html):
        assert "walk-away" not in text  # a partner's private note is never told
        assert "Foil in the feedstock" in text and "Sort early" in text
    assert markdown.count("\n## 2026") == 2
    assert "<svg" in html


def test_the_story_by_stage_and_for_whom(world: World) -> None:
    live_a_little(world)
    alliance = world.uow.get(m.Alliance, id=world.alliance_id)
    assert alliance is not None
    world.later()
    alliances.do_update_alliance(
        world.uow,
        world.ann,
        world.alliance_id,
        AllianceInput(name=alliance.name, kind=alliance.kind, stage="operating"),
    )
    world.later()
    learnings.do_record_learning(
        world.uow, world.bob, world.alliance_id, {"text": "Operating is calmer"}
    )
    told = story.compose_story(
        world.uow, world.ann, world.alliance_id, 5, chaptering=story.Chaptering.STAGE
    )
    assert [c.title.split(" (")[0] for c in told.chapters] == ["Forming", "Operating"]
    assert len(told.chapters[0].entries) == 8  # the three of March and the five of April
    assert [e.title for e in told.chapters[1].entries] == ["Operating is calmer"]
    with pytest.raises(NotFound):
        story.operator_story(world.uow, "al_AAAAAAAAAAAAAAAA", 5)
