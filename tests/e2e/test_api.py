"""The REST API under /api/v1: round trips, problem+json errors, authentication, OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from api_fixtures import (
    Endpoint,
    World,
    WorldTemplate,
    app_on_copy,
    endpoints,
    extended_template,
    valid_input,
)
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coauthor.services.mechanics.registers import KINDS
from coauthor.web.api.mechanics.items import ROUTES, collection_of
from tests.e2e.conftest import World as SeededWorld
from tests.e2e.conftest import csrf_of, login

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"


@pytest.fixture(scope="session")
def world_template(
    seeded: tuple[Path, SeededWorld], tmp_path_factory: pytest.TempPathFactory
) -> WorldTemplate:
    return extended_template(seeded, tmp_path_factory.mktemp("api-world"))


@pytest.fixture
def api_world(world_template: WorldTemplate) -> World:
    return world_template.world


@pytest.fixture
def api_app(world_template: WorldTemplate, tmp_path: Path) -> Iterator[FastAPI]:
    with app_on_copy(world_template, tmp_path) as app:
        yield app


@pytest.fixture
def api_client(api_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(api_app) as client:
        yield client


def alliance_url(world: World, *parts: str) -> str:
    return "/".join((f"{API}/alliances/{world.alliance_id}", *parts))


def kind_url(world: World, kind_name: str, *parts: str) -> str:
    return alliance_url(world, collection_of(kind_name), *parts)


def assert_problem(response: Response, status: int, field: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem document with ``status``; with ``field``, naming that field first."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    if field is not None:
        assert body["field"] == field, body
        assert body["errors"][0]["field"] == field
        assert all(error["message"] for error in body["errors"])
    return body


def normalized(kind_name: str, data: dict[str, Any]) -> dict[str, Any]:
    """An item's input fields as its input model reads them, nested lists in a fixed order."""
    model = KINDS[kind_name].input
    dumped = model.model_validate({k: data[k] for k in model.model_fields if k in data})
    values = dumped.model_dump()
    return {k: sorted(v, key=references) if isinstance(v, list) else v for k, v in values.items()}


def references(row: dict[str, Any]) -> list[Any]:
    return [value for key, value in sorted(row.items()) if key.endswith("_id")]


def renamed(kind_name: str, data: dict[str, Any], name: str) -> dict[str, Any]:
    key = next(key for key in ("title", "name", "decision_kind", "description") if key in data)
    return data | {key: name}


@pytest.mark.parametrize("kind_name", list(KINDS))
def test_item_round_trip(api_client: TestClient, api_world: World, kind_name: str) -> None:
    headers = api_world.bearer("manager")
    data = valid_input(kind_name, api_world, "round trip")

    created = api_client.post(kind_url(api_world, kind_name), json=data, headers=headers)
    assert created.status_code == 201, created.text
    item = created.json()
    assert normalized(kind_name, item) == normalized(kind_name, data)
    location = created.headers["location"]
    assert location.endswith(kind_url(api_world, kind_name, item["id"]))
    assert api_client.get(location, headers=headers).json() == item
    listed = api_client.get(kind_url(api_world, kind_name), headers=headers).json()["items"]
    assert item["id"] in [row["id"] for row in listed]

    changed = renamed(kind_name, data, "renamed")
    replaced = api_client.put(location, json=changed, headers=headers)
    assert replaced.status_code == 200, replaced.text
    assert api_client.get(location, headers=headers).json() == replaced.json()
    assert replaced.json() != item

    deleted = api_client.delete(location, headers=headers)
    assert deleted.status_code == 204 and not deleted.content
    assert_problem(api_client.get(location, headers=headers), 404)


def test_item_values_survive_the_round_trip(api_client: TestClient, api_world: World) -> None:
    data = valid_input("risk", api_world, "exact")
    created = api_client.post(
        kind_url(api_world, "risk"), json=data, headers=api_world.bearer("manager")
    )
    shares = created.json()["shares"]
    assert {s["partner_id"]: float(s["percent"]) for s in shares} == {
        api_world.partner_ids["own"]: 60.0,
        api_world.partner_ids["other"]: 40.0,
    }


def test_everyone_in_the_alliance_reads_but_only_managers_write(
    api_client: TestClient, api_world: World
) -> None:
    url = kind_url(api_world, "agreement")
    for role in ("admin", "manager", "sponsor", "member", "observer"):
        assert api_client.get(url, headers=api_world.bearer(role)).status_code == 200
    data = valid_input("agreement", api_world, "by observer")
    assert_problem(api_client.post(url, json=data, headers=api_world.bearer("observer")), 403)
    assert_problem(api_client.get(url, headers=api_world.bearer("outsider")), 404)


