"""Summarise the vote timelines a server and its voters logged (``COAUTHOR_VOTE_TIMELINE``).

Run a benchmark with the variable set, e.g.
``COAUTHOR_VOTE_TIMELINE=/tmp/votes.jsonl python benchmarks/bench_live.py --seconds 20``
(every web process of the server appends to the file, and so do bench_live's voters), then
``python benchmarks/vote_timeline.py /tmp/votes.jsonl``. For each run, the median and p95,
in ms, of each step of a vote, from the voter's sending it to the voter's reading its
answer, and the mean of each step over the slowest twentieth of the votes (by the voter's
time: where the p95 goes); then the whole time as the voter saw it and as the vote layer
did, the CPU time of the thread that wrote it, and the votes in its batch. The moments are
``time.perf_counter``'s of each process, CLOCK_MONOTONIC on Linux and so comparable.
"""

from __future__ import annotations

import argparse
import itertools
import json

import numpy as np

STEPS = (
    "client_sent",
    "client_written",
    "read",
    "task",
    "admitted",
    "arrived",
    "started",
    "person",
    "committed",
    "resumed",
    "sent",
    "client_read",
    "client_received",
)
"""In order: the voter is about to write the request; (``httpx`` voters only) its head has
been written to the socket; the server process read its first bytes
(``web/timed_serving.py``); its task first ran the app; the vote layer took it in (past
admission control); its body was read; its write began (turn taken / writer reached);
its person was found; the write committed; the answering task ran; the answer was sent;
(``httpx`` voters only) ``httpx`` read the answer's last byte; the voter has the answer.
A step missing from a line (a voter that logs nothing, or not that step; a server
without the timed protocol) is left out: the span runs from the step before it."""


def summary(lines: list[dict]) -> list[str]:
    rows = [
        "| step | median ms | p95 ms | mean ms, slowest 5 % |",
        "| --- | ---: | ---: | ---: |",
    ]
    slowest = _slowest_twentieth(lines)
    pairs = sorted(
        {pair for line in lines for pair in _pairs(line)},
        key=lambda pair: (STEPS.index(pair[0]), STEPS.index(pair[1])),
    )
    for earlier, later in pairs:
        spans = [_span_of_pair(line, earlier, later) for line in lines]
        among_slowest = [_span_of_pair(line, earlier, later) for line in slowest]
        rows.append(_row(f"{earlier} → {later}", spans, among_slowest))
    for first, last, name in (
        ("client_sent", "client_received", "as the voter saw it"),
        ("arrived", "sent", "in the vote layer (arrived → sent)"),
    ):
        spans = [_span(line, first, last) for line in lines]
        rows.append(_row(f"whole, {name}", spans, [_span(x, first, last) for x in slowest]))
    for name, value in (
        ("CPU of the writing thread per vote", _cpu_per_vote),
        ("votes in its batch", _batch),
    ):
        rows.append(_row(name, [value(x) for x in lines], [value(x) for x in slowest]))
    return rows


def _pairs(line: dict) -> list[tuple[str, str]]:
    """The line's steps present, each with the next one present."""
    return list(itertools.pairwise(step for step in STEPS if step in line["marks"]))


def _span_of_pair(line: dict, earlier: str, later: str) -> float | None:
    """The span from ``earlier`` to ``later`` when they follow each other in this line."""
    return _span(line, earlier, later) if (earlier, later) in _pairs(line) else None


def _span(line: dict, earlier: str, later: str) -> float | None:
    marks = line["marks"]
    if earlier in marks and later in marks:
        return 1000 * (marks[later] - marks[earlier])
    return None


def _slowest_twentieth(lines: list[dict]) -> list[dict]:
    """The slowest 5 % of the votes, by the voter's time where it logged it, else by the
    server's."""
    first = "client_sent" if any("client_sent" in x["marks"] for x in lines) else "arrived"
    last = "client_received" if first == "client_sent" else "sent"
    timed = [line for line in lines if _span(line, first, last) is not None]
    timed.sort(key=lambda line: _span(line, first, last) or 0.0)
    return timed[int(0.95 * len(timed)) :]


def _cpu_per_vote(line: dict) -> float:
    """A batch's CPU is recorded with each of its votes: each vote's share of it."""
    return line["cpu_ms"] / max(1, line["batch"])


def _batch(line: dict) -> float:
    return float(line["batch"])


def _row(name: str, values: list[float | None], among_slowest: list[float | None]) -> str:
    known = [value for value in values if value is not None]
    slow = [value for value in among_slowest if value is not None]
    if not known:
        return f"| {name} | – | – | – |"
    median, p95 = np.percentile(known, [50, 95])
    mean_slow = f"{np.mean(slow):.1f}" if slow else "–"
    return f"| {name} | {median:.1f} | {p95:.1f} | {mean_slow} |"


def joined(lines: list[dict]) -> list[dict]:
    """The server's lines of answered votes, each with its voter's marks when the voter
    logged them under the same id."""
    from_voters = {line["client"]: line["marks"] for line in lines if "client" in line}
    served = [line for line in lines if "client" not in line and "sent" in line["marks"]]
    for line in served:
        line["marks"] |= from_voters.get(line.get("id"), {})
    return served


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument(
        "--loads",
        type=int,
        default=2,
        help="runs per server (bench_live: its loads × its voters' clients; by default 2)",
    )
    args = parser.parse_args()
    with open(args.path, encoding="utf-8") as log:
        lines = [json.loads(text) for text in log if text.strip()]
    lines = sorted(joined(lines), key=_arrival)
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
