"""Benchmark the commitment ledger: importing a large archive, its figures, "my commitments".

* Import: an archive of ``--commitments`` commitments (four speech acts each on
  average; 250,000 by default, so about a million acts) with its event chain, as
  export writes it, into a fresh SQLite file: ``do_import_archive`` on the file's
  bytes in one write, as ``coauthor import`` runs it, timed in a subprocess that also
  reports its peak RSS (``VmHWM``), and the CPU time and peak RSS of the worker process
  it forks for the commitments' replay and the event chain (``chainworker``;
  ``RUSAGE_CHILDREN``).
* The floor: the same rows — every row the import wrote, read back from its file —
  written into another fresh SQLite file of the same schema with plain
  ``sqlite3.executemany``, one transaction, with SQLite's default settings (the
  import raises its connection's page cache; the floor keeps the default 2 MB),
  measured in the same run. The ratio import ÷ floor says what validating, replaying
  and deriving cost over the bare writes.
* Figures: ``figures_of`` (the alliance, each partner's view, each quarter) on the
  imported ledger, best of three.
* My commitments: one person performs ``--focus`` open commitments; the service that
  lists all of them with their parties' names, best of five, and the rendered page.

Prints a markdown table; ``--write`` also puts it into ``docs/performance.md`` between
the bench-ledger markers. Goals: import under 60 s and within 4× of the floor, figures
under 2 s, my commitments under 100 ms.

Usage: ``python benchmarks/bench_ledger.py [--commitments 250000] [--focus 500] [--write]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from doc_section import replace_marked_section  # noqa: E402

START, END = "<!-- bench-ledger:start -->", "<!-- bench-ledger:end -->"
GOALS = {"import_s": 60.0, "ratio": 4.0, "figures_s": 2.0, "mine_ms": 100.0}
LEDGER_TABLES = (
    "commitments",
    "commitment_parties",
    "speech_acts",
    "ledger_facts",
    "events",
)


def peak_rss_mb() -> float:
    """The process's peak resident set (Linux ``VmHWM``), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def runtime_on(database: Path) -> Any:
    from coauthor.config import Settings
    from coauthor.runtime import build_runtime

    return build_runtime(Settings(database_url=f"sqlite:///{database}", secret_key="bench"))


# ---------------------------------------------------------------- the child


def child_import(archive_path: str, database: str) -> dict:
    """Import the archive into ``database`` (migrated before the clock starts).

    The importing process's CPU time, and its worker's (the commitments' replay and the
    event chain's, when it forks one): ``RUSAGE_CHILDREN`` counts the children it has
    waited for, here only that worker; its ``ru_maxrss`` is the worker's peak RSS, which
    counts the pages it shares with the importer since the fork as well.
    """
    from coauthor.services.archive.importer import do_import_archive

    runtime = runtime_on(Path(database))
    raw = Path(archive_path).read_bytes()
    started_rss = peak_rss_mb()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    cpu = time.process_time()
    with runtime.uow() as uow:
        uow.write(do_import_archive, None, raw, bootstrap=True)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu
    worker = resource.getrusage(resource.RUSAGE_CHILDREN)
    runtime.close()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "worker_cpu_seconds": worker.ru_utime
        + worker.ru_stime
        - children.ru_utime
        - children.ru_stime,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_mb": started_rss,
        "worker_peak_rss_mb": worker.ru_maxrss / 1024,
    }


