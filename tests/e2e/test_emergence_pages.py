"""Emergence pages: raising a plot twist from any alliance page, linking a commitment to it,
refusals shown by their field, a tension's course and an experiment through the forms."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from coauthor.runtime import Runtime
from tests.e2e.conftest import World, event_count, post_form
from tests.e2e.test_ledger_pages import ask, sign_in


def test_raise_from_any_page_then_link_a_commitment(client: TestClient, world: World) -> None:
    sign_in(client, world, "member")
    base = f"/a/{world.alliance_id}"
    for page in ("", "/ledger", "/partners", "/pulse"):
        html = client.get(base + page).text
        assert f'action="{base}/emergence/plot-twists"' in html, page
    raised = post_form(
        client,
        f"{base}/emergence/plot-twists",
        {"title": "A rival cuts prices by 20%", "kind": "disruption", "severity": "high"},
    )
    assert raised.status_code == 303, raised.text
    twist_page = raised.headers["location"]
    commitment_page = ask(client, world, what="Price study by country")
    commitment_id = commitment_page.rsplit("/", 1)[1]
    html = client.get(twist_page).text
    assert "A rival cuts prices by 20%" in html and "No response yet" in html
    assert f'value="commitment:{commitment_id}"' in html
    linked = post_form(client, f"{twist_page}/links", {"target": f"commitment:{commitment_id}"})
    assert linked.status_code == 303
    html = client.get(twist_page).text
    assert "Price study by country" in html and f'href="{commitment_page}"' in html
    log = client.get(f"{base}/emergence").text
    assert "A rival cuts prices by 20%" in log and "Answered" in log


def test_refusals_are_shown_by_their_field(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    sign_in(client, world, "member")
    base = f"/a/{world.alliance_id}"
    before = event_count(runtime)
    empty = post_form(client, f"{base}/emergence/plot-twists", {"title": "", "kind": "surprise"})
    assert empty.status_code == 422
    assert 'id="f-plot_twist-title-error"' in empty.text
    future = post_form(
        client, f"{base}/emergence/experiments", {"hypothesis": "h", "action": "a", "signal": "s"}
    )
    assert future.status_code == 422 and 'id="f-experiment-review_on-error"' in future.text
    lonely = post_form(
        client,
        f"{base}/emergence/tensions",
        {"about": "Pricing", "partner_ids.0": world.partners["northwind"]},
    )
    assert lonely.status_code == 422 and 'id="f-tension-partner_ids-error"' in lonely.text
    assert event_count(runtime) == before
    sign_in(client, world, "observer")
    html = client.get(f"{base}/emergence").text
    assert "Raise a plot twist" not in html


def test_a_tension_and_an_experiment_through_the_forms(client: TestClient, world: World) -> None:
    sign_in(client, world, "manager")
    base = f"/a/{world.alliance_id}"
    partners = {
        "partner_ids.0": world.partners["northwind"],
        "partner_ids.1": world.partners["contoso"],
    }
    named = post_form(client, f"{base}/emergence/tensions", {"about": "Who hires"} | partners)
    tension_page = named.headers["location"]
    engaged = post_form(
        client, f"{tension_page}/steps", {"to": "engaged", "meeting_id": world.items["meeting"]}
    )
    assert engaged.status_code == 303
    no_outcome = post_form(client, f"{tension_page}/steps", {"to": "resolved"})
    assert no_outcome.status_code == 422 and 'id="f-step-outcome-error"' in no_outcome.text
    post_form(client, f"{tension_page}/steps", {"to": "resolved", "outcome": "Joint hiring panel"})
    html = client.get(tension_page).text
    assert re.search(r"Outcome:</strong> Joint hiring panel", html)
    proposed = post_form(
        client,
        f"{base}/emergence/experiments",
        {
            "hypothesis": "Pairs hire better",
            "action": "Pair interviews",
            "signal": "90-day retention",
            "review_on": "2099-01-01",
        },
    )
    experiment_page = proposed.headers["location"]
    post_form(client, f"{experiment_page}/steps", {"to": "running"})
    post_form(
        client,
        f"{experiment_page}/steps",
        {"to": "concluded", "result": "Retention 92%", "learning": "Pair interviews work"},
    )
    log = client.get(f"{base}/emergence").text
    assert "Pair interviews work" in log and "Joint hiring panel" in log
