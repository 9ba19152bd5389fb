"""The HTML pages: server-rendered, working without JavaScript, smoother with htmx.

One package per feature (accounts, mechanics, deliberation, ledger, pulse, emergence,
search); each exposes a ``router``. Shared helpers (forms, the form-post flow, rendering, layout,
error pages) sit at this level.
"""

from __future__ import annotations

from fastapi import APIRouter

from coauthor.web.pages import (
    accounts,
    deliberation,
    emergence,
    ledger,
    mechanics,
    pulse,
    search,
)

router = APIRouter(include_in_schema=False)
for _feature in (accounts, mechanics, deliberation, ledger, pulse, emergence, search):
    router.include_router(_feature.router)

__all__ = ["router"]
