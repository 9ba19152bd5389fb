"""Every route of the app, for every role, against the policy declared for that route.

``RULES`` declares, for each (method, path) the app routes, who may use it and
which body a write sends. The test walks the app's real route table (API and
pages), so a route that ``RULES`` does not list fails
``test_every_route_has_a_policy``: new routes cannot slip through unchecked.

For each role every route is called with the path filled with ids of the
seeded alliance (``api_fixtures``); a write gets a valid body and a fresh copy
of the database, so success is real and writes do not interfere. What a role
gets follows from the policy:

- anonymous: 401 from the API, a 303 to /login from the pages;
- outsider (signed in, in no alliance): 404 from anything alliance-scoped;
- signed in but not allowed: 403;
- allowed: 2xx or 3xx — and a write appends to the event log, a refused one
  leaves it untouched, a read never writes.

API routes are called with each role's bearer token; page routes with the
cookie of a session made for that role in the world's template (sessions live
on the server, so it must exist in every copy of the database) and the form's
CSRF token.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from api_fixtures import (
    Endpoint,
    World,
    WorldTemplate,
    app_on,
    copy_database,
    endpoints,
    extended_template,
    flat_routes,
    settings_for,
    valid_input,
)
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from starlette.routing import Mount

from coauthor.domain.model import Member, Person
from coauthor.domain.pulse import STANDARD_ITEMS, WaveInvitation
from coauthor.runtime import Runtime, build_runtime
from coauthor.services.accounts import admin as accounts_admin
from coauthor.services.accounts import invitations, people, resets, sessions
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.accounts.sessions import Client, SessionRules
from coauthor.services.deliberation import acts as deliberation
from coauthor.services.emergence import experiments, plot_twists, tensions
from coauthor.services.ledger import calendar, declarations
from coauthor.services.ledger import commitments as ledger
from coauthor.services.mechanics import registers
from coauthor.services.mechanics.inputs import MemberInput
from coauthor.services.mechanics.registers import KINDS
from coauthor.services.pulse import items as pulse_items
from coauthor.services.pulse import waves as pulse_waves
from coauthor.services.pulse.links import token_for
from coauthor.web.api.mechanics.items import collection_of
from coauthor.web.api_docs import DOC_PATHS
from coauthor.web.auth import SESSION_COOKIE, session_cookie
from tests.e2e.conftest import World as SeededWorld
from tests.e2e.conftest import csrf_of, event_count

API = "/api/v1"
ROLES = ("anonymous", "outsider", "observer", "member", "sponsor", "manager", "admin")
SIGNED_IN_ROLES = frozenset(ROLES) - {"anonymous"}
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Body = Callable[[World], dict[str, Any]]


class Policy(enum.Enum):
    PUBLIC = "anyone, signed in or not"
    SIGNED_IN = "anyone signed in"
    SELF = "anyone signed in, on their own things"
    VIEW = "the alliance's members and site administrators"
    EDIT = "the alliance's managers and site administrators"
    OWN_PARTNER_NOTES = "the partner's own members"
    WRITE_OWN_PARTNER_NOTES = "the partner's own sponsors, managers and members"
    ADMIN = "site administrators"
    LINK_HOLDER = "whoever holds the link, not signed in as someone else"
    TAKE_PART = "the alliance's sponsors, managers and members (not observers or administrators)"
    PARTIES = "the commitment's customer and performers (the seeded one: member asks sponsor)"
    DECLARE = "the body's seated members (manager, sponsor), the alliance's managers, admins"


ALLOWED: dict[Policy, frozenset[str]] = {
    Policy.PUBLIC: frozenset(ROLES),
    Policy.SIGNED_IN: SIGNED_IN_ROLES,
    Policy.SELF: SIGNED_IN_ROLES,
    Policy.VIEW: frozenset({"observer", "member", "sponsor", "manager", "admin"}),
    Policy.EDIT: frozenset({"manager", "admin"}),
    Policy.ADMIN: frozenset({"admin"}),
    Policy.LINK_HOLDER: frozenset({"anonymous"}),
    Policy.TAKE_PART: frozenset({"member", "sponsor", "manager"}),
    Policy.PARTIES: frozenset({"member", "sponsor"}),
    Policy.DECLARE: frozenset({"manager", "sponsor", "admin"}),
}
ALLIANCE_SCOPED = frozenset(
    {
        Policy.VIEW,
        Policy.EDIT,
        Policy.OWN_PARTNER_NOTES,
        Policy.WRITE_OWN_PARTNER_NOTES,
        Policy.TAKE_PART,
        Policy.PARTIES,
        Policy.DECLARE,
    }
)
SUCCESS, SIGN_IN = "success", "sign in"
SESSION_PATHS = frozenset(
    {"/login", "/logout", "/invitations/{token}/accept", "/password-reset/{token}"}
)
"""Where a redirect to the login page is what success looks like."""


@dataclass(frozen=True)
class Rule:
    policy: Policy
    body: Body | None = None
    """A valid body for a write; None for writes that take none (delete, revoke)."""
    logged: bool = True
    """Whether a successful write appends to the event log (signing in and out do not)."""
    outcome: str = "success"
    """What an allowed role gets from the seeded world (opening a wave while one runs: 409)."""


NOTE_WRITERS = frozenset({"member", "sponsor", "manager"})
NOTES_PARTNER = "other"
"""Whose notes the matrix reads: Contoso's, where an observer reads and a sponsor writes."""


def allowed(policy: Policy, role: str, world: World) -> bool:
    """Notes go by the partner in the path (see ``path_values``), the rest by role alone."""
    person = world.people.get(role)
    own_partner = person is not None and person.partner == NOTES_PARTNER
    if policy is Policy.OWN_PARTNER_NOTES:
        return own_partner
    if policy is Policy.WRITE_OWN_PARTNER_NOTES:
        return own_partner and role in NOTE_WRITERS
    return role in ALLOWED[policy]


def expected(policy: Policy, role: str, world: World, outcome: str = SUCCESS) -> str:
    if allowed(policy, role, world):
        return outcome
    if role == "anonymous":
        return SIGN_IN
    if role == "outsider" and policy in ALLIANCE_SCOPED:
        return "404"
    return "403"


# Bodies, shared by the API (as JSON) and the pages (as form fields).


