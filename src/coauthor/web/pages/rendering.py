"""Templates, their filters, and the responses every page handler returns."""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from coauthor.reports import ledger as ledger_formatting
from coauthor.reports.charts import reciprocity_chart, stack
from coauthor.reports.formatting import (
    describe_browser,
    event_label,
    format_date,
    format_datetime,
    format_number,
    format_percent,
    label,
    sentence,
)
from coauthor.web.auth import csrf_token, read_session, write_session
from coauthor.web.pages.links import item_url
from coauthor.web.pages.notices import clear_notice, pending_notice

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def options(items: Iterable[Any]) -> list[tuple[str, str]]:
    """(value, label) pairs for a select, from an enum or from ``Choice`` rows."""
    pairs = []
    for item in items:
        if hasattr(item, "value"):
            pairs.append((str(item.value), label(item)))
        else:
            pairs.append((item.id, item.label))
    return pairs


_viewer_zone: ContextVar[str] = ContextVar("viewer_zone", default="UTC")
"""The time zone of whoever the page being rendered is for (set by ``render``), so that
macros imported without context show times in it too."""


def local_datetime(value: datetime | None) -> str:
    """A moment in the viewer's time zone (UTC for a visitor who has not signed in)."""
    return format_datetime(value, _viewer_zone.get())


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        label=label,
        browser=describe_browser,
        event_label=event_label,
        date=format_date,
        datetime=local_datetime,
        number=format_number,
        percent=format_percent,
        sentence=sentence,
        options=options,
        stack=stack,
        reciprocity_chart=reciprocity_chart,
    )
    env.filters.update(ledger_formatting.FILTERS)
    env.globals["csrf_token"] = csrf_token
    env.globals["item_url"] = item_url
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """Render a template; an anonymous visitor gets a session cookie for their CSRF token.

    A full page also shows (once) the notice a form left before redirecting here.
    """
    viewer = getattr(request.state, "viewer", None)
    values = {"actor": viewer, "notice_left": pending_notice(request), **(context or {})}
    zone = _viewer_zone.set(getattr(viewer, "time_zone", "UTC"))
    try:
        response = templates.TemplateResponse(request, name, values, status_code=status)
    finally:
        _viewer_zone.reset(zone)
    clear_notice(request, response)
    session = read_session(request)
    if session.person_id is None:
        write_session(request, response, session)
    return response


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def safe_next(value: str | None) -> str:
    """Only a path on this site, never another host (``//evil``, ``https://…``)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(char) < 32 for char in value):
        return "/"
    return value


def page_url(request: Request, parameter: str, cursor: str | None) -> str | None:
    """This page's URL with ``parameter`` set to ``cursor`` (the link to a list's next page)."""
    if cursor is None:
        return None
    url = request.url.include_query_params(**{parameter: cursor})
    return f"{url.path}?{url.query}"


def is_partial(request: Request, target: str) -> bool:
    """True for an htmx request that asks to swap only the element ``#target``."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-boosted") != "true"
        and headers.get("hx-target") == target
    )
