"""Security headers: a strict CSP, no framing, nosniff, Referrer-Policy, HSTS over HTTPS,
no-store on private answers; the API viewers from npm, with the bearer scheme declared."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.runtime import build_runtime
from coauthor.web.app import create_app
from tests.e2e.conftest import World

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "coauthor" / "web" / "templates"
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.I)


def csp_of(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    parts = [
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    ]
    return {name: value for name, value in parts}


def test_every_page_and_answer_carries_the_headers(login_as, world: World) -> None:  # type: ignore[no-untyped-def]
    client = login_as("member")
    for path in (
        "/",
        f"/a/{world.alliance_id}/partners/{world.partners['northwind']}/notes",
        "/account",
        "/api/v1/me",
        "/login",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["cache-control"] == "no-store", path
        assert "strict-transport-security" not in headers, "plain HTTP gets no HSTS"
        csp = csp_of(response)
        assert csp["script-src"] == "'self'"
        assert csp["style-src"] == "'self'"
        assert csp["frame-ancestors"] == "'none'"
        assert csp["default-src"] == "'none'"


def test_static_files_may_be_cached(client: TestClient) -> None:
    response = client.get("/static/coauthor.css")
    assert response.status_code == 200
    assert "cache-control" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


def test_hsts_over_https_only(app: FastAPI) -> None:
    with TestClient(app, base_url="https://testserver") as secure:
        assert secure.get("/login").headers["strict-transport-security"].startswith("max-age=")
    with TestClient(app) as plain:
        forged = plain.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in forged.headers, "untrusted proxy header"


def test_hsts_behind_a_trusted_proxy(settings: Settings, clock: FixedClock) -> None:
    runtime = build_runtime(
        settings.model_copy(update={"trusted_proxies": "10.0.0.5"}), clock=clock
    )
    try:
        with TestClient(create_app(runtime=runtime), client=("10.0.0.5", 1234)) as behind:
            response = behind.get("/login", headers={"X-Forwarded-Proto": "https"})
            assert "strict-transport-security" in response.headers
    finally:
        runtime.close()


def test_no_template_has_inline_script_style_or_handlers() -> None:
    """The CSP would block them: scripts and styles come from files under /static."""
    found = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for match in INLINE.finditer(path.read_text())
    ]
    assert not found, found


def test_htmx_is_told_not_to_inject_styles_or_evaluate(client: TestClient) -> None:
    page = client.get("/login").text
    assert '"includeIndicatorStyles": false' in page
    assert '"allowEval": false' in page
    assert '<script src="/static/vendor/htmx.min.js" defer></script>' in page


@pytest.fixture
def vendored(settings: Settings, clock: FixedClock) -> Iterator[TestClient]:
    runtime = build_runtime(settings, clock=clock)
    with TestClient(create_app(runtime=runtime)) as client:
        yield client
    runtime.close()


def test_the_api_viewers_load_from_this_site(vendored: TestClient) -> None:
    for path in ("/api/docs", "/api/redoc"):
        page = vendored.get(path)
        assert page.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources and all(src.startswith(("/", "data:")) for src in sources), sources
        assert not re.search(r"<script(?![^>]*\bsrc=)", page.text), "no inline script"
        for source in sources:
            if source.startswith("/static/"):
                assert vendored.get(source).status_code == 200, source
        assert "'unsafe-inline'" in csp_of(page)["style-src"]
        assert csp_of(page)["script-src"] == "'self'"


def test_openapi_declares_the_bearer_scheme(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["apiToken"]["description"],
    }
    me = document["paths"]["/api/v1/me"]["get"]
    assert {"apiToken": []} in me["security"]