def test_alliance_create_read_update(api_client: TestClient, api_world: World) -> None:
    headers = api_world.bearer("outsider")
    data = {"name": "Tidewater", "kind": "consortium", "organization_name": "Fabrikam"}
    created = api_client.post(f"{API}/alliances", json=data, headers=headers)
    assert created.status_code == 201, created.text
    alliance = created.json()
    assert api_client.get(created.headers["location"], headers=headers).json() == alliance

    update = {"name": "Tidewater II", "kind": "consortium", "stage": "operating", "purpose": "p"}
    updated = api_client.put(created.headers["location"], json=update, headers=headers)
    assert updated.json() | {"created_at": None} == update | {
        "id": alliance["id"],
        "created_at": None,
    }
    members = api_client.get(f"{created.headers['location']}/members", headers=headers).json()[
        "items"
    ]
    assert [(m["email"], m["role"]) for m in members] == [("outsider@example.org", "manager")]
    listed = api_client.get(f"{API}/alliances", headers=headers).json()
    assert [a["id"] for a in listed["items"]] == [alliance["id"]]
    assert listed["next"] is None


def test_partners_expose_their_organization(api_client: TestClient, api_world: World) -> None:
    headers = api_world.bearer("manager")
    added = api_client.post(
        alliance_url(api_world, "partners"),
        json={"organization_name": "Litware", "joined_on": "2026-04-01"},
        headers=headers,
    )
    assert added.status_code == 201, added.text
    partner = added.json()
    assert partner["organization_name"] == "Litware" and partner["organization_id"]
    assert api_client.get(added.headers["location"], headers=headers).json() == partner

    renamed_partner = api_client.put(
        added.headers["location"], json={"organization_name": "Litware Group"}, headers=headers
    ).json()
    assert renamed_partner["organization_name"] == "Litware Group"
    assert renamed_partner["organization_id"] != partner["organization_id"]
    names = [
        p["organization_name"]
        for p in api_client.get(alliance_url(api_world, "partners"), headers=headers).json()[
            "items"
        ]
    ]
    assert names == ["Contoso", "Fabrikam Spares", "Litware Group", "Northwind"]


def test_member_lifecycle(api_client: TestClient, api_world: World) -> None:
    """Adding a member by email invites them; they are a member once they accept."""
    headers = api_world.bearer("manager")
    data = {
        "email": "new@example.org",
        "partner_id": api_world.partner_ids["other"],
        "role": "sponsor",
    }
    invited = api_client.post(alliance_url(api_world, "members"), json=data, headers=headers)
    assert invited.status_code == 202, invited.text
    assert invited.json()["status"] == "pending"
    assert "name" not in invited.json() and "person_id" not in invited.json()

    path = urlsplit(invited.json()["link"]).path
    token = csrf_of(api_client, path)
    form = {
        "name": "Nia New",
        "password": "a long new password",
        "password_again": "a long new password",
    }
    accepted = api_client.post(
        f"{path}/accept", data=form | {"csrf_token": token}, follow_redirects=False
    )
    assert accepted.status_code == 303, accepted.text
    members = api_client.get(alliance_url(api_world, "members"), headers=headers).json()["items"]
    member = next(m for m in members if m["email"] == "new@example.org")
    assert (member["role"], member["name"]) == ("sponsor", "Nia New")
    location = alliance_url(api_world, "members", member["id"])

    update = {"partner_id": api_world.partner_ids["own"], "role": "observer", "title": "Counsel"}
    updated = api_client.put(location, json=update, headers=headers)
    assert {key: updated.json()[key] for key in update} == update

    assert api_client.delete(location, headers=headers).status_code == 204
    assert_problem(api_client.get(location, headers=headers), 404)


def test_partner_notes_are_for_that_partners_members(
    api_client: TestClient, api_world: World
) -> None:
    own = alliance_url(api_world, "partners", api_world.partner_ids["own"], "notes")
    note = {"body": "  They are stretched thin.  "}
    added = api_client.post(own, json=note, headers=api_world.bearer("member"))
    assert added.status_code == 201, added.text
    assert added.json()["body"] == "They are stretched thin."
    read = api_client.get(own, headers=api_world.bearer("manager")).json()["items"]
    assert "They are stretched thin." in [note["body"] for note in read]
    for role in ("admin", "sponsor", "observer"):
        assert_problem(api_client.get(own, headers=api_world.bearer(role)), 403)
    assert_problem(api_client.get(own, headers=api_world.bearer("outsider")), 404)


