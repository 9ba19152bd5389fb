"""My commitments across my alliances, my own figures, and my private calendar feed.

The feed's URL is shown once, on the page that answers the post that made it
(like an API token); the feed itself (``/calendar/{token}.ics``) needs no
sign-in — the token is the key — and is not found once revoked.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.interop.ical import calendar_ics
from coauthor.services.ledger import calendar, figures, views
from coauthor.services.ledger.inputs import MineFilter
from coauthor.services.paging import PageRequest
from coauthor.web.auth import UowDep
from coauthor.web.pages.deps import PostingPerson, SignedIn
from coauthor.web.pages.rendering import page_url, render, see_other

router = APIRouter()
MINE_PATH = "/commitments"
PER_SECTION = 20
SECTIONS: tuple[tuple[MineFilter, str], ...] = (
    ("waiting", "Waiting on my answer"),
    ("owe", "What I owe"),
    ("owed", "What I am owed"),
    ("closed", "Closed"),
)
ICS = "text/calendar; charset=utf-8"


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _mine_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    cursors: dict[str, str | None],
    feed_url: str = "",
    status: int = 200,
) -> Response:
    sections = []
    for which, title in SECTIONS:
        page = views.my_commitments(
            uow, actor, which, PageRequest.parse(PER_SECTION, cursors.get(which))
        )
        sections.append((which, title, page, page_url(request, which, page.next_cursor)))
    context = {
        "sections": sections,
        "feed": calendar.current_feed(uow, actor),
        "feed_url": feed_url,
    }
    return render(request, "my_commitments.html", context, status=status)


@router.get(MINE_PATH)
def my_commitments(
    request: Request,
    actor: SignedIn,
    uow: UowDep,
    waiting: str | None = None,
    owe: str | None = None,
    owed: str | None = None,
    closed: str | None = None,
) -> Response:
    cursors = {"waiting": waiting, "owe": owe, "owed": owed, "closed": closed}
    return _mine_page(request, uow, actor, cursors)


@router.post(MINE_PATH + "/calendar")
def create_feed(request: Request, actor: PostingPerson, uow: UowDep) -> Response:
    """Not a redirect: the page that answers this post is the only place the URL appears."""
    _, token = uow.write(lambda _: calendar.do_create_feed(uow, actor))
    url = f"{base_url(request)}/calendar/{token}.ics"
    return _mine_page(request, uow, actor, {}, feed_url=url, status=201)


@router.post(MINE_PATH + "/calendar/revoke")
def revoke_feed(actor: PostingPerson, uow: UowDep) -> Response:
    """Stop the feed (nothing to do when there is none)."""
    if calendar.current_feed(uow, actor) is not None:
        uow.write(lambda _: calendar.do_revoke_feed(uow, actor))
    return see_other(MINE_PATH + "#calendar")


@router.get(MINE_PATH + "/figures")
def my_figures(request: Request, actor: SignedIn, uow: UowDep) -> Response:
    """My own figures, for my eyes only."""
    context = {"figures": figures.my_figures(uow, actor)}
    return render(request, "my_figures.html", context)


@router.get("/calendar/{token}.ics")
def calendar_feed(request: Request, token: str, uow: UowDep) -> Response:
    """The feed: no session needed, the token is the key; unknown or revoked is not found."""
    seen = calendar.calendar_for_token(uow, token)
    body = calendar_ics(seen, base_url(request), uow.clock.now())
    return Response(body, media_type=ICS, headers={"Cache-Control": "private, max-age=300"})
