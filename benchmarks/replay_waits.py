"""Where each thread of a pipelined replay spends its wall time, over the last 2,000 updates.

``coauthor.analysis.opinion.replay`` runs each update's power iteration on a
second thread (``opinion_pipeline.grouped_pipelined``). This
replays the synthetic 62,000-vote history of ``bench_replay.py`` (2,000 × 200,
today's math by default) with timers wrapped around the pipeline's steps, its
kernels and its two queues (nothing in the product is changed; the wrappers
cost a few microseconds per update), and prints for each thread, per update
over the last 2,000 updates:

* CPU time (``time.thread_time`` around each step, and the thread's total
  from ``/proc/self/task/<tid>/schedstat``), split into the compiled kernels
  and the Python between them;
* waiting for the other thread: blocked in its queue's ``get`` (the calling
  thread for the PCA thread's result, the PCA thread for the next request),
  and how long a blocked ``get`` took to wake up after the ``put`` that
  released it (the hand-off's latency);
* waiting for a core (the kernel's run-queue delay, from ``schedstat``): the
  other engineers' jobs;
* the rest of the wall time, neither running nor waiting for a core nor for
  a queue: waiting for the interpreter lock (a nogil kernel returning, or
  Python code, while the other thread runs Python).

``--sequential`` measures the one-thread path instead (no queues). Run it
with single-threaded BLAS::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/replay_waits.py [--era 2015]

Prints a markdown table; writes nothing.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import warnings
from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from queue import SimpleQueue
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_replay import HISTORY, LAST_UPDATES, _seconds, first_updates, planted_history

from coauthor.analysis import opinion_kernels, opinion_pipeline, opinion_votes
from coauthor.analysis.opinion import CURRENT, replay

KERNELS = (
    "add_votes",
    "pipelined_inputs",
    "placement_covariance",
    "voted_enough",
    "power_placement",
    "power_components",
    "sparse_projection",
    "power_projection",
    "warm_grouping",
    "grouping_by_row",
)
"""The compiled calls of a warm-started update (each releases the interpreter lock)."""

STEPS = (
    (opinion_votes.LiveVotes, "add"),
    (opinion_votes.LiveVotes, "snapshot"),
    (opinion_pipeline, "_split_placement"),
    (opinion_pipeline._Grouper, "_compiled"),
    (opinion_pipeline, "cluster"),
    (opinion_pipeline, "next_prior"),
    (opinion_pipeline, "place"),
    (opinion_pipeline._PcaThread, "_placed"),
)
"""The Python steps around them, timed with the kernels they call."""


class Ledger:
    """Per-thread sums of wall and CPU seconds by label, counted while ``on``."""

    def __init__(self) -> None:
        self.on = False
        self.wall: dict[tuple[str, str], float] = defaultdict(float)
        self.cpu: dict[tuple[str, str], float] = defaultdict(float)
        self.count: dict[tuple[str, str], int] = defaultdict(int)
        self.threads: dict[str, int] = {}

    def add(self, label: str, wall: float, cpu: float) -> None:
        if not self.on:
            return
        key = (threading.current_thread().name, label)
        self.wall[key] += wall
        self.cpu[key] += cpu
        self.count[key] += 1

    def timed(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.threads.setdefault(threading.current_thread().name, threading.get_native_id())
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.add(label, time.perf_counter() - wall, time.thread_time() - cpu)

        return wrapper


def timed_queue(ledger: Ledger) -> type:
    """A ``SimpleQueue`` whose ``get`` books its wait and the hand-off latency."""

    class TimedQueue(SimpleQueue):  # type: ignore[type-arg]
        def __init__(self) -> None:
            self.put_times: deque[float] = deque()

        def put(self, item: Any, *args: Any, **kwargs: Any) -> None:
            self.put_times.append(time.perf_counter())
            super().put(item, *args, **kwargs)

        def get(self, *args: Any, **kwargs: Any) -> Any:
            native_id = threading.get_native_id()
            ledger.threads.setdefault(threading.current_thread().name, native_id)
            on_core, for_core = schedstat(native_id)
            entered = time.perf_counter()
            item = super().get(*args, **kwargs)
            left = time.perf_counter()
            on_core_after, for_core_after = schedstat(native_id)
            put_at = self.put_times.popleft() if self.put_times else left
            waited, ran = left - entered, on_core_after - on_core
            ledger.add("queue wait", waited, ran)
            ledger.add("queue wait, asleep", waited - ran - (for_core_after - for_core), 0.0)
            if put_at > entered:  # this get was blocked until that put
                ledger.add("hand-off latency (blocked gets)", left - put_at, 0.0)
            return item

    return TimedQueue


def schedstat(native_id: int) -> tuple[float, float]:
    """A thread's seconds on a core and waiting for one, so far."""
    text = Path(f"/proc/self/task/{native_id}/schedstat").read_text().split()
    return int(text[0]) / 1e9, int(text[1]) / 1e9


