"""The two earliest moments of a request, for vote timelines (``web/vote_timeline.py``).

``coauthor serve`` uses these only while ``COAUTHOR_VOTE_TIMELINE`` is set: uvicorn's
httptools protocol, which also notes when it read a request's first bytes, and a wrapper
around the app that notes when the request's task first ran it. The gap between the two is
the request's wait in the event loop's queue (behind the polls and votes before it).
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from coauthor.web.vote_timeline import READ_KEY, TASK_KEY

TIMED_PROTOCOL = "coauthor.web.timed_serving:TimedHttpToolsProtocol"
TIMED_APP_FACTORY = "coauthor.web.timed_serving:create_timed_app"


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, noting in each request's scope when it began reading
    it (the parser's first callback of a message, in the same ``data_received``)."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope[READ_KEY] = time.perf_counter()  # type: ignore[literal-required]


class FirstSight:
    """The app, noting in each HTTP request's scope when its task first ran."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[TASK_KEY] = time.perf_counter()
        await self.app(scope, receive, send)


def create_timed_app() -> FirstSight:
    """``create_served_app``'s app from the environment, wrapped (uvicorn's factory for the
    web processes of ``serve --workers N``)."""
    from coauthor.web.app import create_served_app

    return FirstSight(create_served_app())