def new_alliance(world: World) -> dict[str, Any]:
    return {"name": "Matrix", "kind": "consortium", "organization_name": "Adventure Works"}


def alliance_update(world: World) -> dict[str, Any]:
    return {"name": "Harbour Link", "kind": "joint_venture", "stage": "operating"}


def new_partner(world: World) -> dict[str, Any]:
    return {"organization_name": "Adventure Works", "joined_on": "2026-05-01"}


def partner_update(world: World) -> dict[str, Any]:
    return {"organization_name": "Northwind Group"}


def new_member(world: World) -> dict[str, Any]:
    return {"email": "newcomer@example.org", "partner_id": world.partner_ids["own"]}


def member_update(world: World) -> dict[str, Any]:
    return {"partner_id": world.partner_ids["other"], "role": "observer", "title": "Counsel"}


def new_note(world: World) -> dict[str, Any]:
    return {"body": "A note for our eyes only."}


def new_token(world: World) -> dict[str, Any]:
    return {"name": "matrix"}


def credentials(world: World) -> dict[str, Any]:
    return {"email": world.people["outsider"].email, "password": world.people["outsider"].password}


def profile(world: World) -> dict[str, Any]:
    return {"name": "Renamed Person", "time_zone": "Europe/Berlin"}


NEW_PASSWORD = "a fresh long password"


def password_change(world: World) -> dict[str, Any]:
    """Every seeded person has the same password, so one body serves every role."""
    current = world.people["manager"].password
    return {"current_password": current, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}


def account_setup(world: World) -> dict[str, Any]:
    return {"name": "Ivy Invitee", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}


def new_password(world: World) -> dict[str, Any]:
    return {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}


def reset_request(world: World) -> dict[str, Any]:
    return {"email": world.people["member"].email}


def new_deliberation(world: World) -> dict[str, Any]:
    return {"question": "Which market first?", "strict_moderation": True}


def deliberation_status(world: World) -> dict[str, Any]:
    return {"status": "closed"}


def new_statement(world: World) -> dict[str, Any]:
    return {"text": "Start where both partners already sell."}


def moderation_decision(world: World) -> dict[str, Any]:
    return {"decision": "rejected"}


def batch_moderation(world: World) -> dict[str, Any]:
    return {"decision": "rejected", "statement_ids": [world.item_ids["statement"]]}


def ticked_moderation(world: World) -> dict[str, Any]:
    return {"decision": "rejected", f"s.{world.item_ids['statement']}": "on"}


def new_vote(world: World) -> dict[str, Any]:
    return {"statement_id": world.item_ids["statement"], "value": -1}


def promotion(world: World) -> dict[str, Any]:
    return {"target": "charter"}


def new_wave(world: World) -> dict[str, Any]:
    return {"title": "Q2 pulse", "closes_on": (date.today() + timedelta(days=10)).isoformat()}


def closing(world: World) -> dict[str, Any]:
    return {"status": "closed"}


def reminder(world: World) -> dict[str, Any]:
    return {"note": "Five minutes, please."}


def new_pulse_item(world: World) -> dict[str, Any]:
    return {"text": "Our joint plans survive contact with reality."}


def pulse_answers(world: World) -> dict[str, Any]:
    return {"answers": {item.key: 5 for item in STANDARD_ITEMS}, "comment": "Fine."}


def pulse_answer_form(world: World) -> dict[str, Any]:
    return {f"answers.{item.key}": "5" for item in STANDARD_ITEMS}


IMPORTED_CSV = "respondent,partner,to1,to2,to3\n" + "".join(
    f"r{i},{'Northwind' if i % 2 else 'Contoso'},{i % 7 + 1},4,3\n" for i in range(6)
)


def pulse_import(world: World) -> dict[str, Any]:
    return {"title": "Imported", "closed_on": "2025-06-30", "csv": IMPORTED_CSV}


def pulse_import_upload(world: World) -> dict[str, Any]:
    return {"title": "Imported", "closed_on": "2025-06-30", "pasted": IMPORTED_CSV}


def pulse_import_mapped(world: World) -> dict[str, Any]:
    return {"title": "Imported", "closed_on": "2025-06-30", "csv": IMPORTED_CSV}


def new_request(world: World) -> dict[str, Any]:
    return {
        "move": "request",
        "what": "Matrix ask",
        "performer_ids": [world.item_ids["ledger_spare"]],
    }


def progress_note(world: World) -> dict[str, Any]:
    return {"move": "progress_note", "text": "Still on it."}


def handover(world: World) -> dict[str, Any]:
    member = world.people["member"].id
    return {"person_id": member, "to_person_id": world.item_ids["ledger_spare"]}


def assignment(world: World) -> dict[str, Any]:
    return {"performer_id": world.people["member"].id, "customer_id": world.people["sponsor"].id}


def declaration(world: World) -> dict[str, Any]:
    """The matrix right (majority, quorum 50 %) at the matrix meeting, which the manager
    attended and the sponsor did not."""
    return {
        "text": "Meet monthly.",
        "body_id": world.item_ids["body"],
        "decision_right_id": world.item_ids["matrix_right"],
        "meeting_id": world.item_ids["matrix_meeting"],
        "positions": [
            {"member_id": world.people["manager"].member_id, "position": "for"},
            {"member_id": world.people["sponsor"].member_id, "position": "absent"},
        ],
    }


def item_body(kind_name: str) -> Body:
    return lambda world: valid_input(kind_name, world, "matrix")


def kind_rules() -> dict[tuple[str, str], Rule]:
    """The same rules for every kind of mechanics item, on the API and on the pages."""
    rules: dict[tuple[str, str], Rule] = {}
    for kind_name in KINDS:
        body = item_body(kind_name)
        api = f"{API}/alliances/{{alliance_id}}/{collection_of(kind_name)}"
        page = f"/a/{{alliance_id}}/{collection_of(kind_name)}"
        rules |= {
            ("GET", api): Rule(Policy.VIEW),
            ("POST", api): Rule(Policy.EDIT, body),
            ("GET", f"{api}/{{item_id}}"): Rule(Policy.VIEW),
            ("PUT", f"{api}/{{item_id}}"): Rule(Policy.EDIT, body),
            ("DELETE", f"{api}/{{item_id}}"): Rule(Policy.EDIT),
            ("GET", f"{page}/new"): Rule(Policy.EDIT),
            ("POST", f"{page}/new"): Rule(Policy.EDIT, body),
            ("GET", f"{page}/{{item_id}}/edit"): Rule(Policy.EDIT),
            ("POST", f"{page}/{{item_id}}/edit"): Rule(Policy.EDIT, body),
            ("POST", f"{page}/{{item_id}}/delete"): Rule(Policy.EDIT),
        }
    return rules


