"""The mechanics in Chromium at desktop (1280 px) and phone (390 px) widths (issue 9: 1, 2, 3, 9).

1. Saving lands on the item, scrolled to it, with a notice in view.
2. A form error is shown in view; reloading the page afterwards is not an error.
3. A partner keeps its colour on every chart when another partner joins.
9. No page is wider than the screen, and the voting card is in view.

The alliance: Northwind (Maria manages it, with Alice and Arne), Contoso (Bea,
Ben) and Tailspin (Tom); a risk and contributions shared between them, and an
open deliberation with a statement to vote on. Screenshots of each step go to
test-artifacts/ux-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Locator, Page, expect

from coauthor.config import Settings
from coauthor.domain.model import Role
from coauthor.runtime import build_runtime
from coauthor.services.accounts import people
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.deliberation import acts as deliberation
from coauthor.services.mechanics import alliances, registers
from coauthor.services.mechanics.inputs import AllianceCreate, MemberInput, PartnerInput
from coauthor.web.app import create_app
from tests.conftest import require_or_skip

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO_ROOT / "node_modules"
PASSWORD = "correct horse battery staple"
MANAGER = "maria@northwind.example"
ALLIANCE = "Northwind Heat Alliance"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
SECTIONS = ("", "/partners", "/agreements", "/governance", "/risks", "/contributions")
STATEMENT = "Share the savings by what each partner puts at risk."
QUESTION = "How should the joint venture share what it saves?"


@pytest.fixture
def browser_app(tmp_path: Path) -> Iterator[FastAPI]:
    require_or_skip(
        (NODE_MODULES / "htmx.org" / "dist" / "htmx.min.js").is_file(),
        "htmx is not installed: run `make assets`",
    )
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'coauthor.sqlite3'}",
        secret_key="browser-mechanics-secret",
        static_vendor_dir=NODE_MODULES,
    )
    runtime = build_runtime(settings)
    with runtime.uow() as uow:
        maria = people.do_create_person(
            uow, None, PersonInput(email=MANAGER, name="Maria Lind"), PASSWORD, bootstrap=True
        )
        alliance = alliances.do_create_alliance(
            uow,
            maria,
            AllianceCreate(
                name=ALLIANCE,
                kind="joint_venture",
                stage="operating",
                organization_name="Northwind",
            ),
        )
        northwind = alliances.membership_of(uow, maria, alliance.id).partner_id
        partners = {"Northwind": northwind}
        for name in ("Contoso", "Tailspin"):
            added = alliances.do_add_partner(
                uow, maria, alliance.id, PartnerInput(organization_name=name)
            )
            partners[name] = added.id
        for email, partner in (
            ("alice@northwind.example", "Northwind"),
            ("arne@northwind.example", "Northwind"),
            ("bea@contoso.example", "Contoso"),
            ("ben@contoso.example", "Contoso"),
            ("tom@tailspin.example", "Tailspin"),
        ):
            member = MemberInput(email=email, partner_id=partners[partner], role=Role.MEMBER)
            alliances.do_add_member(uow, maria, alliance.id, member)

        def create(kind: str, payload: dict) -> None:
            registers.do_create_item(uow, maria, alliance.id, kind, payload)

        create(
            "risk",
            {
                "title": "Heat-pump component shortage",
                "likelihood": 3,
                "impact": 4,
                "description": "Compressors are scarce; a long description that wraps "
                "across lines on a phone and must not widen the page.",
                "mitigation": "Second supplier qualified by Contoso; buffer stock at Northwind.",
                "shares": [
                    {"partner_id": partners["Northwind"], "percent": Decimal(50)},
                    {"partner_id": partners["Contoso"], "percent": Decimal(30)},
                    {"partner_id": partners["Tailspin"], "percent": Decimal(20)},
                ],
            },
        )
        for partner, amount, direction in (
            ("Northwind", "400000", "in"),
            ("Contoso", "250000", "in"),
            ("Tailspin", "90000", "value"),
        ):
            create(
                "contribution",
                {
                    "partner_id": partners[partner],
                    "kind": "money",
                    "direction": direction,
                    "description": f"{partner} capital and returns over the first year",
                    "amount": Decimal(amount),
                    "unit": "EUR",
                    "on": date(2026, 2, 1),
                },
            )
        create(
            "agreement",
            {"title": "Heat Alliance JV agreement", "kind": "jv_agreement"},
        )
        started = deliberation.do_create_deliberation(
            uow,
            maria,
            alliance.id,
            {"question": QUESTION},
        )
        statement = deliberation.do_submit_statement(
            uow, maria, alliance.id, started.id, {"text": STATEMENT}
        )
        deliberation.do_moderate(
            uow, maria, alliance.id, started.id, statement.id, {"decision": "accepted"}
        )
        uow.session.commit()
    app = create_app(runtime=runtime)
    try:
        yield app
    finally:
        runtime.close()


@pytest.fixture(params=list(WIDTHS))
def width(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def signed_in(browser: Browser, live_server: str, width: str) -> Iterator[Page]:
    """Maria, signed in, on the alliance's overview, at ``width``."""
    columns, rows = WIDTHS[width]
    context = browser.new_context(viewport={"width": columns, "height": rows})
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(MANAGER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name=ALLIANCE).click()
    expect(page.get_by_role("heading", name=ALLIANCE, level=1)).to_be_visible()
    try:
        yield page
    finally:
        context.close()


