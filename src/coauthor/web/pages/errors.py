"""Error pages for people: the reason in words, with the right status.

A visitor who is not signed in is sent to the login page (303), and told
when their session has expired (401).
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from fastapi import Request, Response
from starlette.routing import Match

from coauthor.domain.errors import CoauthorError, NotAuthenticated
from coauthor.web.auth import session_expired
from coauthor.web.pages.deps import viewer_from_session
from coauthor.web.pages.rendering import render, safe_next, see_other

HEADINGS = {
    400: "That request did not work",
    401: "Please sign in",
    403: "You cannot do that here",
    404: "We could not find that",
    405: "That is not possible here",
    409: "That clashes with what is already there",
    422: "Please check what you entered",
    429: "Too many attempts",
    503: "Busy for a moment",
}
EXPLANATIONS = {
    403: "Your role in this alliance does not allow it. An alliance manager can help.",
    404: "It may have been removed, or you may not have access to it.",
    429: "Wait a few minutes before trying again.",
    503: "Nothing was saved. Send the form again in a moment.",
}


def return_path(request: Request) -> str:
    """Where to go back to after signing in: this page, or for a post the page it came from."""
    if request.method == "GET":
        query = f"?{request.url.query}" if request.url.query else ""
        return safe_next(request.url.path + query)
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc:
        return "/"
    return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))


ID_SEGMENT = re.compile(r"^[a-z]{2}_[A-Za-z0-9_-]+$")
FORM_PAGES = {"members": "partners"}
"""Where a form posted to ``…/<key>`` lives when the path itself shows nothing."""


def _shows_page(request: Request, path: str) -> bool:
    scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
    return any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes)


def form_page_of(request: Request) -> str:
    """The page a form posted to this path lives on: for a GET that only a post may use.

    After a form error the address bar shows the post's address (``…/members``);
    reloading it asks for that address, which only takes a post. Send the
    person back to the page that has the form, at the item the address names:
    ``/a/al_1/members/me_2`` → ``/a/al_1/partners#me_2``.
    """
    asked = request.url.path.rstrip("/")
    segments = [FORM_PAGES.get(part, part) for part in asked.split("/")]
    anchor = ""
    while len(segments) > 1:
        candidate = "/".join(segments)
        if candidate != asked and _shows_page(request, candidate):
            return candidate + (f"#{anchor}" if anchor else "")
        last = segments.pop()
        if not anchor and ID_SEGMENT.match(last) and len(segments) > 2:
            anchor = last
    return "/"


def sign_in_required(request: Request) -> Response:
    if session_expired(request):
        from coauthor.web.pages.accounts.session import login_page

        notice = "Your session expired. Please sign in again."
        return login_page(request, next_path=return_path(request), notice=notice, status=401)
    return see_other(f"/login?next={quote(return_path(request), safe='/')}")


def _page(
    request: Request, status: int, detail: str, messages: list[str] | None = None
) -> Response:
    context = {
        "status": status,
        "heading": HEADINGS.get(status, "Something went wrong"),
        "detail": detail,
        "explanation": EXPLANATIONS.get(status, ""),
        "messages": messages or [],
    }
    return render(request, "error.html", context, status=status)


def error_page(request: Request, exc: CoauthorError) -> Response:
    if isinstance(exc, NotAuthenticated):
        return sign_in_required(request)
    errors = getattr(exc, "errors", None) or []
    messages = [f"{e.field}: {e.message}" if e.loc else e.message for e in errors]
    detail = exc.detail if not messages else "Some of the input was not accepted."
    return _page(request, exc.status, detail, messages)


def http_error_page(request: Request, status: int, detail: str) -> Response:
    if not hasattr(request.state, "viewer"):
        request.state.viewer = viewer_from_session(request)
    return _page(request, status, detail)