def deliberation_rules() -> dict[tuple[str, str], Rule]:
    """Deliberations, on the API and on the pages: everyone in the alliance reads the
    results; members (not observers, not site administrators) vote and write; managers
    start, close, moderate and promote."""
    api = f"{API}/alliances/{{alliance_id}}/deliberations"
    page = "/a/{alliance_id}/deliberations"
    one, statement = "{deliberation_id}", "{statement_id}"
    return {
        ("GET", api): Rule(Policy.VIEW),
        ("POST", api): Rule(Policy.EDIT, new_deliberation),
        ("GET", f"{api}/{one}"): Rule(Policy.VIEW),
        ("POST", f"{api}/{one}/status"): Rule(Policy.EDIT, deliberation_status),
        ("GET", f"{api}/{one}/statements"): Rule(Policy.VIEW),
        ("POST", f"{api}/{one}/statements"): Rule(Policy.TAKE_PART, new_statement),
        ("POST", f"{api}/{one}/statements/{statement}/moderation"): Rule(
            Policy.EDIT, moderation_decision
        ),
        ("POST", f"{api}/{one}/moderation"): Rule(Policy.EDIT, batch_moderation),
        ("POST", f"{api}/{one}/votes"): Rule(Policy.TAKE_PART, new_vote),
        ("GET", f"{api}/{one}/next"): Rule(Policy.TAKE_PART),
        ("GET", f"{api}/{one}/results"): Rule(Policy.VIEW),
        ("POST", f"{api}/{one}/statements/{statement}/promote"): Rule(Policy.EDIT, promotion),
        ("GET", page): Rule(Policy.VIEW),
        ("POST", page): Rule(Policy.EDIT, new_deliberation),
        ("GET", f"{page}/{one}"): Rule(Policy.VIEW),
        ("POST", f"{page}/{one}/vote"): Rule(Policy.TAKE_PART, new_vote),
        ("POST", f"{page}/{one}/statements"): Rule(Policy.TAKE_PART, new_statement),
        ("POST", f"{page}/{one}/status"): Rule(Policy.EDIT, deliberation_status),
        ("GET", f"{page}/{one}/moderation"): Rule(Policy.EDIT),
        ("POST", f"{page}/{one}/moderation"): Rule(Policy.EDIT, ticked_moderation),
        ("POST", f"{page}/{one}/statements/{statement}/moderation"): Rule(
            Policy.EDIT, moderation_decision
        ),
        ("GET", f"{page}/{one}/results"): Rule(Policy.VIEW),
        ("POST", f"{page}/{one}/statements/{statement}/promote"): Rule(Policy.EDIT, promotion),
    }


def pulse_rules() -> dict[tuple[str, str], Rule]:
    """The pulse: everyone in the alliance reads waves and results; managers open, close and
    remind, see the links, import and add questions; a link answers without any sign-in (and
    writes no event, which would date the answer)."""
    api = f"{API}/alliances/{{alliance_id}}/pulse"
    page = "/a/{alliance_id}/pulse"
    wave = "waves/{wave_id}"
    running = Rule(Policy.EDIT, new_wave, outcome="409")
    return {
        ("GET", f"{api}/waves"): Rule(Policy.VIEW),
        ("POST", f"{api}/waves"): running,
        ("GET", f"{api}/{wave}"): Rule(Policy.VIEW),
        ("POST", f"{api}/{wave}/status"): Rule(Policy.EDIT, closing),
        ("POST", f"{api}/{wave}/reminders"): Rule(Policy.EDIT, reminder),
        ("GET", f"{api}/{wave}/links"): Rule(Policy.EDIT),
        ("GET", f"{api}/{wave}/results"): Rule(Policy.VIEW),
        ("GET", f"{api}/me"): Rule(Policy.VIEW),
        ("GET", f"{api}/trend"): Rule(Policy.VIEW),
        ("POST", f"{api}/imports"): Rule(Policy.EDIT, pulse_import),
        ("GET", f"{api}/items"): Rule(Policy.VIEW),
        ("POST", f"{api}/items"): Rule(Policy.EDIT, new_pulse_item),
        ("DELETE", f"{api}/items/{{pulse_item_id}}"): Rule(Policy.EDIT),
        ("GET", f"{API}/pulse/{{token}}"): Rule(Policy.PUBLIC),
        ("POST", f"{API}/pulse/{{token}}/answers"): Rule(
            Policy.PUBLIC, pulse_answers, logged=False
        ),
        ("GET", page): Rule(Policy.VIEW),
        ("POST", f"{page}/waves"): running,
        ("POST", f"{page}/items"): Rule(Policy.EDIT, new_pulse_item),
        ("POST", f"{page}/items/{{pulse_item_id}}/retire"): Rule(Policy.EDIT),
        ("GET", f"{page}/{wave}"): Rule(Policy.VIEW),
        ("GET", f"{page}/{wave}/results.csv"): Rule(Policy.VIEW),
        ("GET", f"{page}/{wave}/links"): Rule(Policy.EDIT),
        ("POST", f"{page}/{wave}/close"): Rule(Policy.EDIT),
        ("POST", f"{page}/{wave}/remind"): Rule(Policy.EDIT, reminder),
        ("GET", f"{page}/import"): Rule(Policy.EDIT),
        ("POST", f"{page}/import"): Rule(Policy.EDIT, pulse_import_upload, logged=False),
        ("POST", f"{page}/import/map"): Rule(Policy.EDIT, pulse_import_mapped),
        ("GET", "/pulse/{token}"): Rule(Policy.PUBLIC),
        ("POST", "/pulse/{token}"): Rule(Policy.PUBLIC, pulse_answer_form, logged=False),
    }


