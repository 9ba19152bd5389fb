"""Search and items' histories through the API: the same answers as the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from coauthor.services.history import item_history
from coauthor.services.search.query import Hit, search
from coauthor.web.api.deps import PersonDep
from coauthor.web.api.pagination import Paged, PageDep, paged_list
from coauthor.web.auth import UowDep
from coauthor.web.pages.links import item_url

router = APIRouter()
QueryText = Annotated[
    str,
    Query(
        max_length=200,
        description="Words to look for; each must match the start of a word, case and "
        "accents aside. Empty: no results.",
    ),
]


class SearchHit(BaseModel):
    kind: str = Field(description='What the item is: "agreement", "risk", "member", …')
    label: str = Field(description='The kind in words: "Agreement", "Person", …')
    alliance_id: str
    alliance_name: str
    item_id: str
    title: str
    snippet: str = Field(description="Words around the first match, when the body matched.")
    url: str | None = Field(description="The page that shows the item, if it has one.")


class FieldChangeOut(BaseModel):
    field: str
    before: str | None = Field(description="null when the item was created with this value.")
    after: str


class HistoryEntry(BaseModel):
    seq: int = Field(description="The event's place in the alliance's event log.")
    at: datetime
    actor: str
    action: str
    fields: list[FieldChangeOut]


def _hit(hit: Hit) -> SearchHit:
    url = item_url(hit.kind, hit.alliance_id, hit.item_id, hit.parent_id)
    return SearchHit(
        kind=hit.kind,
        label=hit.label,
        alliance_id=hit.alliance_id,
        alliance_name=hit.alliance_name,
        item_id=hit.item_id,
        title=hit.title,
        snippet=hit.snippet,
        url=url,
    )


def _ranked(hits: list[Hit]) -> list[tuple[int, Hit]]:
    return list(enumerate(hits))


@router.get("/search", response_model=Paged[SearchHit], tags=["search"])
def search_everywhere(
    request: Request, uow: UowDep, person: PersonDep, page: PageDep, q: QueryText = ""
) -> Paged[SearchHit]:
    """Items of every alliance I belong to (every alliance for a site administrator), best first."""
    hits = _ranked(search(uow, person, q).hits)
    return paged_list(request, hits, lambda pair: (pair[0],), page, lambda pair: _hit(pair[1]))


@router.get("/alliances/{alliance_id}/search", response_model=Paged[SearchHit], tags=["search"])
def search_alliance(
    alliance_id: str,
    request: Request,
    uow: UowDep,
    person: PersonDep,
    page: PageDep,
    q: QueryText = "",
) -> Paged[SearchHit]:
    """Items of one alliance, best first; a partner's private notes only for its members."""
    hits = _ranked(search(uow, person, q, alliance_id).hits)
    return paged_list(request, hits, lambda pair: (pair[0],), page, lambda pair: _hit(pair[1]))


@router.get(
    "/alliances/{alliance_id}/history/{kind}/{item_id}",
    response_model=Paged[HistoryEntry],
    tags=["history"],
)
def history(
    alliance_id: str,
    kind: str,
    item_id: str,
    request: Request,
    uow: UowDep,
    person: PersonDep,
    page: PageDep,
) -> Paged[HistoryEntry]:
    """Who changed an item, when and what, newest first (kinds: alliance, partner, member,
    agreement, obligation, body, decision_right, meeting, risk, contribution, deliberation)."""
    changes = item_history(uow, person, alliance_id, kind, item_id).changes
    return paged_list(
        request,
        changes,
        lambda change: (-change.seq,),
        page,
        lambda change: HistoryEntry.model_validate(change, from_attributes=True),
    )
