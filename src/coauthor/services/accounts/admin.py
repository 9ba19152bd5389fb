"""A site administrator's view of people: list them, deactivate and reactivate accounts.

Deactivating ends every session of the person and makes their API tokens
unusable (a token is refused while its person is deactivated); their
memberships and everything they wrote stay, so the alliance's history holds.
"""

from __future__ import annotations

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain.accounts import SessionEnd
from coauthor.domain.errors import Conflict, NotFound
from coauthor.domain.model import Person
from coauthor.services import eventlog
from coauthor.services.accounts.sessions import end_sessions_of


def everyone(uow: UnitOfWork, actor: Person | None) -> list[Person]:
    """Every person on the site, by name (site administrators only)."""
    permissions.require_admin(actor)
    return sorted(uow.find(Person), key=lambda person: (person.name.lower(), person.email))


def _person(uow: UnitOfWork, person_id: str) -> Person:
    person = uow.get(Person, id=person_id)
    if person is None:
        raise NotFound("no such person")
    return person


def do_deactivate(uow: UnitOfWork, actor: Person | None, person_id: str) -> Person:
    admin = permissions.require_admin(actor)
    person = _person(uow, person_id)
    if person.id == admin.id:
        raise Conflict("you cannot deactivate your own account; ask another administrator")
    if person.deactivated_at is None:
        person.deactivated_at = uow.clock.now()
        end_sessions_of(uow, person.id, SessionEnd.DEACTIVATED)
        eventlog.append(uow, eventlog.SITE_CHAIN, admin, "person.deactivated", {"id": person.id})
    return person


def do_reactivate(uow: UnitOfWork, actor: Person | None, person_id: str) -> Person:
    admin = permissions.require_admin(actor)
    person = _person(uow, person_id)
    if person.deactivated_at is not None:
        person.deactivated_at = None
        eventlog.append(uow, eventlog.SITE_CHAIN, admin, "person.reactivated", {"id": person.id})
    return person
