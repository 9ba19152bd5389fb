"""Who may do what: every rule answers ``can_*`` (a bool) and ``require_*`` (raises) alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from coauthor import permissions
from coauthor.domain.errors import CoauthorError, NotAuthenticated, NotFound, PermissionDenied
from coauthor.domain.model import Member, Person, Role
from coauthor.permissions import Parties

NOW = datetime(2026, 1, 1, tzinfo=UTC)
OWN, OTHER = "pa_own", "pa_other"


def person(is_admin: bool = False, person_id: str = "pe_1") -> Person:
    return Person(person_id, f"{person_id}@example.org", "Ann", "!", is_admin, NOW)


def member(role: Role, partner_id: str = OWN) -> Member:
    return Member("al_1", "me_1", "pe_1", partner_id, role)


def refusal(rule: str, *args: Any) -> type[CoauthorError] | None:
    """What ``require_<rule>`` raises (None when allowed), checked against ``can_<rule>``."""
    can: Callable[..., bool] = getattr(permissions, f"can_{rule}")
    require: Callable[..., None] = getattr(permissions, f"require_{rule}")
    try:
        require(*args)
    except CoauthorError as exc:
        assert can(*args) is False
        return type(exc)
    assert can(*args) is True
    return None


def test_anonymous_people_must_sign_in() -> None:
    assert refusal("view_alliance", None, None) is NotAuthenticated
    assert refusal("create_alliance", None) is NotAuthenticated
    assert not permissions.can_manage_own_tokens(None)
    with pytest.raises(NotAuthenticated):
        permissions.require_signed_in(None)


def test_non_members_do_not_learn_the_alliance_exists() -> None:
    assert refusal("view_alliance", person(), None) is NotFound
    assert refusal("edit_mechanics", person(), None) is NotFound


@pytest.mark.parametrize("role", list(Role))
def test_every_member_sees_only_managers_edit(role: Role) -> None:
    assert refusal("view_alliance", person(), member(role)) is None
    expected = None if role == Role.MANAGER else PermissionDenied
    assert refusal("edit_mechanics", person(), member(role)) is expected


def test_site_admin_sees_and_edits_every_alliance_but_not_private_notes() -> None:
    admin = person(is_admin=True)
    assert refusal("view_alliance", admin, None) is None
    assert refusal("edit_mechanics", admin, None) is None
    assert permissions.can_manage_people(admin)
    assert refusal("read_partner_notes", admin, None, OWN) is PermissionDenied


@pytest.mark.parametrize("role", list(Role))
def test_private_notes_are_for_the_partners_own_members(role: Role) -> None:
    assert refusal("read_partner_notes", person(), member(role), OWN) is None
    assert refusal("read_partner_notes", person(), member(role), OTHER) is PermissionDenied
    assert refusal("write_partner_notes", person(), member(role), OTHER) is PermissionDenied


def test_observers_read_notes_but_do_not_write_them() -> None:
    assert refusal("write_partner_notes", person(), member(Role.MEMBER), OWN) is None
    assert refusal("write_partner_notes", person(), member(Role.OBSERVER), OWN) is PermissionDenied


def test_only_admins_manage_people() -> None:
    assert not permissions.can_manage_people(person())
    with pytest.raises(PermissionDenied):
        permissions.require_admin(person())
    assert permissions.require_admin(person(is_admin=True)).is_admin


def test_only_the_parties_make_their_own_moves() -> None:
    parties = Parties(
        {"customer": frozenset({"pe_ann"}), "performer": frozenset({"pe_bo", "pe_cy"})}
    )
    ann, bo, cy = person(person_id="pe_ann"), person(person_id="pe_bo"), person(person_id="pe_cy")
    manager = person(person_id="pe_mgr")
    assert refusal("act_as", ann, member(Role.MEMBER), parties, "customer") is None
    assert refusal("act_as", ann, member(Role.MEMBER), parties, "performer") is PermissionDenied
    for co_performer in (bo, cy):
        assert refusal("act_as", co_performer, member(Role.MEMBER), parties, "performer") is None
    assert refusal("act_as", manager, member(Role.MANAGER), parties, "customer") is PermissionDenied
    assert refusal("act_as", ann, member(Role.OBSERVER), parties, "customer") is PermissionDenied
    assert refusal("act_as", ann, None, parties, "customer") is NotFound
    assert parties.side_of("pe_cy") == "performer"
    assert parties.side_of("pe_mgr") is None


def test_managers_reassign_and_parties_do_not() -> None:
    assert refusal("reassign", person(), member(Role.MANAGER)) is None
    assert refusal("reassign", person(), member(Role.MEMBER)) is PermissionDenied
    assert refusal("reassign", person(is_admin=True), None) is None