def instrument(ledger: Ledger) -> None:
    for name in KERNELS:
        setattr(opinion_kernels, name, ledger.timed(name, getattr(opinion_kernels, name)))
    for owner, name in STEPS:
        setattr(owner, name, ledger.timed(name, getattr(owner, name)))
    opinion_pipeline.SimpleQueue = timed_queue(ledger)  # type: ignore[attr-defined]


def measure(math: Any, day: str, pipelined: bool) -> None:
    log = planted_history(**HISTORY, start=_seconds(day))
    for both in (True, False):  # every kernel compiled (or loaded) before it is wrapped
        replay(**first_updates(log, 200), math=math, pipelined=both)
    ledger = Ledger()
    instrument(ledger)
    marks: dict[str, tuple[float, dict[str, tuple[float, float]]]] = {}

    def progress(done: int, total: int) -> None:
        if done == total - LAST_UPDATES - 1:
            ledger.threads.setdefault("MainThread", threading.get_native_id())
            for thread in threading.enumerate():
                ledger.threads.setdefault(thread.name, thread.native_id or 0)
            marks["start"] = (time.perf_counter(), _stats(ledger))
            ledger.on = True
        elif done == total - 1:  # the PCA thread still runs
            ledger.on = False
            marks["end"] = (time.perf_counter(), _stats(ledger))

    replay(**log, math=math, progress=progress, pipelined=pipelined)
    _report(ledger, marks)


def _stats(ledger: Ledger) -> dict[str, tuple[float, float]]:
    live = {t.name for t in threading.enumerate()}
    return {name: schedstat(tid) for name, tid in ledger.threads.items() if name in live}


def _report(ledger: Ledger, marks: dict[str, Any]) -> None:
    (wall_0, stats_0), (wall_1, stats_1) = marks["start"], marks["end"]
    n = LAST_UPDATES
    wall = (wall_1 - wall_0) / n
    print(f"Last {n:,} updates: {1 / wall:.0f} updates / s wall ({1e3 * wall:.3f} ms each).\n")
    print("| thread | what | wall per update | CPU per update | calls per update |")
    print("| --- | --- | --- | --- | --- |")
    for thread in sorted({t for t, _ in ledger.wall}, key=lambda t: t != "MainThread"):
        rows = sorted((k for k in ledger.wall if k[0] == thread), key=lambda k: -ledger.wall[k])
        for key in rows:
            print(
                f"| {thread} | {key[1]} | {1e6 * ledger.wall[key] / n:.0f} µs "
                f"| {1e6 * ledger.cpu[key] / n:.0f} µs | {ledger.count[key] / n:.2f} |"
            )
        kernel_cpu = sum(ledger.cpu[(thread, k)] for k in KERNELS)
        queue = ledger.wall[(thread, "queue wait, asleep")]
        if thread in stats_0 and thread in stats_1:
            on_core = stats_1[thread][0] - stats_0[thread][0]
            for_core = stats_1[thread][1] - stats_0[thread][1]
            span = wall_1 - wall_0
            rest = span - on_core - for_core - queue
            for label, seconds in (
                ("on a core (schedstat)", on_core),
                ("of which compiled kernels", kernel_cpu),
                ("of which Python and the rest", on_core - kernel_cpu),
                ("waiting for a core (run queue)", for_core),
                ("asleep in its queue, for the other thread", queue),
                ("asleep elsewhere: for the interpreter lock", rest),
            ):
                print(f"| {thread} | **{label}** | {1e6 * seconds / n:.0f} µs | | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--era", choices=("today", "2015"), default="today")
    parser.add_argument("--sequential", action="store_true", help="the one-thread path")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    math, day = (CURRENT, "2024-06-01") if args.era == "today" else (None, "2015-06-01")
    measure(math, day, pipelined=not args.sequential)


if __name__ == "__main__":
    main()
