"""Who may do what: one function per action.

Each takes the acting person (None when anonymous) and, for alliance-scoped
actions, that person's membership in the alliance (None when not a member),
and raises when the action is not allowed. Services call these before any
write or read; the web layer never decides on its own.

The model (docs/permissions.md):
- a site administrator may see and manage every alliance, but never reads a
  partner's private notes;
- managers edit the mechanics of their alliance;
- sponsors and members read everything in the alliance and keep their own
  partner's private notes;
- observers only read;
- a partner's private notes are visible to that partner's members alone.
"""

from __future__ import annotations

from coauthor.domain.errors import NotAuthenticated, NotFound, PermissionDenied
from coauthor.domain.model import Member, Person, Role

EDITING_ROLES = frozenset({Role.MANAGER})
NOTE_ROLES = frozenset({Role.SPONSOR, Role.MANAGER, Role.MEMBER})


def require_signed_in(actor: Person | None) -> Person:
    if actor is None:
        raise NotAuthenticated("sign in first")
    return actor


def require_admin(actor: Person | None) -> Person:
    person = require_signed_in(actor)
    if not person.is_admin:
        raise PermissionDenied("only a site administrator may do this")
    return person


def view_alliance(actor: Person | None, membership: Member | None) -> None:
    """Non-members get 404, not 403: an alliance's existence is not disclosed."""
    person = require_signed_in(actor)
    if membership is None and not person.is_admin:
        raise NotFound("no such alliance")


def create_alliance(actor: Person | None) -> None:
    require_signed_in(actor)


def edit_mechanics(actor: Person | None, membership: Member | None) -> None:
    view_alliance(actor, membership)
    assert actor is not None
    if actor.is_admin:
        return
    if membership is None or membership.role not in EDITING_ROLES:
        raise PermissionDenied("only the alliance's managers may change its mechanics")


def read_partner_notes(actor: Person | None, membership: Member | None, partner_id: str) -> None:
    view_alliance(actor, membership)
    if membership is None or membership.partner_id != partner_id:
        raise PermissionDenied("a partner's private notes are for its own members only")


def write_partner_notes(actor: Person | None, membership: Member | None, partner_id: str) -> None:
    read_partner_notes(actor, membership, partner_id)
    assert membership is not None
    if membership.role not in NOTE_ROLES:
        raise PermissionDenied("observers only read")


def manage_own_tokens(actor: Person | None) -> Person:
    return require_signed_in(actor)


def manage_people(actor: Person | None) -> Person:
    return require_admin(actor)


def take_part(actor: Person | None, membership: Member | None) -> Member:
    """Vote and write statements: members of the alliance who are not observers."""
    view_alliance(actor, membership)
    if membership is None or membership.role not in NOTE_ROLES:
        raise PermissionDenied("only the alliance's members (not observers) take part")
    return membership
