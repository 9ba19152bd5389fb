"""One-time notices ("Agreement saved.") carried across the redirect that follows a form.

The notice rides in a short-lived signed cookie, set on the redirect and read
(then cleared) by the next full page, which shows it at the top of its
content. Signing keeps anyone else from planting a message on our pages.
Requests that fetch only a fragment (htmx with a target) leave it for the
next full page.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from coauthor.web.auth import get_runtime

NOTICE_COOKIE = "coauthor_notice"
NOTICE_MAX_AGE_SECONDS = 120
KINDS = ("success", "error")


@dataclass(frozen=True)
class Notice:
    message: str
    kind: str = "success"
    """"success" (what was just done) or "error" (what could not be done, and why)."""


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_runtime(request).secret_key, salt="notice")


def leave_notice(request: Request, response: Response, notice: Notice) -> None:
    """Have the next full page show ``notice``."""
    value = _serializer(request).dumps({"m": notice.message, "k": notice.kind})
    response.set_cookie(
        NOTICE_COOKIE,
        value,
        max_age=NOTICE_MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=get_runtime(request).settings.secure_cookies,
        path="/",
    )


def _fetches_a_fragment(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and bool(request.headers.get("hx-target"))


def pending_notice(request: Request) -> Notice | None:
    """The notice left for this page; None when there is none, or this is only a fragment."""
    raw = request.cookies.get(NOTICE_COOKIE)
    if not raw or _fetches_a_fragment(request):
        return None
    try:
        data = _serializer(request).loads(raw, max_age=NOTICE_MAX_AGE_SECONDS)
        kind = data["k"] if data.get("k") in KINDS else "success"
        return Notice(str(data["m"]), kind)
    except (BadSignature, KeyError, TypeError, AttributeError):
        return None


def clear_notice(request: Request, response: Response) -> None:
    """Once a full page has shown the notice (or found it stale), the browser forgets it."""
    if request.cookies.get(NOTICE_COOKIE) and not _fetches_a_fragment(request):
        response.delete_cookie(NOTICE_COOKIE, path="/")
