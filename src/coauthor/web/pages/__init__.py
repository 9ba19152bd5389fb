"""The HTML pages: server-rendered, working without JavaScript, smoother with htmx."""

from __future__ import annotations

from fastapi import APIRouter

from coauthor.web.pages import (
    alliance,
    deliberation,
    home,
    items,
    partners,
    registers,
    session,
    tokens,
)

router = APIRouter(include_in_schema=False)
for _module in (session, home, alliance, partners, registers, items, tokens, deliberation):
    router.include_router(_module.router)

__all__ = ["router"]