def ledger_rules() -> dict[tuple[str, str], Rule]:
    """The ledger on the API and the pages: everyone in the alliance reads it; members who
    take part ask and offer; only a commitment's parties make its moves; managers hand a
    party's place over and name obligations' people; a body's seated members and the
    managers record its declarations; anyone signed in has their own commitments and feed."""
    api = f"{API}/alliances/{{alliance_id}}"
    page = "/a/{alliance_id}"
    one = "{commitment_id}"
    return {
        ("GET", f"{API}/me/commitments"): Rule(Policy.SELF),
        ("GET", f"{API}/me/ledger-figures"): Rule(Policy.SELF),
        ("POST", f"{API}/me/calendar-feed"): Rule(Policy.SELF),
        ("DELETE", f"{API}/me/calendar-feed"): Rule(Policy.SELF),
        ("GET", f"{api}/commitments"): Rule(Policy.VIEW),
        ("POST", f"{api}/commitments"): Rule(Policy.TAKE_PART, new_request),
        ("GET", f"{api}/commitments/{one}"): Rule(Policy.VIEW),
        ("POST", f"{api}/commitments/{one}/moves"): Rule(Policy.PARTIES, progress_note),
        ("POST", f"{api}/commitments/{one}/reassign"): Rule(Policy.EDIT, handover),
        ("GET", f"{api}/ledger-figures"): Rule(Policy.VIEW),
        ("GET", f"{api}/obligation-periods"): Rule(Policy.VIEW),
        ("PUT", f"{api}/obligations/{{obligation_id}}/assignment"): Rule(Policy.EDIT, assignment),
        ("GET", f"{api}/declarations"): Rule(Policy.VIEW),
        ("POST", f"{api}/declarations"): Rule(Policy.DECLARE, declaration),
        ("GET", f"{api}/declarations/{{declaration_id}}"): Rule(Policy.VIEW),
        ("GET", f"{api}/charter"): Rule(Policy.VIEW),
        ("GET", "/commitments"): Rule(Policy.SELF),
        ("GET", "/commitments/figures"): Rule(Policy.SELF),
        ("POST", "/commitments/calendar"): Rule(Policy.SELF),
        ("POST", "/commitments/calendar/revoke"): Rule(Policy.SELF),
        ("GET", "/calendar/{token}.ics"): Rule(Policy.PUBLIC),
        ("GET", f"{page}/ledger"): Rule(Policy.VIEW),
        ("POST", f"{page}/ledger"): Rule(Policy.TAKE_PART, new_request),
        ("GET", f"{page}/ledger/{one}"): Rule(Policy.VIEW),
        ("POST", f"{page}/ledger/{one}/moves"): Rule(Policy.PARTIES, progress_note),
        ("POST", f"{page}/ledger/{one}/reassign"): Rule(Policy.EDIT, handover),
        ("GET", f"{page}/ledger/figures"): Rule(Policy.VIEW),
        ("GET", f"{page}/ledger/obligations"): Rule(Policy.VIEW),
        ("POST", f"{page}/ledger/obligations/{{obligation_id}}/assign"): Rule(
            Policy.EDIT, assignment
        ),
        ("GET", f"{page}/declarations"): Rule(Policy.VIEW),
        ("GET", f"{page}/declarations/new"): Rule(Policy.VIEW),
        ("POST", f"{page}/declarations"): Rule(Policy.DECLARE, declaration),
        ("GET", f"{page}/declarations/{{declaration_id}}"): Rule(Policy.VIEW),
        ("GET", f"{page}/charter"): Rule(Policy.VIEW),
    }


def new_plot_twist(world: World) -> dict[str, Any]:
    return {"title": "Matrix surprise", "kind": "surprise", "severity": "low"}


def twist_link(world: World) -> dict[str, Any]:
    return {"target_kind": "commitment", "target_id": world.item_ids["commitment"]}


def tension_link(world: World) -> dict[str, Any]:
    return {"target_kind": "meeting", "target_id": world.item_ids["matrix_meeting"]}


def new_tension(world: World) -> dict[str, Any]:
    return {"about": "Matrix friction", "partner_ids": sorted(world.partner_ids.values())[:2]}


def new_experiment(world: World) -> dict[str, Any]:
    return {
        "hypothesis": "A weekly call helps",
        "action": "Call on Mondays",
        "signal": "Lead time",
        "review_on": "2099-01-01",
    }


def emergence_rules() -> dict[tuple[str, str], Rule]:
    """Emergence on the API and the pages: everyone in the alliance reads it; members who
    take part raise plot twists, name tensions, run experiments, record learnings, link."""
    api = f"{API}/alliances/{{alliance_id}}"
    twist = f"{api}/plot-twists/{{plot_twist_id}}"
    tension = f"{api}/tensions/{{tension_id}}"
    experiment = f"{api}/experiments/{{experiment_id}}"
    return {
        ("GET", f"{api}/plot-twists"): Rule(Policy.VIEW),
        ("POST", f"{api}/plot-twists"): Rule(Policy.TAKE_PART, new_plot_twist),
        ("GET", twist): Rule(Policy.VIEW),
        ("POST", f"{twist}/resolve"): Rule(Policy.TAKE_PART, lambda w: {"resolution": "Met"}),
        ("POST", f"{twist}/links"): Rule(Policy.TAKE_PART, twist_link),
        ("GET", f"{api}/tensions"): Rule(Policy.VIEW),
        ("POST", f"{api}/tensions"): Rule(Policy.TAKE_PART, new_tension),
        ("GET", tension): Rule(Policy.VIEW),
        ("POST", f"{tension}/steps"): Rule(Policy.TAKE_PART, lambda w: {"to": "engaged"}),
        ("POST", f"{tension}/links"): Rule(Policy.TAKE_PART, tension_link),
        ("GET", f"{api}/experiments"): Rule(Policy.VIEW),
        ("POST", f"{api}/experiments"): Rule(Policy.TAKE_PART, new_experiment),
        ("GET", experiment): Rule(Policy.VIEW),
        ("POST", f"{experiment}/steps"): Rule(Policy.TAKE_PART, lambda w: {"to": "running"}),
        ("GET", f"{api}/learnings"): Rule(Policy.VIEW),
        ("POST", f"{api}/learnings"): Rule(Policy.TAKE_PART, lambda w: {"text": "Matrix"}),
        ("GET", f"{api}/emergence-figures"): Rule(Policy.VIEW),
        **emergence_page_rules(),
    }


