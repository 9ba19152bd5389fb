"""Who may do what: every rule once, asked as ``can_*`` (yes or no) or ``require_*`` (raises).

Each rule is a function that returns why an action is refused — a
``CoauthorError`` saying so in words a person reads right — or None when it is
allowed. ``can_*`` turns that into a bool for pages that show or hide a
button; ``require_*`` raises it for services that are about to act. Services
ask before any write or read; the web layer never decides on its own.

Rules take the acting person (None when anonymous) and, for alliance-scoped
actions, that person's membership in the alliance (None when not a member).
Rules about *the parties of a thing* (the one who asked, the one who
promised) take a :class:`Parties` instead of a role.

The model (docs/permissions.md):
- a site administrator may see and manage every alliance, but never reads a
  partner's private notes;
- managers edit the mechanics of their alliance;
- sponsors and members read everything in the alliance and keep their own
  partner's private notes;
- observers only read;
- a partner's private notes are visible to that partner's members alone;
- only the parties of a commitment make its moves; managers may reassign;
- a governance body's declarations are recorded by its seated members (who
  take part) or by the alliance's managers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ParamSpec

from coauthor.domain.errors import CoauthorError, NotAuthenticated, NotFound, PermissionDenied
from coauthor.domain.model import Member, Person, Role

P = ParamSpec("P")
Refusal = CoauthorError | None

EDITING_ROLES = frozenset({Role.MANAGER})
ACTING_ROLES = frozenset({Role.SPONSOR, Role.MANAGER, Role.MEMBER})
"""Roles that act in an alliance (write notes, vote, make requests); observers only read."""


def _asker(check: Callable[P, Refusal]) -> Callable[P, bool]:
    def can(*args: P.args, **kwargs: P.kwargs) -> bool:
        return check(*args, **kwargs) is None

    can.__doc__ = check.__doc__
    return can


def _enforcer(check: Callable[P, Refusal]) -> Callable[P, None]:
    def require(*args: P.args, **kwargs: P.kwargs) -> None:
        refusal = check(*args, **kwargs)
        if refusal is not None:
            raise refusal

    require.__doc__ = check.__doc__
    return require


def require_signed_in(actor: Person | None) -> Person:
    if actor is None:
        raise NotAuthenticated("sign in first")
    return actor


def require_admin(actor: Person | None) -> Person:
    person = require_signed_in(actor)
    if not person.is_admin:
        raise PermissionDenied("only a site administrator may do this")
    return person


def _signed_in(actor: Person | None) -> Refusal:
    return NotAuthenticated("sign in first") if actor is None else None


def _admin(actor: Person | None) -> Refusal:
    if actor is None:
        return NotAuthenticated("sign in first")
    return None if actor.is_admin else PermissionDenied("only a site administrator may do this")


def _view_alliance(actor: Person | None, membership: Member | None) -> Refusal:
    """Non-members get 404, not 403: an alliance's existence is not disclosed."""
    if actor is None:
        return NotAuthenticated("sign in first")
    if membership is None and not actor.is_admin:
        return NotFound("no such alliance")
    return None


def _edit_mechanics(actor: Person | None, membership: Member | None) -> Refusal:
    refusal = _view_alliance(actor, membership)
    if refusal is not None or (actor is not None and actor.is_admin):
        return refusal
    if membership is None or membership.role not in EDITING_ROLES:
        return PermissionDenied("only the alliance's managers may change its mechanics")
    return None


def _read_partner_notes(
    actor: Person | None, membership: Member | None, partner_id: str
) -> Refusal:
    refusal = _view_alliance(actor, membership)
    if refusal is not None:
        return refusal
    if membership is None or membership.partner_id != partner_id:
        return PermissionDenied("a partner's private notes are for its own members only")
    return None


def _write_partner_notes(
    actor: Person | None, membership: Member | None, partner_id: str
) -> Refusal:
    refusal = _read_partner_notes(actor, membership, partner_id)
    if refusal is not None:
        return refusal
    if membership is None or membership.role not in ACTING_ROLES:
        return PermissionDenied("observers only read")
    return None


def _take_part(actor: Person | None, membership: Member | None) -> Refusal:
    """Vote, write statements, make requests and promises: members who are not observers."""
    refusal = _view_alliance(actor, membership)
    if refusal is not None:
        return refusal
    if membership is None or membership.role not in ACTING_ROLES:
        return PermissionDenied("only the alliance's members (not observers) take part")
    return None


can_view_alliance = _asker(_view_alliance)
require_view_alliance = _enforcer(_view_alliance)
can_create_alliance = _asker(_signed_in)
require_create_alliance = _enforcer(_signed_in)
can_edit_mechanics = _asker(_edit_mechanics)
require_edit_mechanics = _enforcer(_edit_mechanics)
can_read_partner_notes = _asker(_read_partner_notes)
require_read_partner_notes = _enforcer(_read_partner_notes)
can_write_partner_notes = _asker(_write_partner_notes)
require_write_partner_notes = _enforcer(_write_partner_notes)
can_take_part = _asker(_take_part)
require_take_part = _enforcer(_take_part)
can_manage_own_tokens = _asker(_signed_in)
can_manage_people = _asker(_admin)


@dataclass(frozen=True)
class Parties:
    """Who stands on each side of a thing, by person id: ``{"customer": {...}, ...}``.

    A side may hold several people (the co-performers of a joint commitment).
    """

    sides: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def side_of(self, person_id: str) -> str | None:
        return next((side for side, ids in self.sides.items() if person_id in ids), None)


def _act_as(
    actor: Person | None, membership: Member | None, parties: Parties, side: str
) -> Refusal:
    """Only the people on ``side`` make that side's moves; not even a manager stands in."""
    refusal = _take_part(actor, membership)
    if refusal is not None:
        return refusal
    assert actor is not None
    if actor.id not in parties.sides.get(side, frozenset()):
        return PermissionDenied(f"only the {side} may do this")
    return None


def _reassign(actor: Person | None, membership: Member | None) -> Refusal:
    """Managers (and site administrators) may hand a side of a thing to someone else."""
    return _edit_mechanics(actor, membership)


can_act_as = _asker(_act_as)
require_act_as = _enforcer(_act_as)
can_reassign = _asker(_reassign)
require_reassign = _enforcer(_reassign)


def _record_declaration(actor: Person | None, membership: Member | None, seated: bool) -> Refusal:
    """A body's declaration is recorded by one of its seated members, or by a manager."""
    refusal = _view_alliance(actor, membership)
    if refusal is not None:
        return refusal
    if _edit_mechanics(actor, membership) is None:
        return None
    if seated and membership is not None and membership.role in ACTING_ROLES:
        return None
    return PermissionDenied(
        "only the body's seated members or the alliance's managers record its declarations"
    )


can_record_declaration = _asker(_record_declaration)
require_record_declaration = _enforcer(_record_declaration)
