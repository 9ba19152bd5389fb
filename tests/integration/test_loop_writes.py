"""Writes run on the event loop in the SQLite write turn (web/loop_writes.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from coauthor.db.engine import WriteTurn, make_engine, write_turn
from coauthor.web.loop_writes import LoopWriter


@pytest.fixture
def turn(tmp_path: Path) -> Iterator[WriteTurn]:
    engine = make_engine(f"sqlite:///{tmp_path / 'loop.sqlite3'}")
    found = write_turn(engine)
    assert found is not None
    yield found
    engine.dispose()


def _held_by_another_thread(turn: WriteTurn, seconds: float) -> threading.Event:
    holding = threading.Event()

    def hold() -> None:
        with turn:
            holding.set()
            time.sleep(seconds)

    threading.Thread(target=hold, daemon=True).start()
    assert holding.wait(5)
    return holding


def test_writes_wait_for_the_turn_in_the_loop_then_run_together_in_order(
    turn: WriteTurn,
) -> None:
    """While another thread holds the turn the writes wait without stopping the loop; then
    the queued ones are written together, in one call of ``write_all`` (a group commit), in
    the order they came, in the loop's thread holding the turn; each gets its own outcome."""
    groups: list[tuple[list[int], bool]] = []

    def write_all(items: Sequence[int]) -> list[object]:
        holds = turn.try_enter()  # re-entrant: the writer holds the turn now
        turn.exit()
        groups.append((list(items), holds))
        return [ValueError("refused") if item == 2 else item * 10 for item in items]

    async def scenario() -> tuple[list[object], float]:
        writer = LoopWriter(turn, lambda: "busy", write_all)
        _held_by_another_thread(turn, 0.3)
        ticks, started = 0, time.perf_counter()

        async def tick() -> None:
            nonlocal ticks
            while time.perf_counter() - started < 0.25:
                await asyncio.sleep(0.01)
                ticks += 1

        results = await asyncio.gather(tick(), *(writer.run(n) for n in range(4)))
        return results[1:], ticks

    results, ticks = asyncio.run(scenario())
    assert ticks >= 10, "the loop stood still while the writes waited for the turn"
    assert groups == [([0, 1, 2, 3], True)]
    assert results[0] == 0 and results[1] == 10 and results[3] == 30
    assert isinstance(results[2], ValueError)


def test_a_free_turn_writes_at_once_and_a_failed_group_fails_each_caller(
    turn: WriteTurn,
) -> None:
    groups: list[list[int]] = []

    def write_all(items: Sequence[int]) -> list[int]:
        groups.append(list(items))
        if 7 in items:
            raise RuntimeError("the commit failed")
        return list(items)

    async def scenario() -> list[object]:
        writer = LoopWriter(turn, lambda: "busy", write_all)
        first = await writer.run(1)
        second = await asyncio.gather(writer.run(7), return_exceptions=True)
        return [first, *second]

    first, failed = asyncio.run(scenario())
    assert first == 1 and isinstance(failed, RuntimeError)
    assert groups == [[1], [7]]


def test_a_turn_that_does_not_come_gives_the_timeout_answer(
    turn: WriteTurn, monkeypatch: pytest.MonkeyPatch
) -> None:
    import coauthor.db.engine

    monkeypatch.setattr(coauthor.db.engine, "TURN_TIMEOUT_SECONDS", 0.2)
    ran: list[int] = []
    _held_by_another_thread(turn, 1.0)

    async def scenario() -> object:
        writer = LoopWriter(turn, lambda: "busy", lambda items: [ran.append(1) for _ in items])
        return await writer.run(1)

    started = time.monotonic()
    assert asyncio.run(scenario()) == "busy" and ran == []
    assert 0.2 <= time.monotonic() - started < 0.9


def test_the_writer_answers_each_written_item_itself(turn: WriteTurn) -> None:
    """With ``answer``, the task that wrote a group answers every item of it right after the
    write; each caller gets what its answer returned, or the
    exception it raised, and a caller whose answer failed does not stop the others'."""
    answered: list[int] = []

    async def answer(item: int, outcome: object) -> object:
        answered.append(item)
        if item == 1:
            raise ConnectionError("the client went away")
        return f"answered {outcome}"

    async def scenario() -> list[object]:
        writer = LoopWriter(turn, lambda: "busy", lambda items: [i * 10 for i in items], answer)
        _held_by_another_thread(turn, 0.2)
        return await asyncio.gather(*(writer.run(n) for n in range(3)), return_exceptions=True)

    results = asyncio.run(scenario())
    assert results[0] == "answered 0" and results[2] == "answered 20"
    assert isinstance(results[1], ConnectionError)
    assert answered == [0, 1, 2]


class _Turn:
    """A turn that is free only when the test says so (and taken again once given back)."""

    def __init__(self) -> None:
        self.free = False

    def try_enter(self) -> bool:
        return self.free

    def exit(self) -> None:
        self.free = False


def test_a_queue_written_by_another_write_ends_its_poller_cleanly() -> None:
    """A write queues and its poller waits for the turn; the turn comes to the next write,
    which writes the queue with its own; the poller then finds nothing to wait for and
    ends, without an error, while the turn is taken again."""
    turn = _Turn()

    async def scenario() -> tuple[list[object], asyncio.Task[None] | None]:
        writer = LoopWriter(turn, lambda: "busy", lambda items: [i * 10 for i in items])  # type: ignore[arg-type]
        first = asyncio.ensure_future(writer.run(1))
        await asyncio.sleep(0.05)  # queued: its poller waits
        turn.free = True
        second = await writer.run(2)
        await asyncio.sleep(0.05)
        return [await first, second], writer._serving

    results, poller = asyncio.run(scenario())
    assert results == [10, 20]
    assert poller is not None and poller.done() and poller.exception() is None
