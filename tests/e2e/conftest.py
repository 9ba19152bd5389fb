"""End-to-end fixtures: the whole app on a temporary SQLite file, in simulated time.

A small alliance is seeded once per test session through the services and
copied for each test, so every test starts from the same world:

- ``app``: the FastAPI app (with ``runtime`` and ``clock`` fixtures behind it);
- ``client``: a ``fastapi.testclient.TestClient`` keeping cookies between requests;
- ``world``: a ``World`` with the alliance id, partner ids, item ids and people;
- ``login(client, email, password)``: signs in through the login form;
- ``csrf_of(client, path)``: the CSRF token of the form on a page;
- ``post_form(client, path, data)``: a form post carrying the session's CSRF token;
- ``event_count(runtime)``: how many events were logged (to prove nothing was written).

Import the helpers with ``from tests.e2e.conftest import World, login, post_form``.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.db.uow import UnitOfWork
from coauthor.domain.model import Person, Role
from coauthor.runtime import Runtime, build_runtime
from coauthor.services import eventlog
from coauthor.services.accounts import people
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.mechanics import alliances, registers
from coauthor.services.mechanics.inputs import (
    AllianceCreate,
    MemberInput,
    PartnerInput,
    PartnerNoteInput,
)
from coauthor.web.app import create_app

sys.modules.setdefault("tests.e2e.conftest", sys.modules[__name__])

REPO_ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Someone:
    email: str
    password: str
    name: str
    id: str


@dataclass(frozen=True)
class World:
    """The seeded alliance: Northwind (the manager's and member's partner) and Contoso."""

    alliance_id: str
    partners: dict[str, str]
    """"northwind" / "contoso" → partner id."""
    members: dict[str, str]
    """Role name ("manager", "member", "observer", "sponsor") → member id."""
    items: dict[str, str]
    """Kind ("agreement", "obligation", "body", ...) → the id of one seeded item."""
    admin: Someone
    manager: Someone
    member: Someone
    observer: Someone
    sponsor: Someone
    outsider: Someone

    def person(self, role: str) -> Someone:
        return getattr(self, role)


def _settings(database: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{database}",
        secret_key="e2e-test-secret",
        static_vendor_dir=REPO_ROOT / "node_modules",
        login_max_attempts=3,
        login_window_seconds=300,
        results_worker="inline",
    )


def _person(uow: UnitOfWork, role: str, *, admin: bool = False) -> Person:
    data = PersonInput(
        email=f"{role}@example.org", name=f"{role.capitalize()} Person", is_admin=admin
    )
    return people.do_create_person(uow, None, data, PASSWORD, bootstrap=True)


def _seed_items(
    uow: UnitOfWork,
    manager: Person,
    alliance_id: str,
    partners: dict[str, str],
    members: dict[str, str],
) -> dict[str, str]:
    """One item of every kind, plus a second contribution so reciprocity shows."""
    north, contoso = partners["northwind"], partners["contoso"]

    def create(kind: str, payload: dict) -> str:
        return registers.do_create_item(uow, manager, alliance_id, kind, payload).id

    items: dict[str, str] = {}
    items["agreement"] = create(
        "agreement",
        {"title": "Joint venture agreement", "kind": "jv_agreement", "effective_on": "2026-01-01"},
    )
    items["obligation"] = create(
        "obligation",
        {
            "agreement_id": items["agreement"],
            "title": "Quarterly capital call",
            "debtor_partner_id": north,
            "creditor_partner_id": contoso,
            "recurrence": "monthly",
            "first_due_on": "2026-01-15",
        },
    )
    items["body"] = create(
        "body",
        {
            "name": "Steering committee",
            "kind": "steering_committee",
            "cadence": "monthly",
            "seats": [
                {"member_id": members["manager"], "is_chair": True},
                {"member_id": members["sponsor"]},
            ],
        },
    )
    items["decision_right"] = create(
        "decision_right",
        {
            "body_id": items["body"],
            "decision_kind": "Budget above 100k EUR",
            "rule": "consent",
            "quorum_percent": 60,
        },
    )
    items["meeting"] = create(
        "meeting",
        {
            "body_id": items["body"],
            "title": "March steering meeting",
            "starts_at": "2026-03-10T09:00:00Z",
            "agenda": "Budget review",
            "attendees": [{"member_id": members["manager"]}],
        },
    )
    items["risk"] = create(
        "risk",
        {
            "title": "Key supplier insolvency",
            "likelihood": 3,
            "impact": 4,
            "shares": [
                {"partner_id": north, "percent": "60"},
                {"partner_id": contoso, "percent": "40"},
            ],
        },
    )
    items["contribution"] = create(
        "contribution",
        {
            "partner_id": north,
            "kind": "money",
            "direction": "in",
            "description": "Seed capital",
            "amount": "250000",
            "unit": "EUR",
            "on": "2026-01-20",
        },
    )
    create(
        "contribution",
        {
            "partner_id": contoso,
            "kind": "market_access",
            "direction": "value",
            "description": "Distribution revenue",
            "amount": "90000",
            "unit": "EUR",
            "on": "2026-02-20",
        },
    )
    return items


def _seed(runtime: Runtime) -> World:
    with runtime.uow() as uow:
        people = {
            role: _person(uow, role, admin=role == "admin")
            for role in ("admin", "manager", "member", "observer", "sponsor", "outsider")
        }
        manager = people["manager"]
        alliance = alliances.do_create_alliance(
            uow,
            manager,
            AllianceCreate(
                name="Northwind–Contoso JV",
                kind="joint_venture",
                stage="operating",
                purpose="Bring affordable heat pumps to northern Europe.",
                organization_name="Northwind",
            ),
        )
        contoso = alliances.do_add_partner(
            uow, manager, alliance.id, PartnerInput(organization_name="Contoso")
        )
        north = alliances.membership_of(uow, manager, alliance.id)
        assert north is not None
        partners = {"northwind": north.partner_id, "contoso": contoso.id}
        members = {"manager": north.id}
        for role, partner in (
            ("member", "northwind"),
            ("observer", "contoso"),
            ("sponsor", "contoso"),
        ):
            data = MemberInput(
                email=people[role].email,
                partner_id=partners[partner],
                role=Role(role),
                title=f"{role.capitalize()} title",
            )
            members[role] = alliances.do_add_member(uow, manager, alliance.id, data).id
        items = _seed_items(uow, manager, alliance.id, partners, members)
        alliances.do_add_partner_note(
            uow,
            people["member"],
            alliance.id,
            partners["northwind"],
            PartnerNoteInput(body="Northwind only: our walk-away price."),
        )
        uow.session.commit()
    return World(
        alliance.id,
        partners,
        members,
        items,
        **{role: Someone(p.email, PASSWORD, p.name, p.id) for role, p in people.items()},
    )


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    """A seeded database file, made once per session and copied by each test."""
    database = tmp_path_factory.mktemp("seed") / "coauthor.sqlite3"
    runtime = build_runtime(_settings(database), clock=FixedClock(START))
    try:
        world = _seed(runtime)
    finally:
        runtime.close()
    return database, world


@pytest.fixture
def world(seeded: tuple[Path, World]) -> World:
    return seeded[1]


@pytest.fixture
def clock() -> FixedClock:
    """The app's clock; it also drives session cookie ages."""
    return FixedClock(START)


