"""Invitations with consent and password resets, through a real SMTP server.

Adding a member by email creates an invitation, emailed when SMTP is set;
the link is signed, single use and expires; nobody learns a stranger's name
or id by inviting their address; a password reset works by emailed link.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.runtime import Runtime, build_runtime
from coauthor.web.app import create_app
from coauthor.web.auth import SESSION_COOKIE
from tests.e2e.conftest import PASSWORD, World, csrf_of, login, post_form
from tests.smtp_server import SmtpServer, link_in

NEW_PASSWORD = "my own long passphrase"
ACCOUNT = {"name": "Nia Newcomer", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}


@pytest.fixture
def mailing_runtime(
    settings: Settings, clock: FixedClock, smtp_server: SmtpServer
) -> Iterator[Runtime]:
    changed = settings.model_copy(
        update={"smtp_url": smtp_server.url, "public_url": "https://coauthor.example.org"}
    )
    runtime = build_runtime(changed, clock=clock)
    yield runtime
    runtime.site.outbox.wait()
    runtime.close()


@pytest.fixture
def mailing_app(mailing_runtime: Runtime) -> FastAPI:
    return create_app(runtime=mailing_runtime)


@pytest.fixture
def browser(mailing_app: FastAPI) -> Iterator[Callable[[], TestClient]]:
    opened: list[TestClient] = []

    def open_one() -> TestClient:
        client = TestClient(mailing_app)
        client.__enter__()
        opened.append(client)
        return client

    yield open_one
    for client in opened:
        client.__exit__(None, None, None)


def as_person(
    browser: Callable[[], TestClient], email: str, password: str = PASSWORD
) -> TestClient:
    client = browser()
    assert login(client, email, password).status_code == 303
    return client


def invite(manager: TestClient, world: World, email: str, **extra: str) -> str:
    data = {"email": email, "partner_id": world.partners["contoso"], "role": "member"} | extra
    response = post_form(manager, f"/a/{world.alliance_id}/members", data)
    assert response.status_code == 201, response.text
    return response.text


def path_of(link: str) -> str:
    return urlsplit(link).path


def test_an_invitation_is_emailed_and_accepting_it_makes_an_account_and_a_member(
    browser: Callable[[], TestClient], world: World, smtp_server: SmtpServer
) -> None:
    manager = as_person(browser, world.manager.email)
    page = invite(manager, world, "nia@example.org", name="Nia", title="Engineer")
    assert "We are emailing it now" in page
    mail = smtp_server.wait_for("nia@example.org")
    assert mail["Subject"] == "Manager Person invites you to Northwind–Contoso JV on Coauthor"
    link = link_in(mail)
    assert link.startswith("https://coauthor.example.org/invitations/")
    assert link in page, "the manager sees the same link"

    invitee = browser()
    offer = invitee.get(path_of(link))
    assert offer.status_code == 200
    assert "Manager Person invites" in offer.text and "Contoso" in offer.text
    assert 'value="Nia"' in offer.text
    token = csrf_of(invitee, path_of(link))
    accepted = invitee.post(
        f"{path_of(link)}/accept", data=ACCOUNT | {"csrf_token": token}, follow_redirects=False
    )
    assert accepted.status_code == 303
    assert accepted.headers["location"].startswith("/login?notice=welcome")
    assert "Welcome!" in invitee.get(accepted.headers["location"]).text

    nia = as_person(browser, "nia@example.org", NEW_PASSWORD)
    assert nia.get(f"/a/{world.alliance_id}").status_code == 200
    partners = manager.get(f"/a/{world.alliance_id}/partners").text
    assert "Nia Newcomer" in partners and "Engineer" in partners

    again = invitee.get(path_of(link))
    assert "This invitation was accepted." in again.text
    token = csrf_of(invitee, "/login")
    reuse = invitee.post(
        f"{path_of(link)}/accept", data=ACCOUNT | {"csrf_token": token}, follow_redirects=False
    )
    assert reuse.status_code == 409


def test_a_bad_account_setup_is_refused_by_field_and_writes_nothing(
    browser: Callable[[], TestClient], world: World, smtp_server: SmtpServer
) -> None:
    manager = as_person(browser, world.manager.email)
    invite(manager, world, "nia@example.org")
    link = link_in(smtp_server.wait_for("nia@example.org"))
    invitee = browser()
    token = csrf_of(invitee, path_of(link))
    problems = {
        "name": {"name": ""},
        "password_again": {"password_again": "not the same"},
        "password": {"password": "short", "password_again": "short"},
    }
    for field, change in problems.items():
        data = ACCOUNT | change | {"csrf_token": token}
        response = invitee.post(f"{path_of(link)}/accept", data=data, follow_redirects=False)
        assert response.status_code == 422, field
        assert f'id="f-{field}-error"' in response.text, field
    assert login(browser(), "nia@example.org", "short").status_code == 422
    assert "Set up your account" in invitee.get(path_of(link)).text


def test_inviting_a_strangers_address_shows_nothing_about_them(
    browser: Callable[[], TestClient], world: World, smtp_server: SmtpServer
) -> None:
    """The outsider has an account; inviting their address tells the manager nothing of it,
    and they join only when they sign in and accept."""
    manager = as_person(browser, world.manager.email)
    page = invite(manager, world, world.outsider.email)
    assert world.outsider.name not in page and world.outsider.id not in page
    headers = {"X-CSRF-Token": csrf_of(manager, "/account/tokens")}
    api = manager.post(
        f"/api/v1/alliances/{world.alliance_id}/members",
        json={"email": "someone@example.org", "partner_id": world.partners["contoso"]},
        headers=headers,
    )
    assert api.status_code == 202
    listed = manager.get(f"/api/v1/alliances/{world.alliance_id}/invitations").text
    assert world.outsider.name not in listed and world.outsider.id not in listed
    members = manager.get(f"/api/v1/alliances/{world.alliance_id}/members").text
    assert world.outsider.email not in members

    link = link_in(smtp_server.wait_for(world.outsider.email))
    anonymous = browser()
    offer = anonymous.get(path_of(link)).text
    assert "Sign in to accept" in offer and "Set up your account" not in offer
    outsider = as_person(browser, world.outsider.email)
    token = csrf_of(outsider, path_of(link))
    joined = outsider.post(
        f"{path_of(link)}/accept", data={"csrf_token": token}, follow_redirects=False
    )
    assert joined.status_code == 303
    assert joined.headers["location"] == f"/a/{world.alliance_id}"
    assert world.outsider.name in manager.get(f"/a/{world.alliance_id}/partners").text


def test_only_the_invited_account_may_accept(
    browser: Callable[[], TestClient], world: World, smtp_server: SmtpServer
) -> None:
    manager = as_person(browser, world.manager.email)
    invite(manager, world, world.outsider.email)
    link = link_in(smtp_server.wait_for(world.outsider.email))
    admin = as_person(browser, world.admin.email)
    token = csrf_of(admin, path_of(link))
    assert admin.post(f"{path_of(link)}/accept", data={"csrf_token": token}).status_code == 403


def test_declining_tells_the_manager_and_ends_the_link(
    browser: Callable[[], TestClient], world: World, smtp_server: SmtpServer
) -> None:
    manager = as_person(browser, world.manager.email)
    invite(manager, world, "nia@example.org")
    link = link_in(smtp_server.wait_for("nia@example.org"))
    invitee = browser()
    token = csrf_of(invitee, path_of(link))
    declined = invitee.post(
        f"{path_of(link)}/decline", data={"csrf_token": token}, follow_redirects=False
    )
    assert declined.status_code == 303
    assert "You declined this invitation." in invitee.get(path_of(link)).text
    token = csrf_of(invitee, "/login")
    late = invitee.post(
        f"{path_of(link)}/accept", data=ACCOUNT | {"csrf_token": token}, follow_redirects=False
    )
    assert late.status_code == 409
    assert "Declined" in manager.get(f"/a/{world.alliance_id}/partners").text


def test_links_expire_can_be_renewed_and_can_be_cancelled(
    browser: Callable[[], TestClient],
    world: World,
    smtp_server: SmtpServer,
    clock: FixedClock,
    mailing_runtime: Runtime,
) -> None:
    manager = as_person(browser, world.manager.email)
    invite(manager, world, "nia@example.org")
    first = link_in(smtp_server.wait_for("nia@example.org"))
    clock.advance(mailing_runtime.site.invitation_lifetime + timedelta(seconds=1))
    invitee = browser()
    assert "This invitation has expired." in invitee.get(path_of(first)).text

    manager = as_person(browser, world.manager.email)
    page = manager.get(f"/a/{world.alliance_id}/partners").text
    assert "Expired" in page
    invitation_id = page.split('<tr id="in_')[1].split('"')[0]
    renewed = post_form(manager, f"/a/{world.alliance_id}/invitations/in_{invitation_id}/renew", {})
    assert renewed.status_code == 200
    second = link_in(smtp_server.wait_for("nia@example.org", count=2))
    assert second != first
    assert invitee.get(path_of(first)).status_code == 404, "the old link stops working"
    assert "Set up your account" in invitee.get(path_of(second)).text

    cancel = f"/a/{world.alliance_id}/invitations/in_{invitation_id}/cancel"
    assert post_form(manager, cancel, {}).status_code == 303
    assert "This invitation was withdrawn." in invitee.get(path_of(second)).text


def test_a_tampered_link_is_not_found(
    browser: Callable[[], TestClient], world: World, smtp_server: SmtpServer
) -> None:
    manager = as_person(browser, world.manager.email)
    invite(manager, world, "nia@example.org")
    link = path_of(link_in(smtp_server.wait_for("nia@example.org")))
    visitor = browser()
    index = len(link) - 10
    changed = link[:index] + ("A" if link[index] != "A" else "B") + link[index + 1 :]
    assert visitor.get(changed).status_code == 404, "one character of the signature changed"
    assert visitor.get("/invitations/not-a-token").status_code == 404


def test_without_smtp_the_manager_gets_the_link_to_send(client: TestClient, world: World) -> None:
    login(client, world.manager.email, PASSWORD)
    data = {"email": "nia@example.org", "partner_id": world.partners["contoso"]}
    response = post_form(client, f"/a/{world.alliance_id}/members", data)
    assert response.status_code == 201
    assert "This server sends no email: send the link yourself." in response.text
    link = response.text.split('id="invitation-link" class="secret" type="text" readonly value="')[
        1
    ]
    assert urlsplit(link.split('"')[0]).path.startswith("/invitations/")


def test_a_password_reset_by_emailed_link(
    browser: Callable[[], TestClient], world: World, smtp_server: SmtpServer
) -> None:
    signed_in = as_person(browser, world.member.email)
    old_cookie = signed_in.cookies[SESSION_COOKIE]
    visitor = browser()
    token = csrf_of(visitor, "/password-reset")
    asked = visitor.post(
        "/password-reset",
        data={"email": world.member.email, "csrf_token": token},
        follow_redirects=False,
    )
    assert asked.status_code == 200
    assert "we are sending it a link" in asked.text
    link = path_of(link_in(smtp_server.wait_for(world.member.email)))
    form = visitor.get(link)
    assert form.status_code == 200 and world.member.email in form.text

    token = csrf_of(visitor, link)
    new = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "csrf_token": token}
    done = visitor.post(link, data=new, follow_redirects=False)
    assert done.status_code == 303
    assert "Your password was changed." in visitor.get(done.headers["location"]).text
    assert signed_in.get("/api/v1/me").status_code == 401
    with TestClient(signed_in.app, cookies={SESSION_COOKIE: old_cookie}) as replay:
        assert replay.get("/api/v1/me").status_code == 401
    assert login(browser(), world.member.email, NEW_PASSWORD).status_code == 303
    assert visitor.get(link).status_code == 409, "a reset link works once"


def test_asking_for_a_reset_tells_nothing_and_floods_nobody(
    browser: Callable[[], TestClient], world: World, smtp_server: SmtpServer
) -> None:
    visitor = browser()
    answers = []
    for email in ("ghost@example.org", world.member.email, *[world.member.email] * 4):
        token = csrf_of(visitor, "/password-reset")
        response = visitor.post(
            "/password-reset", data={"email": email, "csrf_token": token}, follow_redirects=False
        )
        answers.append(response.text.replace(email, "EMAIL"))
    assert len(set(answers)) == 1
    smtp_server.wait_for(world.member.email, count=3)
    visitor.app.state.runtime.site.outbox.wait()
    assert len([m for m in smtp_server.messages if m["To"] == world.member.email]) == 3
    assert not [m for m in smtp_server.messages if m["To"] == "ghost@example.org"]
