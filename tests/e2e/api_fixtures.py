"""The e2e world, extended for the API and permission tests, and valid request bodies.

``conftest.seeded`` (the pages' seeded alliance) is copied once per session
and extended through the services (never through tables) with what these
tests need besides: an API token for everyone, and items and a member that
nothing depends on, so deleting them succeeds. Each test then works on its
own copy of that file. Test modules wrap these helpers in fixtures of their
own; ``extended_template`` belongs in a session-scoped one.

Partners: ``own`` is Northwind (manager and member), ``other`` is Contoso
(observer and sponsor). ``admin`` (site administrator) and ``outsider`` are
in no alliance.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastapi.routing
from fastapi import FastAPI

from coauthor.config import Settings
from coauthor.db.uow import UnitOfWork
from coauthor.domain.model import Person, Role
from coauthor.runtime import build_runtime
from coauthor.services.accounts import tokens
from coauthor.services.mechanics import alliances, registers
from coauthor.services.mechanics.inputs import MemberInput, PartnerInput
from coauthor.web.app import create_app
from tests.e2e.conftest import World as SeededWorld

SECRET_KEY = "e2e-api-tests-secret-key"
ROLES = ("admin", "manager", "sponsor", "member", "observer", "outsider")
PARTNER_OF = {"manager": "own", "member": "own", "observer": "other", "sponsor": "other"}
SPARE_KINDS = ("agreement", "body")
"""Kinds whose seeded item others depend on: a second one is made to be deleted."""


@dataclass
class Someone:
    """A seeded person: how to sign in as them and their place in the alliance."""

    id: str
    email: str
    password: str
    token: str
    token_id: str
    member_id: str | None = None
    partner: str | None = None
    """"own" or "other"; None for those in no alliance."""


@dataclass
class World:
    alliance_id: str
    partner_ids: dict[str, str]
    people: dict[str, Someone]
    item_ids: dict[str, str]
    deletable_ids: dict[str, str] = field(default_factory=dict)
    """Per kind (and "member", "partner"): one that nothing depends on, so deleting it succeeds."""

    def bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.people[role].token}"}


@dataclass(frozen=True)
class WorldTemplate:
    """A seeded database file to copy, and what was seeded into it."""

    database: Path
    world: World


@dataclass(frozen=True)
class Endpoint:
    """One method of one route of the app."""

    method: str
    path: str
    name: str


def flat_routes(app: FastAPI) -> list[Any]:
    """The app's routes with included routers flattened (FastAPI >= 0.160 includes lazily)."""
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    return list(iterate(app.routes)) if iterate else list(app.routes)


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every (method, path) the app routes; HEAD goes with GET."""
    return [
        Endpoint(method, route.path, route.name)
        for route in flat_routes(app)
        for method in sorted(getattr(route, "methods", None) or ())
        if method != "HEAD"
    ]


def settings_for(database: Path) -> Settings:
    """The smallest anonymity threshold allowed (3), so that the seeded deliberation's three
    voters make a results release and its consensus can be promoted."""
    return Settings(
        database_url=f"sqlite:///{database}",
        secret_key=SECRET_KEY,
        static_vendor_dir=database.parent / "no-vendor",
        anonymity_threshold=3,
        results_worker="inline",
        session_idle_seconds=8 * 3600,
    )


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite database (WAL included), by SQLite's backup API."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def app_on(database: Path) -> FastAPI:
    """The real application on an already migrated database file."""
    return create_app(runtime=build_runtime(settings_for(database), migrate_db=False))


@contextmanager
def app_on_copy(template: WorldTemplate, folder: Path) -> Iterator[FastAPI]:
    """The app on a fresh copy of the extended world, closed afterwards."""
    database = folder / "coauthor.sqlite3"
    copy_database(template.database, database)
    app = app_on(database)
    try:
        yield app
    finally:
        app.state.runtime.close()


def _someone(uow: UnitOfWork, seeded: SeededWorld, role: str) -> Someone:
    person = seeded.person(role)
    actor = uow.get(Person, id=person.id)
    token, secret = tokens.do_create_token(uow, actor, f"{role} token")
    member_id = seeded.members.get(role)
    return Someone(person.id, person.email, person.password, secret, token.id, member_id)


def _add_spares(uow: UnitOfWork, manager: Person, world: World) -> None:
    world.deletable_ids = dict(world.item_ids)
    for kind_name in SPARE_KINDS:
        spare = valid_input(kind_name, world, "spare")
        item = registers.do_create_item(uow, manager, world.alliance_id, kind_name, spare)
        world.deletable_ids[kind_name] = item.id
    spare_member = MemberInput(
        email="spare@example.org", partner_id=world.partner_ids["own"], role=Role.MEMBER
    )
    member = alliances.do_add_member(uow, manager, world.alliance_id, spare_member)
    world.deletable_ids["member"] = member.id
    spare_partner = PartnerInput(organization_name="Fabrikam Spares")
    partner = alliances.do_add_partner(uow, manager, world.alliance_id, spare_partner)
    world.deletable_ids["partner"] = partner.id


def extend(database: Path, seeded: SeededWorld) -> World:
    """Add tokens and deletable spares to the seeded world in ``database``."""
    runtime = build_runtime(settings_for(database), migrate_db=False)
    try:
        with runtime.uow() as uow:
            people = {role: _someone(uow, seeded, role) for role in ROLES}
            for role, partner in PARTNER_OF.items():
                people[role].partner = partner
            partners = {"own": seeded.partners["northwind"], "other": seeded.partners["contoso"]}
            world = World(seeded.alliance_id, partners, people, dict(seeded.items))
            _add_spares(uow, uow.get(Person, id=seeded.manager.id), world)
            uow.session.commit()
    finally:
        runtime.close()
    return world


def extended_template(seeded: tuple[Path, SeededWorld], folder: Path) -> WorldTemplate:
    """A copy of the pages' seeded database, extended for the API (see ``extend``)."""
    database = folder / "template.sqlite3"
    copy_database(seeded[0], database)
    return WorldTemplate(database, extend(database, seeded[1]))


