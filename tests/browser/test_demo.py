"""The demo as a newcomer meets it: seed with the CLI, sign in with what it printed,
open the demo alliance and its registers in Chromium, and keep screenshots.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from coauthor.config import Settings
from coauthor.runtime import build_runtime
from coauthor.web.app import create_app

REPO_ROOT = Path(__file__).resolve().parents[2]


def _seed_with_cli(database_url: str, secret_file: Path) -> tuple[str, str]:
    """Run `coauthor demo --seed-only` as a user would; return the printed email and password."""
    env = os.environ | {
        "COAUTHOR_DATABASE_URL": database_url,
        "COAUTHOR_SECRET_KEY_FILE": str(secret_file),
    }
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "coauthor"), "demo", "--seed-only"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    email = re.search(r"email:\s+(\S+)", completed.stdout)
    password = re.search(r"password:\s+(\S+)", completed.stdout)
    assert email and password, completed.stdout
    return email.group(1), password.group(1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str, str]]:
    folder = tmp_path_factory.mktemp("demo")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'demo.sqlite3'}",
        secret_key_file=folder / "secret_key",
        static_vendor_dir=REPO_ROOT / "node_modules",
    )
    email, password = _seed_with_cli(settings.database_url, settings.secret_key_file)
    runtime = build_runtime(settings)
    yield create_app(runtime=runtime), email, password
    runtime.close()


@pytest.fixture(scope="module")
def browser_app(demo: tuple[FastAPI, str, str]) -> FastAPI:
    return demo[0]


def test_printed_login_opens_the_demo_alliance(
    demo: tuple[FastAPI, str, str], live_server: str, page: Page, artifacts_dir: Path
) -> None:
    _, email, password = demo
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()

    alliance_link = page.get_by_role("link", name=re.compile("Helios", re.I)).first
    expect(alliance_link).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "demo-portfolio.png"), full_page=True)
    alliance_link.click()

    expect(page).to_have_url(re.compile(r"/a/al_[A-Za-z0-9_-]+$"))
    expect(page.locator("main")).to_contain_text("Nordwerk")
    page.screenshot(path=str(artifacts_dir / "demo-alliance.png"), full_page=True)

    page.get_by_role("link", name="Risks").first.click()
    expect(page).to_have_url(re.compile(r"/risks$"))
    expect(page.locator("main svg").first).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "demo-risks.png"), full_page=True)