def emergence_page_rules() -> dict[tuple[str, str], Rule]:
    page = "/a/{alliance_id}"
    log = f"{page}/emergence"
    twist = f"{log}/plot-twists/{{plot_twist_id}}"
    tension = f"{log}/tensions/{{tension_id}}"
    experiment = f"{log}/experiments/{{experiment_id}}"
    return {
        ("GET", log): Rule(Policy.VIEW),
        ("POST", f"{log}/plot-twists"): Rule(Policy.TAKE_PART, new_plot_twist),
        ("GET", twist): Rule(Policy.VIEW),
        ("POST", f"{twist}/links"): Rule(Policy.TAKE_PART, twist_link),
        ("POST", f"{twist}/resolve"): Rule(Policy.TAKE_PART, lambda w: {"resolution": "Met"}),
        ("POST", f"{log}/tensions"): Rule(Policy.TAKE_PART, new_tension),
        ("GET", tension): Rule(Policy.VIEW),
        ("POST", f"{tension}/steps"): Rule(Policy.TAKE_PART, lambda w: {"to": "engaged"}),
        ("POST", f"{log}/experiments"): Rule(Policy.TAKE_PART, new_experiment),
        ("GET", experiment): Rule(Policy.VIEW),
        ("POST", f"{experiment}/steps"): Rule(Policy.TAKE_PART, lambda w: {"to": "running"}),
        ("POST", f"{log}/learnings"): Rule(Policy.TAKE_PART, lambda w: {"text": "Matrix"}),
        ("GET", f"{page}/story"): Rule(Policy.VIEW),
        ("GET", f"{page}/story.md"): Rule(Policy.VIEW),
        ("GET", f"{page}/story.pdf"): Rule(Policy.VIEW),
    }


ALLIANCE = f"{API}/alliances/{{alliance_id}}"
PAGE = "/a/{alliance_id}"
RULES: dict[tuple[str, str], Rule] = {
    ("GET", f"{API}/me"): Rule(Policy.SIGNED_IN),
    ("GET", f"{API}/tokens"): Rule(Policy.SELF),
    ("POST", f"{API}/tokens"): Rule(Policy.SELF, new_token),
    ("DELETE", f"{API}/tokens/{{token_id}}"): Rule(Policy.SELF),
    ("GET", f"{API}/alliances"): Rule(Policy.SIGNED_IN),
    ("POST", f"{API}/alliances"): Rule(Policy.SIGNED_IN, new_alliance),
    ("GET", ALLIANCE): Rule(Policy.VIEW),
    ("PUT", ALLIANCE): Rule(Policy.EDIT, alliance_update),
    ("GET", f"{ALLIANCE}/partners"): Rule(Policy.VIEW),
    ("POST", f"{ALLIANCE}/partners"): Rule(Policy.EDIT, new_partner),
    ("GET", f"{ALLIANCE}/partners/{{partner_id}}"): Rule(Policy.VIEW),
    ("PUT", f"{ALLIANCE}/partners/{{partner_id}}"): Rule(Policy.EDIT, partner_update),
    ("DELETE", f"{ALLIANCE}/partners/{{partner_id}}"): Rule(Policy.EDIT),
    ("GET", f"{ALLIANCE}/partners/{{partner_id}}/notes"): Rule(Policy.OWN_PARTNER_NOTES),
    ("POST", f"{ALLIANCE}/partners/{{partner_id}}/notes"): Rule(
        Policy.WRITE_OWN_PARTNER_NOTES, new_note
    ),
    ("GET", f"{ALLIANCE}/members"): Rule(Policy.VIEW),
    ("POST", f"{ALLIANCE}/members"): Rule(Policy.EDIT, new_member),
    ("GET", f"{ALLIANCE}/members/{{member_id}}"): Rule(Policy.VIEW),
    ("PUT", f"{ALLIANCE}/members/{{member_id}}"): Rule(Policy.EDIT, member_update),
    ("DELETE", f"{ALLIANCE}/members/{{member_id}}"): Rule(Policy.EDIT),
    ("GET", f"{API}/search"): Rule(Policy.SIGNED_IN),
    ("GET", f"{ALLIANCE}/search"): Rule(Policy.VIEW),
    ("GET", f"{ALLIANCE}/history/{{kind}}/{{item_id}}"): Rule(Policy.VIEW),
    ("GET", f"{ALLIANCE}/invitations"): Rule(Policy.EDIT),
    ("GET", f"{ALLIANCE}/invitations/{{invitation_id}}"): Rule(Policy.EDIT),
    ("DELETE", f"{ALLIANCE}/invitations/{{invitation_id}}"): Rule(Policy.EDIT),
    ("POST", f"{PAGE}/invitations/{{invitation_id}}/renew"): Rule(Policy.EDIT),
    ("POST", f"{PAGE}/invitations/{{invitation_id}}/cancel"): Rule(Policy.EDIT),
    ("GET", "/invitations/{token}"): Rule(Policy.PUBLIC),
    ("POST", "/invitations/{token}/accept"): Rule(Policy.LINK_HOLDER, account_setup),
    ("POST", "/invitations/{token}/decline"): Rule(Policy.PUBLIC),
    ("GET", "/password-reset"): Rule(Policy.PUBLIC),
    ("POST", "/password-reset"): Rule(Policy.PUBLIC, reset_request, logged=False),
    ("GET", "/password-reset/{token}"): Rule(Policy.PUBLIC),
    ("POST", "/password-reset/{token}"): Rule(Policy.PUBLIC, new_password),
    ("GET", "/account"): Rule(Policy.SELF),
    ("POST", "/account/profile"): Rule(Policy.SELF, profile),
    ("POST", "/account/password"): Rule(Policy.SELF, password_change),
    ("POST", "/account/sessions/{session_id}/end"): Rule(Policy.SELF, logged=False),
    ("POST", "/account/sessions/end-others"): Rule(Policy.SELF, logged=False),
    ("GET", "/admin/people"): Rule(Policy.ADMIN),
    ("POST", "/admin/people/{person_id}/deactivate"): Rule(Policy.ADMIN),
    ("POST", "/admin/people/{person_id}/reactivate"): Rule(Policy.ADMIN),
    ("GET", "/login"): Rule(Policy.PUBLIC),
    ("POST", "/login"): Rule(Policy.PUBLIC, credentials, logged=False),
    ("POST", "/logout"): Rule(Policy.PUBLIC, logged=False),
    ("GET", "/"): Rule(Policy.SIGNED_IN),
    ("POST", "/alliances"): Rule(Policy.SIGNED_IN, new_alliance),
    ("GET", "/account/tokens"): Rule(Policy.SELF),
    ("POST", "/account/tokens"): Rule(Policy.SELF, new_token),
    ("POST", "/account/tokens/{token_id}/revoke"): Rule(Policy.SELF),
    ("GET", PAGE): Rule(Policy.VIEW),
    ("GET", f"{PAGE}/edit"): Rule(Policy.EDIT),
    ("POST", f"{PAGE}/edit"): Rule(Policy.EDIT, alliance_update),
    ("GET", f"{PAGE}/partners"): Rule(Policy.VIEW),
    ("POST", f"{PAGE}/partners"): Rule(Policy.EDIT, new_partner),
    ("POST", f"{PAGE}/partners/{{partner_id}}"): Rule(Policy.EDIT, partner_update),
    ("POST", f"{PAGE}/partners/{{partner_id}}/remove"): Rule(Policy.EDIT),
    ("POST", f"{PAGE}/members"): Rule(Policy.EDIT, new_member),
    ("POST", f"{PAGE}/members/{{member_id}}"): Rule(Policy.EDIT, member_update),
    ("POST", f"{PAGE}/members/{{member_id}}/remove"): Rule(Policy.EDIT),
    ("GET", f"{PAGE}/partners/{{partner_id}}/notes"): Rule(Policy.OWN_PARTNER_NOTES),
    ("POST", f"{PAGE}/partners/{{partner_id}}/notes"): Rule(
        Policy.WRITE_OWN_PARTNER_NOTES, new_note
    ),
    ("GET", f"{PAGE}/agreements"): Rule(Policy.VIEW),
    ("GET", f"{PAGE}/governance"): Rule(Policy.VIEW),
    ("GET", f"{PAGE}/risks"): Rule(Policy.VIEW),
    ("GET", f"{PAGE}/risks/share-preview"): Rule(Policy.VIEW),
    ("GET", f"{PAGE}/contributions"): Rule(Policy.VIEW),
    ("GET", "/search"): Rule(Policy.SIGNED_IN),
    ("GET", f"{PAGE}/search"): Rule(Policy.VIEW),
    ("GET", f"{PAGE}/history/{{kind}}/{{item_id}}"): Rule(Policy.VIEW),
    **kind_rules(),
    **deliberation_rules(),
    **pulse_rules(),
    **ledger_rules(),
    **emergence_rules(),
}


