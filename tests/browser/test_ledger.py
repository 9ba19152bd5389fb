"""A commitment in Chromium, through the pages only: Ada (Aurora) asks Bo (Borealis) for a
report due on a given day; Bo promises, then reports it done with a link to it; Ada
declares satisfaction. Along the way "My commitments" shows what waits on whom, and the
calendar URL Ada makes shows the due date. Screenshots: test-artifacts/ledger-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.request import urlopen

import icalendar
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from coauthor.config import Settings
from coauthor.domain.model import Role
from coauthor.runtime import build_runtime
from coauthor.services.accounts import people
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import AllianceCreate, MemberInput, PartnerInput
from coauthor.web.app import create_app
from tests.conftest import require_or_skip

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO_ROOT / "node_modules"
PASSWORD = "correct horse battery staple"
ADA, BO = "ada@aurora.example", "bo@borealis.example"
WHAT = "Commissioning report for the heat-pump line"
DUE = date(2031, 5, 30)
REPORT = "https://example.org/commissioning.pdf"


@pytest.fixture
def browser_app(tmp_path: Path) -> Iterator[FastAPI]:
    require_or_skip(
        (NODE_MODULES / "htmx.org" / "dist" / "htmx.min.js").is_file(),
        "htmx is not installed: run `make assets`",
    )
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'coauthor.sqlite3'}",
        secret_key="browser-ledger-secret",
        static_vendor_dir=NODE_MODULES,
    )
    runtime = build_runtime(settings)
    with runtime.uow() as uow:
        made = {
            email: people.do_create_person(
                uow, None, PersonInput(email=email, name=name), PASSWORD, bootstrap=True
            )
            for email, name in ((ADA, "Ada Lind"), (BO, "Bo Strand"))
        }
        alliance = alliances.do_create_alliance(
            uow,
            made[ADA],
            AllianceCreate(
                name="Aurora–Borealis Heat", kind="joint_venture", organization_name="Aurora"
            ),
        )
        borealis = alliances.do_add_partner(
            uow, made[ADA], alliance.id, PartnerInput(organization_name="Borealis")
        )
        member = MemberInput(email=BO, partner_id=borealis.id, role=Role.MEMBER)
        alliances.do_add_member(uow, made[ADA], alliance.id, member)
        uow.session.commit()
    app = create_app(runtime=runtime)
    try:
        yield app
    finally:
        runtime.close()


def sign_in(browser: Browser, base: str, email: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your alliances")).to_be_visible()
    return page


def move(page: Page, button: str) -> None:
    """Make a move and wait until the conversation shows it (the page before the move
    already has a ``#latest`` line, so waiting for one would not wait at all)."""
    said = page.locator(".conversation > li")
    before = said.count()
    page.get_by_role("button", name=button, exact=True).click()
    expect(said).to_have_count(before + 1)
    expect(page.locator("#latest")).to_be_visible()


def test_request_promise_report_and_satisfaction_through_the_pages(
    browser: Browser, live_server: str, artifacts_dir: Path
) -> None:
    ada = sign_in(browser, live_server, ADA)
    ada.get_by_role("link", name="Aurora–Borealis Heat").click()
    ada.get_by_role("link", name="Ledger", exact=True).click()
    ada.get_by_label("What do you ask for?").fill(WHAT)
    ada.get_by_label("Conditions of satisfaction").first.fill("Signed by both site leads")
    ada.get_by_label("Due by").first.fill(DUE.isoformat())
    ada.get_by_label("Bo Strand (Borealis)").check()
    ada.get_by_role("button", name="Send the request").click()
    expect(ada.get_by_role("heading", name=WHAT)).to_be_visible()
    expect(ada.locator(".commitment-head")).to_contain_text("30 May 2031")
    commitment_url = ada.url

    bo = sign_in(browser, live_server, BO)
    expect(bo.locator(".site-nav .badge")).to_have_text("1 waiting on you")
    bo.get_by_role("link", name="My commitments").click()
    expect(bo.locator("#waiting")).to_contain_text(WHAT)
    bo.locator("#waiting").get_by_role("link", name=WHAT).click()
    bo.get_by_label("Note").first.fill("Yes — the site leads sign on the 28th.")
    move(bo, "Promise")
    expect(bo.locator(".commitment-head")).to_contain_text("promised")
    bo.get_by_label("Evidence links").fill(REPORT)
    move(bo, "Report it done")
    bo.screenshot(path=str(artifacts_dir / "ledger-reported.png"), full_page=True)

    ada.goto(f"{live_server}/commitments")
    expect(ada.locator("#waiting")).to_contain_text(WHAT)
    ada.goto(commitment_url)
    expect(ada.locator(".conversation")).to_contain_text("reported it done")
    expect(ada.get_by_role("link", name=REPORT)).to_be_visible()
    move(ada, "Declare satisfied")
    expect(ada.locator(".commitment-head .badge").first).to_have_text("fulfilled")
    said = ada.locator(".conversation .who").all_inner_texts()
    assert [line.split(" · ")[0].split(")")[-1].strip() for line in said] == [
        "asked",
        "promised",
        "reported it done",
        "declared satisfaction",
    ]
    ada.screenshot(path=str(artifacts_dir / "ledger-conversation.png"), full_page=True)

    ada.goto(f"{live_server}/commitments")
    ada.get_by_role("button", name="Make a calendar URL").click()
    feed_url = ada.locator("#feed-url").input_value()
    assert feed_url.startswith(f"{live_server}/calendar/cal_")
    ada.screenshot(path=str(artifacts_dir / "ledger-my-commitments.png"), full_page=True)
    with urlopen(feed_url) as response:
        feed = icalendar.Calendar.from_ical(response.read())
    [event] = [e for e in feed.walk("VEVENT") if WHAT in str(e["summary"])]
    assert event.decoded("dtstart") == DUE
    assert str(event["summary"]) == f"Fulfilled: {WHAT}"