def test_observers_read_their_partners_notes_but_do_not_write(
    api_client: TestClient, api_world: World
) -> None:
    other = alliance_url(api_world, "partners", api_world.partner_ids["other"], "notes")
    assert api_client.get(other, headers=api_world.bearer("observer")).status_code == 200
    written = api_client.post(other, json={"body": "x"}, headers=api_world.bearer("observer"))
    assert_problem(written, 403)


def test_token_secret_is_shown_once_and_revocation_locks_it_out(
    api_client: TestClient, api_world: World
) -> None:
    created = api_client.post(
        f"{API}/tokens", json={"name": "ci"}, headers=api_world.bearer("member")
    )
    assert created.status_code == 201, created.text
    token = created.json()
    new_headers = {"Authorization": f"Bearer {token['secret']}"}
    assert api_client.get(f"{API}/me", headers=new_headers).json()["email"] == "member@example.org"
    listed = api_client.get(f"{API}/tokens", headers=new_headers).json()["items"]
    assert {t["name"] for t in listed} == {"member token", "ci"}
    assert all("secret" not in t for t in listed)

    revoked = api_client.delete(f"{API}/tokens/{token['id']}", headers=new_headers)
    assert revoked.status_code == 204
    assert_problem(api_client.get(f"{API}/me", headers=new_headers), 401)


def test_someone_elses_token_cannot_be_revoked(api_client: TestClient, api_world: World) -> None:
    other = api_world.people["manager"].token_id
    assert_problem(
        api_client.delete(f"{API}/tokens/{other}", headers=api_world.bearer("member")), 404
    )
    assert api_client.get(f"{API}/me", headers=api_world.bearer("manager")).status_code == 200


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "sign in"),
        ({"Authorization": "Bearer cat_not-a-real-token"}, "token"),
        ({"Authorization": "Bearer "}, "sign in"),
    ],
)
def test_anonymous_and_unknown_tokens_get_401(
    api_client: TestClient, headers: dict[str, str], detail: str
) -> None:
    body = assert_problem(api_client.get(f"{API}/me", headers=headers), 401)
    assert detail in body["detail"]


def test_risk_shares_must_sum_to_100(api_client: TestClient, api_world: World) -> None:
    data = valid_input("risk", api_world)
    data["shares"][1]["percent"] = "30"
    response = api_client.post(
        kind_url(api_world, "risk"), json=data, headers=api_world.bearer("manager")
    )
    body = assert_problem(response, 422, "shares")
    assert "100" in body["errors"][0]["message"]


def test_nested_field_errors_name_their_path(api_client: TestClient, api_world: World) -> None:
    data = valid_input("risk", api_world)
    data["shares"][1]["percent"] = "-5"
    response = api_client.post(
        kind_url(api_world, "risk"), json=data, headers=api_world.bearer("manager")
    )
    assert_problem(response, 422, "shares.1.percent")


def test_adding_a_member_twice_conflicts(api_client: TestClient, api_world: World) -> None:
    data = {"email": "member@example.org", "partner_id": api_world.partner_ids["own"]}
    response = api_client.post(
        alliance_url(api_world, "members"), json=data, headers=api_world.bearer("manager")
    )
    assert_problem(response, 409, "email")


def test_unknown_reference_names_the_field(api_client: TestClient, api_world: World) -> None:
    data = valid_input("obligation", api_world) | {"agreement_id": "ag_doesnotexist0000"}
    response = api_client.post(
        kind_url(api_world, "obligation"), json=data, headers=api_world.bearer("manager")
    )
    assert_problem(response, 422, "agreement_id")


def test_a_reference_to_another_alliance_is_unknown(
    api_client: TestClient, api_world: World
) -> None:
    headers = api_world.bearer("manager")
    other = api_client.post(
        f"{API}/alliances",
        json={"name": "Elsewhere", "kind": "consortium", "organization_name": "Northwind"},
        headers=headers,
    ).json()
    agreement = api_client.post(
        f"{API}/alliances/{other['id']}/agreements",
        json=valid_input("agreement", api_world),
        headers=headers,
    ).json()
    data = valid_input("obligation", api_world) | {"agreement_id": agreement["id"]}
    response = api_client.post(kind_url(api_world, "obligation"), json=data, headers=headers)
    assert_problem(response, 422, "agreement_id")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "x" * 201}, "title"),
        ({"summary": "x" * 10_001}, "summary"),
        ({"title": ""}, "title"),
        ({"kind": "handshake"}, "kind"),
        ({"effective_on": "soon"}, "effective_on"),
        ({"title": 42}, "title"),
        ({"colour": "blue"}, "colour"),
        ({"effective_on": "2026-05-01", "expires_on": "2026-04-01"}, "expires_on"),
    ],
)
def test_bad_fields_give_422_naming_the_field(
    api_client: TestClient, api_world: World, change: dict[str, Any], field: str
) -> None:
    data = valid_input("agreement", api_world) | change
    response = api_client.post(
        kind_url(api_world, "agreement"), json=data, headers=api_world.bearer("manager")
    )
    assert_problem(response, 422, field)


