"""Dependencies of page handlers: the signed-in person and a CSRF-checked form post.

Declare ``SignedIn`` before ``Posted`` in a handler's parameters: a visitor
whose session ran out is then told so, instead of being refused for a stale
security token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from coauthor import permissions
from coauthor.domain.errors import FieldError, ValidationFailed
from coauthor.domain.model import Person
from coauthor.services.accounts import people
from coauthor.services.inputs import unstorable_text
from coauthor.services.ledger import views as ledger_views
from coauthor.web.auth import (
    CSRF_FIELD,
    CSRF_HEADER,
    ActorDep,
    UowDep,
    check_csrf,
    get_runtime,
    read_session,
)


@dataclass(frozen=True)
class Viewer:
    """Who the page header greets: plain values, still there after the database session ends.

    ``waiting`` counts the commitments waiting on their answer (the header's notice).
    """

    id: str
    name: str
    is_admin: bool
    time_zone: str = "UTC"
    waiting: int = 0

    @classmethod
    def of(cls, person: Person, waiting: int = 0) -> Viewer:
        return cls(person.id, person.name, person.is_admin, person.time_zone, waiting)


def signed_in(request: Request, actor: ActorDep, uow: UowDep) -> Person:
    person = permissions.require_signed_in(actor)
    request.state.viewer = Viewer.of(person, ledger_views.waiting_count(uow, person.id))
    return person


def viewer_from_session(request: Request) -> Viewer | None:
    """The viewer for a page outside any route (an unknown path), from the session cookie."""
    person_id = read_session(request).person_id
    if person_id is None:
        return None
    with get_runtime(request).uow() as uow:
        person = people.person_by_id(uow, person_id)
        return Viewer.of(person) if person else None


async def posted_form(request: Request) -> dict[str, str]:
    """The posted text fields, after checking the form's CSRF token.

    A field holding text no database can store (NUL, a lone surrogate) is
    refused here, whatever the form, with the field's name.
    """
    data = await request.form()
    values = {name: value for name, value in data.multi_items() if isinstance(value, str)}
    check_csrf(request, values.pop(CSRF_FIELD, None) or request.headers.get(CSRF_HEADER))
    problems = unstorable_text(values)
    if problems:
        raise ValidationFailed([FieldError(loc, reason) for loc, reason in problems])
    return values


SignedIn = Annotated[Person, Depends(signed_in)]
Posted = Annotated[dict[str, str], Depends(posted_form)]
CsrfChecked = Depends(posted_form)
"""For an anonymous route whose form carries nothing but the CSRF token (sign out)."""


def _signed_in_post(person: SignedIn, values: Posted) -> Person:
    return person


PostingPerson = Annotated[Person, Depends(_signed_in_post)]
"""The signed-in person of a post that carries only its CSRF token (delete, remove, revoke)."""
