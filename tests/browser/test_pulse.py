"""The pulse in Chromium: a manager opens waves, members answer through their links, and
results appear only once enough people have answered.

The alliance has two partners: Aurora (the manager and three members) and Borealis (four
members); the anonymity threshold is 3. The manager opens a wave on the Pulse tab and
copies the links from the links page. In the first wave one person of each partner
answers, each in a browser of their own and without signing in: the response counts say
"fewer than 3", and after closing the wave shows no figure at all. In the second wave three
of each answer: the counts appear, the results still wait for the wave to close, and then
show. Screenshots: test-artifacts/pulse-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from coauthor.config import Settings
from coauthor.domain.model import Role
from coauthor.domain.pulse import STANDARD_ITEMS
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
MANAGER = "maria@aurora.example"
AURORA = ("alice@aurora.example", "arne@aurora.example", "anja@aurora.example")
BOREALIS = ("bea@borealis.example", "bo@borealis.example", "britt@borealis.example")
BOREALIS_ALL = (*BOREALIS, "bjorn@borealis.example")


@pytest.fixture
def browser_app(tmp_path: Path) -> Iterator[FastAPI]:
    require_or_skip(
        (NODE_MODULES / "htmx.org" / "dist" / "htmx.min.js").is_file(),
        "htmx is not installed: run `make assets`",
    )
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'coauthor.sqlite3'}",
        secret_key="browser-pulse-secret",
        static_vendor_dir=NODE_MODULES,
        anonymity_threshold=3,
        pulse_comment_threshold=3,
    )
    runtime = build_runtime(settings)
    with runtime.uow() as uow:
        data = PersonInput(email=MANAGER, name="Maria")
        manager = people.do_create_person(uow, None, data, PASSWORD, bootstrap=True)
        create = AllianceCreate(
            name="Aurora–Borealis Heat", kind="joint_venture", organization_name="Aurora"
        )
        alliance = alliances.do_create_alliance(uow, manager, create)
        borealis = alliances.do_add_partner(
            uow, manager, alliance.id, PartnerInput(organization_name="Borealis")
        )
        aurora = alliances.membership_of(uow, manager, alliance.id)
        assert aurora is not None
        for email in (*AURORA, *BOREALIS_ALL):
            partner = borealis.id if "borealis" in email else aurora.partner_id
            member = MemberInput(email=email, partner_id=partner, role=Role.MEMBER)
            alliances.do_add_member(uow, manager, alliance.id, member)
        uow.session.commit()
    app = create_app(runtime=runtime)
    try:
        yield app
    finally:
        runtime.close()


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(MANAGER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your alliances")).to_be_visible()


def open_wave(page: Page, title: str) -> dict[str, str]:
    """Open a wave on the Pulse tab; returns each member's link by email, from the links page."""
    page.get_by_role("link", name="Aurora–Borealis Heat").click()
    page.get_by_role("link", name="Pulse", exact=True).click()
    page.get_by_label("Title").fill(title)
    page.get_by_role("button", name="Open wave").click()
    expect(page.get_by_role("heading", name=f"Links to send for “{title}”")).to_be_visible()
    links = {}
    for item in page.locator("ul.pulse-links li").all():
        email = item.locator(".link-who .muted").inner_text().split(" · ")[-1]
        links[email] = item.locator("input.link-field").input_value()
    return links


def answer(browser: Browser, link: str, value: int, comment: str = "") -> None:
    """Answer every statement through the link, in a browser of one's own, signed in as no one."""
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    try:
        page.goto(link)
        expect(page.get_by_role("heading", name="A few minutes, anonymously")).to_be_visible()
        for item in STANDARD_ITEMS:
            given = 8 - value if item.reverse else value  # so that every item scores ``value``
            page.locator(f'input[name="answers.{item.key}"][value="{given}"]').check()
        if comment:
            page.get_by_label("Anything you would like to add?").fill(comment)
        page.get_by_role("button", name="Send my answers").click()
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    finally:
        context.close()


def close_now(page: Page) -> None:
    """Press "Close now" on the wave's page and confirm."""
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Close now").click()


def rate_of(page: Page, partner: str) -> str:
    row = page.locator("table.pulse-rates tbody tr", has_text=partner)
    return row.locator("td").nth(1).inner_text()


def test_results_appear_only_once_enough_people_answered(
    live_server: str, browser: Browser, artifacts_dir: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server)

    links = open_wave(page, "Too few")
    assert len(links) == 8
    for email in (AURORA[0], BOREALIS[0]):
        answer(browser, links[email], 5)
    page.goto(f"{page.url.rsplit('/links', 1)[0]}")
    expect(page.get_by_role("heading", name="Results appear when the wave closes")).to_be_visible()
    assert rate_of(page, "Aurora") == rate_of(page, "Borealis") == "fewer than 3"
    expect(page.locator("table.pulse-rates tfoot")).to_contain_text("—")  # 2 in all: not said
    close_now(page)
    expect(page.get_by_role("heading", name="Too few answers to report")).to_be_visible()
    expect(page.get_by_role("heading", name="Scores by dimension")).to_have_count(0)
    page.screenshot(path=artifacts_dir / "pulse-too-few.png", full_page=True)

    page.goto(f"{live_server}/")
    links = open_wave(page, "Enough")
    for index, (email, value) in enumerate(zip(AURORA, (6, 7, 6), strict=True)):
        answer(browser, links[email], value, comment=f"Aurora note {index}")
    page.goto(f"{page.url.rsplit('/links', 1)[0]}")
    assert rate_of(page, "Aurora") == "3" and rate_of(page, "Borealis") == "0"
    for index, (email, value) in enumerate(zip(BOREALIS, (3, 2, 3), strict=True)):
        answer(browser, links[email], value, comment=f"Borealis note {index}")
    page.reload()
    assert rate_of(page, "Borealis") == "3"
    expect(page.get_by_role("heading", name="Results appear when the wave closes")).to_be_visible()
    close_now(page)
    expect(page.get_by_role("heading", name="Scores by dimension")).to_be_visible()
    scores = page.locator("table.score-table")
    expect(scores.locator("thead")).to_contain_text("Aurora")
    expect(scores.locator("thead")).to_contain_text("Borealis")
    expect(scores.locator("tbody tr").first).to_contain_text("6.33")  # Aurora: 6, 7, 6
    expect(page.locator(".gap-summary").first).to_contain_text("differently")
    expect(page.locator(".pulse-comments")).to_contain_text("Borealis note 2")
    page.screenshot(path=artifacts_dir / "pulse-results.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 900})
    page.screenshot(path=artifacts_dir / "pulse-results-390.png", full_page=True)
    context.close()
