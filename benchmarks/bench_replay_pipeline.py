"""The replay on two threads against the replay on one, each run in a fresh process, alternating.

``coauthor.analysis.opinion.replay`` runs each update's power iteration on a
second thread (``pipelined``, the default for long replays) while the first
projects and groups the update before. This runs the synthetic histories of
``bench_replay.py`` (62,000 votes, 2,000 × 200; today's math and 2015's)
both ways for a few rounds, and prints for each run over the last 2,000
updates: wall updates per second, CPU milliseconds per update of the whole
process, of the calling thread and of the others (the power iteration's
thread), the process's peak memory and the load average. Every pipelined
result is checked against the sequential one (the same ``to_dict()``).

Each replay runs in a process of its own (spawned, so that nothing an
earlier replay left behind — its heap, its threads, its garbage — is there),
and the order of the two paths alternates from round to round, so that
neither always follows the other. Until 2026-11-30 the runs of an era
shared one process, each pipelined run after a sequential one.

A wall gain shows only on a machine with a core free for the second thread:
run it on a quiet machine, with single-threaded BLAS::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_replay_pipeline.py --rounds 3

Prints a markdown table; writes nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_replay import HISTORY, LAST_UPDATES, _seconds, planted_history

from coauthor.analysis.opinion import CURRENT, PolisMath, replay

PATHS = ("sequential", "pipelined")
ERAS = (("today (100 power iterations)", "2024-06-01", CURRENT), ("2015", "2015-06-01", None))


def timed(day: str, math: PolisMath | None, pipelined: bool) -> dict[str, Any]:
    """One replay: rates over its last updates, CPU per update (process, calling thread)."""
    warnings.filterwarnings("ignore")
    log = planted_history(**HISTORY, start=_seconds(day))
    marks: list[tuple[int, float, float, float]] = []

    def progress(done: int, total: int) -> None:
        if done in (total - LAST_UPDATES, total):
            marks.append((done, time.perf_counter(), time.process_time(), time.thread_time()))

    result = replay(**log, math=math, progress=progress, pipelined=pipelined)
    (done_0, wall_0, cpu_0, own_0), (done_1, wall_1, cpu_1, own_1) = marks[0], marks[-1]
    n = done_1 - done_0
    return {
        "rate": n / (wall_1 - wall_0),
        "cpu_ms": 1e3 * (cpu_1 - cpu_0) / n,
        "own_ms": 1e3 * (own_1 - own_0) / n,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load": os.getloadavg()[0],
        "result": result.to_dict(),
    }


def in_fresh_process(day: str, math: PolisMath | None, pipelined: bool) -> dict[str, Any]:
    """:func:`timed` in a newly spawned process, which ends with it."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as worker:
        return worker.submit(timed, day, math, pipelined).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="sequential/pipelined pairs per era")
    args = parser.parse_args()
    print(
        f"| history | round | path | updates / s, last {LAST_UPDATES:,} (wall) "
        "| CPU per update, all threads | calling thread | other threads | peak memory "
        "| load average |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, day, math in ERAS:
        for round_ in range(1, args.rounds + 1):
            order = PATHS if round_ % 2 else PATHS[::-1]
            runs = {name: in_fresh_process(day, math, name == "pipelined") for name in order}
            if runs["pipelined"]["result"] != runs["sequential"]["result"]:
                raise SystemExit("the pipelined replay differs from the sequential one")
            for name, run in runs.items():
                print(
                    f"| {label} | {round_} | {name} | {run['rate']:.0f} | {run['cpu_ms']:.3f} ms "
                    f"| {run['own_ms']:.3f} ms | {run['cpu_ms'] - run['own_ms']:.3f} ms "
                    f"| {run['peak_mb']:.0f} MB | {run['load']:.1f} |",
                    flush=True,
                )
    print("\nPipelined results: the same to_dict() as the sequential ones.")


if __name__ == "__main__":
    main()
