"""Emergence in Chromium, through the pages only: Ada raises a plot twist from the ledger's
page with the quick form, asks Bo for what answers it, links that commitment to the plot
twist, and finds both in the story. Screenshots at 1280 px and 390 px:
test-artifacts/emergence-*.png.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.test_ledger import ADA, browser_app, sign_in

__all__ = ["browser_app"]

TWIST = "Our main supplier of heat exchangers goes bankrupt"
ANSWER = "Find and qualify a second heat-exchanger supplier"


def tab(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Alliance sections").get_by_role("link", name=name)


def shoot(page: Page, artifacts_dir: Path, name: str) -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(artifacts_dir / f"emergence-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_raise_link_and_find_both_in_the_story(
    browser: Browser, live_server: str, artifacts_dir: Path
) -> None:
    ada = sign_in(browser, live_server, ADA)
    ada.get_by_role("link", name="Aurora–Borealis Heat").click()
    ada.get_by_role("link", name="Ledger", exact=True).click()
    ada.wait_for_url(re.compile(r"/ledger$"))  # the boosted swap is done: the form stays put
    ada.get_by_text("Raise a plot twist").click()
    ada.get_by_label("What happened?").fill(TWIST)
    ada.get_by_label("Type of twist").select_option("disruption")
    ada.get_by_label("Severity").select_option("critical")
    ada.get_by_role("button", name="Raise it").click()
    expect(ada.get_by_role("heading", name=TWIST)).to_be_visible()
    expect(ada.locator("#responses")).to_contain_text("No response yet")

    ada.get_by_role("link", name="Ledger", exact=True).click()
    ada.get_by_label("What do you ask for?").fill(ANSWER)
    ada.get_by_label("Bo Strand (Borealis)").check()
    ada.get_by_role("button", name="Send the request").click()
    expect(ada.get_by_role("heading", name=ANSWER)).to_be_visible()

    tab(ada, "Emergence").click()
    ada.get_by_role("link", name=TWIST).click()
    ada.get_by_label("Answered by").select_option(label=ANSWER)
    ada.get_by_role("button", name="Link it").click()
    expect(ada.locator("#responses").get_by_role("link", name=ANSWER)).to_be_visible()
    shoot(ada, artifacts_dir, "plot-twist")

    tab(ada, "Emergence").click()
    expect(ada.locator("#plot-twists")).to_contain_text(TWIST)
    expect(ada.locator("#plot-twists")).to_contain_text("Answered")
    shoot(ada, artifacts_dir, "log")

    tab(ada, "Story").click()
    timeline = ada.locator(".timeline")
    expect(timeline).to_contain_text(TWIST)
    expect(timeline).to_contain_text(f"Answered by the commitment: {ANSWER}")
    shoot(ada, artifacts_dir, "story")
