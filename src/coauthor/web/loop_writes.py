"""Writes run on the event loop, one after another, while this process holds the write turn.

On SQLite a write first takes the database's write turn (``db/engine.py``: one writer at a
time). Run in request threads, a vote held the turn for far longer than its work: under
bench_live's load the event loop keeps the interpreter lock busy with polls, and a request
thread waits for it after every call into SQLite (up to the 5 ms switch interval each
time, a dozen times a vote); the next thread waited for the turn, then for the lock again
to run, and the answer waited for the loop to take it back. Votes queued for the turn
(about 200 ms at the median, 570 ms at p95 in a profiled 20-s run) while the turn was
mostly idle.

``LoopWriter`` runs such writes on the event loop itself, which already holds the
interpreter lock, and writes the items queued together in one call of ``write_all``
(for votes a group commit, ``acts.do_votes`` in one ``uow.write``: one transaction, one
commit). A write that
gets the turn at once (or within ``SPIN_SECONDS``: another process's write takes a few
milliseconds) runs in its request's task, with the writes queued before it, in order;
one that does not queues, and the queue is run by the next write that gets the turn, or
by a task that polls for the turn from the loop (holding no thread). A yield costs a
write a turn of the busy loop — tens of milliseconds under that load — so a write yields
only when the turn is taken, and the task that wrote a group answers each of its
requests at once (``hand_out``). Busy when the turn does not come within the busy
timeout. While it holds the turn
SQLite's lock is free for it, so a write waits for nothing but the disk; a program that
writes without taking turns (the ``sqlite3`` shell) could still make one wait up to the
busy timeout, and with it this process's loop. In the same profiled run after the
change, a vote's time in the server (from admission to its answer sent): median 10.6 ms
(355 and 385 ms in two runs before), p95 580 ms (1,040 and 960 ms); most of the tail is
votes that found the turn taken by the other web process or the results worker's release.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from coauthor.db import engine
from coauthor.db.engine import TURN_POLL_FIRST_SECONDS, TURN_POLL_MAX_SECONDS, WriteTurn

Item = TypeVar("Item")
Answer = Callable[[Item, Any], Awaitable[Any]]
"""``answer(item, outcome)``: see ``hand_out``."""

MAX_GROUP = 64
"""Most items written in one call of ``write_all`` (one transaction): a longer queue is
written in several, one after the other, in the same turn while ``BATCH_SECONDS`` lasts."""

BATCH_SECONDS = 0.05
"""Longest the loop runs queued writes in one turn before it gives the turn back (and the
loop to the polls)."""


SPIN_SECONDS = 0.01
"""Longest the loop itself waits for a busy turn before the write queues for it."""
SPIN_PAUSE_SECONDS = 0.0002


@dataclass
class Pending(Generic[Item]):
    item: Item
    done: asyncio.Future[Any]
    deadline: float
    """When the write's wait for the turn ends in ``on_timeout``'s answer."""


class LoopWriter(Generic[Item]):
    """Writes items on one event loop, in the write turn of one database, the items queued
    together in one call of ``write_all`` (a group commit)."""

    def __init__(
        self,
        turn: WriteTurn,
        on_timeout: Callable[[], Any],
        write_all: Callable[[Sequence[Item]], Sequence[Any]],
        answer: Answer[Item] | None = None,
    ) -> None:
        self._turn = turn
        self._on_timeout = on_timeout
        self._write_all = write_all
        self._answer = answer
        self._pending: deque[Pending[Item]] = deque()
        self._serving: asyncio.Task[None] | None = None

    async def run(self, item: Item) -> Any:
        """``item``'s outcome in ``write_all`` (or the exception ``write_all`` raised), run
        on the loop in the turn; when the turn does not come within
        ``TURN_TIMEOUT_SECONDS``, ``on_timeout()``.

        When the turn is free now (or within ``SPIN_SECONDS``: another process's write is a
        few milliseconds) the item is written at once, in this task, with the items queued
        before it: a busy loop takes tens of milliseconds to come back to a task that
        yields, which is most of a vote's time when it waits in the queue."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        deadline = time.monotonic() + engine.TURN_TIMEOUT_SECONDS
        self._pending.append(Pending(item, done, deadline))
        if self._turn_within(SPIN_SECONDS):
            try:
                written = self._write_for(BATCH_SECONDS)
            finally:
                self._turn.exit()
            await hand_out(written, self._answer)
        if self._pending and (self._serving is None or self._serving.done()):
            self._serving = loop.create_task(self._serve())
        return await asyncio.shield(done)

    def close(self) -> None:
        """Nothing to release: the writer holds no thread and holds the turn only while
        it writes."""

    async def _serve(self) -> None:
        while self._pending:
            if await self._take_turn():
                try:
                    written = self._write_for(BATCH_SECONDS)
                finally:
                    self._turn.exit()
                await hand_out(written, self._answer)
            else:
                self._time_out()
            await asyncio.sleep(0)

    def _turn_within(self, seconds: float) -> bool:
        """Take the turn if it comes within ``seconds``, waiting in this thread (the loop)."""
        give_up = time.perf_counter() + seconds
        while not self._turn.try_enter():
            if time.perf_counter() >= give_up:
                return False
            time.sleep(SPIN_PAUSE_SECONDS)
        return True

    async def _take_turn(self) -> bool:
        """The turn, for the queue: waited for in this thread for ``SPIN_SECONDS`` first (a
        yield costs the queue a turn of the busy loop), then polled from the loop."""
        if self._turn_within(SPIN_SECONDS):
            return True
        pause = TURN_POLL_FIRST_SECONDS
        while not self._turn.try_enter():
            if not self._pending or time.monotonic() >= self._pending[0].deadline:
                return False  # written meanwhile by a write that got the turn, or timed out
            await asyncio.sleep(pause)
            pause = min(pause * 2, TURN_POLL_MAX_SECONDS)
        return True

    def _write_for(self, seconds: float) -> list[tuple[Pending[Item], Any]]:
        """Write the queued items in order, ``MAX_GROUP`` at a time, for about ``seconds``:
        each written item with its outcome, to hand out once the turn is given back."""
        started = time.perf_counter()
        written: list[tuple[Pending[Item], Any]] = []
        while self._pending and time.perf_counter() - started < seconds:
            group = [self._pending.popleft() for _ in range(min(MAX_GROUP, len(self._pending)))]
            written += write_group(group, self._write_all)
        return written

    def _time_out(self) -> None:
        """Answer the writes whose wait for the turn is over."""
        now = time.monotonic()
        while self._pending and self._pending[0].deadline <= now:
            self._pending.popleft().done.set_result(self._on_timeout())


