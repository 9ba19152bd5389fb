"""What every API route needs: a signed-in person, CSRF for cookie writes, Location headers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from coauthor import permissions
from coauthor.domain.errors import PermissionDenied
from coauthor.domain.model import Person
from coauthor.web.auth import CSRF_HEADER, ActorDep, check_csrf

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="apiToken",
    description="An API token (cat_…) from /account/tokens or `coauthor token create`.",
)
"""Declares the bearer scheme in the OpenAPI document (so "Authorize" works); the token
itself is checked by ``current_person``."""


def _via_token(request: Request) -> bool:
    return bool(getattr(request.state, "via_token", False))


async def signed_in(
    request: Request,
    actor: ActorDep,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
) -> Person:
    """The person asking (401 if nobody); a write by session cookie must carry the CSRF header.

    ``async`` because it does no I/O (``current_person`` has read the session already), so
    it runs on the event loop instead of costing every API request a trip to a thread.
    """
    person = permissions.require_signed_in(actor)
    if request.method not in SAFE_METHODS and not _via_token(request):
        try:
            check_csrf(request, request.headers.get(CSRF_HEADER))
        except PermissionDenied:
            raise PermissionDenied(
                "a write authenticated by the session cookie needs the session's CSRF token "
                "in the X-CSRF-Token header; API clients should use a bearer token"
            ) from None
    return person


PersonDep = Annotated[Person, Depends(signed_in)]


def set_location(request: Request, response: Response, route_name: str, **path: str) -> None:
    """Point a 201 response at the resource it created."""
    response.headers["Location"] = str(request.url_for(route_name, **path))
