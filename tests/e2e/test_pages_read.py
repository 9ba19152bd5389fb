"""Every page renders for the people who may see it, and only for them."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from coauthor.domain.model import Person
from coauthor.runtime import Runtime
from coauthor.services.mechanics import registers
from tests.e2e.conftest import World, post_form

SignIn = Callable[[str], TestClient]

EXPECTED = {
    "": ["Bring affordable heat pumps", "Quarterly capital call", "March steering meeting",
         "added a private note", "Contoso", "Northwind"],
    "/partners": ["Member Person", "Member title", "Observer Person", "Sponsor Person"],
    "/agreements": ["Joint venture agreement", "JV agreement", "Quarterly capital call",
                    "Monthly", "15 Mar 2026"],
    "/governance": ["Steering committee", "Chair", "Budget above 100k EUR", "Consent", "60%",
                    "March steering meeting", "Budget review"],
    "/risks": ["Key supplier insolvency", "3 × 4 = 12", "Northwind <strong>60%</strong>",
               "Contoso <strong>40%</strong>", "<svg"],
    "/contributions": ["Seed capital", "Distribution revenue", "Value received", "<svg",
                       "250\u202f000 EUR"],
}  # fmt: skip


@pytest.mark.parametrize("section", list(EXPECTED))
def test_every_alliance_page_renders_for_a_member(
    login_as: SignIn, world: World, section: str
) -> None:
    client = login_as("member")
    response = client.get(f"/a/{world.alliance_id}{section}")
    assert response.status_code == 200
    for text in EXPECTED[section]:
        assert text in response.text, text
    assert 'aria-current="page"' in response.text


def test_portfolio_lists_my_alliances_with_my_role(login_as: SignIn, world: World) -> None:
    page = login_as("sponsor").get("/").text
    assert "Northwind–Contoso JV" in page
    assert "<td>Sponsor</td>" in page
    assert "Start an alliance" in page


def test_admin_sees_every_alliance(login_as: SignIn, world: World) -> None:
    client = login_as("admin")
    assert "<td>Administrator</td>" in client.get("/").text
    assert client.get(f"/a/{world.alliance_id}/risks").status_code == 200


def test_a_member_sees_no_editing_controls(login_as: SignIn, world: World) -> None:
    client = login_as("member")
    for section in ("/agreements", "/governance", "/risks", "/contributions"):
        page = client.get(f"/a/{world.alliance_id}{section}").text
        assert "/new" not in page
        assert "/edit" not in page
    assert "Add a member" not in client.get(f"/a/{world.alliance_id}/partners").text


def test_outsiders_do_not_learn_the_alliance_exists(login_as: SignIn, world: World) -> None:
    client = login_as("outsider")
    assert "Northwind–Contoso JV" not in client.get("/").text
    for section in ("", "/partners", "/risks", "/risks/new", "/edit"):
        response = client.get(f"/a/{world.alliance_id}{section}")
        assert response.status_code == 404
        assert "We could not find that" in response.text
    posted = post_form(client, f"/a/{world.alliance_id}/agreements/new", {"title": "x"})
    assert posted.status_code == 404


def test_unknown_pages_are_friendly_404s(login_as: SignIn) -> None:
    response = login_as("member").get("/no/such/page")
    assert response.status_code == 404
    assert "We could not find that" in response.text
    assert "Member Person" in response.text


@pytest.mark.parametrize(
    "path",
    ["/edit", "/risks/new", "/agreements/new", "/bodies/new", "/meetings/new",
     "/contributions/new", "/decision-rights/new", "/obligations/new"],
)  # fmt: skip
def test_observers_cannot_open_forms(login_as: SignIn, world: World, path: str) -> None:
    response = login_as("observer").get(f"/a/{world.alliance_id}{path}")
    assert response.status_code == 403
    assert "You cannot do that here" in response.text


def test_observers_cannot_write(login_as: SignIn, world: World) -> None:
    client = login_as("observer")
    base = f"/a/{world.alliance_id}"
    writes = {
        f"{base}/edit": {"name": "Renamed", "kind": "consortium"},
        f"{base}/agreements/new": {"title": "Side letter", "kind": "mou"},
        f"{base}/risks/{world.items['risk']}/delete": {},
        f"{base}/members": {"email": "new@example.org", "partner_id": world.partners["contoso"]},
        f"{base}/members/{world.members['member']}/remove": {},
        f"{base}/partners": {"organization_name": "Fabrikam"},
        f"{base}/partners/{world.partners['contoso']}/notes": {"body": "observed"},
    }
    for path, data in writes.items():
        assert post_form(client, path, data).status_code == 403, path


def test_private_notes_are_for_the_partners_own_members(
    login_as: SignIn, client: TestClient, world: World
) -> None:
    north = f"/a/{world.alliance_id}/partners/{world.partners['northwind']}/notes"
    note = "Northwind only: our walk-away price."
    login_as("member")
    page = client.get(north)
    assert page.status_code == 200
    assert note in page.text
    assert "Add note" in page.text
    assert f'href="{north}"' in client.get(f"/a/{world.alliance_id}/partners").text

    for outsider_to_notes in ("sponsor", "admin"):
        post_form(client, "/logout", {})
        login_as(outsider_to_notes)
        response = client.get(north)
        assert response.status_code == 403
        assert note not in response.text
        assert note not in client.get(f"/a/{world.alliance_id}").text
        assert f'href="{north}"' not in client.get(f"/a/{world.alliance_id}/partners").text


def test_observers_read_but_do_not_write_their_own_partners_notes(
    login_as: SignIn, world: World
) -> None:
    client = login_as("observer")
    page = client.get(f"/a/{world.alliance_id}/partners/{world.partners['contoso']}/notes")
    assert page.status_code == 200
    assert "No notes yet." in page.text
    assert "Add note" not in page.text


def test_notes_answer_htmx_with_just_the_notes_section(login_as: SignIn, world: World) -> None:
    client = login_as("member")
    path = f"/a/{world.alliance_id}/partners/{world.partners['northwind']}/notes"
    response = client.get(path, headers={"HX-Request": "true", "HX-Target": "notes"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="notes"')
    assert "<html" not in response.text


def test_share_preview_draws_the_shares_being_typed(login_as: SignIn, world: World) -> None:
    client = login_as("member")
    query = {
        "shares.0.partner_id": world.partners["contoso"],
        "shares.0.percent": "25",
        "shares.1.partner_id": world.partners["northwind"],
        "shares.1.percent": "abc",
    }
    response = client.get(f"/a/{world.alliance_id}/risks/share-preview", params=query)
    assert response.status_code == 200
    assert "Contoso <strong>25%</strong>" in response.text
    assert "Total 25% — shares must sum to 100%" in response.text


def test_account_tokens_page_renders(login_as: SignIn) -> None:
    page = login_as("member").get("/account/tokens")
    assert page.status_code == 200
    assert "No tokens yet." in page.text


class _Controls(HTMLParser):
    """Collects element ids, label targets and the ids of visible form controls."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.label_targets: set[str] = set()
        self.controls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(str(attributes["id"]))
        if tag == "label" and attributes.get("for"):
            self.label_targets.add(str(attributes["for"]))
        hidden = attributes.get("type") in ("hidden", "submit")
        if tag in ("input", "select", "textarea") and not hidden:
            self.controls.append(str(attributes.get("id")))