def write_group(
    group: Sequence[Pending[Item]], write_all: Callable[[Sequence[Item]], Sequence[Any]]
) -> list[tuple[Pending[Item], Any]]:
    """Write a group's items: each with its outcome; when ``write_all`` raises, every item's
    caller gets that exception at once (and nothing is to be handed out)."""
    try:
        outcomes = write_all([pending.item for pending in group])
    except Exception as failed:  # handed to every request that awaits it
        for pending in group:
            pending.done.set_exception(failed)
        return []
    return list(zip(group, outcomes, strict=True))


async def hand_out(written: list[tuple[Pending[Item], Any]], answer: Answer[Item] | None) -> None:
    """Hand each written item its outcome, through ``answer`` first when there is one.

    ``answer(item, outcome)`` lets the writer answer the item's request itself, at once
    (a request whose write another task ran waits a turn or two of a busy event loop to
    run again); what it returns is the item's result. An item whose answer failed gets
    that exception; one not reached (the writer was cancelled) gets its outcome, for its
    own request to answer."""
    remaining = list(written)
    try:
        while remaining:
            pending, outcome = remaining[0]
            try:
                result = outcome if answer is None else await answer(pending.item, outcome)
            except Exception as failed:
                pending.done.set_exception(failed)
            else:
                pending.done.set_result(result)
            remaining.pop(0)
    finally:
        for pending, outcome in remaining:
            if not pending.done.done():
                pending.done.set_result(outcome)
