"""The services on SQLite and PostgreSQL: the mechanics' rules, references, blockers, privacy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from coauthor.runtime import Runtime
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
from coauthor.services.paging import PageRequest


@dataclass
class Helios:
    """An alliance of two partners: Ann manages it for Nordwerk, Bob is a Red Cedar member."""

    uow: UnitOfWork
    alliance_id: str
    ann: m.Person
    bob: m.Person
    admin: m.Person
    nordwerk: str
    red_cedar: str

    def create(self, kind: str, payload: dict) -> Any:
        return registers.do_create_item(self.uow, self.ann, self.alliance_id, kind, payload)


def person(uow: UnitOfWork, email: str, is_admin: bool = False) -> m.Person:
    data = PersonInput(email=email, name=email.split("@")[0].title(), is_admin=is_admin)
    return people.do_create_person(uow, None, data, None, bootstrap=True)


@pytest.fixture
def helios(runtime: Runtime) -> Iterator[Helios]:
    with runtime.uow() as uow:
        ann, admin = person(uow, "ann@nordwerk.example"), person(uow, "root@site.example", True)
        data = AllianceCreate(name="Helios", kind="joint_venture", organization_name="Nordwerk")
        alliance = alliances.do_create_alliance(uow, ann, data)
        [nordwerk] = uow.find(m.Partner, alliance_id=alliance.id)
        partner = PartnerInput(organization_name="Red Cedar", joined_on=date(2026, 3, 1))
        red_cedar = alliances.do_add_partner(uow, ann, alliance.id, partner)
        member = MemberInput(email="bob@redcedar.example", name="Bob", partner_id=red_cedar.id)
        bob_membership = alliances.do_add_member(uow, ann, alliance.id, member)
        bob = uow.get(m.Person, id=bob_membership.person_id)
        assert bob is not None
        uow.session.commit()
        yield Helios(uow, alliance.id, ann, bob, admin, nordwerk.id, red_cedar.id)


def test_the_creator_manages_the_new_alliance_and_every_write_is_logged(helios: Helios) -> None:
    membership = alliances.membership_of(helios.uow, helios.ann, helios.alliance_id)
    assert membership is not None
    assert (membership.role, membership.partner_id) == (m.Role.MANAGER, helios.nordwerk)
    kinds = [event.kind for event in eventlog.chain_events(helios.uow, helios.alliance_id)]
    assert kinds == [
        "alliance.created",
        "partner.added",
        "member.added",
        "partner.added",
        "member.added",
    ]
    assert all(report.ok for report in eventlog.verify_all(helios.uow))


def test_adding_a_partner_or_a_member_twice_conflicts(helios: Helios) -> None:
    again = PartnerInput(organization_name="Red Cedar")
    with pytest.raises(Conflict) as caught:
        alliances.do_add_partner(helios.uow, helios.ann, helios.alliance_id, again)
    assert caught.value.errors[0].loc == ("organization_name",)
    bob = MemberInput(email="BOB@redcedar.example", partner_id=helios.nordwerk)
    with pytest.raises(Conflict, match="already a member"):
        alliances.do_add_member(helios.uow, helios.ann, helios.alliance_id, bob)


def test_risk_shares_sum_to_hundred_over_partners_of_the_alliance(helios: Helios) -> None:
    def risk(*shares: tuple[str, str]) -> dict:
        return {
            "title": "Price collapse",
            "likelihood": 3,
            "impact": 4,
            "shares": [{"partner_id": p, "percent": percent} for p, percent in shares],
        }

    with pytest.raises(ValidationFailed) as caught:
        helios.create("risk", risk((helios.nordwerk, "60"), (helios.red_cedar, "30")))
    assert [(e.loc, e.message) for e in caught.value.errors] == [
        (("shares",), "shares must sum to 100%, not 90%")
    ]
    with pytest.raises(ValidationFailed) as caught:
        helios.create("risk", risk((helios.nordwerk, "60"), ("pa_elsewhere", "40")))
    assert caught.value.errors[0].loc == ("shares", 1, "partner_id")
    created = helios.create("risk", risk((helios.nordwerk, "66.67"), (helios.red_cedar, "33.33")))
    shares = registers.children_of(helios.uow, helios.alliance_id, "risk", created.id)["shares"]
    assert sum(share.percent for share in shares) == 100


def test_obligations_refer_to_the_alliances_agreement_and_partners(helios: Helios) -> None:
    agreement = helios.create("agreement", {"title": "JV agreement", "kind": "jv_agreement"})
    obligation = {
        "agreement_id": "ag_missing",
        "title": "Monthly yield report",
        "debtor_partner_id": helios.red_cedar,
        "creditor_partner_id": "pa_missing",
        "recurrence": "monthly",
        "first_due_on": "2026-04-01",
    }
    with pytest.raises(ValidationFailed) as caught:
        helios.create("obligation", obligation)
    assert {error.loc for error in caught.value.errors} == {
        ("agreement_id",),
        ("creditor_partner_id",),
    }
    fixed = obligation | {"agreement_id": agreement.id, "creditor_partner_id": helios.nordwerk}
    assert helios.create("obligation", fixed).debtor_partner_id == helios.red_cedar


def test_items_in_use_cannot_be_deleted(helios: Helios) -> None:
    agreement = helios.create("agreement", {"title": "SOW 1", "kind": "sow"})
    obligation = helios.create(
        "obligation",
        {
            "agreement_id": agreement.id,
            "title": "Samples",
            "debtor_partner_id": helios.red_cedar,
            "creditor_partner_id": helios.nordwerk,
            "first_due_on": "2026-05-01",
        },
    )
    membership = alliances.membership_of(helios.uow, helios.ann, helios.alliance_id)
    assert membership is not None
    seats = [{"member_id": membership.id, "is_chair": True}]
    body = helios.create("body", {"name": "Steering", "kind": "steering_committee", "seats": seats})
    helios.create(
        "meeting", {"body_id": body.id, "title": "Kick-off", "starts_at": "2026-03-10T14:00:00Z"}
    )

    def delete(kind: str, item_id: str) -> None:
        registers.do_delete_item(helios.uow, helios.ann, helios.alliance_id, kind, item_id)

    with pytest.raises(Conflict, match="still has obligations"):
        delete("agreement", agreement.id)
    with pytest.raises(Conflict, match="has meetings"):
        delete("body", body.id)
    delete("obligation", obligation.id)
    delete("agreement", agreement.id)
    with pytest.raises(NotFound):
        registers.get_item(helios.uow, helios.alliance_id, "agreement", agreement.id)
    with pytest.raises(Conflict, match="at least one manager"):
        alliances.do_remove_member(helios.uow, helios.ann, helios.alliance_id, membership.id)


def test_partner_notes_are_for_the_partners_own_members(helios: Helios) -> None:
    note = PartnerNoteInput(body="Keep the cooperative's staffing limits in view.")
    alliances.do_add_partner_note(helios.uow, helios.ann, helios.alliance_id, helios.nordwerk, note)
    [read] = alliances.partner_notes(helios.uow, helios.ann, helios.alliance_id, helios.nordwerk)
    assert read.body == note.body
    for outsider in (helios.bob, helios.admin):
        with pytest.raises(PermissionDenied):
            alliances.partner_notes(helios.uow, outsider, helios.alliance_id, helios.nordwerk)
    with pytest.raises(PermissionDenied):
        alliances.do_add_partner_note(
            helios.uow, helios.bob, helios.alliance_id, helios.nordwerk, note
        )
    [logged] = [
        event
        for event in eventlog.chain_events(helios.uow, helios.alliance_id)
        if event.kind == "partner_note.added"
    ]
    assert note.body not in str(logged.payload)


def test_non_members_get_not_found_and_members_cannot_edit(helios: Helios) -> None:
    stranger = person(helios.uow, "eve@elsewhere.example")
    with pytest.raises(NotFound):
        alliances.open_alliance(helios.uow, stranger, helios.alliance_id)
    with pytest.raises(PermissionDenied):
        registers.do_create_item(
            helios.uow,
            helios.bob,
            helios.alliance_id,
            "agreement",
            {"title": "NDA", "kind": "nda"},
        )


def test_registers_page_by_cursor_on_both_databases(helios: Helios) -> None:
    """Meetings page by their start time (a datetime in the cursor), then by id."""
    body = helios.create("body", {"name": "Steering committee", "kind": "steering_committee"})
    starts = [f"2026-0{month}-01T09:00:00+00:00" for month in (5, 3, 4, 3, 6)]
    for number, starts_at in enumerate(starts):
        helios.create(
            "meeting", {"body_id": body.id, "title": f"M{number}", "starts_at": starts_at}
        )
    seen: list[Any] = []
    request = PageRequest(limit=2)
    while True:
        page = registers.page_items(helios.uow, helios.ann, helios.alliance_id, "meeting", request)
        seen += page.items
        if page.next_cursor is None:
            break
        request = PageRequest.parse(2, page.next_cursor)
    assert len(seen) == len(starts) == len({meeting.id for meeting in seen})
    keys = [(meeting.starts_at, meeting.id) for meeting in seen]
    assert keys == sorted(keys)
    with pytest.raises(ValidationFailed):
        registers.page_items(
            helios.uow, helios.ann, helios.alliance_id, "meeting", PageRequest(2, ("x", "y"))
        )
