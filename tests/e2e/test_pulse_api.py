"""The pulse through the API: answering with a link, results as aggregates only — and the
differencing attacks (before and after one answer, partner against partner × role band,
wave against wave), which must learn nothing about anyone.

The world: Northwind (the manager and nine team members) and Contoso (the sponsor, the
observer and eight members); thresholds 5 for figures and 10 for comments.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from coauthor.clock import FixedClock
from coauthor.domain.model import Person, Role
from coauthor.domain.pulse import STANDARD_ITEMS
from coauthor.runtime import Runtime
from coauthor.services.accounts import tokens
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import MemberInput
from tests.e2e.conftest import World

API = "/api/v1"


@pytest.fixture
def bearer(runtime: Runtime, world: World) -> Callable[[str], dict[str, str]]:
    """``bearer("manager")``: an Authorization header for that person of the world."""

    def header(role: str) -> dict[str, str]:
        with runtime.uow() as uow:
            person = uow.get(Person, id=world.person(role).id)
            _, secret = uow.write(tokens.do_create_token, person, f"{role} pulse")
        return {"Authorization": f"Bearer {secret}"}

    return header


@pytest.fixture
def teams(runtime: Runtime, world: World) -> dict[str, list[str]]:
    """Team members added to both partners: their emails by partner."""
    added: dict[str, list[str]] = {"northwind": [], "contoso": []}
    with runtime.uow() as uow:
        manager = uow.get(Person, id=world.manager.id)
        for partner, count in (("northwind", 8), ("contoso", 8)):
            for i in range(count):
                email = f"{partner}{i}@example.org"
                data = MemberInput(
                    email=email, partner_id=world.partners[partner], role=Role.MEMBER
                )
                alliances.do_add_member(uow, manager, world.alliance_id, data)
                added[partner].append(email)
        uow.session.commit()
    return added


class PulseApi:
    def __init__(self, client: TestClient, world: World, manager: dict[str, str]) -> None:
        self.client = client
        self.world = world
        self.manager = manager
        self.base = f"{API}/alliances/{world.alliance_id}/pulse"

    def open(self, title: str = "Spring pulse") -> str:
        body = {"title": title, "closes_on": "2026-03-20"}
        response = self.client.post(f"{self.base}/waves", json=body, headers=self.manager)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def links(self, wave_id: str) -> dict[str, str]:
        """Email → token of every invited member."""
        response = self.client.get(
            f"{self.base}/waves/{wave_id}/links?limit=200", headers=self.manager
        )
        assert response.status_code == 200, response.text
        return {link["email"]: link["url"].rsplit("/", 1)[1] for link in response.json()["items"]}

    def answer(self, token: str, value: int = 5, **overrides: int) -> Any:
        """Answer so that every item scores ``value`` (reverse-keyed items answered 8 − value)."""
        answers = {item.key: 8 - value if item.reverse else value for item in STANDARD_ITEMS}
        answers |= overrides
        return self.client.post(f"{API}/pulse/{token}/answers", json={"answers": answers})

    def results(self, wave_id: str, who: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.client.get(
            f"{self.base}/waves/{wave_id}/results", headers=who or self.manager
        )
        assert response.status_code == 200, response.text
        return response.json()

    def wave(self, wave_id: str) -> dict[str, Any]:
        return self.client.get(f"{self.base}/waves/{wave_id}", headers=self.manager).json()

    def close(self, wave_id: str) -> None:
        response = self.client.post(
            f"{self.base}/waves/{wave_id}/status", json={"status": "closed"}, headers=self.manager
        )
        assert response.status_code == 200, response.text


@pytest.fixture
def api(client: TestClient, world: World, teams: dict, bearer: Callable) -> PulseApi:
    return PulseApi(client, world, bearer("manager"))


def emails(world: World, teams: dict[str, list[str]], partner: str) -> list[str]:
    own = {"northwind": ["manager", "member"], "contoso": ["sponsor", "observer"]}[partner]
    return [world.person(role).email for role in own] + teams[partner]


def by_label(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {group["label"]: group for group in results["groups"]}


def test_a_link_needs_no_sign_in_answers_once_and_returns_nothing(
    api: PulseApi, world: World
) -> None:
    wave = api.open()
    token = api.links(wave)[world.member.email]
    page = api.client.get(f"{API}/pulse/{token}")
    assert page.status_code == 200
    assert page.json()["state"] == "open" and len(page.json()["items"]) == 21
    assert world.member.email not in page.text and world.member.id not in page.text
    first = api.answer(token)
    assert first.status_code == 204 and first.content == b""
    again = api.answer(token, 1)
    assert again.status_code == 409 and "already been used" in again.json()["detail"]
    assert api.client.get(f"{API}/pulse/{token}").json()["state"] == "answered"
    forged = api.client.get(f"{API}/pulse/{token[:-4]}AAAA")
    assert forged.status_code == 404


def test_bad_answers_name_each_question(api: PulseApi, world: World) -> None:
    token = api.links(api.open())[world.member.email]
    answers = {item.key: 4 for item in STANDARD_ITEMS} | {"to1": 0}
    del answers["sp3"]
    response = api.client.post(f"{API}/pulse/{token}/answers", json={"answers": answers})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"answers.to1", "answers.sp3"}
    wrong_type = {item.key: 4 for item in STANDARD_ITEMS} | {"ps2": "often"}
    response = api.client.post(f"{API}/pulse/{token}/answers", json={"answers": wrong_type})
    assert [e["field"] for e in response.json()["errors"]] == ["answers.ps2"]
    assert api.client.get(f"{API}/pulse/{token}").json()["state"] == "open"


def test_before_and_after_one_answer_only_a_count_can_change(
    api: PulseApi, world: World, teams: dict[str, list[str]]
) -> None:
    """While a wave runs there are no figures to compare; once it has closed, no answer can
    be added. Response counts below the threshold are never given."""
    wave = api.open()
    links = api.links(wave)
    northwind = emails(world, teams, "northwind")
    contoso = emails(world, teams, "contoso")
    for email in northwind[:6] + contoso[:6]:
        assert api.answer(links[email], 6).status_code == 204
    before = api.results(wave)
    assert api.answer(links[northwind[6]], 1).status_code == 204
    after = api.results(wave)
    assert before == after and not after["available"] and after["groups"] == []
    rates = {p["name"]: p["answered"] for p in api.wave(wave)["rates"]["partners"]}
    assert rates == {"Northwind": 7, "Contoso": 6}
    api.close(wave)
    closed = api.results(wave)
    assert closed["available"] and by_label(closed)["Northwind"]["n"] == 7
    assert api.answer(links[northwind[7]], 1).status_code == 409
    assert api.results(wave) == closed


def test_response_counts_below_the_threshold_are_not_given(
    api: PulseApi, world: World, teams: dict[str, list[str]]
) -> None:
    wave = api.open()
    links = api.links(wave)
    for email in emails(world, teams, "northwind")[:5] + emails(world, teams, "contoso")[:2]:
        api.answer(links[email])
    rates = api.wave(wave)["rates"]
    assert {p["name"]: p["answered"] for p in rates["partners"]} == {
        "Northwind": 5,
        "Contoso": None,
    }
    assert rates["answered"] is None  # 7 − 5 would tell Contoso's count
    api.close(wave)
    results = api.results(wave)
    assert [g["label"] for g in results["groups"]] == ["All partners", "Northwind"]
    assert by_label(results)["All partners"]["n"] == 5  # Contoso's two count nowhere


def test_a_partner_and_its_role_band_are_never_both_given_when_they_differ_by_a_few(
    api: PulseApi, world: World, teams: dict[str, list[str]], bearer: Callable
) -> None:
    """Northwind's only leader is its manager: Northwind less Northwind·team would be the
    manager's own answers, so the team band is not given (nor, for the same reason, Contoso's:
    its sponsor is its only leader)."""
    wave = api.open()
    links = api.links(wave)
    northwind = emails(world, teams, "northwind")  # the manager first: leadership
    for email in northwind[:7]:
        api.answer(links[email], 6 if email == world.manager.email else 3)
    for email in emails(world, teams, "contoso")[:8]:
        api.answer(links[email], 4)
    api.close(wave)
    results = api.results(wave, bearer("observer"))
    labels = [g["label"] for g in results["groups"]]
    assert "Northwind" in labels
    assert not any(g["role_band"] for g in results["groups"]), labels
    means = {g["label"]: g["scores"][0]["mean"] for g in results["groups"]}
    # Nothing left to subtract: the figures given are Northwind's seven together.
    assert means["Northwind"] == pytest.approx((6 + 6 * 3) / 7)


def test_role_bands_are_given_when_both_halves_are_large_enough(
    runtime: Runtime, api: PulseApi, world: World, teams: dict[str, list[str]]
) -> None:
    with runtime.uow() as uow:
        manager = uow.get(Person, id=world.manager.id)
        for i in range(4):
            data = MemberInput(
                email=f"lead{i}@example.org",
                partner_id=world.partners["northwind"],
                role=Role.SPONSOR,
            )
            alliances.do_add_member(uow, manager, world.alliance_id, data)
        uow.session.commit()
    wave = api.open()
    links = api.links(wave)
    leaders = [world.manager.email] + [f"lead{i}@example.org" for i in range(4)]
    team = [world.member.email, *teams["northwind"][:4]]
    for email in leaders:
        api.answer(links[email], 6)
    for email in team:
        api.answer(links[email], 2)
    api.close(wave)
    groups = by_label(api.results(wave))
    assert groups["Northwind · leadership"]["n"] == groups["Northwind · team"]["n"] == 5
    assert groups["Northwind · leadership"]["scores"][0]["mean"] == 6.0
    assert groups["Northwind"]["scores"][0]["mean"] == 4.0


def test_wave_against_wave_gives_nothing_to_subtract(
    runtime: Runtime, api: PulseApi, world: World, teams: dict[str, list[str]]
) -> None:
    """No twin wave can run beside another; every answer counts in its own wave only, and a
    later wave below the threshold shows nothing to set against an earlier one."""
    first = api.open("First")
    links = api.links(first)
    northwind = emails(world, teams, "northwind")
    for email in northwind[:6]:
        api.answer(links[email], 5)
    twin = api.client.post(
        f"{api.base}/waves", json={"title": "Twin", "closes_on": "2026-03-20"}, headers=api.manager
    )
    assert twin.status_code == 409
    api.close(first)
    before = api.results(first)
    clock = runtime.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(days=1))
    second = api.open("Second")
    links = api.links(second)
    for email in northwind[:4]:
        api.answer(links[email], 1)
    assert api.results(first) == before
    api.close(second)
    later = api.results(second)
    assert later["available"] and later["groups"] == [] and later["reliability"] == []
    trend = api.client.get(f"{api.base}/trend", headers=api.manager).json()["items"]
    points = [p["wave_title"] for d in trend for s in d["series"] for p in s["points"]]
    assert set(points) == {"First"}


def test_comments_come_all_together_and_only_from_the_higher_threshold(
    api: PulseApi, world: World, teams: dict[str, list[str]]
) -> None:
    wave = api.open()
    links = api.links(wave)
    everyone = emails(world, teams, "northwind") + emails(world, teams, "contoso")
    for index, email in enumerate(everyone[:9]):
        answers = {item.key: 4 for item in STANDARD_ITEMS}
        body = {"answers": answers, "comment": f"note {index}"}
        api.client.post(f"{API}/pulse/{links[email]}/answers", json=body)
    api.close(wave)
    results = api.results(wave)
    assert results["comments"] == [] and results["comments_withheld"]


def test_results_hold_aggregates_only(api: PulseApi, world: World, teams: dict) -> None:
    wave = api.open()
    links = api.links(wave)
    for email in emails(world, teams, "northwind")[:6] + emails(world, teams, "contoso")[:6]:
        api.answer(links[email], 5 if "contoso" in email else 6)
    api.close(wave)
    text = api.client.get(f"{api.base}/waves/{wave}/results", headers=api.manager).text
    for forbidden in ("pr_", "pi_", world.member.email, world.member.id, "answers"):
        assert forbidden not in text
    results = api.results(wave)
    [gap] = results["gaps"]
    assert (gap["a"], gap["b"]) == ("Contoso", "Northwind")
    assert {m["measure"] for m in gap["measures"]} == {
        "trust_organization", "trust_counterpart", "psychological_safety", "clarity",
        "presence", "surprise_and_conflict", "shared_purpose",
    }  # fmt: skip


def test_an_import_is_refused_whole_with_line_and_column(api: PulseApi) -> None:
    rows = "".join(f"r{i},Northwind,{i % 7 + 1},4\n" for i in range(5))
    body = {
        "title": "Imported",
        "closed_on": "2026-02-01",
        "columns": {"id": "respondent", "Q": "to2"},
        "csv": "id,partner,to1,Q\n" + rows + "r9,Northwind,9,4\n",
    }
    refused = api.client.post(f"{api.base}/imports", json=body, headers=api.manager)
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == "csv.7.to1" and "off the scale" in error["message"]
    body["csv"] = "id,partner,to1,Q\n" + rows
    created = api.client.post(f"{api.base}/imports", json=body, headers=api.manager)
    assert created.status_code == 201 and created.json()["source"] == "import"
    assert api.results(created.json()["id"])["available"]
