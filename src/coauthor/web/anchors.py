"""Redirects keep their #anchor for htmx too.

A boosted form post (htmx) follows a redirect inside XMLHttpRequest, which
drops the fragment of ``Location``: "saved" would land at the top of
``…/agreements`` instead of at ``#ag_…``. For such a request a redirect
whose location has an anchor is answered instead with ``HX-Location``,
which htmx follows itself: it fetches the page, swaps it in, pushes the URL
with its anchor and scrolls there. Browsers without JavaScript get the plain
redirect, and keep the anchor as browsers do.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REDIRECTS = frozenset({301, 302, 303, 307, 308})


class AnchorRedirects:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or Headers(scope=scope).get("hx-boosted") != "true":
            await self.app(scope, receive, send)
            return

        async def send_with_anchor(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in REDIRECTS:
                headers = MutableHeaders(raw=list(message["headers"]))
                location = headers.get("location", "")
                if "#" in location:
                    del headers["location"]
                    headers["HX-Location"] = json.dumps({"path": location, "target": "body"})
                    message = {**message, "status": 200, "headers": headers.raw}
            await send(message)

        await self.app(scope, receive, send_with_anchor)
