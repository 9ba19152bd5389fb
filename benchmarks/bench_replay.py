"""Benchmark replaying a conversation's vote history (``coauthor.analysis.opinion.replay``).

A replay recomputes Pol.is's groups after every 1-second batch of votes. Its
baseline is the update-by-update path it must equal: ``analyze(matrix,
previous=...)`` after every batch, rebuilding the matrix each time. Measured:

* a synthetic history of 62,000 votes by 2,000 participants on 200
  statements (four planted opinion groups, participants arriving over two
  days, statements added over the first half), dated 2015 (Pol.is's math of
  then: 10 power iterations, 50 base clusters, zero imputation) and dated
  today (100 power iterations): the baseline and the replay on the first
  updates, which must give the same result, then the replay of the whole
  history, and its rate over the last 2,000 updates (at 2,000 × 200);
* the vote log of ``vtaiwan.uberx`` (``tests/data/polis``), with the math of
  each update's date.

The replays run on two threads (``replay``'s default for long histories; the
update-by-update comparison checks that path); CPU time is the whole
process's. ``bench_replay_pipeline.py`` compares them with one thread.

Prints a markdown table; ``--write`` also puts it into ``docs/performance.md``
between the bench-replay markers.

Usage: ``python benchmarks/bench_replay.py [--prefix 1500] [--write]``
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "polis"
DOC = ROOT / "docs" / "performance.md"
sys.path.insert(0, str(ROOT / "scripts"))  # shared helpers for the scripts that write docs/

from doc_section import replace_marked_section  # noqa: E402

from coauthor.analysis.opinion import (  # noqa: E402
    CURRENT,
    OpinionResult,
    PolisMath,
    analyze,
    polis_math_at,
    replay,
)
from coauthor.analysis.opinion_replay import update_matrices  # noqa: E402

START, END = "<!-- bench-replay:start -->", "<!-- bench-replay:end -->"
HISTORY = {"participants": 2_000, "statements": 200, "votes": 62_000}
GOALS = {"history_seconds": 60.0, "updates_per_second": 1_000.0}
LAST_UPDATES = 2_000
SECONDS_PER_VOTE = 3.0


def planted_history(
    participants: int, statements: int, votes: int, *, start: float, groups: int = 4, seed: int = 0
) -> dict[str, Any]:
    """A vote log: participants arrive over time and vote on statements already written.

    Each participant casts about ``votes / participants`` votes a few seconds
    apart; four latent opinion groups decide agree / disagree / pass, with
    noise. Exactly ``votes`` distinct (participant, statement) votes.
    """
    rng = np.random.default_rng(seed)
    duration = SECONDS_PER_VOTE * votes
    arrival = np.sort(rng.random(participants)) * duration * 0.9
    created = np.sort(rng.random(statements)) * duration * 0.5
    created[: statements // 10] = 0.0
    wanted = np.full(participants, votes // participants)
    wanted[: votes - wanted.sum()] += 1
    rows, cols, times = [], [], []
    owed = 0
    for i in range(participants):
        available = np.flatnonzero(created <= arrival[i])
        count = min(int(wanted[i]) + owed, available.size)
        owed += int(wanted[i]) - count
        chosen = rng.choice(available, size=count, replace=False)
        rows.append(np.full(count, i))
        cols.append(chosen)
        times.append(arrival[i] + np.cumsum(rng.exponential(8.0, count)))
    row, col, at = (np.concatenate(a) for a in (rows, cols, times))
    profiles = rng.normal(0.0, 1.0, (groups, statements))
    latent = profiles[rng.integers(0, groups, participants)[row], col]
    latent = latent + rng.normal(0.0, 0.7, row.size)
    vote = np.where(latent > 0.3, 1, np.where(latent < -0.3, -1, 0))
    order = np.argsort(at, kind="stable")
    return {
        "ptpt_idx": row[order],
        "stmt_idx": col[order],
        "vote": vote[order],
        "timestamps": at[order] + start,
        "participant_ids": [f"p{i}" for i in range(participants)],
        "statement_ids": [f"s{j}" for j in range(statements)],
    }


def _seconds(day: str) -> float:
    return datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()


def first_updates(log: dict[str, Any], n_updates: int) -> dict[str, Any]:
    """The log cut after its first ``n_updates`` 1-second batches (votes come in time order)."""
    times = np.asarray(log["timestamps"])
    batch = np.concatenate([[0], np.cumsum(np.diff(times) > 1.0)])
    kept = batch < n_updates
    return {k: (np.asarray(v)[kept] if k in _ARRAYS else v) for k, v in log.items()}


_ARRAYS = ("ptpt_idx", "stmt_idx", "vote", "timestamps")


def update_by_update(log: dict[str, Any], math: PolisMath | None) -> OpinionResult | None:
    """The baseline: rebuild the matrix and ``analyze(previous=...)`` after every batch."""
    history = {k: v for k, v in log.items() if k != "moderated_at"}
    previous = None
    for matrix, newest in update_matrices(**history):
        era = math if math is not None else polis_math_at(newest)
        previous = analyze(
            matrix, previous=previous, math=era, moderated_at=log.get("moderated_at")
        )
    return previous


def timed_replay(log: dict[str, Any], math: PolisMath | None) -> dict[str, float]:
    """Replay the whole log: wall and CPU time, updates, and the rates over the last updates.

    CPU time (this process's) is given beside wall time because the machine's
    cores are shared: other jobs lengthen the wall time, much less the CPU time.
    """
    marks: list[tuple[int, float, float]] = []

    def progress(done: int, total: int) -> None:
        if done in (total - LAST_UPDATES, total):
            marks.append((done, time.perf_counter(), time.process_time()))

    wall, cpu = time.perf_counter(), time.process_time()
    replay(**log, math=math, progress=progress)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    (first_done, first_wall, first_cpu), (last_done, last_wall, last_cpu) = marks[0], marks[-1]
    return {
        "seconds": wall,
        "cpu_seconds": cpu,
        "updates": float(last_done),
        "rate": last_done / wall,
        "last_rate": (last_done - first_done) / (last_wall - first_wall),
        "last_cpu_rate": (last_done - first_done) / (last_cpu - first_cpu),
    }


def compare_on_prefix(log: dict[str, Any], math: PolisMath | None, n_updates: int) -> dict:
    """Baseline and replay on the first updates: same result, and their times."""
    prefix = first_updates(log, n_updates)
    start = time.perf_counter()
    expected = update_by_update(prefix, math)
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    got = replay(**prefix, math=math)
    candidate = time.perf_counter() - start
    if expected is None or got.to_dict() != expected.to_dict():
        raise SystemExit("the replay differs from analysing after every batch")
    return {"baseline": baseline, "candidate": candidate}


def export_log(name: str) -> dict[str, Any]:
    """An export's vote log as ``replay``'s arguments, with its comments' times."""
    from coauthor.interop.polis import read_polis_export, vote_history

    export = read_polis_export(DATA / name)
    return {**vote_history(export), "moderated_at": export.statement_times}


def render(rows: list[dict], prefix: int) -> str:
    lines = [
        f"Measured {date.today().isoformat()} on {platform.machine()} {platform.system()}, "
        f"{os.cpu_count()} cores (shared; load average {os.getloadavg()[0]:.1f} at the end), "
        f"Python {platform.python_version()}.",
        "",
        f"| history | votes | updates | replay, wall (CPU) | updates / s | updates / s, last "
        f"{LAST_UPDATES:,}, wall (CPU) | first {prefix:,} updates: analyze after each ÷ replay |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        check = r.get("prefix")
        ratio = (
            f"{check['baseline']:.1f} s ÷ {check['candidate']:.2f} s = "
            f"{check['baseline'] / check['candidate']:.0f}× (same result)"
            if check
            else "—"
        )
        lines.append(
            f"| {r['name']} | {r['votes']:,} | {int(r['updates']):,} "
            f"| {r['seconds']:.1f} s ({r['cpu_seconds']:.1f} s) | {r['rate']:.0f} "
            f"| {r['last_rate']:.0f} ({r['last_cpu_rate']:.0f}) | {ratio} |"
        )
    lines.append("")
    for synthetic in (r for r in rows if r["name"].startswith("synthetic")):
        lines.append(
            f"- {synthetic['name']}: the {HISTORY['votes']:,}-vote history in under "
            f"{GOALS['history_seconds']:.0f} s ({synthetic['seconds']:.1f} s wall, "
            f"{synthetic['cpu_seconds']:.1f} s CPU: "
            f"{_verdict(synthetic['seconds'] < GOALS['history_seconds'])}); at least "
            f"{GOALS['updates_per_second']:,.0f} updates per second at "
            f"{HISTORY['participants']:,} × {HISTORY['statements']} "
            f"({synthetic['last_rate']:.0f} wall, {synthetic['last_cpu_rate']:.0f} CPU, over "
            f"the last {LAST_UPDATES:,} updates: "
            f"{_verdict(synthetic['last_rate'] >= GOALS['updates_per_second'])})."
        )
    return "\n".join(lines)


def _verdict(met: bool) -> str:
    return "met" if met else "not met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefix", type=int, default=1500, help="updates checked and compared")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    cases: list[tuple[str, dict[str, Any], PolisMath | None, bool]] = []
    for label, day, math in (
        ("2015 (10 power iterations)", "2015-06-01", None),
        ("today (100 power iterations)", "2024-06-01", CURRENT),
    ):
        log = planted_history(**HISTORY, start=_seconds(day))
        cases.append((f"synthetic {HISTORY['participants']:,} × 200, {label}", log, math, True))
    cases.append(("vtaiwan.uberx (its own dates)", export_log("vtaiwan.uberx"), None, False))
    rows = []
    for name, log, math, check in cases:
        row: dict[str, Any] = {"name": name, "votes": int(np.asarray(log["vote"]).size)}
        if check:
            row["prefix"] = compare_on_prefix(log, math, args.prefix)
        row.update(timed_replay(log, math))
        print(f"{name}: {row['seconds']:.1f} s ({row['cpu_seconds']:.1f} s CPU)", flush=True)
        rows.append(row)
    table = render(rows, args.prefix)
    print(table)
    if args.write:
        replace_marked_section(DOC, START, END, table)


if __name__ == "__main__":
    main()
