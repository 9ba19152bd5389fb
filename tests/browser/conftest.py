"""Browser fixtures: Debian's Chromium driven by Playwright, and a live app server.

Test modules provide a fixture named ``browser_app`` returning the ASGI app to
serve; ``live_server`` serves it with uvicorn on 127.0.0.1 and yields its base URL.
Screenshots (and a screenshot of every failed test) go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.conftest import require_or_skip

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERVER_START_TIMEOUT_SECONDS = 15.0
CALL_REPORT_KEY = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report: pytest.TestReport = yield
    if report.when == "call":
        item.stash[CALL_REPORT_KEY] = report
    return report


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH", DEFAULT_CHROMIUM)
    require_or_skip(
        os.access(path, os.X_OK), f"Chromium not found at {path}: run `make system-deps`"
    )
    return path


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    launched = playwright.chromium.launch(
        executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest, artifacts_dir: Path) -> Iterator[Page]:
    """A page in its own browser context; screenshotted to test-artifacts/ if the test fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    new_page = context.new_page()
    try:
        yield new_page
        report = request.node.stash.get(CALL_REPORT_KEY, None)
        if report is not None and report.failed:
            new_page.screenshot(path=artifacts_dir / f"{artifact_name(request.node)}-failed.png")
    finally:
        context.close()


def artifact_name(node: pytest.Item) -> str:
    """A file-name-safe rendering of a test's node id."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node.nodeid).strip("_")


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive():
            pytest.fail("the live server stopped during start-up (see the log above)")
        if time.monotonic() > deadline:
            pytest.fail(f"the live server did not start in {SERVER_START_TIMEOUT_SECONDS:.0f}s")
        time.sleep(0.02)


@pytest.fixture
def live_server(browser_app: Any) -> Iterator[str]:
    """Serves ``browser_app`` (an ASGI app) on 127.0.0.1; yields e.g. http://127.0.0.1:41234."""
    sock = _listening_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(browser_app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_until_started(server, thread)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=SERVER_START_TIMEOUT_SECONDS)
        sock.close()
