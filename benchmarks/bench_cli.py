"""How fast the ``coauthor`` command starts, against Python's own start in the same run.

Times whole processes (best and median of ``--repeats``): ``python -c pass``
(the floor), ``coauthor --help``, and ``coauthor alliance list --json`` on a
migrated SQLite file with a few alliances. The goal is well under half a
second for both commands.

Usage: ``python benchmarks/bench_cli.py [--repeats 15] [--write]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
sys.path.insert(0, str(ROOT / "scripts"))

from doc_section import replace_marked_section  # noqa: E402

START, END = "<!-- bench-cli:start -->", "<!-- bench-cli:end -->"
GOAL_SECONDS = 0.5
COAUTHOR = str(Path(sys.executable).with_name("coauthor"))


def timed(command: list[str], env: dict[str, str], repeats: int) -> tuple[float, float]:
    """(best, median) wall time of ``command`` as a new process."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def prepared_database(folder: str) -> str:
    from coauthor.config import Settings
    from coauthor.runtime import build_runtime
    from coauthor.services.accounts.inputs import PersonInput
    from coauthor.services.accounts.people import do_create_person
    from coauthor.services.mechanics import alliances
    from coauthor.services.mechanics.inputs import AllianceCreate

    url = f"sqlite:///{folder}/cli.sqlite3"
    runtime = build_runtime(Settings(database_url=url))
    try:
        with runtime.uow() as uow:
            ann = do_create_person(
                uow, None, PersonInput(email="ann@example.org", name="Ann"), None, bootstrap=True
            )
            for number in range(5):
                data = AllianceCreate(
                    name=f"Alliance {number}", kind="consortium", organization_name="Org"
                )
                alliances.do_create_alliance(uow, ann, data)
            uow.session.commit()
    finally:
        runtime.close()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = os.environ | {"COAUTHOR_DATABASE_URL": prepared_database(folder)}
        commands = {
            "`python -c pass` (floor)": [sys.executable, "-c", "pass"],
            "`coauthor --help`": [COAUTHOR, "--help"],
            "`coauthor alliance list --json`": [COAUTHOR, "alliance", "list", "--json"],
        }
        results = {name: timed(command, env, args.repeats) for name, command in commands.items()}
    floor = results["`python -c pass` (floor)"][1]
    lines = [
        f"Measured {date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {args.repeats} runs each, whole processes.",
        "",
        "| command | best | median | median − floor |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, (best, median) in results.items():
        lines.append(f"| {name} | {best:.3f} s | {median:.3f} s | {median - floor:.3f} s |")
    slowest = max(median for name, (_, median) in results.items() if "floor" not in name)
    verdict = "meets" if slowest < GOAL_SECONDS else "misses"
    lines += [
        "",
        f"The slower command's median ({slowest:.3f} s) {verdict} the goal of {GOAL_SECONDS} s.",
    ]
    table = "\n".join(lines)
    print(table)
    if args.write:
        replace_marked_section(DOC, START, END, table)


if __name__ == "__main__":
    main()
