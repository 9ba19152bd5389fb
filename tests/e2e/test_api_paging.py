"""Every API list pages by cursor: ``limit`` and ``cursor`` in, ``items`` and ``next`` out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_fixtures import World, WorldTemplate, app_on_copy, extended_template, valid_input
from fastapi.testclient import TestClient

from tests.e2e.conftest import World as SeededWorld

API = "/api/v1"


@pytest.fixture(scope="module")
def template(seeded: tuple[Path, SeededWorld], tmp_path_factory: pytest.TempPathFactory) -> Any:
    return extended_template(seeded, tmp_path_factory.mktemp("paging"))


@pytest.fixture
def api(template: WorldTemplate, tmp_path: Path) -> Iterator[tuple[TestClient, World]]:
    with app_on_copy(template, tmp_path) as app, TestClient(app) as client:
        yield client, template.world


def walk(client: TestClient, url: str, headers: dict[str, str]) -> list[list[dict[str, Any]]]:
    """Follow ``next`` links from ``url``; every page as a list of its items."""
    pages = []
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        url = body["next"]
    return pages


def test_following_next_gives_every_item_once_in_order(api: tuple[TestClient, World]) -> None:
    client, world = api
    headers = world.bearer("manager")
    url = f"{API}/alliances/{world.alliance_id}/agreements"
    for number in range(7):
        data = valid_input("agreement", world, f"paged {number:02}")
        assert client.post(url, json=data, headers=headers).status_code == 201
    everything = client.get(f"{url}?limit=200", headers=headers).json()
    assert everything["next"] is None
    pages = walk(client, f"{url}?limit=3", headers)
    assert [len(page) for page in pages[:-1]] == [3] * (len(pages) - 1)
    assert 1 <= len(pages[-1]) <= 3
    walked = [item["id"] for page in pages for item in page]
    assert walked == [item["id"] for item in everything["items"]]
    titles = [item["title"] for item in everything["items"]]
    assert titles == sorted(titles)


def test_a_page_does_not_shift_when_earlier_items_are_added(api: tuple[TestClient, World]) -> None:
    client, world = api
    headers = world.bearer("manager")
    url = f"{API}/alliances/{world.alliance_id}/meetings"
    start = datetime(2026, 6, 1, 9, tzinfo=UTC)
    for day in range(5):
        data = valid_input("meeting", world, f"m{day}") | {
            "starts_at": (start + timedelta(days=day)).isoformat()
        }
        assert client.post(url, json=data, headers=headers).status_code == 201
    first = client.get(f"{url}?limit=2", headers=headers).json()
    earlier = valid_input("meeting", world, "earlier") | {"starts_at": "2020-01-01T09:00:00Z"}
    assert client.post(url, json=earlier, headers=headers).status_code == 201
    rest = [item for page in walk(client, first["next"], headers) for item in page]
    seen = [item["id"] for item in first["items"]] + [item["id"] for item in rest]
    assert len(seen) == len(set(seen))
    assert "earlier" not in {item["title"] for item in rest}
    starts = [item["starts_at"] for item in first["items"] + rest]
    assert starts == sorted(starts)


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=201", "limit"), ("cursor=not-a-cursor", "cursor")],
)
def test_bad_paging_parameters_are_422_naming_the_field(
    api: tuple[TestClient, World], query: str, field: str
) -> None:
    client, world = api
    for path in ("agreements", "partners", "members"):
        response = client.get(
            f"{API}/alliances/{world.alliance_id}/{path}?{query}", headers=world.bearer("member")
        )
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field


def test_every_list_route_is_a_page(api: tuple[TestClient, World]) -> None:
    """No GET answers a bare array: every list is a ``Paged_…`` page taking limit and cursor."""
    client, _ = api
    spec = client.get("/api/openapi.json").json()
    pages = 0
    for path, operations in spec["paths"].items():
        if "get" not in operations:
            continue
        operation = operations["get"]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema.get("type") != "array", path
        if schema.get("$ref", "").rsplit("/", 1)[-1].startswith("Paged_"):
            names = {parameter["name"] for parameter in operation.get("parameters", [])}
            assert {"limit", "cursor"} <= names, path
            pages += 1
    assert pages >= 10