@pytest.mark.parametrize(
    "content", [b"{not json", b"", b"[1, 2]", b'"a string"', b"null", b"\xff\xfe"]
)
def test_malformed_bodies_give_422_problems(
    api_client: TestClient, api_world: World, content: bytes
) -> None:
    headers = api_world.bearer("manager") | {"Content-Type": "application/json"}
    response = api_client.post(kind_url(api_world, "risk"), content=content, headers=headers)
    assert_problem(response, 422)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind_name=st.sampled_from(list(KINDS)),
    changes=st.dictionaries(
        st.sampled_from(["title", "name", "shares", "seats", "on"]), JSON_VALUES
    ),
)
def test_any_json_body_gets_an_answer_never_a_500(
    api_client: TestClient, api_world: World, kind_name: str, changes: dict[str, Any]
) -> None:
    data = valid_input(kind_name, api_world) | changes
    response = api_client.post(
        kind_url(api_world, kind_name), json=data, headers=api_world.bearer("manager")
    )
    if response.status_code != 201:
        assert_problem(response, 422)


def test_a_body_that_is_not_json_gives_a_4xx_problem(
    api_client: TestClient, api_world: World
) -> None:
    headers = api_world.bearer("manager") | {"Content-Type": "text/plain"}
    response = api_client.post(kind_url(api_world, "risk"), content=b"title=x", headers=headers)
    assert 400 <= response.status_code < 500
    assert_problem(response, response.status_code)


@pytest.mark.parametrize(
    "path",
    [
        f"{API}/alliances/al_doesnotexist0000",
        f"{API}/alliances/al_doesnotexist0000/risks",
        f"{API}/alliances/{'x' * 500}/members",
        f"{API}/alliances/%00/partners",
    ],
)
def test_unknown_alliance_gives_404(api_client: TestClient, api_world: World, path: str) -> None:
    assert_problem(api_client.get(path, headers=api_world.bearer("manager")), 404)


def test_unknown_or_mismatched_item_gives_404(api_client: TestClient, api_world: World) -> None:
    headers = api_world.bearer("manager")
    risk_id = api_world.item_ids["risk"]
    assert_problem(api_client.get(kind_url(api_world, "agreement", risk_id), headers=headers), 404)
    assert_problem(api_client.get(kind_url(api_world, "risk", "rk_nope"), headers=headers), 404)
    data = valid_input("risk", api_world)
    assert_problem(
        api_client.put(kind_url(api_world, "risk", "rk_nope"), json=data, headers=headers), 404
    )
    assert_problem(api_client.delete(kind_url(api_world, "risk", "rk_nope"), headers=headers), 404)
    assert_problem(api_client.get(f"{API}/no-such-thing", headers=headers), 404)


def test_deleting_an_item_others_depend_on_conflicts(
    api_client: TestClient, api_world: World
) -> None:
    url = kind_url(api_world, "agreement", api_world.item_ids["agreement"])
    body = assert_problem(api_client.delete(url, headers=api_world.bearer("manager")), 409)
    assert "obligations" in body["detail"]


def test_wrong_method_gives_a_405_problem(api_client: TestClient, api_world: World) -> None:
    assert_problem(api_client.patch(f"{API}/me", headers=api_world.bearer("manager")), 405)


def sign_in_with_cookie(client: TestClient, world: World, role: str) -> str:
    """Sign in through the login page; the session's CSRF token, as its forms carry it."""
    person = world.people[role]
    assert login(client, person.email, person.password).status_code == 303
    return csrf_of(client, "/account/tokens")


def test_cookie_reads_need_no_csrf_header(api_client: TestClient, api_world: World) -> None:
    sign_in_with_cookie(api_client, api_world, "manager")
    assert api_client.get(f"{API}/me").json()["email"] == "manager@example.org"


@pytest.mark.parametrize("csrf_header", [None, "", "stale-token"])
def test_cookie_writes_without_the_csrf_header_are_refused(
    api_client: TestClient, api_world: World, csrf_header: str | None
) -> None:
    sign_in_with_cookie(api_client, api_world, "manager")
    headers = {} if csrf_header is None else {"X-CSRF-Token": csrf_header}
    data = valid_input("agreement", api_world, "forged")
    response = api_client.post(kind_url(api_world, "agreement"), json=data, headers=headers)
    body = assert_problem(response, 403)
    assert "X-CSRF-Token" in body["detail"]
    listed = api_client.get(kind_url(api_world, "agreement")).json()["items"]
    titles = [a["title"] for a in listed]
    assert "agreement forged" not in titles


