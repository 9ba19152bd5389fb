"""Benchmark the deliberation math against red-dwarf 0.4.0, side by side in one run.

Measures computation only (imports and CSV reading excluded), best of a few
repeats:

* every shared Pol.is export (``tests/data/polis``): ours = build the
  ``VoteMatrix`` from parsed vote arrays + ``analyze``; red-dwarf =
  ``run_pipeline`` on its vote records (it builds its matrix inside);
* a synthetic 20,000 participants × 2,000 statements conversation with 2
  million votes and four planted opinion groups, each side in its own
  subprocess, with the peak RSS of ours (``resource.getrusage``) and a time
  cap on red-dwarf;
* one new vote in a 2,000 × 200 conversation: ``with_vote`` +
  ``analyze(matrix, previous=...)``.

Prints a markdown table; ``--write`` also puts it into ``docs/performance.md``
between the bench-opinion markers.

Usage: ``python benchmarks/bench_opinion.py [--repeats 5] [--reddwarf-cap 300] [--write]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "polis"
DOC = ROOT / "docs" / "performance.md"
sys.path.insert(0, str(ROOT / "scripts"))  # shared helpers for the scripts that write docs/

from doc_section import replace_marked_section  # noqa: E402

START, END = "<!-- bench-opinion:start -->", "<!-- bench-opinion:end -->"

LARGE = {"participants": 20_000, "statements": 2_000, "votes": 2_000_000}
INCREMENTAL = {"participants": 2_000, "statements": 200, "votes": 120_000}
GOALS = {"speedup": 3.0, "large_seconds": 5.0, "large_rss_mb": 1024.0, "one_vote_ms": 200.0}


def best_of(repeats: int, run: Callable[[], object]) -> float:
    """Smallest wall time of ``repeats`` runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def planted_votes(
    participants: int, statements: int, votes: int, *, groups: int = 4, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random cells voted by ``groups`` latent opinion groups, plus noise and passes."""
    rng = np.random.default_rng(seed)
    profiles = rng.normal(0.0, 1.0, (groups, statements))
    group = rng.integers(0, groups, participants)
    rows = rng.integers(0, participants, votes)
    cols = rng.integers(0, statements, votes)
    latent = profiles[group[rows], cols] + rng.normal(0.0, 0.7, votes)
    values = np.where(latent > 0.3, 1, np.where(latent < -0.3, -1, 0)).astype(np.int8)
    return rows, cols, values


# ---------------------------------------------------------------- the two implementations


def ours_runner(rows: np.ndarray, cols: np.ndarray, votes: np.ndarray, meta: dict) -> Callable:
    from coauthor.analysis.opinion import VoteMatrix, analyze

    def run() -> object:
        matrix = VoteMatrix.from_arrays(rows, cols, votes, **meta)
        return analyze(matrix)

    return run


def reddwarf_runner(records: list[dict], mod_out: list[int]) -> Callable:
    from reddwarf.implementations.polis import run_pipeline

    def run() -> object:
        return run_pipeline(votes=records, mod_out_statement_ids=mod_out, random_state=0)

    return run


def export_inputs(folder: Path) -> tuple[tuple, list[dict], list[int]]:
    from coauthor.interop.polis import read_polis_export

    matrix = read_polis_export(folder).matrix
    rows, cols, votes = matrix.cells()
    meta = {
        "participant_ids": matrix.participant_ids,
        "statement_ids": matrix.statement_ids,
        "moderated_out": matrix.moderated_out,
    }
    records = [
        {"participant_id": int(p), "statement_id": int(s), "vote": v, "modified": 0}
        for p, s, v in matrix.as_records()
    ]
    return (rows, cols, votes, meta), records, [int(s) for s in matrix.moderated_out]


def check_agreement(ours: Any, theirs: Any) -> None:
    """Both sides must place participants alike (up to the sign of each axis)."""
    mine = np.column_stack([ours.x, ours.y])
    rows = [int(p) for p in ours.participant_ids]
    other = theirs.participants_df.loc[rows, ["x", "y"]].to_numpy(float)
    for axis in range(2):
        correlation = abs(np.corrcoef(mine[:, axis], other[:, axis])[0, 1])
        if correlation < 0.999:
            raise SystemExit(f"projections disagree with red-dwarf (|r| = {correlation:.4f})")


def bench_exports(repeats: int) -> list[dict]:
    """Ours and red-dwarf interleaved (A, B, A, B, ...) after a warm-up and a check."""
    results = []
    for folder in sorted(p for p in DATA.iterdir() if p.is_dir()):
        ours_args, records, mod_out = export_inputs(folder)
        ours = ours_runner(*ours_args)
        theirs = reddwarf_runner(records, mod_out)
        check_agreement(ours(), theirs())
        ours_times, their_times = [], []
        for _ in range(repeats):
            ours_times.append(best_of(1, ours))
            their_times.append(best_of(1, theirs))
        results.append(
            {
                "name": folder.name,
                "shape": f"{len(ours_args[3]['participant_ids'])} × "
                f"{len(ours_args[3]['statement_ids'])}, {len(records):,} votes",
                "ours": min(ours_times),
                "reddwarf": min(their_times),
                "ours_median": statistics.median(ours_times),
                "reddwarf_median": statistics.median(their_times),
            }
        )
    return results


# ---------------------------------------------------------------- subprocess children


def peak_rss_mb() -> float:
    """This process's peak resident set size, in MB.

    Linux's ``VmHWM`` belongs to the process image, so it starts afresh at
    ``exec``; ``ru_maxrss`` (the fallback elsewhere) can carry the parent's
    peak into a child.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_large_ours(repeats: int) -> dict:
    baseline = peak_rss_mb()
    rows, cols, votes = planted_votes(**LARGE)
    meta = {
        "participant_ids": [f"p{i}" for i in range(LARGE["participants"])],
        "statement_ids": [f"s{j}" for j in range(LARGE["statements"])],
    }
    run = ours_runner(rows, cols, votes, meta)
    print(READY, flush=True)
    tracemalloc.start()
    traced = best_of(1, run)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    seconds = min(traced, best_of(repeats, run))
    return {
        "seconds": seconds,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_mb": baseline,
        "traced_peak_mb": traced_peak / 2**20,
    }


def child_large_reddwarf() -> dict:
    rows, cols, votes = planted_votes(**LARGE)
    records = [
        {"participant_id": r, "statement_id": c, "vote": v, "modified": 0}
        for r, c, v in zip(rows.tolist(), cols.tolist(), votes.tolist(), strict=True)
    ]
    seen: dict[tuple[int, int], dict] = {}
    for record in records:  # red-dwarf expects one (last) vote per cell
        seen[(record["participant_id"], record["statement_id"])] = record
    run = reddwarf_runner(list(seen.values()), [])
    print(READY, flush=True)
    return {"seconds": best_of(1, run)}


READY = "ready"


def run_child(kind: str, repeats: int, timeout: float | None) -> dict | None:
    """Run a child measurement in a fresh interpreter.

    The child prepares its data, prints ``ready``, then measures; ``timeout``
    counts from ``ready``, so data preparation is not part of the cap. Returns
    None when the measurement hits the cap.
    """
    command = [sys.executable, __file__, "--child", kind, "--repeats", str(repeats)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT) as child:
        assert child.stdout is not None
        if child.stdout.readline().strip() != READY:
            raise RuntimeError(f"child {kind} failed before measuring")
        try:
            output, _ = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            return None
    if child.returncode != 0:
        raise RuntimeError(f"child {kind} failed")
    return json.loads(output.strip().splitlines()[-1])


# ---------------------------------------------------------------- one new vote


def bench_one_vote(repeats: int) -> dict:
    from coauthor.analysis.opinion import VoteMatrix, analyze

    rows, cols, votes = planted_votes(**INCREMENTAL, seed=1)
    matrix = VoteMatrix.from_arrays(
        rows,
        cols,
        votes,
        participant_ids=[f"p{i}" for i in range(INCREMENTAL["participants"])],
        statement_ids=[f"s{j}" for j in range(INCREMENTAL["statements"])],
    )
    previous = analyze(matrix)
    rng = np.random.default_rng(2)
    times = []
    for _ in range(repeats):
        participant = f"p{rng.integers(INCREMENTAL['participants'])}"
        statement = f"s{rng.integers(INCREMENTAL['statements'])}"
        vote = int(rng.choice([-1, 0, 1]))
        start = time.perf_counter()
        updated = matrix.with_vote(participant, statement, vote)
        analyze(updated, previous=previous)
        times.append(time.perf_counter() - start)
    return {
        "votes": matrix.n_votes,
        "best_ms": 1000 * min(times),
        "median_ms": 1000 * statistics.median(times),
        "full_ms": 1000 * best_of(3, lambda: analyze(matrix)),
    }


# ---------------------------------------------------------------- report


def _ratio(theirs: float | None, ours: float) -> str:
    return "—" if theirs is None else f"{theirs / ours:.1f}×"


def render(exports: list[dict], large: dict, large_rd: dict | None, cap: float, one: dict) -> str:
    lines = [
        f"Measured {date.today().isoformat()} on {platform.machine()} {platform.system()}, "
        f"{os.cpu_count()} cores (shared), Python {platform.python_version()}; "
        "best of several runs, computation only.",
        "",
        "| case | size | ours (best / median) | red-dwarf 0.4.0 (best / median) "
        "| ours ÷ red-dwarf | speed-up |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for e in exports:
        lines.append(
            f"| {e['name']} | {e['shape']} "
            f"| {1000 * e['ours']:.1f} / {1000 * e['ours_median']:.1f} ms "
            f"| {1000 * e['reddwarf']:.1f} / {1000 * e['reddwarf_median']:.1f} ms "
            f"| {e['ours'] / e['reddwarf']:.3f} | {_ratio(e['reddwarf'], e['ours'])} |"
        )
    if large_rd is None:
        rd_cell = f"> {cap:.0f} s (stopped at the cap)"
        relative, ratio = f"< {large['seconds'] / cap:.3f}", f"> {cap / large['seconds']:.0f}×"
    else:
        rd_cell = f"{large_rd['seconds']:.1f} s (one run)"
        relative = f"{large['seconds'] / large_rd['seconds']:.3f}"
        ratio = _ratio(large_rd["seconds"], large["seconds"])
    lines.append(
        f"| synthetic, 4 planted groups | {LARGE['participants']:,} × {LARGE['statements']:,}, "
        f"{LARGE['votes']:,} votes drawn | {large['seconds']:.2f} s | {rd_cell} "
        f"| {relative} | {ratio} |"
    )
    lines += [
        "",
        f"- 20k × 2k (ours: build the matrix from vote arrays + `analyze`): peak RSS of "
        f"the measuring subprocess {large['peak_rss_mb']:.0f} MB "
        f"({large['rss_before_mb']:.0f} MB after imports, before generating the votes); "
        f"tracemalloc peak of one run {large['traced_peak_mb']:.0f} MB; goals "
        f"< {GOALS['large_seconds']:.0f} s and < {GOALS['large_rss_mb']:.0f} MB.",
        f"- One new vote in a {INCREMENTAL['participants']:,} × {INCREMENTAL['statements']} "
        f"conversation ({one['votes']:,} votes): `with_vote` + `analyze(previous=...)` "
        f"best {one['best_ms']:.0f} ms, median {one['median_ms']:.0f} ms "
        f"(a full analysis without `previous`: {one['full_ms']:.0f} ms); goal "
        f"< {GOALS['one_vote_ms']:.0f} ms.",
    ]
    return "\n".join(lines)


def write_into_doc(table: str, doc: Path = DOC) -> None:
    replace_marked_section(doc, START, END, table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--reddwarf-cap", type=float, default=300.0, help="seconds")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    parser.add_argument("--child", choices=["large-ours", "large-reddwarf"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.child == "large-ours":
        print(json.dumps(child_large_ours(max(1, args.repeats // 2))))
        return
    if args.child == "large-reddwarf":
        print(json.dumps(child_large_reddwarf()))
        return
    large = run_child("large-ours", args.repeats, None)
    assert large is not None
    large_rd = run_child("large-reddwarf", 1, args.reddwarf_cap)
    exports = bench_exports(args.repeats)
    one = bench_one_vote(max(args.repeats, 10))
    table = render(exports, large, large_rd, args.reddwarf_cap, one)
    print(table)
    if args.write:
        write_into_doc(table)


if __name__ == "__main__":
    main()