def doc_paths(app: FastAPI) -> set[str]:
    """The OpenAPI document and its viewers: public, and not part of the matrix."""
    return set(DOC_PATHS)


def checked_endpoints(app: FastAPI) -> list[Endpoint]:
    return [e for e in endpoints(app) if e.path not in doc_paths(app)]


def form_fields(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """A JSON body as the pages' form fields: ``shares.0.percent``, ticked boxes as "on"."""
    fields: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, list):
            for index, row in enumerate(value):
                if isinstance(row, dict):
                    fields |= form_fields(row, f"{name}.{index}.")
                else:
                    fields[f"{name}.{index}"] = str(row)
        elif value is True:
            fields[name] = "on"
        elif value is not None and value is not False:
            fields[name] = str(value)
    return fields


def token_kind(path: str) -> str:
    """Which link a route's ``{token}`` is: a pulse link, a password reset or an invitation."""
    if "/pulse/" in path:
        return "pulse_token"
    if path.startswith("/calendar/"):
        return "feed_token"
    return "reset_token" if "password-reset" in path else "invitation_token"


def path_values(world: World, role: str, path: str, method: str = "GET") -> dict[str, str]:
    """Real ids for a route's path parameters; items and members are ones nothing depends on.

    Removing a partner takes the spare partner that nothing names; a history
    is asked of the seeded risk.
    """
    person = world.people["manager" if role == "anonymous" else role]
    kinds = {collection_of(kind_name): kind_name for kind_name in KINDS}
    segments = path.split("/")
    values = {
        "alliance_id": world.alliance_id,
        "partner_id": world.partner_ids[NOTES_PARTNER],
        "member_id": world.deletable_ids["member"],
        "token_id": person.token_id,
        "deliberation_id": world.item_ids["deliberation"],
        "statement_id": world.item_ids["statement"],
        "invitation_id": world.item_ids["invitation"],
        "token": world.item_ids[token_kind(path)],
        "session_id": world.item_ids[f"session-{'manager' if role == 'anonymous' else role}"],
        "person_id": world.item_ids["dormant" if path.endswith("/reactivate") else "spare"],
        "wave_id": world.item_ids["wave"],
        "pulse_item_id": world.item_ids["pulse_item"],
        "commitment_id": world.item_ids["commitment"],
        "declaration_id": world.item_ids["declaration"],
        "obligation_id": world.item_ids["obligation"],
        "plot_twist_id": world.item_ids.get("plot_twist", ""),
        "tension_id": world.item_ids.get("tension", ""),
        "experiment_id": world.item_ids.get("experiment", ""),
    }
    removes_partner = path.endswith("/partners/{partner_id}/remove") or (
        method == "DELETE" and path.endswith("/partners/{partner_id}")
    )
    if removes_partner:
        values["partner_id"] = world.deletable_ids["partner"]
    if "{kind}" in segments:
        values |= {"kind": "risk", "item_id": world.item_ids["risk"]}
    elif "{item_id}" in segments:
        collection = segments[segments.index("{item_id}") - 1]
        values["item_id"] = world.deletable_ids[kinds[collection]]
    return values


@dataclass
class Visitor:
    """How one role identifies itself: a bearer token for the API, a session for the pages."""

    role: str
    api_headers: dict[str, str]
    cookies: dict[str, str]
    csrf_token: str


def sign_in(app: FastAPI, world: World, role: str) -> Visitor:
    """Carry the session made for this role in the world's template (so that it exists in
    every copy of the database), then read the session's CSRF token from a form page."""
    with TestClient(app, follow_redirects=False) as client:
        if role == "anonymous":
            csrf = csrf_of(client, "/login")
            return Visitor(role, {}, dict(client.cookies), csrf)
        secret = world.item_ids[f"session-secret-{role}"]
        client.cookies.set(SESSION_COOKIE, session_cookie(app.state.runtime, secret))
        csrf = csrf_of(client, "/account/tokens")
        return Visitor(role, world.bearer(role), dict(client.cookies), csrf)


