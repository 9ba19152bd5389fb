"""The search box's pages: ``/search`` across one's alliances, ``/a/<id>/search`` in one.

The form is a plain GET (``?q=``), so a search has an address to share or
reload, and works without JavaScript.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from coauthor.services.mechanics.alliances import open_alliance
from coauthor.services.search.query import MAX_HITS, search
from coauthor.web.auth import UowDep
from coauthor.web.pages.deps import SignedIn
from coauthor.web.pages.layout import alliance_page
from coauthor.web.pages.rendering import render

router = APIRouter()
MAX_QUERY_LENGTH = 200


@router.get("/search")
def search_everywhere(request: Request, actor: SignedIn, uow: UowDep, q: str = "") -> Response:
    """Every alliance the person can see (all of them for a site administrator)."""
    results = search(uow, actor, q[:MAX_QUERY_LENGTH])
    return render(request, "search.html", {"results": results, "max_hits": MAX_HITS})


@router.get("/a/{alliance_id}/search")
def search_alliance(
    request: Request, alliance_id: str, actor: SignedIn, uow: UowDep, q: str = ""
) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    results = search(uow, actor, q[:MAX_QUERY_LENGTH], alliance_id)
    context = {"results": results, "max_hits": MAX_HITS}
    return alliance_page(request, access, "alliance_search.html", "search", context)
