"""A new person joins by invitation, in Chromium, with the email sent through a real SMTP server.

A manager invites an address through the partners page; the app emails the
invitation (aiosmtpd, started by the harness); the test follows the link in
the email in a fresh browser, sets a name and password, signs in, signs out,
and then shows that the cookie the browser held is refused by the server.
Every page the invitee sees is checked for CSP violations in the console.
Screenshots (1280 and 390 px wide) go to test-artifacts/.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect

from coauthor.config import Settings
from coauthor.runtime import Runtime, build_runtime
from coauthor.services.accounts import people
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import AllianceCreate, PartnerInput
from coauthor.web.app import create_app
from coauthor.web.auth import SESSION_COOKIE
from tests.conftest import require_or_skip
from tests.smtp_server import SmtpServer, link_in

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO_ROOT / "node_modules"
MANAGER, PASSWORD = "maria@aurora.example", "correct horse battery staple"
NEWCOMER, NEW_PASSWORD = "nils@borealis.example", "Nils chose this passphrase"
ALLIANCE = "Aurora–Borealis Heat"


@dataclass(frozen=True)
class Served:
    url: str
    runtime: Runtime


def _wait(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)


@pytest.fixture
def served(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Served]:
    """The app on a port chosen first, so that links in its emails point at it."""
    require_or_skip(
        (NODE_MODULES / "htmx.org" / "dist" / "htmx.min.js").is_file(),
        "htmx is not installed: run `make assets`",
    )
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'coauthor.sqlite3'}",
        secret_key="browser-invitation-secret",
        static_vendor_dir=NODE_MODULES,
        smtp_url=smtp_server.url,
        public_url=url,
    )
    runtime = build_runtime(settings)
    with runtime.uow() as uow:
        data = PersonInput(email=MANAGER, name="Maria Manager")
        manager = people.do_create_person(uow, None, data, PASSWORD, bootstrap=True)
        create = AllianceCreate(name=ALLIANCE, kind="joint_venture", organization_name="Aurora")
        alliance = alliances.do_create_alliance(uow, manager, create)
        alliances.do_add_partner(
            uow, manager, alliance.id, PartnerInput(organization_name="Borealis")
        )
        uow.session.commit()
    server = uvicorn.Server(uvicorn.Config(create_app(runtime=runtime), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait(server, thread)
        yield Served(url, runtime)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        runtime.site.outbox.wait()
        runtime.close()


def watch_csp(page: Page) -> list[str]:
    """Console messages about blocked content, collected as the page is used."""
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return blocked


def shoot(page: Page, artifacts_dir: Path, name: str) -> None:
    page.screenshot(path=artifacts_dir / f"{name}-1280.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=artifacts_dir / f"{name}-390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def invite_through_the_partners_page(page: Page, served: Served) -> None:
    page.goto(f"{served.url}/login")
    page.get_by_label("Email").fill(MANAGER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name=ALLIANCE).click()
    page.get_by_role("navigation", name="Alliance sections").get_by_role(
        "link", name="Partners"
    ).click()
    form = page.locator("form", has=page.get_by_role("button", name="Invite"))
    form.get_by_label("Email").fill(NEWCOMER)
    form.get_by_label("Name").fill("Nils")
    form.get_by_label("Partner").select_option(label="Borealis")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("heading", name=f"Invitation ready for {NEWCOMER}")).to_be_visible()
    expect(page.locator("#invitations")).to_contain_text("Waiting")


def test_a_newcomer_joins_by_emailed_invitation_and_signing_out_ends_the_session(
    browser: Browser, served: Served, smtp_server: SmtpServer, artifacts_dir: Path
) -> None:
    manager_context = browser.new_context(viewport={"width": 1280, "height": 900})
    manager = manager_context.new_page()
    manager_blocked = watch_csp(manager)
    invite_through_the_partners_page(manager, served)
    shoot(manager, artifacts_dir, "invitation-sent")

    link = link_in(smtp_server.wait_for(NEWCOMER))
    assert link.startswith(f"{served.url}/invitations/")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    blocked = watch_csp(page)
    page.goto(link)
    expect(page.get_by_role("heading", name=f"Join {ALLIANCE}")).to_be_visible()
    expect(page.get_by_text("Maria Manager invites")).to_be_visible()
    shoot(page, artifacts_dir, "invitation-accept")
    page.get_by_label("Your name").fill("Nils Nyberg")
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Accept and create account").click()

    expect(page.get_by_text("Welcome! Your account is ready")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value(NEWCOMER)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=ALLIANCE)).to_be_visible()
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Nils Nyberg").click()
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    expect(page.locator("#sessions")).to_contain_text("this browser")
    shoot(page, artifacts_dir, "profile")

    [cookie] = [c for c in context.cookies() if c["name"] == SESSION_COOKIE]
    with httpx.Client(base_url=served.url, cookies={SESSION_COOKIE: cookie["value"]}) as held:
        assert held.get("/api/v1/me").json()["email"] == NEWCOMER
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    with httpx.Client(base_url=served.url, cookies={SESSION_COOKIE: cookie["value"]}) as replay:
        assert replay.get("/api/v1/me").status_code == 401
        assert replay.get("/", follow_redirects=False).status_code == 401

    sections = manager.get_by_role("navigation", name="Alliance sections")
    sections.get_by_role("link", name="Partners").click()
    expect(manager.get_by_role("row", name="Nils Nyberg")).to_be_visible()
    assert blocked == [] and manager_blocked == [], "\n".join(blocked + manager_blocked)
    context.close()
    manager_context.close()


def test_the_api_viewers_run_under_the_csp(
    browser: Browser, served: Served, artifacts_dir: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    blocked = watch_csp(page)
    page.goto(f"{served.url}/api/docs")
    expect(page.get_by_role("button", name="Authorize")).to_be_visible(timeout=30_000)
    page.screenshot(path=artifacts_dir / "api-docs.png")
    page.goto(f"{served.url}/api/redoc")
    expect(page.get_by_text("Invite a member by email").first).to_be_attached(timeout=20_000)
    page.screenshot(path=artifacts_dir / "api-redoc.png")
    third_party = [message for message in blocked if "https://cdn.redoc.ly/" in message]
    assert blocked == third_party, "only ReDoc's badge logo (on its CDN) is kept out, as meant"
    page.close()
