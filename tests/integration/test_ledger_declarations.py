"""Declarations: within the body's rights, quorate, carried by the rule, dissent recorded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from coauthor.domain import model as m
from coauthor.domain.errors import PermissionDenied, ValidationFailed
from coauthor.runtime import Runtime
from coauthor.services.ledger import declarations
from coauthor.services.paging import PageRequest
from tests.integration.ledger_world import World, seed


@pytest.fixture
def world(runtime: Runtime) -> Iterator[World]:
    with runtime.uow() as uow:
        seeded = seed(uow, runtime.clock)  # type: ignore[arg-type]
        seeded.later()
        yield seeded


def declared(world: World, right: str = "budget", **changes: Any) -> dict[str, Any]:
    """Ann and Bob attended the March meeting; Lee did not."""
    positions = [
        {"member_id": world.members["ann"], "position": "for"},
        {"member_id": world.members["bob"], "position": "for"},
        {"member_id": world.members["lee"], "position": "absent"},
    ]
    return {
        "text": "Spend EUR 40,000 on a second shredder screen.",
        "rationale": "Two stops a month from foil wrapping.",
        "body_id": world.items["body"],
        "decision_right_id": world.items[right],
        "meeting_id": world.items["meeting"],
        "positions": positions,
    } | changes


def declare(world: World, who: str, payload: dict[str, Any]) -> m.Declaration:
    return declarations.do_declare(world.uow, world.people[who], world.alliance_id, payload)


def test_a_body_declares_within_its_rights_with_each_seats_position(world: World) -> None:
    payload = declared(world)
    payload["positions"][1] |= {"position": "against", "reason": "Fix the wrapping first."}
    payload["positions"][0] |= {"position": "for"}
    with pytest.raises(ValidationFailed) as caught:
        declare(world, "ann", payload)  # majority: 1 for, 1 against
    assert caught.value.errors[0].loc == ("positions",)
    assert "a majority needs more for than against; 1 for, 1 against" in caught.value.detail
    payload["positions"][1] |= {"position": "abstain", "reason": "I would fix the wrapping first."}
    made = declare(world, "bob", payload)  # a seated member records it
    assert (made.rule, made.quorum_percent) == (m.DecisionRule.MAJORITY, 60)
    view = declarations.declaration(world.uow, world.olga, world.alliance_id, made.id)
    assert view.body == "Steering committee" and view.decision_kind == "Budget"
    assert (
        view.tally is not None
        and view.tally.describe() == "1 for, 0 against, 1 abstaining, 1 absent"
    )
    assert [(p.name, p.reason) for p in view.dissent] == [
        ("Bob", "I would fix the wrapping first.")
    ]
    log = declarations.declarations(world.uow, world.olga, world.alliance_id, PageRequest())
    assert [v.declaration.id for v in log.items] == [made.id]


def test_a_right_the_body_lacks_is_refused_by_name(world: World) -> None:
    other = world.uow.get(m.DecisionRight, alliance_id=world.alliance_id, id=world.items["budget"])
    assert other is not None
    from coauthor.services.mechanics import registers

    group = registers.do_create_item(
        world.uow,
        world.ann,
        world.alliance_id,
        "body",
        {"name": "Process WG", "kind": "working_group"},
    )
    foreign = registers.do_create_item(
        world.uow,
        world.ann,
        world.alliance_id,
        "decision_right",
        {
            "body_id": group.id,
            "decision_kind": "Line speed",
            "rule": "consent",
            "quorum_percent": 50,
        },
    )
    with pytest.raises(ValidationFailed) as caught:
        declare(world, "ann", declared(world, decision_right_id=foreign.id))
    assert caught.value.errors[0].loc == ("decision_right_id",)
    assert (
        "Steering committee does not hold the right to decide “Line speed”" in caught.value.detail
    )
    assert "its decision rights: “Budget”; “Charter”" in caught.value.detail


def test_quorum_is_checked_against_the_meetings_attendance(world: World) -> None:
    # Charter: consensus, quorum 100 %: two of three seats present is not enough.
    with pytest.raises(ValidationFailed) as caught:
        declare(world, "ann", declared(world, "charter"))
    assert caught.value.errors[0].loc == ("meeting_id",)
    assert "no quorum: 2 of 3 seats were present" in caught.value.detail
    assert "needs 100% (3 seats)" in caught.value.detail


def test_positions_must_match_seats_and_attendance(world: World) -> None:
    payload = declared(world)
    payload["positions"][2] |= {"position": "for"}  # Lee did not attend
    payload["positions"][0] |= {"position": "against"}  # against without a reason
    payload["positions"].append({"member_id": world.members["cleo"], "position": "for"})
    with pytest.raises(ValidationFailed) as caught:
        declare(world, "ann", payload)
    errors = {(e.loc, e.message) for e in caught.value.errors}
    assert (("positions", 2, "position"), "Lee did not attend the meeting: absent") in errors
    assert (("positions", 0, "reason"), "say why Ann is against, in their own words") in errors
    assert (("positions", 3, "member_id"), "is not seated on Steering committee") in errors
    missing = declared(world)
    missing["positions"].pop()
    with pytest.raises(ValidationFailed, match="no position for Lee"):
        declare(world, "ann", missing)


def test_who_may_record_a_declaration(world: World) -> None:
    with pytest.raises(PermissionDenied, match="seated members or the alliance's managers"):
        declare(world, "cleo", declared(world))
    with pytest.raises(PermissionDenied):
        declare(world, "olga", declared(world))


def test_a_declaration_adds_to_the_charter_and_repeals_a_clause(world: World) -> None:
    first = declare(world, "ann", declared(world, charter=True, text="We publish yields monthly."))
    charter = declarations.charter(world.uow, world.nina, world.alliance_id)
    [clause] = charter.in_force
    assert (clause.origin, clause.origin_id) == ("declaration", first.id)
    world.later()
    second = declare(
        world,
        "ann",
        declared(
            world, text="We publish yields quarterly.", charter=True, repeals=[clause.clause.id]
        ),
    )
    charter = declarations.charter(world.uow, world.nina, world.alliance_id)
    assert [c.clause.text for c in charter.in_force] == ["We publish yields quarterly."]
    assert [c.repealed_by.id for c in charter.repealed if c.repealed_by] == [second.id]
    with pytest.raises(ValidationFailed) as caught:
        declare(world, "ann", declared(world, repeals=[clause.clause.id]))
    assert caught.value.errors[0].loc == ("repeals", 0)


def test_a_consensus_statement_is_promoted_through_the_same_path_once(world: World) -> None:
    from coauthor.services.deliberation import acts as deliberation
    from coauthor.services.deliberation import results

    uow, alliance_id = world.uow, world.alliance_id
    started = deliberation.do_create_deliberation(
        uow, world.ann, alliance_id, {"question": "Where next?", "strict_moderation": False}
    )
    texts = ("Publish yields monthly.", "Close the Hamburg site.")
    said = [
        deliberation.do_submit_statement(uow, world.ann, alliance_id, started.id, {"text": text})
        for text in texts
    ]
    for who in ("ann", "bob", "lee", "nina"):
        vote = {"statement_id": said[0].id, "value": 1}
        deliberation.do_vote(uow, world.people[who], alliance_id, started.id, vote)
    results.do_release(uow, world.ann, alliance_id, started.id, 3)  # four voters: threshold 3
    incomplete = {"target": "declaration", "body_id": world.items["body"]}
    with pytest.raises(ValidationFailed) as caught:
        deliberation.do_promote(uow, world.ann, alliance_id, started.id, said[0].id, incomplete)
    assert caught.value.errors[0].loc == ("decision_right_id",)
    payload = declared(world) | {"target": "declaration"}
    del payload["text"]
    made = deliberation.do_promote(uow, world.ann, alliance_id, started.id, said[0].id, payload)
    assert made.text == "Publish yields monthly."
    assert made.source == f"deliberation {started.id}, statement {said[0].id}"
    view = declarations.declaration(uow, world.ann, alliance_id, made.id)
    assert view.decision_kind == "Budget" and view.tally is not None
    from coauthor.domain.errors import Conflict

    with pytest.raises(Conflict, match="already a declaration"):
        deliberation.do_promote(uow, world.ann, alliance_id, started.id, said[0].id, payload)