def test_cookie_writes_with_the_csrf_header_succeed(
    api_client: TestClient, api_world: World
) -> None:
    csrf = sign_in_with_cookie(api_client, api_world, "manager")
    data = valid_input("agreement", api_world, "by cookie")
    response = api_client.post(
        kind_url(api_world, "agreement"), json=data, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 201, response.text


def test_a_bearer_token_wins_over_the_cookie(api_client: TestClient, api_world: World) -> None:
    sign_in_with_cookie(api_client, api_world, "manager")
    me = api_client.get(f"{API}/me", headers=api_world.bearer("observer")).json()
    assert me["email"] == "observer@example.org"


def api_endpoints(app: FastAPI) -> list[Endpoint]:
    return [e for e in endpoints(app) if e.path.startswith(f"{API}/")]


def schema_ref(content: dict[str, Any]) -> str:
    schema = content["application/json"]["schema"]
    if schema.get("type") == "array":
        schema = schema["items"]
    return schema["$ref"].rsplit("/", 1)[-1]


def test_openapi_lists_every_api_route(api_client: TestClient, api_app: FastAPI) -> None:
    paths = api_client.get("/api/openapi.json").json()["paths"]
    documented = {(method.upper(), path) for path, ops in paths.items() for method in ops}
    registered = [(e.method, e.path) for e in api_endpoints(api_app)]
    routed = set(registered)
    assert len(registered) == len(routed), "a (method, path) is routed twice"
    assert routed == documented
    for name in KINDS:  # every kind has each of the routes mechanics declares
        collection = f"{API}/alliances/{{alliance_id}}/{collection_of(name)}"
        for _, method, on_item, _ in ROUTES:
            assert (method, f"{collection}/{{item_id}}" if on_item else collection) in routed


def test_every_operation_declares_its_schemas(api_client: TestClient, api_app: FastAPI) -> None:
    spec = api_client.get("/api/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            if method in ("post", "put", "patch") and "requestBody" in operation:
                assert schema_ref(operation["requestBody"]["content"]), where
            success = {
                code: r for code, r in operation["responses"].items() if code.startswith("2")
            }
            assert len(success) == 1, where
            code, response = success.popitem()
            if code == "204":
                assert "content" not in response, where
            else:
                assert schema_ref(response["content"]) in spec["components"]["schemas"], where
            problem = operation["responses"]["422"]["content"]["application/problem+json"]
            assert problem["schema"]["$ref"].endswith("/Problem"), where


@pytest.mark.parametrize("kind_name", list(KINDS))
def test_kind_routes_use_the_kinds_models(api_client: TestClient, kind_name: str) -> None:
    spec = api_client.get("/api/openapi.json").json()
    collection = f"{API}/alliances/{{alliance_id}}/{collection_of(kind_name)}"
    model = KINDS[kind_name].input.__name__
    create = spec["paths"][collection]["post"]
    assert schema_ref(create["requestBody"]["content"]) == model
    output = schema_ref(create["responses"]["201"]["content"])
    assert output == model.removesuffix("Input")
    fields = spec["components"]["schemas"][output]["properties"]
    assert list(fields) == ["id", *KINDS[kind_name].input.model_fields]
    page = schema_ref(spec["paths"][collection]["get"]["responses"]["200"]["content"])
    items = spec["components"]["schemas"][page]["properties"]["items"]["items"]
    assert items["$ref"].rsplit("/", 1)[-1] == output
    assert {"limit", "cursor"} <= {
        parameter["name"] for parameter in spec["paths"][collection]["get"]["parameters"]
    }


def test_docs_are_served(api_client: TestClient) -> None:
    assert "swagger" in api_client.get("/api/docs").text.lower()


def test_a_write_that_keeps_losing_its_race_is_a_503_with_retry_after(
    api_client: TestClient, api_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    import sqlalchemy as sa

    from coauthor.services.mechanics import registers

    def locked(*args: object, **kwargs: object) -> None:
        raise sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(registers, "do_create_item", locked)
    data = valid_input("agreement", api_world, "contended")
    response = api_client.post(
        kind_url(api_world, "agreement"), json=data, headers=api_world.bearer("manager")
    )
    body = assert_problem(response, 503)
    assert response.headers["retry-after"] == "1"
    assert "try again" in body["detail"]
