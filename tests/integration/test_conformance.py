"""HTTP conformance on SQLite and PostgreSQL: bad input is a 4xx with its reason, never a 500.

PostgreSQL refuses NUL in text, so these run the real app on both backends:
a NUL (or a lone surrogate) in a JSON body, a form field or a query parameter
is a 422 naming it, in a path a 404; an undecodable body is a 422; a number
where a date belongs is a 422; a 405 says in ``Allow`` which methods the path
takes. Nothing is written by any of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from coauthor.runtime import Runtime
from coauthor.services import eventlog
from coauthor.services.accounts import people, tokens
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import AllianceCreate
from coauthor.web.app import create_app
from tests.e2e.conftest import csrf_of, login

PASSWORD = "correct horse battery staple"
PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class Site:
    client: TestClient
    runtime: Runtime
    alliance_id: str
    bearer: dict[str, str]


@pytest.fixture
def site(runtime: Runtime) -> Iterator[Site]:
    with runtime.uow() as uow:
        data = PersonInput(email="ann@nordwerk.example", name="Ann")
        ann = people.do_create_person(uow, None, data, PASSWORD, bootstrap=True)
        create = AllianceCreate(name="Helios", kind="joint_venture", organization_name="Nordwerk")
        alliance = alliances.do_create_alliance(uow, ann, create)
        _, secret = tokens.do_create_token(uow, ann, "conformance")
        uow.session.commit()
        alliance_id = alliance.id
    app = create_app(runtime=runtime)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Site(client, runtime, alliance_id, {"Authorization": f"Bearer {secret}"})


def event_total(runtime: Runtime) -> int:
    with runtime.uow() as uow:
        return sum(len(eventlog.chain_events(uow, c)) for c in eventlog.chain_ids(uow))


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    return response.json()


AGREEMENT = {"title": "NDA", "kind": "nda", "effective_on": "2026-01-01"}
BAD_BODIES = {
    "NUL in a title": (
        {**AGREEMENT, "title": "N\x00DA"},
        "title",
        "contains a NUL character",
    ),
    "NUL in a summary": (
        {**AGREEMENT, "summary": "a\x00"},
        "summary",
        "contains a NUL character",
    ),
    "lone surrogate": ({**AGREEMENT, "title": "\ud800"}, "title", "lone surrogate"),
    "a number for a date": (
        {**AGREEMENT, "effective_on": 1_767_225_600},
        "effective_on",
        "a date or time is written as text",
    ),
    "a boolean for a date": ({**AGREEMENT, "signed_on": True}, "signed_on", "not a number"),
}


@pytest.mark.parametrize("case", BAD_BODIES)
def test_bad_json_bodies_are_422_naming_the_field(site: Site, case: str) -> None:
    body, field, reason = BAD_BODIES[case]
    before = event_total(site.runtime)
    url = f"/api/v1/alliances/{site.alliance_id}/agreements"
    headers = site.bearer | {"Content-Type": "application/json"}
    response = site.client.post(url, content=json.dumps(body), headers=headers)  # \u escapes
    document = problem(response, 422)
    assert document["field"] == field
    assert reason in document["errors"][0]["message"]
    assert event_total(site.runtime) == before


def test_nul_in_an_update_and_in_a_new_alliance_is_422(site: Site) -> None:
    before = event_total(site.runtime)
    update = {"name": "He\x00lios", "kind": "joint_venture", "stage": "forming", "purpose": ""}
    url = f"/api/v1/alliances/{site.alliance_id}"
    assert problem(site.client.put(url, json=update, headers=site.bearer), 422)["field"] == "name"
    create = {"name": "X", "kind": "joint_venture", "organization_name": "Nord\x00werk"}
    response = site.client.post("/api/v1/alliances", json=create, headers=site.bearer)
    assert problem(response, 422)["field"] == "organization_name"
    assert event_total(site.runtime) == before


def test_nul_in_the_address(site: Site) -> None:
    missing = site.client.get("/api/v1/alliances/al_%00/partners", headers=site.bearer)
    assert problem(missing, 404)["detail"]
    page = site.client.get("/alliances/al_%00", headers=site.bearer)
    assert page.status_code in (303, 404)
    query = site.client.get("/api/v1/alliances?cursor=a%00b", headers=site.bearer)
    assert problem(query, 422)["field"] == "cursor"


def test_an_undecodable_body_is_422(site: Site) -> None:
    headers = site.bearer | {"Content-Type": "application/json"}
    url = f"/api/v1/alliances/{site.alliance_id}/agreements"
    response = site.client.post(url, content=b'{"title": "\xff\xfe"}', headers=headers)
    assert problem(response, 422)["detail"] == "the body is not UTF-8 JSON"


def test_405_names_every_allowed_method(site: Site) -> None:
    api = site.client.delete("/api/v1/alliances", headers=site.bearer)
    assert problem(api, 405)
    assert api.headers["Allow"] == "GET, POST"
    page = site.client.put("/login")
    assert page.status_code == 405
    assert page.headers["Allow"] == "GET, POST"


def test_nul_in_a_form_field_is_422_on_the_page(site: Site) -> None:
    before = event_total(site.runtime)
    token = csrf_of(site.client, "/login")
    data = {"email": "ann@nordwerk.example\x00", "password": PASSWORD, "csrf_token": token}
    refused = site.client.post("/login", data=data, follow_redirects=False)
    assert refused.status_code == 422
    assert "email: contains a NUL character" in refused.text
    assert login(site.client, "ann@nordwerk.example", PASSWORD).status_code == 303
    form = {
        "name": "Nul\x00 alliance",
        "kind": "consortium",
        "organization_name": "Nordwerk",
        "csrf_token": csrf_of(site.client, "/"),
    }
    created = site.client.post("/alliances", data=form, follow_redirects=False)
    assert created.status_code == 422
    assert "name: contains a NUL character" in created.text
    assert event_total(site.runtime) == before
