"""Writes run on the event loop in the SQLite write turn (web/loop_writes.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
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


def test_writes_wait_for_the_turn_in_the_loop_then_run_in_order(turn: WriteTurn) -> None:
    """While another thread holds the turn the writes wait without stopping the loop; then
    each runs once, in the order they came, in the loop's thread; a failure reaches only
    its own caller."""
    ran: list[tuple[int, bool]] = []

    def write(number: int) -> int:
        holds = turn.try_enter()  # re-entrant: the writer holds the turn now
        turn.exit()
        ran.append((number, holds))
        if number == 2:
            raise ValueError("refused")
        return number * 10

    async def scenario() -> tuple[list[object], float]:
        writer = LoopWriter(turn, lambda: "busy")
        _held_by_another_thread(turn, 0.3)
        ticks, started = 0, time.perf_counter()

        async def tick() -> None:
            nonlocal ticks
            while time.perf_counter() - started < 0.25:
                await asyncio.sleep(0.01)
                ticks += 1

        results = await asyncio.gather(
            tick(),
            *(writer.run(lambda n=n: write(n)) for n in range(4)),
            return_exceptions=True,
        )
        return results[1:], ticks

    results, ticks = asyncio.run(scenario())
    assert ticks >= 10, "the loop stood still while the writes waited for the turn"
    assert ran == [(0, True), (1, True), (2, True), (3, True)]
    assert results[0] == 0 and results[1] == 10 and results[3] == 30
    assert isinstance(results[2], ValueError)


def test_a_turn_that_does_not_come_gives_the_timeout_answer(
    turn: WriteTurn, monkeypatch: pytest.MonkeyPatch
) -> None:
    import coauthor.db.engine

    monkeypatch.setattr(coauthor.db.engine, "TURN_TIMEOUT_SECONDS", 0.2)
    ran: list[int] = []
    _held_by_another_thread(turn, 1.0)

    async def scenario() -> object:
        return await LoopWriter(turn, lambda: "busy").run(lambda: ran.append(1))

    started = time.monotonic()
    assert asyncio.run(scenario()) == "busy" and ran == []
    assert 0.2 <= time.monotonic() - started < 0.9
