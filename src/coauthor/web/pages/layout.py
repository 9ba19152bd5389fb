"""The frame shared by every page of one alliance: its name, its tabs, who may edit."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from coauthor.services.mechanics.alliances import Access
from coauthor.web.pages.rendering import render

SECTIONS = (
    ("overview", "Overview", ""),
    ("partners", "Partners", "/partners"),
    ("agreements", "Agreements", "/agreements"),
    ("governance", "Governance", "/governance"),
    ("risks", "Risks", "/risks"),
    ("contributions", "Contributions", "/contributions"),
    ("deliberations", "Deliberations", "/deliberations"),
    ("ledger", "Ledger", "/ledger"),
    ("pulse", "Pulse", "/pulse"),
)


def alliance_page(
    request: Request,
    access: Access,
    template: str,
    section: str,
    context: dict[str, Any],
    status: int = 200,
) -> Response:
    base = f"/a/{access.alliance.id}"
    frame = {
        "access": access,
        "alliance": access.alliance,
        "base": base,
        "section": section,
        "sections": [(key, title, base + suffix) for key, title, suffix in SECTIONS],
    }
    return render(request, template, frame | context, status=status)
