"""Pages for the mechanics: the portfolio, an alliance, its partners and its registers."""

from __future__ import annotations

from fastapi import APIRouter

from coauthor.web.pages.mechanics import alliance, history, home, items, partners, registers

router = APIRouter()
for _module in (home, alliance, partners, registers, items, history):
    router.include_router(_module.router)
