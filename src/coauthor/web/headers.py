"""Security headers on every response, as an ASGI middleware.

- ``Content-Security-Policy``: scripts, styles, images and fonts from this
  site only; no inline script (htmx and the API viewers' starters are files
  under /static), no plugins, no ``<base>``, forms post only here, and no
  framing (``frame-ancestors 'none'``, with ``X-Frame-Options: DENY`` for old
  browsers). The API viewers (Swagger UI, ReDoc) inject their own ``<style>``
  elements, so their two pages alone also allow inline styles.
- ``X-Content-Type-Options: nosniff``; ``Referrer-Policy: same-origin`` (the
  links of invitations and password resets never leave in a Referer);
  ``Cross-Origin-Opener-Policy``; a ``Permissions-Policy`` that turns off
  what Coauthor never uses.
- ``Strict-Transport-Security`` when the request came over HTTPS (directly,
  or through a trusted proxy: web/client.py).
- ``Cache-Control: no-store`` on everything but the static files: pages and
  API answers are private to whoever is signed in.
"""

from __future__ import annotations

import functools

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coauthor.web.client import scope_is_https

STRICT_CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
VIEWER_CSP = STRICT_CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'") + (
    "; worker-src blob:"
)
VIEWER_PATHS = frozenset({"/api/docs", "/api/redoc"})
HSTS = "max-age=31536000; includeSubDomains"
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def headers_for(path: str, https: bool) -> dict[str, str]:
    headers = dict(COMMON)
    headers["Content-Security-Policy"] = VIEWER_CSP if path in VIEWER_PATHS else STRICT_CSP
    if https:
        headers["Strict-Transport-Security"] = HSTS
    if not path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"
    return headers


@functools.cache
def _raw_headers(viewer: bool, https: bool, static: bool) -> tuple[tuple[bytes, bytes], ...]:
    """``headers_for`` a path of this kind, as raw header pairs (names in lower case, as
    ``MutableHeaders.append`` writes them), encoded once rather than for every response."""
    path = "/static/" if static else "/api/docs" if viewer else "/"
    return tuple(
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in headers_for(path, https).items()
    )


def raw_headers_for(path: str, https: bool) -> tuple[tuple[bytes, bytes], ...]:
    return _raw_headers(path in VIEWER_PATHS, https, path.startswith("/static/"))


def with_headers(message: Message, extra: tuple[tuple[bytes, bytes], ...]) -> None:
    """Add to a response's start those of ``extra`` whose name it does not carry already
    (compared as the raw names are, as ``MutableHeaders``' ``in`` compares them)."""
    headers = list(message["headers"])
    present = {name for name, _ in headers}
    headers.extend(pair for pair in extra if pair[0] not in present)
    message["headers"] = headers


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = raw_headers_for(scope["path"], scope_is_https(scope))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                with_headers(message, extra)
            await send(message)

        await self.app(scope, receive, send_with_headers)