class Sandbox:
    """The app on a copy of the seeded world; each write gets a pristine copy of its own."""

    def __init__(self, template: WorldTemplate, folder: Path) -> None:
        self.template = template
        self.folder = folder
        reads = folder / "reads.sqlite3"
        copy_database(template.database, reads)
        self.app = app_on(reads)
        self.reads = self.app.state.runtime
        self.copies = 0

    @contextmanager
    def database_for(self, method: str) -> Iterator[Runtime]:
        if method not in WRITES:
            yield self.reads
            return
        self.copies += 1
        database = self.folder / f"write-{self.copies}.sqlite3"
        copy_database(self.template.database, database)
        runtime = build_runtime(settings_for(database), migrate_db=False)
        self.app.state.runtime = runtime
        try:
            yield runtime
        finally:
            self.app.state.runtime = self.reads
            runtime.close()

    def close(self) -> None:
        self.reads.close()


def send(app: FastAPI, visitor: Visitor, world: World, endpoint: Endpoint, rule: Rule) -> Response:
    path = endpoint.path.format(**path_values(world, visitor.role, endpoint.path, endpoint.method))
    body = rule.body(world) if rule.body else {}
    client = TestClient(
        app, follow_redirects=False, cookies=visitor.cookies, raise_server_exceptions=False
    )
    with client:
        if endpoint.path.startswith(f"{API}/"):
            json = body if endpoint.method in WRITES else None
            return client.request(endpoint.method, path, json=json, headers=visitor.api_headers)
        if endpoint.method in WRITES:
            form = form_fields(body) | {"csrf_token": visitor.csrf_token}
            return client.request(endpoint.method, path, data=form)
        return client.request(endpoint.method, path)


def outcome(endpoint: Endpoint, response: Response) -> str:
    status = response.status_code
    location = response.headers.get("location", "")
    if status == 401 and endpoint.path.startswith(f"{API}/"):
        return SIGN_IN
    if status == 303 and location.startswith("/login") and endpoint.path not in SESSION_PATHS:
        return SIGN_IN
    return SUCCESS if 200 <= status < 400 else str(status)


def check(sandbox: Sandbox, visitor: Visitor, world: World, endpoint: Endpoint) -> str | None:
    """What is wrong with this role's call of this route, or None."""
    rule = RULES.get((endpoint.method, endpoint.path))
    if rule is None:
        return "no rule declared"
    want = expected(rule.policy, visitor.role, world, rule.outcome)
    with sandbox.database_for(endpoint.method) as runtime:
        before = event_count(runtime)
        response = send(sandbox.app, visitor, world, endpoint, rule)
        written = event_count(runtime) - before
    got = outcome(endpoint, response)
    if got != want:
        status = response.status_code
        return f"expected {want} ({rule.policy.name}), got {status}: {response.text[:160]}"
    wrote = want == SUCCESS and endpoint.method in WRITES and rule.logged
    if bool(written) != wrote:
        return f"{'no' if wrote else 'an unexpected'} write in the event log ({written} events)"
    return None


def add_deliberation(template: WorldTemplate) -> None:
    """An open deliberation whose first statement everyone who may vote agreed with,
    so that it is in the consensus and can be promoted."""
    world = template.world
    runtime = build_runtime(settings_for(template.database), migrate_db=False)
    try:
        with runtime.uow() as uow:
            manager = uow.get(Person, id=world.people["manager"].id)
            created = deliberation.do_create_deliberation(
                uow,
                manager,
                world.alliance_id,
                {"question": "Where next?", "strict_moderation": False},
            )
            texts = ("Open a joint office in Oslo.", "Close the Hamburg site.")
            statements = [
                deliberation.do_submit_statement(
                    uow, manager, world.alliance_id, created.id, {"text": text}
                )
                for text in texts
            ]
            for role in ("manager", "member", "sponsor"):
                voter = uow.get(Person, id=world.people[role].id)
                vote = {"statement_id": statements[0].id, "value": 1}
                deliberation.do_vote(uow, voter, world.alliance_id, created.id, vote)
            uow.session.commit()
    finally:
        runtime.close()
    world.item_ids |= {"deliberation": created.id, "statement": statements[0].id}


def add_account_links(template: WorldTemplate) -> None:
    """An invitation and a password reset with their links, a second session for everyone
    (so ending one succeeds), and a deactivated person to reactivate."""
    world = template.world
    runtime = build_runtime(settings_for(template.database), migrate_db=False)
    try:
        with runtime.uow() as uow:
            site = runtime.site
            manager = uow.get(Person, id=world.people["manager"].id)
            invitee = MemberInput(email="ivy@example.org", partner_id=world.partner_ids["own"])
            sent = invitations.do_invite(uow, manager, world.alliance_id, invitee, site)
            spare = people.person_by_email(uow, "spare@example.org")
            reset_link = resets.issue_reset(uow, spare, site)
            rules = SessionRules(timedelta(hours=8), timedelta(hours=8))
            for role in world.people:
                person = uow.get(Person, id=world.people[role].id)
                _, secret = sessions.start_session(uow, person, Client("192.0.2.1"), rules)
                session, _ = sessions.start_session(uow, person, Client("192.0.2.2"), rules)
                world.item_ids[f"session-secret-{role}"] = secret
                world.item_ids[f"session-{role}"] = session.id
            admin = uow.get(Person, id=world.people["admin"].id)
            dormant = people.do_create_person(
                uow,
                None,
                PersonInput(email="dormant@example.org", name="Dormant"),
                None,
                bootstrap=True,
            )
            accounts_admin.do_deactivate(uow, admin, dormant.id)
            uow.session.commit()
    finally:
        runtime.close()
    world.item_ids |= {
        "invitation": sent.invitation.id,
        "invitation_token": urlsplit(sent.link).path.rsplit("/", 1)[1],
        "reset_token": urlsplit(reset_link).path.rsplit("/", 1)[1],
        "spare": spare.id,
        "dormant": dormant.id,
    }