def _agreement(world: World, title: str) -> dict[str, Any]:
    return {"title": title, "kind": "contract", "effective_on": "2026-01-01"}


def _obligation(world: World, title: str) -> dict[str, Any]:
    return {
        "agreement_id": world.item_ids["agreement"],
        "title": title,
        "debtor_partner_id": world.partner_ids["own"],
        "creditor_partner_id": world.partner_ids["other"],
        "recurrence": "monthly",
        "first_due_on": "2026-02-01",
        "last_due_on": "2026-12-01",
    }


def _body(world: World, title: str) -> dict[str, Any]:
    seat = {"member_id": world.people["manager"].member_id, "is_chair": True}
    return {"name": title, "kind": "working_group", "seats": [seat]}


def _decision_right(world: World, title: str) -> dict[str, Any]:
    return {
        "body_id": world.item_ids["body"],
        "decision_kind": title,
        "rule": "majority",
        "quorum_percent": 60,
    }


def _meeting(world: World, title: str) -> dict[str, Any]:
    return {
        "body_id": world.item_ids["body"],
        "title": title,
        "starts_at": "2026-04-06T09:00:00Z",
        "attendees": [{"member_id": world.people["manager"].member_id}],
    }


def _risk(world: World, title: str) -> dict[str, Any]:
    shares = [
        {"partner_id": world.partner_ids["own"], "percent": "60"},
        {"partner_id": world.partner_ids["other"], "percent": "40"},
    ]
    return {"title": title, "likelihood": 2, "impact": 5, "shares": shares}


def _contribution(world: World, title: str) -> dict[str, Any]:
    return {
        "partner_id": world.partner_ids["own"],
        "kind": "people_hours",
        "description": title,
        "amount": "1200.50",
        "unit": "hours",
        "on": "2026-01-15",
    }


INPUT_FACTORIES: dict[str, Callable[[World, str], dict[str, Any]]] = {
    "agreement": _agreement,
    "obligation": _obligation,
    "body": _body,
    "decision_right": _decision_right,
    "meeting": _meeting,
    "risk": _risk,
    "contribution": _contribution,
}


def valid_input(kind_name: str, world: World, title: str = "first") -> dict[str, Any]:
    """A body that the kind's create and replace routes accept, named after ``title``."""
    return INPUT_FACTORIES[kind_name](world, f"{kind_name.replace('_', ' ')} {title}")
