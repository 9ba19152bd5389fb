"""Sign-in limits that hold: per account across addresses, per address across accounts,
proxy headers believed only from trusted proxies, and no timing tell for unknown emails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.runtime import Runtime, build_runtime
from coauthor.services.accounts import people
from coauthor.web.app import create_app
from tests.e2e.conftest import PASSWORD, World, csrf_of

PROXY = "10.0.0.5"
PER_ACCOUNT, PER_ADDRESS = 3, 5


@pytest.fixture
def proxied(settings: Settings, clock: FixedClock) -> Iterator[FastAPI]:
    """The app behind a trusted proxy at PROXY, which names the client in X-Forwarded-For."""
    changed = settings.model_copy(
        update={
            "trusted_proxies": f"{PROXY}/32",
            "login_max_attempts": PER_ACCOUNT,
            "login_max_attempts_per_address": PER_ADDRESS,
        }
    )
    runtime: Runtime = build_runtime(changed, clock=clock)
    yield create_app(runtime=runtime)
    runtime.close()


def attempt(app: FastAPI, email: str, password: str, address: str, peer: str = PROXY) -> int:
    """One sign-in through the form, from ``address`` as the proxy reports it."""
    with TestClient(app, client=(peer, 40000), follow_redirects=False) as browser:
        token = csrf_of(browser, "/login")
        response = browser.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": token},
            headers={"X-Forwarded-For": f"{address}, {PROXY}"},
        )
        return response.status_code


def test_guesses_spread_over_addresses_still_hit_the_account_limit(
    proxied: FastAPI, world: World
) -> None:
    for index in range(PER_ACCOUNT):
        assert attempt(proxied, world.member.email, "wrong guess!", f"198.51.100.{index}") == 422
    assert attempt(proxied, world.member.email, PASSWORD, "198.51.100.200") == 429
    assert attempt(proxied, world.manager.email, PASSWORD, "198.51.100.201") == 303


def test_one_address_guessing_many_accounts_hits_the_address_limit(
    proxied: FastAPI, world: World
) -> None:
    emails = [f"nobody{index}@example.org" for index in range(PER_ADDRESS)]
    for email in emails:
        assert attempt(proxied, email, "wrong guess!", "203.0.113.9") == 422
    assert attempt(proxied, world.manager.email, PASSWORD, "203.0.113.9") == 429
    assert attempt(proxied, world.manager.email, PASSWORD, "203.0.113.10") == 303


def test_an_unknown_email_is_counted_like_a_known_one(proxied: FastAPI) -> None:
    for index in range(PER_ACCOUNT):
        assert attempt(proxied, "ghost@example.org", "guess", f"192.0.2.{index}") == 422
    assert attempt(proxied, "ghost@example.org", "guess", "192.0.2.100") == 429


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(
    proxied: FastAPI, world: World
) -> None:
    """Without trust, every guess counts against the real peer, whatever the header says."""
    for index in range(PER_ADDRESS):
        email = f"nobody{index}@example.org"
        assert attempt(proxied, email, "x", f"198.51.100.{index}", peer="192.0.2.77") == 422
    blocked = attempt(proxied, world.manager.email, PASSWORD, "198.51.100.99", peer="192.0.2.77")
    assert blocked == 429


def test_signing_in_to_ones_own_account_does_not_reset_the_address_count(
    proxied: FastAPI, world: World
) -> None:
    for index in range(PER_ADDRESS - 1):
        assert attempt(proxied, f"nobody{index}@example.org", "x", "203.0.113.50") == 422
    assert attempt(proxied, world.outsider.email, PASSWORD, "203.0.113.50") == 303
    assert attempt(proxied, "nobody-else@example.org", "x", "203.0.113.50") == 422
    assert attempt(proxied, world.manager.email, PASSWORD, "203.0.113.50") == 429


def test_an_unknown_email_costs_one_argon2_verification_like_a_known_one(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The time a refusal takes tells nothing: the same verification runs either way."""
    calls: list[str] = []
    real = people.password_hasher

    class Counting:
        def verify(self, stored: str, password: str) -> bool:
            calls.append(stored)
            return real.verify(stored, password)

        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

    monkeypatch.setattr(people, "password_hasher", Counting())
    for email in (world.member.email, "ghost@example.org", world.member.email):
        token = csrf_of(client, "/login")
        data = {"email": email, "password": "wrong guess!", "csrf_token": token}
        assert client.post("/login", data=data, follow_redirects=False).status_code == 422
    assert len(calls) == 3
    assert calls[1] == people.dummy_hash()
    assert calls[0] == calls[2] != calls[1]
