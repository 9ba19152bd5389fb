"""Who may do what: one function per action."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from coauthor import permissions
from coauthor.domain.errors import NotAuthenticated, NotFound, PermissionDenied
from coauthor.domain.model import Member, Person, Role

NOW = datetime(2026, 1, 1, tzinfo=UTC)
OWN, OTHER = "pa_own", "pa_other"


def person(is_admin: bool = False) -> Person:
    return Person("pe_1", "ann@example.org", "Ann", "!", is_admin, NOW)


def member(role: Role, partner_id: str = OWN) -> Member:
    return Member("al_1", "me_1", "pe_1", partner_id, role)


def test_anonymous_people_must_sign_in() -> None:
    for check in (
        lambda: permissions.view_alliance(None, None),
        lambda: permissions.create_alliance(None),
        lambda: permissions.manage_own_tokens(None),
    ):
        with pytest.raises(NotAuthenticated):
            check()


def test_non_members_do_not_learn_the_alliance_exists() -> None:
    with pytest.raises(NotFound):
        permissions.view_alliance(person(), None)
    with pytest.raises(NotFound):
        permissions.edit_mechanics(person(), None)


@pytest.mark.parametrize("role", list(Role))
def test_every_member_sees_only_managers_edit(role: Role) -> None:
    permissions.view_alliance(person(), member(role))
    if role == Role.MANAGER:
        permissions.edit_mechanics(person(), member(role))
    else:
        with pytest.raises(PermissionDenied):
            permissions.edit_mechanics(person(), member(role))


def test_site_admin_sees_and_edits_every_alliance_but_not_private_notes() -> None:
    admin = person(is_admin=True)
    permissions.view_alliance(admin, None)
    permissions.edit_mechanics(admin, None)
    permissions.manage_people(admin)
    with pytest.raises(PermissionDenied):
        permissions.read_partner_notes(admin, None, OWN)


@pytest.mark.parametrize("role", list(Role))
def test_private_notes_are_for_the_partners_own_members(role: Role) -> None:
    permissions.read_partner_notes(person(), member(role), OWN)
    with pytest.raises(PermissionDenied):
        permissions.read_partner_notes(person(), member(role), OTHER)
    with pytest.raises(PermissionDenied):
        permissions.write_partner_notes(person(), member(role), OTHER)


def test_observers_read_notes_but_do_not_write_them() -> None:
    permissions.write_partner_notes(person(), member(Role.MEMBER), OWN)
    with pytest.raises(PermissionDenied):
        permissions.write_partner_notes(person(), member(Role.OBSERVER), OWN)


def test_only_admins_manage_people() -> None:
    with pytest.raises(PermissionDenied):
        permissions.manage_people(person())
    with pytest.raises(PermissionDenied):
        permissions.require_admin(person())
    assert permissions.require_admin(person(is_admin=True)).is_admin
