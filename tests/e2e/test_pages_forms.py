"""Forms create, edit and delete; invalid input is shown next to its field, values kept."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from coauthor.runtime import Runtime
from tests.e2e.conftest import World, event_count, post_form

SignIn = Callable[[str], TestClient]


@pytest.fixture
def manager(login_as: SignIn) -> TestClient:
    return login_as("manager")


def follow(client: TestClient, response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return client.get(response.headers["location"]).text


def test_create_an_alliance(manager: TestClient) -> None:
    data = {
        "name": "Heat Pump Consortium",
        "kind": "consortium",
        "stage": "forming",
        "purpose": "Standardise installer training.",
        "organization_name": "Fabrikam",
    }
    response = post_form(manager, "/alliances", data)
    assert response.headers["location"].startswith("/a/al_")
    overview = follow(manager, response)
    assert "Standardise installer training." in overview
    assert "you are manager" in overview
    assert "Heat Pump Consortium" in manager.get("/").text


def test_alliance_form_errors_sit_next_to_their_fields(manager: TestClient) -> None:
    response = post_form(
        manager, "/alliances", {"name": "x" * 201, "kind": "", "organization_name": "Fabrikam"}
    )
    assert response.status_code == 422
    assert 'id="f-name-error"' in response.text
    assert "at most 200" in response.text.split('id="f-name-error"')[1].split("</div>")[0]
    assert 'id="f-kind-error"' in response.text
    assert 'value="Fabrikam"' in response.text
    assert "There are 2 problems" in response.text


def test_edit_the_alliance(manager: TestClient, world: World) -> None:
    base = f"/a/{world.alliance_id}"
    form = manager.get(f"{base}/edit").text
    assert 'value="Northwind–Contoso JV"' in form
    data = {"name": "Nordic Heat JV", "kind": "joint_venture", "stage": "renewing", "purpose": ""}
    page = follow(manager, post_form(manager, f"{base}/edit", data))
    assert "Nordic Heat JV" in page
    assert "Renewing" in page


def test_add_a_partner_and_a_member_then_change_and_remove_them(
    manager: TestClient, world: World
) -> None:
    base = f"/a/{world.alliance_id}"
    response = post_form(manager, f"{base}/partners", {"organization_name": "Fabrikam"})
    assert "Fabrikam" in follow(manager, response)

    member = {
        "email": "Ada@Example.org",
        "name": "Ada Lovelace",
        "partner_id": world.partners["contoso"],
        "role": "member",
        "title": "Engineer",
    }
    invited = post_form(manager, f"{base}/members", member)
    assert invited.status_code == 201, invited.text
    assert "Invitation ready for ada@example.org" in invited.text
    assert 'id="invitation-link"' in invited.text
    assert "/invitations/" in invited.text

    twice = post_form(manager, f"{base}/members", member)
    assert twice.status_code == 409
    assert 'id="f-email-error"' in twice.text
    assert "An invitation to ada@example.org is already waiting for an answer." in twice.text

    already = post_form(manager, f"{base}/members", member | {"email": world.member.email})
    assert already.status_code == 409
    assert f"{world.member.email} is already a member of this alliance." in already.text

    member_id = world.members["member"]
    change = {"partner_id": world.partners["northwind"], "role": "observer", "title": "Analyst"}
    page = follow(manager, post_form(manager, f"{base}/members/{member_id}", change))
    assert "Analyst" in page

    page = follow(manager, post_form(manager, f"{base}/members/{member_id}/remove", {}))
    assert "Removed Member Person from the alliance." in page
    assert page.count("Member Person") == 1


def test_edit_a_partner_and_see_its_errors_in_place(manager: TestClient, world: World) -> None:
    base = f"/a/{world.alliance_id}"
    contoso = world.partners["contoso"]
    assert 'id="f-p-' + contoso + '-organization_name"' in manager.get(f"{base}/partners").text

    edit = {"organization_name": "Contoso Ltd", "joined_on": "2026-01-15", "description": "Pumps"}
    page = follow(manager, post_form(manager, f"{base}/partners/{contoso}", edit))
    assert "Contoso Ltd" in page
    assert "Pumps" in page

    clash = post_form(manager, f"{base}/partners/{contoso}", {"organization_name": "Northwind"})
    assert clash.status_code == 409
    assert f'id="f-p-{contoso}-organization_name-error"' in clash.text
    assert "Northwind is already a partner." in clash.text


def test_adding_a_partner_twice_is_a_conflict(manager: TestClient, world: World) -> None:
    response = post_form(
        manager, f"/a/{world.alliance_id}/partners", {"organization_name": "Contoso"}
    )
    assert response.status_code == 409
    assert 'id="f-organization_name-error"' in response.text
    assert "Contoso is already a partner." in response.text


def test_the_last_manager_stays_a_manager(manager: TestClient, world: World) -> None:
    base = f"/a/{world.alliance_id}"
    manager_id = world.members["manager"]
    change = {"partner_id": world.partners["northwind"], "role": "member", "title": ""}
    response = post_form(manager, f"{base}/members/{manager_id}", change)
    assert response.status_code == 422
    assert "The alliance needs at least one manager." in response.text
    assert '<details class="member-controls" open>' in response.text

    removed = post_form(manager, f"{base}/members/{manager_id}/remove", {})
    assert removed.status_code == 409
    assert "That clashes with what is already there" in removed.text


def test_create_edit_and_delete_a_risk(manager: TestClient, world: World) -> None:
    base = f"/a/{world.alliance_id}"
    contoso, north = world.partners["contoso"], world.partners["northwind"]
    data = {
        "title": "Currency swings",
        "likelihood": "2",
        "impact": "5",
        "status": "open",
        "shares.0.partner_id": contoso,
        "shares.0.percent": "",
        "shares.1.partner_id": north,
        "shares.1.percent": "100",
    }
    response = post_form(manager, f"{base}/risks/new", data)
    risk_id = response.headers["location"].split("#")[1]
    page = follow(manager, response)
    assert "Currency swings" in page
    assert "Northwind <strong>100%</strong>" in page

    form = manager.get(f"{base}/risks/{risk_id}/edit").text
    assert 'name="shares.1.percent" type="number"' in form
    assert 'value="100.00"' in form

    edited = data | {"shares.0.percent": "30", "shares.1.percent": "70"}
    page = follow(manager, post_form(manager, f"{base}/risks/{risk_id}/edit", edited))
    assert "Contoso <strong>30%</strong>" in page

    page = follow(manager, post_form(manager, f"{base}/risks/{risk_id}/delete", {}))
    assert "Deleted the risk “Currency swings”." in page
    assert page.count("Currency swings") == 1


def test_risk_shares_must_sum_to_100(manager: TestClient, world: World, runtime: Runtime) -> None:
    before = event_count(runtime)
    data = {
        "title": "Regulatory change",
        "likelihood": "3",
        "impact": "3",
        "shares.0.partner_id": world.partners["contoso"],
        "shares.0.percent": "50",
        "shares.1.partner_id": world.partners["northwind"],
        "shares.1.percent": "40",
    }
    response = post_form(manager, f"/a/{world.alliance_id}/risks/new", data)
    assert response.status_code == 422
    assert 'id="f-shares-error"' in response.text
    assert "Shares must sum to 100%, not 90%." in response.text
    assert 'value="Regulatory change"' in response.text
    assert 'value="40"' in response.text
    assert event_count(runtime) == before


def test_a_bad_share_is_reported_on_its_own_row(manager: TestClient, world: World) -> None:
    data = {
        "title": "Regulatory change",
        "likelihood": "3",
        "impact": "3",
        "shares.0.partner_id": world.partners["contoso"],
        "shares.0.percent": "",
        "shares.1.partner_id": world.partners["northwind"],
        "shares.1.percent": "150",
    }
    response = post_form(manager, f"/a/{world.alliance_id}/risks/new", data)
    assert response.status_code == 422
    row = response.text.split('id="f-shares-1-percent-error"')[1].split("</div>")[0]
    assert "Must be at most 100." in row
    assert 'id="f-shares-0-percent-error"' not in response.text


def test_agreements_and_obligations(manager: TestClient, world: World) -> None:
    base = f"/a/{world.alliance_id}"
    agreement = {"title": "Supply MOU", "kind": "mou", "effective_on": "2026-04-01"}
    response = post_form(manager, f"{base}/agreements/new", agreement)
    agreement_id = response.headers["location"].split("#")[1]
    assert "Supply MOU" in follow(manager, response)

    form = manager.get(f"{base}/obligations/new?agreement_id={agreement_id}").text
    assert f'<option value="{agreement_id}" selected>' in form
    obligation = {
        "agreement_id": agreement_id,
        "title": "Deliver 500 units",
        "debtor_partner_id": world.partners["contoso"],
        "creditor_partner_id": world.partners["contoso"],
        "recurrence": "once",
        "first_due_on": "2026-05-01",
    }
    same = post_form(manager, f"{base}/obligations/new", obligation)
    assert same.status_code == 422
    assert 'id="f-creditor_partner_id-error"' in same.text
    assert "A partner cannot owe itself, so choose another." in same.text

    fixed = obligation | {"creditor_partner_id": world.partners["northwind"]}
    page = follow(manager, post_form(manager, f"{base}/obligations/new", fixed))
    assert "Deliver 500 units" in page

    blocked = post_form(manager, f"{base}/agreements/{agreement_id}/delete", {})
    assert blocked.status_code == 409
    assert "Cannot delete this agreement: it still has obligations." in blocked.text

    renamed = agreement | {"title": "Supply MOU (signed)", "signed_on": "2026-03-20"}
    page = follow(manager, post_form(manager, f"{base}/agreements/{agreement_id}/edit", renamed))
    assert "Supply MOU (signed)" in page
    assert "20 Mar 2026" in page


def test_bodies_decision_rights_and_meetings(manager: TestClient, world: World) -> None:
    base = f"/a/{world.alliance_id}"
    body = {
        "name": "Technical working group",
        "kind": "working_group",
        "cadence": "biweekly",
        "seats.0.member_id": world.members["member"],
        "seats.0.is_chair": "on",
        "seats.1.member_id": world.members["manager"],
        "seats.2.member_id": world.members["observer"],
        "seats.2.seated": "on",
    }
    response = post_form(manager, f"{base}/bodies/new", body)
    body_id = response.headers["location"].split("#")[1]
    page = follow(manager, response)
    group = page.split(f'id="{body_id}"')[1].split("</article>")[0]
    assert "Member Person" in group
    assert "Observer Person" in group
    assert "Chair" in group
    assert "Manager Person" not in group

    form = manager.get(f"{base}/bodies/{body_id}/edit").text
    assert form.count("checked") == 3

    right = {"body_id": body_id, "decision_kind": "Tooling spend", "rule": "majority"}
    bad = post_form(manager, f"{base}/decision-rights/new", right | {"quorum_percent": "0"})
    assert bad.status_code == 422
    assert 'id="f-quorum_percent-error"' in bad.text
    page = follow(
        manager, post_form(manager, f"{base}/decision-rights/new", right | {"quorum_percent": "75"})
    )
    assert "Tooling spend" in page

    meeting = {
        "body_id": body_id,
        "title": "Kick-off",
        "starts_at": "2026-04-01T10:00",
        "agenda": "Introductions",
        "attendees.1.member_id": world.members["member"],
    }
    response = post_form(manager, f"{base}/meetings/new", meeting)
    meeting_id = response.headers["location"].split("#")[1]
    page = follow(manager, response)
    assert "1 Apr 2026, 10:00 UTC" in page
    edit = manager.get(f"{base}/meetings/{meeting_id}/edit").text
    assert 'value="2026-04-01T10:00"' in edit

    blocked = post_form(manager, f"{base}/bodies/{body_id}/delete", {})
    assert blocked.status_code == 409


def test_contributions(manager: TestClient, world: World) -> None:
    base = f"/a/{world.alliance_id}"
    data = {
        "partner_id": world.partners["contoso"],
        "direction": "in",
        "kind": "people_hours",
        "description": "Field engineers",
        "amount": "-5",
        "unit": "hours",
        "on": "2026-02-01",
    }
    bad = post_form(manager, f"{base}/contributions/new", data)
    assert bad.status_code == 422
    assert 'id="f-amount-error"' in bad.text

    page = follow(
        manager, post_form(manager, f"{base}/contributions/new", data | {"amount": "320"})
    )
    assert "Field engineers" in page
    assert "Added the contribution “Field engineers”." in page
    assert "320 hours" in page.split('id="balances"')[1].split("</section>")[0]


def test_api_tokens_are_shown_once_and_can_be_revoked(manager: TestClient) -> None:
    created = post_form(manager, "/account/tokens", {"name": "nightly export"})
    assert created.status_code == 201
    assert "Copy it now" in created.text
    assert 'value="cat_' in created.text

    page = manager.get("/account/tokens").text
    assert "nightly export" in page
    assert 'value="cat_' not in page
    revoke = page.split('action="/account/tokens/')[1].split('"')[0]
    assert "Revoked" in follow(manager, post_form(manager, f"/account/tokens/{revoke}", {}))

    too_long = post_form(manager, "/account/tokens", {"name": "x" * 101})
    assert too_long.status_code == 422
    assert 'id="f-name-error"' in too_long.text


def test_a_note_is_added_by_a_member_of_the_partner(login_as: SignIn, world: World) -> None:
    client = login_as("sponsor")
    path = f"/a/{world.alliance_id}/partners/{world.partners['contoso']}/notes"
    empty = post_form(client, path, {"body": "   "})
    assert empty.status_code == 422
    assert 'id="f-body-error"' in empty.text
    page = follow(client, post_form(client, path, {"body": "Contoso only: renegotiate in Q3."}))
    assert "Contoso only: renegotiate in Q3." in page
    assert "Sponsor Person" in page


def test_a_note_added_with_htmx_answers_with_the_notes_section(
    login_as: SignIn, world: World
) -> None:
    client = login_as("member")
    path = f"/a/{world.alliance_id}/partners/{world.partners['northwind']}/notes"
    headers = {"HX-Request": "true", "HX-Target": "notes"}
    response = post_form(client, path, {"body": ""}, **headers)
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<section id="notes"')
