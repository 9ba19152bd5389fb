"""Pages for the mechanics: the portfolio, an alliance, its partners and its registers."""

from __future__ import annotations

from fastapi import APIRouter

from coauthor.web.pages.mechanics import alliance, home, items, partners, registers

router = APIRouter()
for _module in (home, alliance, partners, registers, items):
    router.include_router(_module.router)
