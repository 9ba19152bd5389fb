"""Proves the browser harness: Chromium renders a page served by ``live_server``.

The tiny app also serves htmx from node_modules/ (installed by ``make assets``) the
way Coauthor does, at /static/vendor/htmx.min.js, and a click swaps in a fragment.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tests.conftest import require_or_skip

REPO_ROOT = Path(__file__).resolve().parents[2]
HTMX_DIST = REPO_ROOT / "node_modules" / "htmx.org" / "dist"

HOME_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Harness check</title>
    <script src="/static/vendor/htmx.min.js"></script>
  </head>
  <body>
    <h1>Coauthor browser harness</h1>
    <p id="status">Rendered by Chromium</p>
    <button hx-get="/fragment" hx-target="#status" hx-swap="innerHTML">Load fragment</button>
  </body>
</html>
"""


async def home(request: Request) -> HTMLResponse:
    return HTMLResponse(HOME_PAGE)


async def fragment(request: Request) -> HTMLResponse:
    return HTMLResponse("Swapped in by htmx")


@pytest.fixture
def browser_app() -> Starlette:
    require_or_skip(
        (HTMX_DIST / "htmx.min.js").is_file(), "htmx is not installed: run `make assets`"
    )
    return Starlette(
        routes=[
            Route("/", home),
            Route("/fragment", fragment),
            Mount("/static/vendor", app=StaticFiles(directory=HTMX_DIST)),
        ]
    )


def test_chromium_renders_the_served_page(
    page: Page, live_server: str, artifacts_dir: Path
) -> None:
    page.goto(live_server)
    expect(page.get_by_role("heading")).to_have_text("Coauthor browser harness")
    expect(page.locator("#status")).to_have_text("Rendered by Chromium")
    screenshot = artifacts_dir / "browser-harness.png"
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size > 0


def test_htmx_from_node_modules_swaps_a_fragment(page: Page, live_server: str) -> None:
    page.goto(live_server)
    page.get_by_role("button", name="Load fragment").click()
    expect(page.locator("#status")).to_have_text("Swapped in by htmx")
