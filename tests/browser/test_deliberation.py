"""A deliberation in Chromium: a manager starts it, three people vote, the results follow live.

The alliance has two partners: Aurora (the manager, Alice and Arne) and
Borealis (Bea). The manager starts a deliberation, writes three statements and
accepts them, all through the pages. A results page stays open in its own
browser context, polling with htmx; as Alice, Arne and Bea each vote through
the Agree / Disagree buttons, the test waits for that page to change by
itself (vote count, groups, common ground) without being reloaded.

The anonymity threshold is 3, the smallest allowed. Two Aurora voters and one
Borealis voter are still too few for a partner breakdown: the page says so.
Screenshots: test-artifacts/deliberation-vote.png and deliberation-results.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, expect

from coauthor.config import Settings
from coauthor.domain.model import Role
from coauthor.runtime import build_runtime
from coauthor.services.accounts import people
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.deliberation import acts
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import AllianceCreate, MemberInput, PartnerInput
from coauthor.web.app import create_app
from tests.conftest import require_or_skip

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO_ROOT / "node_modules"
PASSWORD = "correct horse battery staple"
QUESTION = "How should we run the joint heat-pump programme?"
EVERYONE = "Publish a joint progress report every quarter."
AURORA = "Aurora should host the joint engineering team."
BOREALIS = "Borealis should host the joint engineering team."
STATEMENTS = (EVERYONE, AURORA, BOREALIS)
VOTERS = {
    "alice@aurora.example": {EVERYONE: "Agree", AURORA: "Agree", BOREALIS: "Disagree"},
    "arne@aurora.example": {EVERYONE: "Agree", AURORA: "Agree", BOREALIS: "Disagree"},
    "bea@borealis.example": {EVERYONE: "Agree", AURORA: "Disagree", BOREALIS: "Agree"},
}
MANAGER = "maria@aurora.example"
POLL_TIMEOUT_MS = 20_000
"""The results page polls every 5 s; allow for a few polls."""


@pytest.fixture
def browser_app(tmp_path: Path) -> Iterator[FastAPI]:
    require_or_skip(
        (NODE_MODULES / "htmx.org" / "dist" / "htmx.min.js").is_file(),
        "htmx is not installed: run `make assets`",
    )
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'coauthor.sqlite3'}",
        secret_key="browser-deliberation-secret",
        static_vendor_dir=NODE_MODULES,
        anonymity_threshold=3,
    )
    runtime = build_runtime(settings)
    with runtime.uow() as uow:
        accounts = {
            email: people.do_create_person(
                uow,
                None,
                PersonInput(email=email, name=email.split("@")[0].title()),
                PASSWORD,
                bootstrap=True,
            )
            for email in (MANAGER, *VOTERS)
        }
        manager = accounts[MANAGER]
        alliance = alliances.do_create_alliance(
            uow,
            manager,
            AllianceCreate(
                name="Aurora–Borealis Heat",
                kind="joint_venture",
                stage="operating",
                organization_name="Aurora",
            ),
        )
        borealis = alliances.do_add_partner(
            uow, manager, alliance.id, PartnerInput(organization_name="Borealis")
        )
        aurora = alliances.membership_of(uow, manager, alliance.id)
        assert aurora is not None
        for email in VOTERS:
            partner = borealis.id if "borealis" in email else aurora.partner_id
            member = MemberInput(email=email, partner_id=partner, role=Role.MEMBER)
            alliances.do_add_member(uow, manager, alliance.id, member)
        uow.session.commit()
    app = create_app(runtime=runtime)
    try:
        yield app
    finally:
        runtime.close()


def sign_in(context: BrowserContext, base: str, email: str) -> Page:
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your alliances")).to_be_visible()
    return page


def start_deliberation(page: Page) -> str:
    """Through the pages: start it and write the statements (a manager's need no
    moderation). Returns its URL."""
    page.get_by_role("link", name="Aurora–Borealis Heat").click()
    page.get_by_role("link", name="Deliberations").click()
    expect(page.get_by_text("No deliberations yet.")).to_be_visible()
    page.get_by_label("Question", exact=True).fill(QUESTION)
    page.get_by_label("Background").fill("Where the team sits decides whose engineers lead.")
    expect(page.get_by_label("Moderate statements before anyone votes on them")).to_be_checked()
    page.get_by_role("button", name="Start deliberation").click()
    expect(page.get_by_role("heading", name=QUESTION)).to_be_visible()
    url = page.url
    for written, text in enumerate(STATEMENTS, start=1):
        page.get_by_label("Statement", exact=True).fill(text)
        page.get_by_role("button", name="Submit statement").click()
        expect(page.get_by_text("others can vote on it now")).to_be_visible()
        expect(page.locator("#vote-card .remaining")).to_have_text(str(written))
    page.get_by_role("link", name="Moderation").click()
    expect(page.locator("h3#accepted .badge")).to_have_text("3")
    expect(page.get_by_text("Nothing is waiting.")).to_be_visible()
    return url


def vote_through_the_buttons(page: Page, url: str, choices: dict[str, str]) -> None:
    page.goto(url)
    card = page.locator("#vote-card")
    for done in range(1, len(choices) + 1):
        text = page.locator("#current-statement").inner_text().strip()
        card.get_by_role("button", name=choices[text], exact=True).click()
        expect(card).to_contain_text(re.compile(rf"voted on {done}\b"))
    expect(card.get_by_role("heading", name="You have voted on every statement")).to_be_visible()


def vote_at_once(app: FastAPI, url: str, email: str) -> None:
    """All of one voter's votes in one write (as an API client batching them would), so the
    results worker never sees that voter half-way."""
    found = re.search(r"/a/([^/]+)/deliberations/([^/?#]+)", url)
    assert found is not None
    alliance_id, deliberation_id = found.groups()
    with app.state.runtime.uow() as uow:
        voter = people.person_by_email(uow, email)
        listed = acts.statements(uow, voter, alliance_id, deliberation_id)
        ids = {statement.text: statement.id for statement in listed}

        def cast(_: object) -> None:
            for text, choice in VOTERS[email].items():
                value = {"Agree": 1, "Disagree": -1, "Pass": 0}[choice]
                payload = {"statement_id": ids[text], "value": value}
                acts.do_vote(uow, voter, alliance_id, deliberation_id, payload)

        uow.write(cast)


def test_votes_arrive_on_the_live_results_page(
    browser: Browser, live_server: str, artifacts_dir: Path, browser_app: FastAPI
) -> None:
    contexts = []

    def context() -> BrowserContext:
        made = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(made)
        return made

    try:
        manager = sign_in(context(), live_server, MANAGER)
        url = start_deliberation(manager)

        watcher = sign_in(context(), live_server, MANAGER)
        watcher.goto(f"{url}/results")
        votes = watcher.locator("#vote-count")
        expect(votes).to_have_text("—")
        expect(watcher.get_by_role("heading", name="Not enough votes yet")).to_be_visible()
        version = watcher.locator("#results").get_attribute("data-version")

        first, *others = VOTERS
        voter = sign_in(context(), live_server, first)
        voter.goto(url)
        expect(voter.locator("#vote-card .remaining")).to_have_text("3")
        voter.screenshot(path=artifacts_dir / "deliberation-vote.png", full_page=True)
        vote_through_the_buttons(voter, url, VOTERS[first])

        # One person's votes never show alone: results wait for three voters.
        alone = sign_in(context(), live_server, MANAGER)
        alone.goto(f"{url}/results")
        expect(alone.get_by_role("heading", name="Not enough votes yet")).to_be_visible()
        assert alone.locator("#results").get_attribute("data-version") == version

        second, last = others
        vote_through_the_buttons(sign_in(context(), live_server, second), url, VOTERS[second])
        vote_at_once(browser_app, url, last)
        # The open results page changes by itself: htmx polls and swaps.
        expect(votes).to_have_text("9", timeout=POLL_TIMEOUT_MS)
        expect(watcher.get_by_role("heading", name="Not enough votes yet")).to_have_count(0)
        assert watcher.locator("#results").get_attribute("data-version") != version
        expect(watcher.locator("#results svg circle.dot")).to_have_count(3)
        common_ground = watcher.locator("ul.consensus-agree")
        expect(common_ground).to_contain_text(EVERYONE)
        expect(common_ground).not_to_contain_text(AURORA)
        expect(watcher.locator("#group-count")).not_to_have_text("0")
        expect(watcher.locator("#groups")).to_contain_text("Group A")
        partners = watcher.locator("#partners")
        expect(partners).to_contain_text("at least two partners with 3 or more participants")
        for name in ("Alice", "Arne", "Bea", "alice@", "bea@"):
            assert name not in watcher.locator("#results").inner_text()

        # Managers may promote the common ground; it is listed once promoted.
        watcher.locator("#results details.promote summary").first.click()
        watcher.get_by_label("Make it").first.select_option("charter")
        watcher.locator("#results details.promote").first.get_by_role(
            "button", name="Promote"
        ).click()
        expect(watcher.locator("#promoted-section")).to_contain_text("Charter clause")
        expect(watcher.locator("#promoted-section")).to_contain_text(EVERYONE)

        screenshot = artifacts_dir / "deliberation-results.png"
        watcher.screenshot(path=screenshot, full_page=True)
        assert screenshot.stat().st_size > 0
    except Exception:
        for number, made in enumerate(contexts):
            for page in made.pages:
                page.screenshot(path=artifacts_dir / f"deliberation-failed-{number}.png")
        raise
    finally:
        for made in contexts:
            made.close()
