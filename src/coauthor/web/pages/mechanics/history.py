"""An item's page of history: who changed it, when, and what changed (from the event log)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from coauthor.services.history import item_history
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.web.auth import UowDep
from coauthor.web.pages.deps import SignedIn
from coauthor.web.pages.layout import alliance_page

router = APIRouter()
SECTIONS = {
    "alliance": "overview",
    "partner": "partners",
    "member": "partners",
    "agreement": "agreements",
    "obligation": "agreements",
    "body": "governance",
    "decision_right": "governance",
    "meeting": "governance",
    "risk": "risks",
    "contribution": "contributions",
    "deliberation": "deliberations",
}
EDIT_PATHS = {
    "agreement": "agreements",
    "obligation": "obligations",
    "body": "bodies",
    "decision_right": "decision-rights",
    "meeting": "meetings",
    "risk": "risks",
    "contribution": "contributions",
}


@router.get("/a/{alliance_id}/history/{kind}/{item_id}")
def history(
    request: Request, alliance_id: str, kind: str, item_id: str, actor: SignedIn, uow: UowDep
) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    found = item_history(uow, actor, alliance_id, kind, item_id)
    edit = EDIT_PATHS.get(kind)
    context = {
        "history": found,
        "edit_url": f"/a/{alliance_id}/{edit}/{item_id}/edit" if edit and found.exists else "",
    }
    return alliance_page(request, access, "history.html", SECTIONS.get(kind, "overview"), context)