def add_ledger(template: WorldTemplate) -> None:
    """A request from the member to the sponsor, a right and a meeting for the matrix's
    declarations and one declaration, and a calendar feed for everyone (so that stopping
    one is always a write)."""
    world = template.world
    runtime = build_runtime(settings_for(template.database), migrate_db=False)
    try:
        with runtime.uow() as uow:
            manager = uow.get(Person, id=world.people["manager"].id)
            member = uow.get(Person, id=world.people["member"].id)
            spare = uow.get(Member, alliance_id=world.alliance_id, id=world.deletable_ids["member"])
            assert spare is not None
            asked = ledger.do_open_commitment(
                uow,
                member,
                world.alliance_id,
                {
                    "move": "request",
                    "what": "Matrix",
                    "performer_ids": [world.people["sponsor"].id],
                },
            )
            right = registers.do_create_item(
                uow,
                manager,
                world.alliance_id,
                "decision_right",
                {
                    "body_id": world.item_ids["body"],
                    "decision_kind": "Matrix",
                    "rule": "majority",
                    "quorum_percent": 50,
                },
            )
            meeting = registers.do_create_item(
                uow,
                manager,
                world.alliance_id,
                "meeting",
                {
                    "body_id": world.item_ids["body"],
                    "title": "Matrix meeting",
                    "starts_at": "2026-02-10T09:00:00Z",
                    "attendees": [{"member_id": world.people["manager"].member_id}],
                },
            )
            world.item_ids |= {
                "ledger_spare": spare.person_id,
                "matrix_right": right.id,
                "matrix_meeting": meeting.id,
            }
            made = declarations.do_declare(uow, manager, world.alliance_id, declaration(world))
            tokens = {
                role: calendar.do_create_feed(uow, uow.get(Person, id=world.people[role].id))[1]
                for role in SIGNED_IN_ROLES
            }
            uow.session.commit()
    finally:
        runtime.close()
    world.item_ids |= {
        "commitment": asked.id,
        "declaration": made.id,
        "feed_token": tokens["member"],
    }


def add_pulse(template: WorldTemplate) -> None:
    """A running wave (opened now, on the app's own clock), an own question added after it
    (so the wave does not ask it), and the member's link to the wave."""
    world = template.world
    runtime = build_runtime(settings_for(template.database), migrate_db=False)
    try:
        with runtime.uow() as uow:
            manager = uow.get(Person, id=world.people["manager"].id)
            wave = pulse_waves.do_open_wave(uow, manager, world.alliance_id, new_wave(world))
            question = {"text": "We celebrate what we achieve together."}
            item = pulse_items.do_add_item(uow, manager, world.alliance_id, question)
            member = world.people["member"].id
            invitation = uow.find_one(WaveInvitation, wave_id=wave.id, person_id=member)
            assert invitation is not None
            token = token_for(runtime.secret_key, invitation)
            uow.session.commit()
    finally:
        runtime.close()
    world.item_ids |= {"wave": wave.id, "pulse_item": item.id, "pulse_token": token}


def add_emergence(template: WorldTemplate) -> None:
    """A plot twist and a tension raised by the member, and a planned experiment."""
    world = template.world
    runtime = build_runtime(settings_for(template.database), migrate_db=False)
    try:
        with runtime.uow() as uow:
            member = uow.get(Person, id=world.people["member"].id)
            twist = plot_twists.do_raise_plot_twist(
                uow, member, world.alliance_id, new_plot_twist(world)
            )
            tension = tensions.do_surface_tension(
                uow, member, world.alliance_id, new_tension(world)
            )
            experiment = experiments.do_propose_experiment(
                uow, member, world.alliance_id, new_experiment(world)
            )
            uow.session.commit()
    finally:
        runtime.close()
    world.item_ids |= {"plot_twist": twist.id, "tension": tension.id, "experiment": experiment.id}


@pytest.fixture(scope="session")
def world_template(
    seeded: tuple[Path, SeededWorld], tmp_path_factory: pytest.TempPathFactory
) -> WorldTemplate:
    template = extended_template(seeded, tmp_path_factory.mktemp("matrix-world"))
    add_deliberation(template)
    add_account_links(template)
    add_pulse(template)
    add_ledger(template)
    add_emergence(template)
    return template


@pytest.fixture
def api_world(world_template: WorldTemplate) -> World:
    return world_template.world


@pytest.fixture
def sandbox(world_template: WorldTemplate, tmp_path: Path) -> Iterator[Sandbox]:
    sandbox = Sandbox(world_template, tmp_path)
    yield sandbox
    sandbox.close()


@pytest.mark.parametrize("role", ROLES)
def test_every_route_obeys_its_policy(sandbox: Sandbox, api_world: World, role: str) -> None:
    visitor = sign_in(sandbox.app, api_world, role)
    problems = [
        f"{endpoint.method} {endpoint.path}: {problem}"
        for endpoint in checked_endpoints(sandbox.app)
        if (problem := check(sandbox, visitor, api_world, endpoint))
    ]
    assert not problems, f"as {role}:\n" + "\n".join(problems)


def test_every_route_has_a_policy(sandbox: Sandbox) -> None:
    routed = {(e.method, e.path) for e in checked_endpoints(sandbox.app)}
    unlisted = sorted(routed - RULES.keys())
    assert not unlisted, f"routes without a rule in RULES: {unlisted}"


def test_every_policy_names_a_route(sandbox: Sandbox) -> None:
    routed = {(e.method, e.path) for e in checked_endpoints(sandbox.app)}
    stale = sorted(RULES.keys() - routed)
    assert not stale, f"rules for routes that do not exist: {stale}"


def test_the_matrix_covers_both_surfaces(sandbox: Sandbox) -> None:
    paths = [e.path for e in checked_endpoints(sandbox.app)]
    assert any(path.startswith(f"{API}/") for path in paths)
    assert any(not path.startswith("/api/") for path in paths)


def test_only_static_files_are_left_out(sandbox: Sandbox) -> None:
    without_methods = [r for r in flat_routes(sandbox.app) if not getattr(r, "methods", None)]
    for route in without_methods:
        assert isinstance(getattr(route, "original_route", route), Mount), route.path
        assert route.path.startswith("/static"), route.path


def test_docs_are_public(sandbox: Sandbox) -> None:
    paths = doc_paths(sandbox.app)
    assert paths
    with TestClient(sandbox.app) as client:
        for path in paths:
            assert client.get(path).status_code == 200, path
