"""The deliberation API: create, write, moderate, vote, route, results, promote.

Runs on the pages' seeded alliance (conftest) with API tokens made through the
services; ``crowd`` comes from the page tests (ten participants split along
partner lines but for one statement). Anonymity threshold 3.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from test_deliberation_pages import (
    CONTOSO_SAYS,
    CROWD_TEXTS,
    EVERYONE_SAYS,
    NORTH_SAYS,
    Crowd,
    Started,
    cast,
    make_crowd,
    person,
    start,
)

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.runtime import Runtime
from coauthor.services.accounts.tokens import do_create_token
from tests.e2e.conftest import World, csrf_of, login

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"
ROLES = ("admin", "manager", "member", "sponsor", "observer", "outsider")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"anonymity_threshold": 3})


@pytest.fixture
def tokens(runtime: Runtime, world: World) -> dict[str, dict[str, str]]:
    """A bearer header per role."""
    with runtime.uow() as uow:
        made = {
            role: do_create_token(uow, person(uow, world.person(role).id), "api")[1]
            for role in ROLES
        }
        uow.session.commit()
    return {role: {"Authorization": f"Bearer {secret}"} for role, secret in made.items()}


@pytest.fixture
def api(client: TestClient) -> Iterator[TestClient]:
    yield client


@pytest.fixture
def started(runtime: Runtime, clock: FixedClock, world: World) -> Started:
    return start(runtime, clock, world.manager.id, world.alliance_id)


@pytest.fixture
def crowd(runtime: Runtime, clock: FixedClock, world: World) -> Crowd:
    return make_crowd(runtime, clock, world)


def deliberations(world: World) -> str:
    return f"{API}/alliances/{world.alliance_id}/deliberations"


def assert_problem(response: Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert body["field"] == field, body
    return body


def test_create_list_and_read(
    api: TestClient, world: World, tokens: dict[str, dict[str, str]]
) -> None:
    data = {"question": "Where should the second plant go?", "strict_moderation": False}
    created = api.post(deliberations(world), json=data, headers=tokens["manager"])
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["question"] == data["question"]
    assert body["status"] == "open" and body["strict_moderation"] is False
    assert created.headers["location"].endswith(f"{deliberations(world)}/{body['id']}")
    read = api.get(created.headers["location"], headers=tokens["observer"])
    assert read.json() == body
    listed = api.get(deliberations(world), headers=tokens["member"]).json()["items"]
    assert [(d["id"], d["statements"], d["participants"]) for d in listed] == [(body["id"], 0, 0)]


@pytest.mark.parametrize(
    ("role", "status"), [("member", 403), ("observer", 403), ("outsider", 404)]
)
def test_only_managers_start_deliberations(
    api: TestClient, world: World, tokens: dict[str, dict[str, str]], role: str, status: int
) -> None:
    response = api.post(deliberations(world), json={"question": "Q?"}, headers=tokens[role])
    assert_problem(response, status)


def test_a_question_is_required(
    api: TestClient, world: World, tokens: dict[str, dict[str, str]]
) -> None:
    response = api.post(deliberations(world), json={"question": ""}, headers=tokens["manager"])
    assert_problem(response, 422, "question")


def test_anonymous_gets_401(api: TestClient, world: World) -> None:
    assert_problem(api.get(deliberations(world)), 401)


def test_unknown_deliberation_gives_404(
    api: TestClient, world: World, tokens: dict[str, dict[str, str]]
) -> None:
    assert_problem(api.get(f"{deliberations(world)}/dl_nope", headers=tokens["member"]), 404)
    vote = {"statement_id": "st_x", "value": 1}
    response = api.post(
        f"{deliberations(world)}/dl_nope/votes", json=vote, headers=tokens["member"]
    )
    assert_problem(response, 404)


def test_statements_wait_for_moderation_when_it_is_strict(
    api: TestClient,
    world: World,
    tokens: dict[str, dict[str, str]],
    runtime: Runtime,
    clock: FixedClock,
) -> None:
    started = start(runtime, clock, world.manager.id, world.alliance_id, (), strict=True)
    url = f"{started.api}/statements"
    written = api.post(url, json={"text": "Fund a joint lab."}, headers=tokens["member"])
    assert written.status_code == 201, written.text
    statement = written.json()
    assert statement["moderation"] == "pending"
    assert set(statement) == {"id", "text", "moderation", "is_meta", "created_at"}
    assert api.get(url, headers=tokens["member"]).json() == {"items": [], "next": None}
    assert_problem(api.get(f"{url}?moderation=pending", headers=tokens["member"]), 403)
    pending = api.get(f"{url}?moderation=pending", headers=tokens["manager"]).json()["items"]
    assert [s["id"] for s in pending] == [statement["id"]]

    moderation = f"{url}/{statement['id']}/moderation"
    assert_problem(
        api.post(moderation, json={"decision": "accepted"}, headers=tokens["member"]), 403
    )
    assert_problem(
        api.post(moderation, json={"decision": "maybe"}, headers=tokens["manager"]), 422, "decision"
    )
    accepted = api.post(moderation, json={"decision": "accepted"}, headers=tokens["manager"])
    assert accepted.json()["moderation"] == "accepted"
    assert [s["text"] for s in api.get(url, headers=tokens["observer"]).json()["items"]] == [
        "Fund a joint lab."
    ]
    meta = api.post(
        moderation, json={"decision": "accepted", "meta": True}, headers=tokens["manager"]
    )
    assert (meta.json()["moderation"], meta.json()["is_meta"]) == ("accepted", True)
    meta_rejected = {"decision": "rejected", "meta": True}
    assert_problem(api.post(moderation, json=meta_rejected, headers=tokens["manager"]), 422, "meta")
    rejected = api.post(moderation, json={"decision": "rejected"}, headers=tokens["manager"])
    assert (rejected.json()["moderation"], rejected.json()["is_meta"]) == ("rejected", False)
    every = api.get(f"{url}?moderation=all", headers=tokens["admin"]).json()["items"]
    assert [s["moderation"] for s in every] == ["rejected"]
    assert_problem(
        api.post(
            f"{url}/st_nope/moderation", json={"decision": "accepted"}, headers=tokens["manager"]
        ),
        404,
    )


def test_statement_errors(
    api: TestClient, started: Started, tokens: dict[str, dict[str, str]]
) -> None:
    url = f"{started.api}/statements"
    assert_problem(api.post(url, json={"text": " "}, headers=tokens["member"]), 422, "text")
    assert_problem(api.post(url, json={"text": "x" * 1001}, headers=tokens["member"]), 422, "text")
    duplicate = api.post(url, json={"text": "First statement."}, headers=tokens["member"])
    assert_problem(duplicate, 409, "text")
    assert_problem(api.post(url, json={"text": "Hi"}, headers=tokens["observer"]), 403)
    assert_problem(api.post(url, json={"text": "Hi"}, headers=tokens["admin"]), 403)
    assert_problem(api.post(url, json={"text": "Hi"}, headers=tokens["outsider"]), 404)


def test_vote_change_and_next(
    api: TestClient, started: Started, tokens: dict[str, dict[str, str]]
) -> None:
    votes, member = f"{started.api}/votes", tokens["member"]
    first = api.get(f"{started.api}/next", headers=member).json()
    assert first["remaining"] == 3 and first["voted"] == 0
    chosen = first["statement"]["id"]
    assert chosen in started.statements
    cast_one = api.post(votes, json={"statement_id": chosen, "value": 1}, headers=member)
    assert cast_one.status_code == 200, cast_one.text
    assert cast_one.json()["value"] == 1
    changed = api.post(votes, json={"statement_id": chosen, "value": -1}, headers=member)
    assert changed.json() == cast_one.json() | {"value": -1}
    for _ in range(8):
        step = api.get(f"{started.api}/next", headers=member).json()
        assert step["statement"]["id"] != chosen
        assert (step["remaining"], step["voted"]) == (2, 1)
    results = api.get(f"{started.api}/results", headers=member).json()
    # One voter (and the manager, who wrote the statements): fewer than the threshold of 3.
    assert results["release"] is None
    assert results["votes"] is None and results["participants"] is None
    for statement_id in started.statements:
        api.post(votes, json={"statement_id": statement_id, "value": 0}, headers=member)
    done = api.get(f"{started.api}/next", headers=member).json()
    assert done == {"statement": None, "remaining": 0, "voted": 3}


@pytest.mark.parametrize(
    ("value", "field"),
    [(2, "value"), ("1", "value"), (None, "value"), (1.5, "value")],
)
def test_a_bad_vote_value_names_its_field(
    api: TestClient, started: Started, tokens: dict[str, dict[str, str]], value: Any, field: str
) -> None:
    body = {"statement_id": started.statements[0], "value": value}
    assert_problem(
        api.post(f"{started.api}/votes", json=body, headers=tokens["member"]), 422, field
    )


def test_a_vote_on_an_unknown_statement_names_the_statement(
    api: TestClient, started: Started, tokens: dict[str, dict[str, str]]
) -> None:
    body = {"statement_id": "st_nope", "value": 1}
    response = api.post(f"{started.api}/votes", json=body, headers=tokens["member"])
    assert_problem(response, 422, "statement_id")


@pytest.mark.parametrize(("role", "status"), [("observer", 403), ("admin", 403), ("outsider", 404)])
def test_who_may_not_vote(
    api: TestClient, started: Started, tokens: dict[str, dict[str, str]], role: str, status: int
) -> None:
    body = {"statement_id": started.statements[0], "value": 1}
    assert_problem(api.post(f"{started.api}/votes", json=body, headers=tokens[role]), status)
    assert_problem(api.get(f"{started.api}/next", headers=tokens[role]), status)


def test_a_closed_deliberation_takes_no_votes(
    api: TestClient, started: Started, tokens: dict[str, dict[str, str]]
) -> None:
    status = f"{started.api}/status"
    assert_problem(api.post(status, json={"status": "closed"}, headers=tokens["member"]), 403)
    assert_problem(
        api.post(status, json={"status": "done"}, headers=tokens["manager"]), 422, "status"
    )
    closed = api.post(status, json={"status": "closed"}, headers=tokens["manager"])
    assert closed.json()["status"] == "closed"
    body = {"statement_id": started.statements[0], "value": 1}
    assert_problem(api.post(f"{started.api}/votes", json=body, headers=tokens["member"]), 409)
    written = api.post(
        f"{started.api}/statements", json={"text": "Late."}, headers=tokens["member"]
    )
    assert_problem(written, 409)
    assert_problem(api.post(f"{started.api}/votes", json=body, headers=tokens["observer"]), 403)
    reopened = api.post(status, json={"status": "open"}, headers=tokens["manager"])
    assert reopened.json()["status"] == "open"
    assert api.post(f"{started.api}/votes", json=body, headers=tokens["member"]).status_code == 200


def test_results_before_any_vote(
    api: TestClient, started: Started, tokens: dict[str, dict[str, str]]
) -> None:
    results = api.get(f"{started.api}/results", headers=tokens["observer"]).json()
    assert results["release"] is None and results["anonymity_threshold"] == 3
    assert results["votes"] is None and results["participants"] is None
    assert results["points"] == [] and results["groups"] == [] and results["k"] is None
    assert results["consensus_agree"] == [] and results["consensus_disagree"] == []
    assert [s["number"] for s in results["statements"]] == [1, 2, 3]
    assert all(s["voters"] is None for s in results["statements"])
    assert results["partners"]["alignment"] is None


def test_results_show_groups_consensus_and_partner_lines(
    api: TestClient, crowd: Crowd, tokens: dict[str, dict[str, str]]
) -> None:
    results = api.get(f"{crowd.started.api}/results", headers=tokens["sponsor"]).json()
    assert (results["participants"], results["votes"], results["k"]) == (10, 50, 2)
    assert len(results["points"]) == results["participants"]  # one dot per participant
    assert all(set(point) == {"x", "y", "group"} for point in results["points"])
    groups = results["groups"]
    assert [g["label"] for g in groups] == ["A", "B"]
    assert sorted(g["size"] for g in groups) == [5, 5]
    for group in groups:
        assert group["reasons"]
        for reason in group["reasons"]:
            assert reason["percent"] == 100 and reason["text"] in CROWD_TEXTS
            assert reason["others_percent"] == 0 and reason["voters"] == 5
            assert reason["sentence"].startswith(f"100% of group {group['label']} ")
    agree = [c["text"] for c in results["consensus_agree"]]
    assert agree == [EVERYONE_SAYS]
    assert results["consensus_agree"][0]["percent"] == 100
    assert results["consensus_agree"][0]["voters"] == 10
    gic = {s["text"]: s["group_informed_consensus"] for s in results["statements"]}
    assert gic[EVERYONE_SAYS] == max(gic.values())
    divisive = {d["text"] for d in results["divisive"]}
    assert divisive == {*NORTH_SAYS, *CONTOSO_SAYS}
    partners = results["partners"]
    alignment = partners["alignment"]
    assert sorted(alignment["partners"]) == ["Contoso", "Northwind"]
    assert sorted(cell for row in alignment["rows"] for cell in row["counts"]) == [0, 0, 5, 5]
    assert alignment["cramers_v"] == pytest.approx(1.0)
    assert alignment["p_value"] < 0.05 and alignment["follows_partner_lines"] is True
    assert alignment["summary"].startswith("Opinion groups follow partner lines")
    assert [b["text"] for b in partners["bridging"]] == [EVERYONE_SAYS]
    assert {f["text"] for f in partners["fault_lines"]} == {*NORTH_SAYS, *CONTOSO_SAYS}
    assert "withheld" not in partners and results["anonymity_threshold"] == 3


def test_results_carry_no_ids_of_people(
    api: TestClient, crowd: Crowd, tokens: dict[str, dict[str, str]], runtime: Runtime, world: World
) -> None:
    from test_deliberation_pages import identities

    text = api.get(f"{crowd.started.api}/results", headers=tokens["admin"]).text
    secret = identities(runtime, world, crowd)
    assert secret
    for value, kind in secret.items():
        assert value not in text, f"the results show a {kind}"


def test_promote_a_consensus_statement(
    api: TestClient, crowd: Crowd, tokens: dict[str, dict[str, str]], world: World
) -> None:
    everyone = crowd.started.statements[CROWD_TEXTS.index(EVERYONE_SAYS)]
    url = f"{crowd.started.api}/statements/{everyone}/promote"
    assert_problem(api.post(url, json={"target": "charter"}, headers=tokens["member"]), 403)
    assert_problem(api.post(url, json={"target": "law"}, headers=tokens["manager"]), 422, "target")
    body = {"target": "declaration", "rationale": "All agreed.", "rule": "consensus"}
    made = api.post(url, json=body, headers=tokens["manager"])
    assert made.status_code == 201, made.text
    assert made.json()["target"] == "declaration" and made.json()["text"] == EVERYONE_SAYS
    assert made.json()["source"] == f"deliberation {crowd.started.id}, statement {everyone}"
    assert_problem(api.post(url, json=body, headers=tokens["manager"]), 409, "target")
    charter = api.post(url, json={"target": "charter"}, headers=tokens["admin"])
    assert charter.status_code == 201 and charter.json()["id"].startswith("cc_")
    divided = crowd.started.statements[0]
    refused = api.post(
        f"{crowd.started.api}/statements/{divided}/promote",
        json={"target": "charter"},
        headers=tokens["manager"],
    )
    assert_problem(refused, 409)
    unknown = api.post(
        f"{crowd.started.api}/statements/st_nope/promote",
        json={"target": "charter"},
        headers=tokens["manager"],
    )
    assert_problem(unknown, 404)
    page = f"/a/{world.alliance_id}/deliberations/{crowd.started.id}/results"
    login(api, world.member.email, world.member.password)
    assert "Promoted from this deliberation" in api.get(page).text


def test_cookie_votes_need_the_csrf_header(api: TestClient, started: Started, world: World) -> None:
    login(api, world.member.email, world.member.password)
    body = {"statement_id": started.statements[0], "value": 1}
    refused = api.post(f"{started.api}/votes", json=body)
    assert "X-CSRF-Token" in assert_problem(refused, 403)["detail"]
    csrf = csrf_of(api, "/account/tokens")
    accepted = api.post(f"{started.api}/votes", json=body, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 200, accepted.text


def test_the_openapi_document_lists_the_routes(api: TestClient) -> None:
    paths = api.get("/api/openapi.json").json()["paths"]
    base = f"{API}/alliances/{{alliance_id}}/deliberations"
    assert set(paths[base]) == {"get", "post"}
    assert set(paths[f"{base}/{{deliberation_id}}/results"]) == {"get"}
    results = paths[f"{base}/{{deliberation_id}}/results"]["get"]["responses"]["200"]
    assert results["content"]["application/json"]["schema"]["$ref"].endswith("/ResultsDocument")


def test_others_votes_are_never_returned(
    api: TestClient,
    started: Started,
    tokens: dict[str, dict[str, str]],
    runtime: Runtime,
    clock: FixedClock,
    world: World,
) -> None:
    cast(runtime, clock, world.sponsor.id, started, {started.statements[0]: -1})
    seen = api.get(f"{started.api}/next", headers=tokens["member"]).json()
    assert seen["voted"] == 0 and seen["remaining"] == 3
    for path in ("", "/statements", "/results"):
        text = api.get(f"{started.api}{path}", headers=tokens["manager"]).text
        assert world.sponsor.id not in text and world.sponsor.email not in text


def test_moderation_in_bulk_is_all_or_nothing(
    api: TestClient,
    tokens: dict[str, dict[str, str]],
    world: World,
    runtime: Runtime,
    clock: FixedClock,
) -> None:
    started = start(runtime, clock, world.manager.id, world.alliance_id, (), strict=True)
    written = [
        api.post(f"{started.api}/statements", json={"text": text}, headers=tokens["member"]).json()[
            "id"
        ]
        for text in ("One idea.", "Another idea.")
    ]
    batch = f"{started.api}/moderation"
    unknown = {"decision": "accepted", "statement_ids": [written[0], "st_nope"]}
    assert_problem(api.post(batch, json=unknown, headers=tokens["manager"]), 422, "statement_ids.1")
    pending = api.get(f"{started.api}/statements?moderation=pending", headers=tokens["manager"])
    assert len(pending.json()["items"]) == 2, "nothing was decided"
    assert_problem(
        api.post(
            batch, json={"decision": "accepted", "statement_ids": written}, headers=tokens["member"]
        ),
        403,
    )
    done = api.post(
        batch, json={"decision": "accepted", "statement_ids": written}, headers=tokens["manager"]
    )
    assert done.status_code == 200 and {s["moderation"] for s in done.json()} == {"accepted"}


def test_results_carry_an_etag_and_a_poll_with_it_is_a_304(
    api: TestClient, crowd: Crowd, tokens: dict[str, dict[str, str]]
) -> None:
    url = f"{crowd.started.api}/results"
    first = api.get(url, headers=tokens["member"])
    etag = first.headers["etag"]
    assert etag == f'"{first.json()["version"]}"'
    again = api.get(url, headers=tokens["member"] | {"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and again.content == b""
    stale = api.get(url, headers=tokens["member"] | {"If-None-Match": '"r0-open"'})
    assert stale.status_code == 200 and stale.json() == first.json()