def run_child(archive_path: Path, database: Path) -> dict:
    command = [sys.executable, __file__, "--child", str(archive_path), str(database)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"the import failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the floor


def floor(imported: Path, copy: Path) -> tuple[float, int]:
    """Plain ``executemany`` of every ledger row the import wrote, into a copy of the
    imported database emptied of those rows (the alliance, its partners and people stay)."""
    shutil.copyfile(imported, copy)
    source = sqlite3.connect(imported)
    rows = {table: source.execute(f"SELECT * FROM {table}").fetchall() for table in LEDGER_TABLES}
    source.close()
    target = sqlite3.connect(copy, isolation_level=None)
    for table in reversed(LEDGER_TABLES):
        target.execute(f"DELETE FROM {table}")
    target.execute("VACUUM")
    target.execute("PRAGMA foreign_keys = ON")
    start = time.perf_counter()
    target.execute("BEGIN IMMEDIATE")
    for table in LEDGER_TABLES:
        if rows[table]:
            marks = ", ".join("?" for _ in rows[table][0])
            target.executemany(f"INSERT INTO {table} VALUES ({marks})", rows[table])
    target.execute("COMMIT")
    seconds = time.perf_counter() - start
    target.close()
    return seconds, sum(len(found) for found in rows.values())


# ------------------------------------------------------------ reads after it


def best_of(repeats: int, run: Any) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def measure_reads(database: Path, alliance_id: str, focus_email: str, focus_open: int) -> dict:
    from fastapi.testclient import TestClient

    from coauthor.domain import model as m
    from coauthor.services.accounts import people
    from coauthor.services.ledger import figures, views
    from coauthor.services.paging import PageRequest
    from coauthor.web.app import create_app

    runtime = runtime_on(database)
    with runtime.uow() as uow:
        alliance = uow.get(m.Alliance, id=alliance_id)
        person = people.person_by_email(uow, focus_email)
        assert alliance is not None and person is not None
        figures_s = best_of(3, lambda: figures.figures_of(uow, alliance))
        result = figures.figures_of(uow, alliance).overall
        everything = PageRequest(limit=focus_open)
        listed = views.my_commitments(uow, person, "owe", everything).items
        assert len(listed) == focus_open, len(listed)
        mine_s = best_of(5, lambda: views.my_commitments(uow, person, "owe", everything))
        uow.write(people.do_set_password, None, person, "benchmark password", bootstrap=True)
    with TestClient(create_app(runtime=runtime)) as client:
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        client.post(
            "/login",
            data={"email": focus_email, "password": "benchmark password", "csrf_token": token},
        )
        assert client.get("/commitments").status_code == 200
        page_s = best_of(5, lambda: client.get("/commitments"))
    runtime.close()
    return {
        "figures_s": figures_s,
        "mine_ms": mine_s * 1000,
        "page_ms": page_s * 1000,
        "requests": result.requests,
        "reliability": result.reliability.value,
    }


# ------------------------------------------------------------------ report


def verdict(value: float, goal: float) -> str:
    return "meets the goal" if value <= goal else "misses the goal"


def render(size: dict, imported: dict, floor_s: float, rows: int, reads: dict) -> str:
    ratio = imported["seconds"] / floor_s
    load = os.getloadavg()
    lines = [
        f"Measured {date.today().isoformat()} on {platform.machine()} {platform.system()}, "
        f"{os.cpu_count()} cores (shared; load average {load[0]:.1f} at the end), "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}.",
        "",
        "| measurement | size | result | goal | |",
        "| --- | --- | --- | --- | --- |",
        f"| import (`do_import_archive` on the bytes) | {size['commitments']:,} commitments, "
        f"{size['acts']:,} speech acts, {size['events']:,} events, {size['mb']:.0f} MB of JSON "
        f"| {imported['seconds']:.1f} s wall ({imported['cpu_seconds']:.1f} s CPU, "
        f"and {imported['worker_cpu_seconds']:.1f} s in its worker) "
        f"| < {GOALS['import_s']:.0f} s | {verdict(imported['seconds'], GOALS['import_s'])} |",
        f"| CPU time of the import, both processes | | "
        f"{imported['cpu_seconds'] + imported['worker_cpu_seconds']:.1f} s | | |",
        f"| plain `sqlite3.executemany` of the same {rows:,} rows | | {floor_s:.1f} s | | |",
        f"| import ÷ floor | | {ratio:.1f}× | ≤ {GOALS['ratio']:.0f}× "
        f"| {verdict(ratio, GOALS['ratio'])} |",
        f"| peak RSS of the importing process | | {imported['peak_rss_mb']:,.0f} MB "
        f"({imported['rss_before_mb']:.0f} MB before the import) | | |",
        f"| peak RSS of its worker (the replay and the event chain; pages shared since the "
        f"fork count in both) | | {imported['worker_peak_rss_mb']:,.0f} MB | | |",
        f"| the two peaks added | | "
        f"{imported['peak_rss_mb'] + imported['worker_peak_rss_mb']:,.0f} MB | | |",
        f"| figures (`figures_of`: alliance, 4 partners, quarters) | {reads['requests']:,} "
        f"commitments | {reads['figures_s']:.2f} s | < {GOALS['figures_s']:.0f} s "
        f"| {verdict(reads['figures_s'], GOALS['figures_s'])} |",
        f"| my commitments: all {size['focus']} open ones with their parties "
        f"(`my_commitments`) | {size['focus']} open | {reads['mine_ms']:.0f} ms "
        f"| < {GOALS['mine_ms']:.0f} ms | {verdict(reads['mine_ms'], GOALS['mine_ms'])} |",
        f"| the /commitments page (four sections of 20) | | {reads['page_ms']:.0f} ms | | |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commitments", type=int, default=250_000)
    parser.add_argument("--focus", type=int, default=500)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_import(*args.child)))
        return
    import ledger_archive

    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as folder:
        work = Path(folder)
        print(f"building an archive of {args.commitments:,} commitments …", file=sys.stderr)
        document = ledger_archive.build(args.commitments, args.focus)
        archive_path = work / "archive.json"
        archive_path.write_text(json.dumps(document))
        size = {
            "commitments": len(document["commitments"]),
            "acts": ledger_archive.act_count(document),
            "events": len(document["events"]),
            "mb": archive_path.stat().st_size / 1e6,
            "focus": args.focus,
        }
        del document
        print("importing …", file=sys.stderr)
        imported_db = work / "imported.sqlite3"
        imported = run_child(archive_path, imported_db)
        print("the floor …", file=sys.stderr)
        floor_s, rows = floor(imported_db, work / "floor.sqlite3")
        print("reads …", file=sys.stderr)
        reads = measure_reads(
            imported_db, ledger_archive.ALLIANCE, ledger_archive.FOCUS, args.focus
        )
        table = render(size, imported, floor_s, rows, reads)
    print(table)
    if args.write:
        replace_marked_section(DOC, START, END, table)


if __name__ == "__main__":
    main()
