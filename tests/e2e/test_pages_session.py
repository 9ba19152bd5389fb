"""Signing in and out, sessions that expire, rate limiting and CSRF on the pages."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.runtime import Runtime
from tests.e2e.conftest import World, csrf_of, event_count, login, post_form


def test_login_page_renders_a_form_with_a_csrf_token(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert '<label for="f-email">Email</label>' in response.text
    assert 'name="csrf_token"' in response.text


def test_sign_in_then_out(client: TestClient, world: World) -> None:
    response = login(client, world.member.email, world.member.password)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert world.member.name in home.text

    response = post_form(client, "/logout", {})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_wrong_password_is_shown_next_to_the_field_and_keeps_the_email(
    client: TestClient, world: World
) -> None:
    response = login(client, world.member.email, "not the password")
    assert response.status_code == 422
    assert 'id="f-password-error"' in response.text
    assert "Email or password is not right." in response.text
    assert f'value="{world.member.email}"' in response.text
    assert "not the password" not in response.text


def test_repeated_failures_are_rate_limited(
    client: TestClient, world: World, settings: Settings
) -> None:
    for _ in range(settings.login_max_attempts):
        assert login(client, world.member.email, "wrong password!").status_code == 422
    response = login(client, world.member.email, world.member.password)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text


def test_anonymous_visitor_is_sent_to_login_and_back(client: TestClient, world: World) -> None:
    path = f"/a/{world.alliance_id}/risks"
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"

    page = client.get(response.headers["location"])
    assert f'name="next" value="{path}"' in page.text
    token = csrf_of(client)
    data = {"email": world.member.email, "password": world.member.password, "next": path}
    signed_in = client.post("/login", data=data | {"csrf_token": token}, follow_redirects=False)
    assert signed_in.headers["location"] == path


def test_next_never_leads_off_site(client: TestClient, world: World) -> None:
    token = csrf_of(client)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        data = {"email": world.member.email, "password": world.member.password, "next": target}
        response = client.post("/login", data=data | {"csrf_token": token}, follow_redirects=False)
        assert response.headers["location"] == "/"
        post_form(client, "/logout", {})
        token = csrf_of(client)


def test_expired_session_says_so_with_401(
    client: TestClient, world: World, clock: FixedClock, settings: Settings
) -> None:
    login(client, world.member.email, world.member.password)
    assert client.get(f"/a/{world.alliance_id}").status_code == 200
    clock.advance(timedelta(seconds=settings.session_max_age_seconds + 1))
    response = client.get(f"/a/{world.alliance_id}", follow_redirects=False)
    assert response.status_code == 401
    assert "Your session expired" in response.text
    assert f'name="next" value="/a/{world.alliance_id}"' in response.text
    assert login(client, world.member.email, world.member.password).status_code == 303


def test_post_without_csrf_token_is_refused_and_writes_nothing(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    login(client, world.manager.email, world.manager.password)
    before = event_count(runtime)
    data = {"title": "Sneaky", "kind": "mou"}
    missing = client.post(f"/a/{world.alliance_id}/agreements/new", data=data)
    wrong = client.post(
        f"/a/{world.alliance_id}/agreements/new", data=data | {"csrf_token": "forged"}
    )
    assert missing.status_code == wrong.status_code == 403
    assert "security token" in wrong.text
    assert event_count(runtime) == before
    assert "Sneaky" not in client.get(f"/a/{world.alliance_id}/agreements").text


def test_login_and_logout_need_the_csrf_token(client: TestClient, world: World) -> None:
    client.get("/login")
    data = {"email": world.member.email, "password": world.member.password}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 403
    login(client, world.member.email, world.member.password)
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200


def test_signed_in_visitor_skips_the_login_form(client: TestClient, world: World) -> None:
    login(client, world.member.email, world.member.password)
    response = client.get("/login?next=/account/tokens", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/tokens"
