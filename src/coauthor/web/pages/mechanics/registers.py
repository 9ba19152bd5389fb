"""The alliance's registers: agreements, governance, risks and contributions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request, Response

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.reports.charts import HUNDRED, Segment, stack
from coauthor.services.mechanics import views
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.services.paging import PageRequest, page_of
from coauthor.web.auth import UowDep
from coauthor.web.pages.deps import SignedIn
from coauthor.web.pages.layout import alliance_page
from coauthor.web.pages.rendering import page_url, render

router = APIRouter()
RISKS_PER_PAGE = 25


@dataclass(frozen=True)
class SharePreview:
    segments: list[Segment]
    total: Decimal

    @property
    def complete(self) -> bool:
        return self.total == HUNDRED


def _percents(values: Mapping[str, str]) -> dict[str, Decimal]:
    """Partner id → percent from a risk form's share rows, skipping what does not parse."""
    percents: dict[str, Decimal] = {}
    index = 0
    while f"shares.{index}.partner_id" in values:
        partner_id = values[f"shares.{index}.partner_id"]
        try:
            percent = Decimal(values.get(f"shares.{index}.percent", "").strip() or 0)
        except InvalidOperation:
            percent = Decimal(0)
        if percent.is_finite() and percent > 0:
            percents[partner_id] = percent
        index += 1
    return percents


def preview_context(
    uow: UnitOfWork, actor: m.Person, alliance_id: str, values: Mapping[str, str]
) -> dict[str, Any]:
    shares = views.share_preview(uow, actor, alliance_id, _percents(values))
    total = sum((share.percent for share in shares), Decimal(0))
    return {"preview": SharePreview(stack(shares), total)}


@router.get("/a/{alliance_id}/agreements")
def agreements(request: Request, alliance_id: str, actor: SignedIn, uow: UowDep) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    context = {"agreements": views.agreements(uow, actor, alliance_id)}
    return alliance_page(request, access, "agreements.html", "agreements", context)


@router.get("/a/{alliance_id}/governance")
def governance(
    request: Request,
    alliance_id: str,
    actor: SignedIn,
    uow: UowDep,
    body: str | None = None,
    upcoming: str | None = None,
    past: str | None = None,
) -> Response:
    """Bodies, then their meetings a page at a time (``?body=`` for one body's)."""
    access = open_alliance(uow, actor, alliance_id)
    found = views.governance(
        uow,
        actor,
        alliance_id,
        body_id=body or None,
        upcoming=_page(upcoming, views.MEETINGS_PER_PAGE),
        past=_page(past, views.MEETINGS_PER_PAGE),
    )
    context = {
        "governance": found,
        "more_upcoming": page_url(request, "upcoming", found.upcoming.next_cursor),
        "more_past": page_url(request, "past", found.past.next_cursor),
    }
    return alliance_page(request, access, "governance.html", "governance", context)


def _page(cursor: str | None, size: int) -> PageRequest:
    return PageRequest.parse(size, cursor or None)


@router.get("/a/{alliance_id}/risks")
def risks(
    request: Request, alliance_id: str, actor: SignedIn, uow: UowDep, after: str | None = None
) -> Response:
    """The register, highest score first, a page at a time."""
    access = open_alliance(uow, actor, alliance_id)
    register = views.risk_register(uow, actor, alliance_id)
    shown = page_of(register, _risk_order, _page(after, RISKS_PER_PAGE))
    context = {
        "risks": shown.items,
        "total": len(register),
        "more": page_url(request, "after", shown.next_cursor),
    }
    return alliance_page(request, access, "risks.html", "risks", context)


def _risk_order(view: views.RiskView) -> tuple[int, str, str]:
    return (-view.score, view.risk.title.lower(), view.risk.id)


@router.get("/a/{alliance_id}/risks/share-preview")
def share_preview(request: Request, alliance_id: str, actor: SignedIn, uow: UowDep) -> Response:
    """The stacked bar and total of the shares being typed into a risk form (for htmx)."""
    values = dict(request.query_params)
    return render(request, "_share_preview.html", preview_context(uow, actor, alliance_id, values))


@router.get("/a/{alliance_id}/contributions")
def contributions(request: Request, alliance_id: str, actor: SignedIn, uow: UowDep) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    context = {"contributions": views.contributions(uow, actor, alliance_id)}
    return alliance_page(request, access, "contributions.html", "contributions", context)
