"""The JSON API, mounted at /api/v1 and documented at /api/docs.

Every route needs a signed-in person (a bearer token, or the session cookie
plus the X-CSRF-Token header for writes) except a pulse link's, whose signed
token is the credential; errors are problem+json documents.
See docs/api.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from coauthor.web.api import (
    accounts,
    deliberation,
    emergence,
    invitations,
    ledger,
    mechanics,
    pulse,
    search,
)
from coauthor.web.api.deps import signed_in
from coauthor.web.api.schemas import PROBLEM_RESPONSES

router = APIRouter(dependencies=[Depends(signed_in)], responses=PROBLEM_RESPONSES)
router.include_router(accounts.router)
router.include_router(mechanics.router)
router.include_router(invitations.router)
router.include_router(deliberation.router)
router.include_router(pulse.router)
router.include_router(ledger.router)
router.include_router(emergence.router)
router.include_router(search.router)

public_router = APIRouter(responses=PROBLEM_RESPONSES)
"""Routes that need no sign-in: a pulse link is its own credential."""
public_router.include_router(pulse.answer_router)

__all__ = ["public_router", "router"]
