"""Writes grouped in one thread per event loop: the votes of a database server (PostgreSQL).

Every write of an alliance appends to its event chain and holds the chain's head row from
its ``SELECT … FOR UPDATE`` to its commit, so an alliance's votes queue for that row, each
holding it for its whole transaction (a vote's round trips and the commit, each waiting
for the interpreter lock under load). ``GroupWriter`` writes them as a group commit: an
item that arrives while a group is being written waits for it, and every item that
waited is then written in ONE call of ``write_all`` (for votes ``acts.do_votes`` in one
``uow.write``: one transaction, the head locked once, a constant number of statements,
one commit), in one thread of the writer's own; an item that finds
the writer idle is written at once, as a group of one. Each item keeps its own outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic

from coauthor.web.loop_writes import MAX_GROUP, Answer, Item, Pending, hand_out


class GroupWriter(Generic[Item]):
    """Writes items in groups, one group at a time, in a thread of its own."""

    def __init__(
        self,
        write_all: Callable[[Sequence[Item]], Sequence[Any]],
        answer: Answer[Item] | None = None,
    ) -> None:
        self._write_all = write_all
        self._answer = answer
        self._pending: list[Pending[Item]] = []
        self._serving: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coauthor-writes")

    async def run(self, item: Item) -> Any:
        """``item``'s outcome in ``write_all`` (or the exception ``write_all`` raised)."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._pending.append(Pending(item, done, deadline=0.0))
        if self._serving is None or self._serving.done():
            self._serving = loop.create_task(self._serve())
        return await asyncio.shield(done)

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            group, self._pending = self._pending[:MAX_GROUP], self._pending[MAX_GROUP:]
            items = [pending.item for pending in group]
            try:
                outcomes = await loop.run_in_executor(self._thread, self._write_all, items)
            except Exception as failed:  # handed to every request that awaits it
                for pending in group:
                    pending.done.set_exception(failed)
                continue
            await hand_out(list(zip(group, outcomes, strict=True)), self._answer)

    def close(self) -> None:
        self._thread.shutdown(wait=False)
