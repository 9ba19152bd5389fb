"""Emergence through the API: a plot twist answered, refusals as problems naming their field,
a tension's course, an experiment and its learning, pages of lists, and the figures."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.e2e.conftest import World
from tests.e2e.test_ledger_api import Caller


def test_a_plot_twist_is_raised_answered_and_resolved(client: TestClient, world: World) -> None:
    base = f"/alliances/{world.alliance_id}"
    member = Caller(client, world, "member")
    raised = member.post(
        f"{base}/plot-twists", {"title": "Supplier bankrupt", "kind": "disruption"}
    )
    assert raised.status_code == 201, raised.text
    twist = raised.json()
    assert raised.headers["location"].endswith(f"{base}/plot-twists/{twist['id']}")
    assert (twist["severity"], twist["raised_by"], twist["links"]) == (
        "medium",
        "Member Person",
        [],
    )
    asked = member.post(
        f"{base}/commitments",
        {"move": "request", "what": "Find a second supplier", "performer_ids": [world.sponsor.id]},
    ).json()
    link = {"target_kind": "commitment", "target_id": asked["id"]}
    linked = member.post(f"{base}/plot-twists/{twist['id']}/links", link)
    assert linked.status_code == 201, linked.text
    assert [x["target_id"] for x in linked.json()["links"]] == [asked["id"]]
    again = member.post(f"{base}/plot-twists/{twist['id']}/links", link)
    assert again.status_code == 409
    stranger = {"target_kind": "declaration", "target_id": asked["id"]}
    refused = member.post(f"{base}/plot-twists/{twist['id']}/links", stranger)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "target_id", "message": "no such declaration in this alliance"}
    ]
    empty = member.post(f"{base}/plot-twists/{twist['id']}/resolve", {"resolution": ""})
    assert empty.status_code == 422 and empty.json()["field"] == "resolution"
    done = member.post(f"{base}/plot-twists/{twist['id']}/resolve", {"resolution": "New supplier"})
    assert done.json()["resolution"] == "New supplier"
    observer = Caller(client, world, "observer")
    assert observer.post(f"{base}/plot-twists", {"title": "x"}).status_code == 403
    figures = observer.get(f"{base}/emergence-figures").json()
    assert (figures["plot_twists"], figures["with_response"]) == (1, 1)


def test_a_tension_an_experiment_and_pages(client: TestClient, world: World) -> None:
    base = f"/alliances/{world.alliance_id}"
    manager = Caller(client, world, "manager")
    partners = [world.partners["northwind"], world.partners["contoso"]]
    tension = manager.post(f"{base}/tensions", {"about": "Pricing", "partner_ids": partners}).json()
    step = manager.post(f"{base}/tensions/{tension['id']}/steps", {"to": "resolved"})
    assert step.status_code == 422 and step.json()["field"] == "to"
    meeting = {"to": "engaged", "meeting_id": world.items["meeting"]}
    engaged = manager.post(f"{base}/tensions/{tension['id']}/steps", meeting).json()
    assert engaged["state"] == "engaged" and engaged["links"][0]["target_kind"] == "meeting"
    bad = manager.post(
        f"{base}/experiments",
        {"hypothesis": "", "action": "a", "signal": "s", "review_on": "2020-01-01"},
    )
    assert {e["field"] for e in bad.json()["errors"]} == {"hypothesis"}
    for n in range(3):
        made = manager.post(
            f"{base}/experiments",
            {
                "hypothesis": f"Idea {n}",
                "action": "Try it",
                "signal": "Watch it",
                "review_on": "2099-01-01",
                "prompted_by": tension["id"],
            },
        )
        assert made.status_code == 201, made.text
    first = manager.get(f"{base}/experiments", limit=2).json()
    assert len(first["items"]) == 2 and first["next"]
    rest = client.get(first["next"]).json()
    assert len(rest["items"]) == 1
    one = rest["items"][0]["id"]
    manager.post(f"{base}/experiments/{one}/steps", {"to": "running"})
    ended = manager.post(
        f"{base}/experiments/{one}/steps",
        {"to": "concluded", "result": "It helped", "learning": "Try small"},
    )
    assert ended.json()["state"] == "concluded"
    learned = manager.get(f"{base}/learnings").json()["items"]
    assert [(x["text"], x["experiment_id"]) for x in learned] == [("Try small", one)]
    read = manager.get(f"{base}/tensions/{tension['id']}").json()
    assert len([x for x in read["links"] if x["target_kind"] == "experiment"]) == 3
