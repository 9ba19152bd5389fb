"""The ledger's API: opening, moves (refused ones as problems), lists and pages, declarations,
the charter, obligation periods, the figures' JSON and the calendar feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import icalendar
from fastapi.testclient import TestClient

from coauthor.clock import FixedClock
from tests.e2e.conftest import World, csrf_of, login

API = "/api/v1"


class Caller:
    """A signed-in person calling the API with their session cookie and its CSRF header."""

    def __init__(self, client: TestClient, world: World, role: str) -> None:
        self.client = client
        client.cookies.clear()
        someone = world.person(role)
        assert login(client, someone.email, someone.password).status_code == 303
        self.headers = {"X-CSRF-Token": csrf_of(client, "/account/tokens")}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(API + path, params=params)

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.client.post(API + path, json=body, headers=self.headers)

    def put(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.client.put(API + path, json=body, headers=self.headers)

    def delete(self, path: str) -> httpx.Response:
        return self.client.delete(API + path, headers=self.headers)


def test_a_commitment_through_the_api(client: TestClient, world: World) -> None:
    base = f"/alliances/{world.alliance_id}/commitments"
    member = Caller(client, world, "member")
    opened = member.post(
        base,
        {
            "move": "request",
            "what": "Installer training plan",
            "conditions": "Two sessions per country",
            "due_on": "2026-03-31",
            "performer_ids": [world.sponsor.id],
        },
    )
    assert opened.status_code == 201, opened.text
    body = opened.json()
    assert opened.headers["location"].endswith(f"{base}/{body['id']}")
    assert (body["phase"], body["state"], body["awaits"]) == ("requested", 2, "performer")
    assert body["due_at"] == "2026-03-31T23:59:59Z"
    assert body["my_side"] == "customer" and body["my_moves"] == ["withdraw", "progress_note"]
    one = f"{base}/{body['id']}"
    sponsor = Caller(client, world, "sponsor")
    waiting = sponsor.get("/me/commitments", which="waiting").json()
    assert [item["id"] for item in waiting["items"]] == [body["id"]]
    refused = sponsor.post(f"{one}/moves", {"move": "declare_satisfied"})
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["field"] == "move"
    assert problem["detail"].startswith("The performer cannot declare satisfied now.")
    countered = sponsor.post(
        f"{one}/moves", {"move": "counter_offer", "due_on": "2026-04-15", "text": "Easter"}
    )
    assert countered.status_code == 201
    assert countered.json()["proposal"] == {
        "conditions": "Two sessions per country",
        "due_at": "2026-04-15T23:59:59Z",
    }
    member = Caller(client, world, "member")
    accepted = member.post(f"{one}/moves", {"move": "accept_counter"}).json()
    assert (accepted["phase"], accepted["due_at"]) == ("promised", "2026-04-15T23:59:59Z")
    assert [act["move"] for act in accepted["acts"]] == [
        "request",
        "counter_offer",
        "accept_counter",
    ]
    observer = Caller(client, world, "observer")
    assert observer.post(f"{one}/moves", {"move": "progress_note"}).status_code == 403
    bad = observer.get(base, state="lost")
    assert bad.status_code == 422


def test_lists_are_pages_and_filter(client: TestClient, world: World, clock: FixedClock) -> None:
    base = f"/alliances/{world.alliance_id}/commitments"
    member = Caller(client, world, "member")
    for what in ("First", "Second", "Third"):
        clock.advance(timedelta(minutes=1))
        ask = {"move": "request", "what": what, "performer_ids": [world.sponsor.id]}
        assert member.post(base, ask).status_code == 201
    first = member.get(base, limit=2).json()
    assert [item["what"] for item in first["items"]] == ["Third", "Second"]
    rest = member.client.get(first["next"]).json()
    assert [item["what"] for item in rest["items"]] == ["First"] and rest["next"] is None
    assert member.get(base, state="closed").json()["items"] == []
    assert len(member.get("/me/commitments", which="owed").json()["items"]) == 3


def test_declarations_name_the_missing_right_and_the_charter_lists_clauses(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    clock.set(datetime(2026, 3, 11, tzinfo=UTC))
    manager = Caller(client, world, "manager")
    base = f"/alliances/{world.alliance_id}"
    group = manager.post(f"{base}/bodies", {"name": "Service group", "kind": "working_group"})
    right = manager.post(
        f"{base}/decision-rights",
        {
            "body_id": group.json()["id"],
            "decision_kind": "Service levels",
            "rule": "consent",
            "quorum_percent": 50,
        },
    )
    assert right.status_code == 201, right.text
    declaration = {
        "text": "Answer every service call within a day.",
        "body_id": world.items["body"],
        "decision_right_id": right.json()["id"],
        "meeting_id": world.items["meeting"],
        "positions": [],
    }
    refused = manager.post(f"{base}/declarations", declaration)
    assert refused.status_code == 422
    assert refused.json()["field"] == "decision_right_id"
    assert "does not hold the right to decide “Service levels”" in refused.json()["detail"]
    assert manager.get(f"{base}/charter").json() == {"in_force": [], "repealed": []}
    assert manager.get(f"{base}/declarations").json() == {"items": [], "next": None}


def test_obligation_periods_and_the_figures(client: TestClient, world: World) -> None:
    manager = Caller(client, world, "manager")
    base = f"/alliances/{world.alliance_id}"
    named = manager.put(
        f"{base}/obligations/{world.items['obligation']}/assignment",
        {"performer_id": world.member.id, "customer_id": world.sponsor.id},
    )
    assert named.status_code == 200, named.text
    periods = named.json()["periods"]
    assert [p["due_on"] for p in periods[:3]] == ["2026-01-15", "2026-02-15", "2026-03-15"]
    assert [p["status"] for p in periods[:3]] == ["late", "late", "open"]
    listed = manager.get(f"{base}/obligation-periods").json()["items"]
    assert [item["title"] for item in listed] == ["Quarterly capital call"]
    figures = manager.get(f"{base}/ledger-figures").json()
    for key in ("reliability", "responsiveness", "clarity", "candor", "silent_lapses"):
        assert key in figures
    # At 2 March the January and February periods are past due and open: two broken
    # promises, and two silent lapses (nobody spoke after the due date).
    assert figures["reliability"] == {"value": 0.0, "count": 0, "of": 2}
    assert figures["silent_lapses"]["count"] == 2
    # Contoso (the creditor) asks Northwind for each of the 14 periods to February 2027.
    partners = sorted(world.partners.values())
    asked = [[0, 0], [0, 0]]
    asked[partners.index(world.partners["contoso"])][
        partners.index(world.partners["northwind"])
    ] = 14
    assert figures["reciprocity"] == {"partners": partners, "asked": asked, "promised": asked}
    assert [p["partner"] for p in figures["by_partner"]] == ["Contoso", "Northwind"]


def test_my_calendar_feed_through_the_api(client: TestClient, world: World) -> None:
    member = Caller(client, world, "member")
    base = f"/alliances/{world.alliance_id}/commitments"
    ask = {
        "move": "request",
        "what": "Service manual",
        "due_at": "2026-03-20T15:00:00Z",
        "performer_ids": [world.sponsor.id],
    }
    assert member.post(base, ask).status_code == 201
    made = member.post("/me/calendar-feed", {})
    assert made.status_code == 201
    path = made.json()["url"].removeprefix("http://testserver")
    client.cookies.clear()
    feed = icalendar.Calendar.from_ical(client.get(path).content)
    [due] = [e for e in feed.walk("VEVENT") if str(e["summary"]) == "Owed to you: Service manual"]
    assert due.decoded("dtend") == datetime(2026, 3, 20, 15, tzinfo=UTC)
    member = Caller(client, world, "member")
    assert member.delete("/me/calendar-feed").status_code == 204
    client.cookies.clear()
    assert client.get(path).status_code == 404
