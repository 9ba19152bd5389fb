"""The mechanics as an alliance manager finds them (issue 9): after saving, after an error,
partners (their names, colours, removal), contributions, the overview, search and histories.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from coauthor.runtime import Runtime
from tests.e2e.conftest import World, event_count, post_form

SignIn = Callable[[str], TestClient]
SERIES = re.compile(r'class="swatch series-(\d)"')


@pytest.fixture
def manager(login_as: SignIn) -> TestClient:
    return login_as("manager")


def test_saving_leaves_a_notice_for_the_page_it_lands_on(manager: TestClient, world: World) -> None:
    base = f"/a/{world.alliance_id}"
    data = {"title": "Service level agreement", "kind": "contract"}
    saved = post_form(manager, f"{base}/agreements/new", data)
    assert saved.status_code == 303
    assert re.fullmatch(rf"{base}/agreements#ag_[\w-]+", saved.headers["location"])
    page = manager.get(saved.headers["location"]).text
    assert "Added the agreement “Service level agreement”." in page
    assert 'class="flash success" role="status"' in page
    assert "Added the agreement" not in manager.get(f"{base}/agreements").text


def test_a_boosted_redirect_keeps_its_anchor(manager: TestClient, world: World) -> None:
    """htmx drops a redirect's #anchor, so a boosted post gets HX-Location instead."""
    base = f"/a/{world.alliance_id}"
    data = {"title": "Warranty MOU", "kind": "mou"}
    saved = post_form(
        manager, f"{base}/agreements/new", data, **{"HX-Request": "true", "HX-Boosted": "true"}
    )
    assert saved.status_code == 200 and "location" not in saved.headers
    target = json.loads(saved.headers["hx-location"])
    assert target["target"] == "body"
    assert re.fullmatch(rf"{base}/agreements#ag_[\w-]+", target["path"])
    plain = post_form(manager, f"{base}/agreements/new", data | {"title": "Plain MOU"})
    assert plain.status_code == 303 and "#ag_" in plain.headers["location"]


