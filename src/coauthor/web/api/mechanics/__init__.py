"""API routes for the mechanics: alliances, partners, members, notes and the registers."""

from __future__ import annotations

from fastapi import APIRouter

from coauthor.web.api.mechanics import alliances, items

router = APIRouter()
for _module in (alliances, items):
    router.include_router(_module.router)
