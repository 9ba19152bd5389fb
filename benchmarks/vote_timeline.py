"""Summarise the vote timelines a server logged (``COAUTHOR_VOTE_TIMELINE``).

Run a benchmark with the variable set, e.g.
``COAUTHOR_VOTE_TIMELINE=/tmp/votes.jsonl python benchmarks/bench_live.py --seconds 20``
(every web process of the server appends to the file), then
``python benchmarks/vote_timeline.py /tmp/votes.jsonl``: the median and p95, in ms, of
each step of a vote (from its arrival in the vote layer to its answer sent), of its
whole time, of the CPU time of the thread that wrote it, and of the batch it was
written in.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

STEPS = ("started", "person", "committed", "resumed", "sent")
"""In order: the write began (turn taken / writer reached), the person was found, the
write committed, the request's task ran again, the answer was sent."""


def summary(lines: list[dict]) -> list[str]:
    rows = ["| step | median ms | p95 ms |", "| --- | ---: | ---: |"]
    previous = "arrived"
    for step in STEPS:
        spans = [
            line["marks"][step] - line["marks"].get(previous, 0.0)
            for line in lines
            if step in line["marks"] and (previous == "arrived" or previous in line["marks"])
        ]
        rows.append(_row(f"{previous} → {step}", spans))
        previous = step
    rows.append(_row("whole (arrived → sent)", [line["marks"]["sent"] for line in lines]))
    rows.append(_row("CPU of the writing thread per vote", [_cpu_per_vote(x) for x in lines]))
    rows.append(_row("votes in its batch", [float(line["batch"]) for line in lines]))
    return rows


def _cpu_per_vote(line: dict) -> float:
    """A batch's CPU is recorded with each of its votes: each vote's share of it."""
    return line["cpu_ms"] / max(1, line["batch"])


def _row(name: str, values: list[float]) -> str:
    if not values:
        return f"| {name} | – | – |"
    median, p95 = np.percentile(values, [50, 95])
    return f"| {name} | {median:.1f} | {p95:.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument(
        "--loads", type=int, default=2, help="loads per server (bench_live: paced, saturation)"
    )
    args = parser.parse_args()
    with open(args.path, encoding="utf-8") as log:
        lines = [json.loads(text) for text in log if text.strip()]
    lines = sorted((line for line in lines if "sent" in line["marks"]), key=_arrival)
    for number, part in enumerate(_runs(lines, args.loads), start=1):
        print(f"\nRun {number} (in the order the benchmark ran its loads): {len(part)} votes")
        print("\n".join(summary(part)))


def _arrival(line: dict) -> float:
    return line["at"]


def _runs(lines: list[dict], loads: int) -> list[list[dict]]:
    """The votes of each load, apart: by server (the web processes' parent; bench_live
    starts one per database), then each server's split at its ``loads - 1`` longest pauses
    between arrivals (bench_live's watcher runs on after the voters of a load stop)."""
    servers: dict[int, list[dict]] = {}
    for line in lines:
        servers.setdefault(line.get("server", 0), []).append(line)
    return [run for served in servers.values() for run in _split(served, loads)]


def _split(lines: list[dict], loads: int) -> list[list[dict]]:
    gaps = sorted(
        range(1, len(lines)), key=lambda n: lines[n]["at"] - lines[n - 1]["at"], reverse=True
    )
    cuts = sorted(gaps[: loads - 1])
    return [lines[start:end] for start, end in zip([0, *cuts], [*cuts, len(lines)], strict=True)]


if __name__ == "__main__":
    main()
