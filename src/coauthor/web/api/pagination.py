"""Every API list is a page: ``?limit=`` and ``?cursor=`` in, ``items`` and a ``next`` link out.

``next`` is the URL of the following page (the same query with the cursor
moved on), or null on the last page. See services/paging.py for why cursors
and not offsets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field

from coauthor.services.paging import MAX_LIMIT, Key, Page, PageRequest, page_of

T = TypeVar("T")
S = TypeVar("S")


class Paged(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    next: str | None = Field(
        default=None, description="The URL of the next page; null on the last page."
    )


def page_request(
    limit: Annotated[
        int | None,
        Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT}; default 50)."),
    ] = None,
    cursor: Annotated[
        str | None,
        Query(max_length=500, description="Where to continue: the cursor of a `next` link."),
    ] = None,
) -> PageRequest:
    return PageRequest.parse(limit, cursor)


PageDep = Annotated[PageRequest, Depends(page_request)]


def paged(request: Request, page: Page[S], convert: Callable[[S], T]) -> Paged[T]:
    """The response for ``page``, its items converted, with the link to the next page."""
    following = None
    if page.next_cursor is not None:
        following = str(request.url.include_query_params(cursor=page.next_cursor))
    return Paged[Any](items=[convert(item) for item in page.items], next=following)


def paged_list(
    request: Request,
    items: Sequence[S],
    key: Callable[[S], Key],
    page: PageRequest,
    convert: Callable[[S], T],
) -> Paged[T]:
    """A page of a short list already sorted by ``key`` (names that only Python sorts)."""
    return paged(request, page_of(items, key, page), convert)
