"""At most as many requests at work as the database pool has connections for.

A request holds a database connection from its first query until its unit
of work closes, across the thread hops of FastAPI's synchronous dependencies
and handlers. With more requests at work than connections, threads block
waiting for a connection while the requests that hold the connections wait
for a thread to finish on: a deadlock that only the pool's timeout breaks
(``benchmarks/bench_live.py`` found it: 200 pollers, no answer for seconds,
then 503s). Requests beyond the limit wait here, in the event loop, holding
no thread and no connection, and go on in the order they came.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

from coauthor.db.engine import POOL_OVERFLOW, POOL_SIZE

RESERVED_CONNECTIONS = 4
"""Kept for the results worker and the command line sharing the process's pool."""
ADMITTED = POOL_SIZE + POOL_OVERFLOW - RESERVED_CONNECTIONS


class AdmissionControl:
    """Lets ``limit`` HTTP requests at a time into the app; the others wait their turn."""

    def __init__(self, app: ASGIApp, limit: int = ADMITTED) -> None:
        self.app = app
        self.limit = limit
        self._turns: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._turns is None:
            self._turns = asyncio.Semaphore(self.limit)
        async with self._turns:
            await self.app(scope, receive, send)