def tab(page: Page, name: str) -> Locator:
    """One of the alliance's tabs (the overview links to some sections too)."""
    return page.get_by_role("navigation", name="Alliance sections").get_by_role("link", name=name)


def shot(page: Page, artifacts_dir: Path, name: str, width: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"ux-{name}-{width}.png"))


def test_saving_lands_on_the_item_with_a_notice(
    signed_in: Page, artifacts_dir: Path, width: str
) -> None:
    page = signed_in
    tab(page, "Agreements").click()
    page.get_by_role("link", name="New agreement").click()
    page.get_by_label("Title").fill("Warranty and service agreement")
    page.get_by_label("Kind").select_option("contract")
    page.get_by_label("Summary").fill("Who fixes what, and how fast.")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(r"/agreements#ag_[\w-]+$"))
    notice = page.locator(".flash.success")
    expect(notice).to_have_text("Added the agreement “Warranty and service agreement”.")
    anchor = page.url.split("#")[1]
    expect(page.locator(f"#{anchor}")).to_be_in_viewport()
    expect(notice).to_be_in_viewport(ratio=1)
    shot(page, artifacts_dir, "saved", width)

    page.reload()
    expect(page.locator(".flash")).to_have_count(0)


def test_errors_are_in_view_and_a_reload_is_no_error(
    signed_in: Page, artifacts_dir: Path, width: str
) -> None:
    page = signed_in
    tab(page, "Partners").click()
    form = page.locator("form[action$='/members']")
    form.get_by_label("Email").fill("bea@contoso.example")
    form.get_by_label("Partner").select_option(label="Contoso")
    form.get_by_role("button", name="Invite").click()

    alert = page.locator(".alert[autofocus]")
    expect(alert).to_contain_text("There is a problem")
    expect(page.locator(".field-error")).to_contain_text("already a member of this alliance")
    expect(alert).to_be_focused()
    expect(alert).to_be_in_viewport()
    shot(page, artifacts_dir, "error", width)

    page.reload()
    expect(page.get_by_text("That is not possible here")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/partners(#.*)?$"))
    expect(page.get_by_role("heading", name="Invite a member")).to_be_attached()

    tab(page, "Deliberations").click()
    page.get_by_role("link", name=QUESTION, exact=True).click()
    page.get_by_label("Statement", exact=True).fill("x" * 1001)
    page.get_by_role("button", name="Submit statement").click()
    expect(page.locator(".alert[autofocus]")).to_be_visible()
    page.reload()
    expect(page.get_by_text("That is not possible here")).to_have_count(0)
    expect(page.get_by_role("heading", name="Add a statement")).to_be_attached()


def series_of(page: Page, selector: str) -> dict[str, str]:
    """Partner name → its colour, as the browser paints it, for the elements at ``selector``."""
    return page.evaluate(
        """selector => Object.fromEntries([...document.querySelectorAll(selector)].map(
            item => [item.textContent.trim().split(/\\s+\\d/)[0].trim(),
                     getComputedStyle(item.querySelector('.swatch')).backgroundColor]))""",
        selector,
    )


def test_partner_colours_stay_when_a_partner_joins(
    signed_in: Page, artifacts_dir: Path, width: str
) -> None:
    page = signed_in
    charts = {"risks": ".share-bar .legend li", "contributions": ".reciprocity-name"}

    def colours() -> dict[str, dict[str, str]]:
        found = {}
        for section, selector in charts.items():
            tab(page, section.capitalize()).click()
            expect(page.locator(selector).first).to_be_visible()
            found[section] = series_of(page, selector)
        return found

    before = colours()
    assert set(before["risks"]) == {"Northwind", "Contoso", "Tailspin"}
    assert len(set(before["risks"].values())) == 3
    assert before["contributions"] == {
        name: before["risks"][name] for name in before["contributions"]
    }
    tab(page, "Partners").click()
    form = page.locator("form[action$='/partners']")
    form.get_by_label("Organization").fill("Adventure Works")
    form.get_by_role("button", name="Add partner").click()
    expect(page.locator(".flash")).to_have_text("Added Adventure Works as a partner.")
    after = colours()
    assert after == before
    shot(page, artifacts_dir, "colours", width)


def test_pages_fit_the_screen_and_the_vote_is_in_view(
    signed_in: Page, live_server: str, artifacts_dir: Path, width: str
) -> None:
    page = signed_in
    base = page.url
    columns = WIDTHS[width][0]
    for section in (*SECTIONS, "/deliberations", "/ledger", "/pulse", "/search?q=heat"):
        page.goto(base + section)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= columns, f"{section or 'overview'} is {wide} px wide at {columns} px"
        shot(
            page,
            artifacts_dir,
            f"page{section.replace('/', '-').split('?')[0] or '-overview'}",
            width,
        )
    tab(page, "Deliberations").click()
    page.get_by_role("link", name=QUESTION, exact=True).click()
    expect(page.locator("#current-statement")).to_have_text(STATEMENT)
    for button in ("Agree", "Disagree", "Pass / unsure"):
        expect(page.get_by_role("button", name=button, exact=True)).to_be_in_viewport(ratio=1)
    shot(page, artifacts_dir, "vote", width)