@pytest.fixture
def settings(seeded: tuple[Path, World], tmp_path: Path) -> Settings:
    database = tmp_path / "coauthor.sqlite3"
    shutil.copyfile(seeded[0], database)
    return _settings(database)


@pytest.fixture
def runtime(settings: Settings, clock: FixedClock) -> Iterator[Runtime]:
    built = build_runtime(settings, clock=clock)
    yield built
    built.close()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def csrf_of(client: TestClient, path: str = "/login") -> str:
    """The CSRF token in the first form of the page at ``path``."""
    match = CSRF_PATTERN.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: TestClient, email: str, password: str) -> httpx.Response:
    """Sign in through the login form; returns the (unfollowed) response to the post."""
    token = csrf_of(client, "/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def post_form(
    client: TestClient, path: str, data: dict[str, str], **headers: str
) -> httpx.Response:
    """Post ``data`` as a form with the session's CSRF token; redirects are not followed."""
    return client.post(
        path,
        data={"csrf_token": csrf_of(client), **data},
        headers=headers,
        follow_redirects=False,
    )


def event_count(runtime: Runtime) -> int:
    """How many events all chains hold: unchanged means nothing was written."""
    with runtime.uow() as uow:
        return sum(len(eventlog.chain_events(uow, chain)) for chain in eventlog.chain_ids(uow))


@pytest.fixture
def login_as(client: TestClient, world: World) -> Callable[[str], TestClient]:
    """``login_as("member")`` signs the client in as that person of the world."""

    def sign_in(role: str) -> TestClient:
        someone = world.person(role)
        response = login(client, someone.email, someone.password)
        assert response.status_code == 303, response.text
        return client

    return sign_in


__all__ = ["START", "Someone", "World", "csrf_of", "event_count", "login", "post_form"]