def test_errors_of_a_boosted_post_are_scrolled_to(manager: TestClient, world: World) -> None:
    data = {"email": world.member.email, "partner_id": world.partners["northwind"]}
    refused = post_form(
        manager,
        f"/a/{world.alliance_id}/members",
        data,
        **{"HX-Request": "true", "HX-Boosted": "true"},
    )
    assert refused.status_code == 409
    assert refused.headers["hx-reswap"] == "innerHTML show:.alert[autofocus]:top"
    assert '<div class="alert" role="alert" tabindex="-1" autofocus>' in refused.text


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("/members", "/partners"),
        ("/members/me_x1", "/partners#me_x1"),
        ("/partners/pa_x1", "/partners#pa_x1"),
        ("/partners/pa_x1/remove", "/partners#pa_x1"),
        ("/agreements/ag_x1/delete", "/agreements#ag_x1"),
        ("/deliberations/dl_x1/statements", "/deliberations/dl_x1"),
        ("/deliberations/dl_x1/vote", "/deliberations/dl_x1"),
    ],
)
def test_reloading_a_form_address_goes_to_its_page_not_405(
    manager: TestClient, world: World, path: str, page: str
) -> None:
    base = f"/a/{world.alliance_id}"
    response = manager.get(f"{base}{path}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"{base}{page}"


def test_every_form_address_answers_a_reload(
    app: FastAPI, manager: TestClient, world: World
) -> None:
    """No page route takes only a post: each sends a GET to a page that exists.

    Ids the world has no item for are made up: the page they lead to may be
    "not found", but never "not possible here" (405).
    """
    from api_fixtures import endpoints

    class MadeUp(dict):
        def __missing__(self, name: str) -> str:
            return f"{name.removesuffix('_id')}_x"

    values = {
        "alliance_id": world.alliance_id,
        "partner_id": world.partners["contoso"],
        "member_id": world.members["member"],
        "item_id": world.items["agreement"],
        "token_id": "tk_x",
        "deliberation_id": "dl_x",
        "statement_id": "st_x",
    }
    gets = {e.path for e in endpoints(app) if e.method == "GET"}
    posts = {e.path for e in endpoints(app) if e.method == "POST" and not e.path.startswith("/api")}
    for path in sorted(posts - gets - {"/logout", "/login"}):
        response = manager.get(path.format_map(MadeUp(values)), follow_redirects=False)
        assert response.status_code == 303, (path, response.status_code)
        landing = manager.get(response.headers["location"].split("#")[0], follow_redirects=False)
        assert landing.status_code in (200, 403, 404), (path, landing.status_code)


def test_organization_names_compare_without_case(manager: TestClient, world: World) -> None:
    base = f"/a/{world.alliance_id}"
    refused = post_form(manager, f"{base}/partners", {"organization_name": "  contoso "})
    assert refused.status_code == 409
    assert "Contoso is already a partner" in refused.text
    respelled = post_form(
        manager,
        f"{base}/partners/{world.partners['contoso']}",
        {"organization_name": "CONTOSO"},
    )
    assert respelled.status_code == 303
    assert "CONTOSO" in manager.get(f"{base}/partners").text


def test_a_partner_added_by_mistake_is_removed(
    manager: TestClient, world: World, runtime: Runtime
) -> None:
    base = f"/a/{world.alliance_id}"
    added = post_form(manager, f"{base}/partners", {"organization_name": "Contosso"})
    partner_id = added.headers["location"].split("#")[1]
    removed = post_form(manager, f"{base}/partners/{partner_id}/remove", {})
    assert removed.status_code == 303
    page = manager.get(removed.headers["location"]).text
    assert "Removed Contosso from the alliance." in page
    assert "Contosso" not in page.split("</main>")[0].split("flash")[-1].split("</div>", 1)[1]


def test_a_partner_in_use_is_kept_and_the_reason_is_given(
    manager: TestClient, world: World, runtime: Runtime
) -> None:
    base = f"/a/{world.alliance_id}"
    before = event_count(runtime)
    refused = post_form(manager, f"{base}/partners/{world.partners['contoso']}/remove", {})
    assert refused.status_code == 303
    assert refused.headers["location"] == f"{base}/partners#{world.partners['contoso']}"
    page = manager.get(refused.headers["location"]).text
    assert 'class="flash error" role="alert"' in page
    assert "Contoso cannot be removed while it has 2 members" in page
    assert event_count(runtime) == before


def test_partner_colours_stay_when_a_partner_joins(manager: TestClient, world: World) -> None:
    base = f"/a/{world.alliance_id}"

    def colours() -> dict[str, str]:
        page = manager.get(f"{base}/partners").text
        names = re.findall(r'class="swatch series-(\d)" aria-hidden="true"></span>([^<]+)<', page)
        return {name.strip(): series for series, name in names}

    before = colours()
    assert before == {"Contoso": "1", "Northwind": "0"}
    post_form(manager, f"{base}/partners", {"organization_name": "Adventure Works"})
    after = colours()
    assert after == before | {"Adventure Works": "2"}


def test_units_that_differ_in_capitals_are_one(manager: TestClient, world: World) -> None:
    base = f"/a/{world.alliance_id}"
    data = {
        "partner_id": world.partners["contoso"],
        "kind": "money",
        "direction": "in",
        "description": "Working capital",
        "amount": "10000",
        "unit": "eur",
        "on": "2026-02-01",
    }
    saved = post_form(manager, f"{base}/contributions/new", data)
    page = manager.get(saved.headers["location"]).text
    assert "10\u202f000 EUR" in page and " eur<" not in page
    assert page.count('<h4 id="unit-') == 1
    assert "All partners together" in page
    assert "250\u202f000 EUR" in page


def test_the_overview_names_who_did_what_and_shows_open_deliberations(
    manager: TestClient, world: World
) -> None:
    base = f"/a/{world.alliance_id}"
    post_form(manager, f"{base}/deliberations", {"question": "Which market first?"})
    page = manager.get(base).text
    assert "by system" not in page
    assert "<strong>Manager Person</strong> created the deliberation" in page
    activity = page.split('id="activity"')[1]
    assert f'href="{base}/agreements#{world.items["agreement"]}"' in activity
    assert "Which market first?" in page.split('id="open-deliberations"')[1].split("</section>")[0]
    glance = page.split('id="at-a-glance"')[1].split("</section>")[0]
    assert "Partners" in glance and "Open risks" in glance and "Due in 30 days" in glance


def test_the_feed_tells_a_commitments_moves_and_links_it(
    manager: TestClient, world: World, runtime: Runtime
) -> None:
    from coauthor.domain import model as m
    from coauthor.services.ledger import commitments as ledger

    performer_id = world.person("member").id
    with runtime.uow() as uow:
        asker = uow.get(m.Person, id=world.manager.id)
        what = "Send the tooling plan"
        asked = {"move": "request", "what": what, "performer_ids": [performer_id]}
        opened = uow.write(ledger.do_open_commitment, asker, world.alliance_id, asked)
        performer = uow.get(m.Person, id=performer_id)
        uow.write(ledger.do_move, performer, world.alliance_id, opened.id, {"move": "promise"})
    base = f"/a/{world.alliance_id}"
    activity = manager.get(base).text.split('id="activity"')[1].split("</section>")[0]
    link = f'the commitment <a href="{base}/ledger/{opened.id}">Send the tooling plan</a>'
    assert f"<strong>Manager Person</strong> asked for {link}" in activity
    assert f"<strong>{world.person('member').name}</strong> promised {link}" in activity


def test_search_finds_items_and_links_them(manager: TestClient, world: World) -> None:
    base = f"/a/{world.alliance_id}"
    page = manager.get(f"{base}/search", params={"q": "supplier insolv"}).text
    assert "1 result for" in page
    assert f'href="{base}/risks#{world.items["risk"]}"' in page
    everywhere = manager.get("/search", params={"q": "steering"}).text
    assert "Steering committee" in everywhere and "in Northwind–Contoso JV" in everywhere
    assert "Type a word" in manager.get("/search", params={"q": "!!"}).text


def test_a_partners_notes_are_found_by_its_members_only(login_as: SignIn, world: World) -> None:
    member = login_as("member")
    assert "walk-away price" in member.get("/search", params={"q": "walk away"}).text
    sponsor = login_as("sponsor")
    assert "Nothing found" in sponsor.get("/search", params={"q": "walk away"}).text


def test_an_items_history_names_who_changed_what(manager: TestClient, world: World) -> None:
    base = f"/a/{world.alliance_id}"
    risk = world.items["risk"]
    form = manager.get(f"{base}/risks/{risk}/edit").text
    assert "Key supplier insolvency" in form
    data = {
        "title": "Key supplier insolvency",
        "likelihood": "4",
        "impact": "4",
        "status": "mitigating",
        "shares.0.partner_id": world.partners["northwind"],
        "shares.0.percent": "60",
        "shares.1.partner_id": world.partners["contoso"],
        "shares.1.percent": "40",
    }
    assert post_form(manager, f"{base}/risks/{risk}/edit", data).status_code == 303
    page = manager.get(f"{base}/history/risk/{risk}").text
    changed = page.split("changed it")[1].split("</li>")[0]
    assert "<dt>Likelihood</dt>" in changed and "<del>3</del> → 4" in changed
    assert "<dt>Status</dt>" in changed and "<del>Open</del> → Mitigating" in changed
    assert "Shares" not in changed
    assert "Manager Person</strong> created it" in page
    assert manager.get(f"{base}/history/partner_note/pn_x").status_code == 404


def test_a_quorum_left_empty_is_an_error_next_to_it(manager: TestClient, world: World) -> None:
    base = f"/a/{world.alliance_id}"
    data = {"body_id": world.items["body"], "decision_kind": "Hiring", "rule": "consent"}
    refused = post_form(manager, f"{base}/decision-rights/new", data | {"quorum_percent": ""})
    assert refused.status_code == 422
    error = refused.text.split('id="f-quorum_percent-error"')[1].split("</div>")[0]
    assert "This is required." in error


def test_an_obligation_outside_its_agreements_term_is_refused(
    manager: TestClient, world: World
) -> None:
    base = f"/a/{world.alliance_id}"
    data = {
        "agreement_id": world.items["agreement"],
        "title": "Early report",
        "debtor_partner_id": world.partners["northwind"],
        "creditor_partner_id": world.partners["contoso"],
        "recurrence": "once",
        "first_due_on": "2025-06-01",
    }
    refused = post_form(manager, f"{base}/obligations/new", data)
    assert refused.status_code == 422
    error = refused.text.split('id="f-first_due_on-error"')[1].split("</div>")[0]
    assert "falls before the agreement is in force (from 1 Jan 2026)" in error
