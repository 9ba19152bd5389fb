"""Server-side sessions: sign-out, a password change, "sign out everywhere" and an
administrator's deactivation end them, and an old cookie is refused afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.db.tables import sessions as sessions_table
from coauthor.runtime import Runtime, build_runtime
from coauthor.web.app import create_app
from coauthor.web.auth import SESSION_COOKIE
from tests.e2e.conftest import PASSWORD, World, csrf_of, login, post_form

NEW_PASSWORD = "an entirely new passphrase"


@pytest.fixture
def new_client(app: FastAPI) -> Iterator[Callable[[], TestClient]]:
    """More browsers: each call opens a client with a cookie jar of its own."""
    opened: list[TestClient] = []

    def open_one() -> TestClient:
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        return client

    yield open_one
    for client in opened:
        client.__exit__(None, None, None)


def signed_in(
    new_client: Callable[[], TestClient], email: str, password: str = PASSWORD
) -> TestClient:
    client = new_client()
    assert login(client, email, password).status_code == 303
    return client


def me(app: FastAPI, cookie: str) -> int:
    """The status of GET /api/v1/me with nothing but this session cookie."""
    with TestClient(app, cookies={SESSION_COOKIE: cookie}) as client:
        return client.get("/api/v1/me").status_code


def test_sign_out_ends_the_session_on_the_server(
    app: FastAPI, new_client: Callable[[], TestClient], world: World
) -> None:
    browser = signed_in(new_client, world.member.email)
    cookie = browser.cookies[SESSION_COOKIE]
    assert me(app, cookie) == 200
    assert post_form(browser, "/logout", {}).status_code == 303
    assert me(app, cookie) == 401
    with TestClient(app, cookies={SESSION_COOKIE: cookie}) as replay:
        assert replay.get("/", follow_redirects=False).status_code == 401


def test_only_a_digest_of_the_session_secret_is_stored(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    login(client, world.member.email, PASSWORD)
    cookie = client.cookies[SESSION_COOKIE]
    with runtime.uow() as uow:
        rows = uow.session.execute(sessions_table.select()).all()
    assert len(rows) == 1
    assert len(rows[0].secret_hash) == 64
    assert rows[0].secret_hash not in cookie


def test_a_password_change_ends_every_session_and_renews_this_one(
    app: FastAPI, new_client: Callable[[], TestClient], world: World
) -> None:
    here = signed_in(new_client, world.member.email)
    elsewhere = signed_in(new_client, world.member.email)
    old_here, old_elsewhere = here.cookies[SESSION_COOKIE], elsewhere.cookies[SESSION_COOKIE]
    change = {
        "current_password": PASSWORD,
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
    }
    response = post_form(here, "/account/password", change)
    assert response.status_code == 303, response.text
    assert me(app, old_here) == me(app, old_elsewhere) == 401
    assert here.get("/api/v1/me").status_code == 200
    assert "Your password was changed." in here.get(response.headers["location"]).text
    assert login(new_client(), world.member.email, PASSWORD).status_code == 422
    assert login(new_client(), world.member.email, NEW_PASSWORD).status_code == 303


def test_a_wrong_current_password_changes_nothing_and_is_counted(
    client: TestClient, world: World, settings: Settings
) -> None:
    login(client, world.member.email, PASSWORD)
    wrong = {
        "current_password": "not my password",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
    }
    response = post_form(client, "/account/password", wrong)
    assert response.status_code == 422
    assert 'id="f-pw-current_password-error"' in response.text
    for _ in range(settings.login_max_attempts - 1):
        post_form(client, "/account/password", wrong)
    right = wrong | {"current_password": PASSWORD}
    assert post_form(client, "/account/password", right).status_code == 429
    assert client.get("/api/v1/me").status_code == 200


def test_mismatched_new_passwords_are_refused_by_field(client: TestClient, world: World) -> None:
    login(client, world.member.email, PASSWORD)
    data = {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_again": "typo"}
    response = post_form(client, "/account/password", data)
    assert response.status_code == 422
    assert 'id="f-pw-password_again-error"' in response.text
    short = {"current_password": PASSWORD, "password": "short", "password_again": "short"}
    response = post_form(client, "/account/password", short)
    assert "At least 12 characters" in response.text or "at least 12 characters" in response.text


def test_sign_out_everywhere_else_keeps_only_this_browser(
    app: FastAPI, new_client: Callable[[], TestClient], world: World
) -> None:
    here = signed_in(new_client, world.member.email)
    others = [signed_in(new_client, world.member.email) for _ in range(2)]
    page = here.get("/account").text
    assert page.count("this browser") == 1
    assert page.count('action="/account/sessions/se_') == 2
    assert post_form(here, "/account/sessions/end-others", {}).status_code == 303
    assert [other.get("/api/v1/me").status_code for other in others] == [401, 401]
    assert here.get("/api/v1/me").status_code == 200
    assert here.get("/account").text.count('action="/account/sessions/se_') == 0


def test_one_session_can_be_ended_from_the_profile(
    new_client: Callable[[], TestClient], world: World, runtime: Runtime
) -> None:
    here = signed_in(new_client, world.member.email)
    other = signed_in(new_client, world.member.email)
    with runtime.uow() as uow:
        rows = uow.session.execute(sessions_table.select()).all()
    mine = {row.id for row in rows}
    current = here.get("/account").text
    other_id = next(
        session_id for session_id in mine if f"/account/sessions/{session_id}/end" in current
    )
    assert post_form(here, f"/account/sessions/{other_id}/end", {}).status_code == 303
    assert other.get("/api/v1/me").status_code == 401
    stranger = signed_in(new_client, world.manager.email)
    assert post_form(stranger, f"/account/sessions/{other_id}/end", {}).status_code == 404


def test_sessions_end_after_their_lifetime_and_when_idle(
    client: TestClient, world: World, clock: FixedClock, settings: Settings
) -> None:
    login(client, world.member.email, PASSWORD)
    clock.advance(timedelta(seconds=settings.session_idle_seconds - 60))
    assert client.get("/api/v1/me").status_code == 200
    clock.advance(timedelta(seconds=settings.session_idle_seconds - 60))
    assert client.get("/api/v1/me").status_code == 200, "each use keeps it from idling out"
    clock.advance(timedelta(seconds=settings.session_idle_seconds + 1))
    assert client.get("/api/v1/me").status_code == 401


def test_the_csrf_token_belongs_to_its_session(
    new_client: Callable[[], TestClient], world: World
) -> None:
    first = signed_in(new_client, world.member.email)
    second = signed_in(new_client, world.member.email)
    token_of_first = csrf_of(first, "/account")
    assert token_of_first != csrf_of(second, "/account")
    forged = second.post(
        "/account/profile",
        data={"name": "Forged", "time_zone": "UTC", "csrf_token": token_of_first},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    before = csrf_of(first, "/account")
    post_form(first, "/logout", {})
    login(first, world.member.email, PASSWORD)
    assert csrf_of(first, "/account") != before


def test_deactivation_ends_sessions_and_tokens_until_reactivated(
    app: FastAPI, new_client: Callable[[], TestClient], world: World
) -> None:
    member = signed_in(new_client, world.member.email)
    token = post_form(member, "/account/tokens", {"name": "script"})
    secret = token.text.split('id="new-token" class="secret" type="text" readonly value="')[
        1
    ].split('"')[0]
    bearer = {"Authorization": f"Bearer {secret}"}
    assert member.get("/api/v1/me", headers=bearer).status_code == 200

    admin = signed_in(new_client, world.admin.email)
    people_page = admin.get("/admin/people").text
    assert world.member.email in people_page
    response = post_form(admin, f"/admin/people/{world.member.id}/deactivate", {})
    assert response.status_code == 303
    assert "Deactivated" in admin.get("/admin/people").text
    assert member.get("/api/v1/me").status_code == 401
    assert member.get("/api/v1/me", headers=bearer).status_code == 401
    refused = login(new_client(), world.member.email, PASSWORD)
    assert refused.status_code == 403
    assert "This account is deactivated" in refused.text

    post_form(admin, f"/admin/people/{world.member.id}/reactivate", {})
    assert signed_in(new_client, world.member.email).get("/api/v1/me").status_code == 200
    assert member.get("/api/v1/me", headers=bearer).status_code == 200


def test_an_administrator_cannot_deactivate_themselves_and_others_see_no_list(
    new_client: Callable[[], TestClient], world: World
) -> None:
    admin = signed_in(new_client, world.admin.email)
    response = post_form(admin, f"/admin/people/{world.admin.id}/deactivate", {})
    assert response.status_code == 409
    manager = signed_in(new_client, world.manager.email)
    assert manager.get("/admin/people").status_code == 403
    assert post_form(manager, f"/admin/people/{world.member.id}/deactivate", {}).status_code == 403


def test_profile_name_and_time_zone_show_on_every_page(client: TestClient, world: World) -> None:
    login(client, world.member.email, PASSWORD)
    page = client.get("/account").text
    assert 'value="Europe/Berlin"' in page
    response = post_form(
        client, "/account/profile", {"name": "Mia Member", "time_zone": "Europe/Berlin"}
    )
    assert response.status_code == 303
    post_form(client, "/account/tokens", {"name": "zone check"})
    tokens = client.get("/account/tokens").text
    assert "Mia Member" in tokens
    assert "2 Mar 2026, 10:00 CET" in tokens, "09:00 UTC is 10:00 in Berlin in winter"


def test_a_bad_profile_is_refused_by_field(client: TestClient, world: World) -> None:
    login(client, world.member.email, PASSWORD)
    response = post_form(client, "/account/profile", {"name": "", "time_zone": "Mars/Olympus"})
    assert response.status_code == 422
    assert 'id="f-name-error"' in response.text
    assert 'id="f-time_zone-error"' in response.text
    assert "not a time zone we know" in response.text.lower()


def test_the_session_cookie_is_httponly_samesite_and_secure_behind_tls(
    client: TestClient, world: World, settings: Settings, clock: FixedClock
) -> None:
    response = login(client, world.member.email, PASSWORD)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie.replace("samesite", "")
    secure_settings = settings.model_copy(update={"secure_cookies": True})
    runtime = build_runtime(secure_settings, clock=clock)
    try:
        with TestClient(create_app(runtime=runtime), base_url="https://testserver") as tls:
            cookie = login(tls, world.member.email, PASSWORD).headers["set-cookie"].lower()
            assert "; secure" in cookie
    finally:
        runtime.close()