@pytest.mark.parametrize(
    "path",
    ["", "/edit", "/partners", "/agreements", "/governance", "/risks", "/contributions",
     "/risks/new", "/bodies/new", "/meetings/new", "/contributions/new", "/obligations/new"],
)  # fmt: skip
def test_ids_are_unique_and_every_control_is_labelled(
    login_as: SignIn, world: World, path: str
) -> None:
    parser = _Controls()
    parser.feed(login_as("manager").get(f"/a/{world.alliance_id}{path}").text)
    assert len(parser.ids) == len(set(parser.ids))
    unlabelled = [c for c in parser.controls if c not in parser.label_targets]
    assert unlabelled == []


def test_governance_pages_its_meetings_and_filters_them_by_body(
    login_as: SignIn, world: World, runtime: Runtime
) -> None:
    """Sixty meetings of two bodies: a page shows ten of each kind, and links to the rest."""
    with runtime.uow() as uow:
        manager = uow.get(Person, id=world.manager.id)
        second = registers.do_create_item(
            uow,
            manager,
            world.alliance_id,
            "body",
            {"name": "Working group", "kind": "working_group"},
        )
        now = runtime.clock.now()
        for number in range(60):
            body_id = second.id if number % 2 else world.items["body"]
            starts_at = now + timedelta(days=number - 30, hours=1)
            meeting = {"body_id": body_id, "title": f"Meeting {number:02}", "starts_at": starts_at}
            registers.do_create_item(uow, manager, world.alliance_id, "meeting", meeting)
        uow.session.commit()
    client = login_as("member")
    base = f"/a/{world.alliance_id}/governance"
    first = client.get(base).text
    assert first.count('class="card meeting"') == 20
    assert "Later meetings" in first and "Earlier meetings" in first
    shown: list[str] = []
    url: str | None = base
    while url:
        page = client.get(url).text
        shown += re.findall(r'id="(mt_[^"]+)-title"', page.split('id="past"')[0])
        found = re.search(r'href="([^"]+)#upcoming">Later meetings', page)
        url = html.unescape(found.group(1)) if found else None
    assert len(shown) == len(set(shown)) == 30 + 1  # the seeded March meeting is upcoming too
    one_body = client.get(f"{base}?body={second.id}").text
    titles = re.findall(r'-title">Meeting (\d+)<', one_body)
    assert titles and all(int(number) % 2 for number in titles)
    assert client.get(f"{base}?body=gb_nope").status_code == 404
    assert client.get(f"{base}?past=garbage").status_code == 422
