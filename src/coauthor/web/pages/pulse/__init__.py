"""Pages for the pulse: the tab, a wave and its results, links, answering, imports."""

from __future__ import annotations

from fastapi import APIRouter

from coauthor.reports.pulse_report import agreement_band, closing, p_value, statistic
from coauthor.web.pages.pulse import answer, home, imports
from coauthor.web.pages.rendering import templates

templates.env.filters.update(
    stat=statistic, p_value=p_value, agreement_band=agreement_band, closing=closing
)

router = APIRouter()
for _part in (home, answer, imports):
    router.include_router(_part.router)

__all__ = ["router"]
