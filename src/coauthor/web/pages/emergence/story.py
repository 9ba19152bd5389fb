"""The shared story: a timeline page in chapters, and its Markdown and PDF downloads.

``?by=stage`` makes the chapters the alliance's stages instead of quarters.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from coauthor.domain.errors import ValidationFailed
from coauthor.reports.story import chapters_chart, glance, to_markdown, to_pdf, twists_chart
from coauthor.services import story as service
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.web.auth import UowDep, get_runtime
from coauthor.web.pages.deps import SignedIn
from coauthor.web.pages.layout import alliance_page

router = APIRouter()
SECTION = "story"


def _chaptering(by: str | None) -> service.Chaptering:
    try:
        return service.Chaptering(by or "quarter")
    except ValueError:
        raise ValidationFailed.one("by", "chapters go by quarter or by stage") from None


def _story(
    request: Request, uow: UowDep, actor: SignedIn, alliance_id: str, by: str | None
) -> service.Story:
    threshold = get_runtime(request).settings.anonymity_threshold
    return service.compose_story(uow, actor, alliance_id, threshold, _chaptering(by))


@router.get("/a/{alliance_id}/story")
def story_page(
    request: Request, alliance_id: str, actor: SignedIn, uow: UowDep, by: str | None = None
) -> Response:
    told = _story(request, uow, actor, alliance_id, by)
    access = open_alliance(uow, actor, alliance_id)
    context = {
        "story": told,
        "glance": glance(told),
        "twists_chart": twists_chart(told),
        "chapters_chart": chapters_chart(told),
        "by": told.chaptering.value,
    }
    return alliance_page(request, access, "story_timeline.html", SECTION, context)


def _download(body: bytes, media_type: str, name: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/a/{alliance_id}/story.md")
def story_markdown(
    request: Request, alliance_id: str, actor: SignedIn, uow: UowDep, by: str | None = None
) -> Response:
    told = _story(request, uow, actor, alliance_id, by)
    body = to_markdown(told).encode()
    return _download(body, "text/markdown; charset=utf-8", f"story-{alliance_id}.md")


@router.get("/a/{alliance_id}/story.pdf")
def story_pdf(
    request: Request, alliance_id: str, actor: SignedIn, uow: UowDep, by: str | None = None
) -> Response:
    told = _story(request, uow, actor, alliance_id, by)
    return _download(to_pdf(told), "application/pdf", f"story-{alliance_id}.pdf")
