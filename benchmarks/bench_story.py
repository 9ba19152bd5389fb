"""Benchmark the shared story: the demo alliance's year told and rendered to a PDF.

The demo alliance is seeded into a temporary SQLite file (its year of commitments,
declarations, pulse waves, plot twists, tensions and experiments, ending on
2026-06-30), then, ``--repeats`` times: ``operator_story`` (the story as its operator
sees it) and ``pdf_document(...).write_pdf()`` (WeasyPrint, with its charts), timed
together, as the story's PDF export runs them. Goal: under 10 s. The pages of the PDF
are counted, so a story that came out short would show here.

Prints a markdown table; ``--write`` also puts it into ``docs/performance.md`` between
the bench-story markers.

Usage: ``python benchmarks/bench_story.py [--repeats 3] [--write]``
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
sys.path.insert(0, str(ROOT / "scripts"))

from doc_section import replace_marked_section  # noqa: E402

START, END = "<!-- bench-story:start -->", "<!-- bench-story:end -->"
END_OF_DEMO = datetime(2026, 6, 30, 18, 0, tzinfo=UTC)
GOAL_SECONDS = 10.0


def timed_stories(repeats: int) -> tuple[list[float], int, int]:
    """Seconds of each story told and rendered, the PDF's pages and bytes (the last)."""
    from coauthor.config import Settings
    from coauthor.demo.seed import seed_demo
    from coauthor.reports.story import pdf_document
    from coauthor.runtime import build_runtime
    from coauthor.services.story import operator_story

    with tempfile.TemporaryDirectory() as folder:
        runtime = build_runtime(Settings(database_url=f"sqlite:///{folder}/demo.sqlite3"))
        try:
            with runtime.uow() as uow:
                login = uow.write(seed_demo, end=END_OF_DEMO)
                threshold = runtime.settings.anonymity_threshold
                seconds, pages, size = [], 0, 0
                for _ in range(repeats):
                    started = time.perf_counter()
                    document = pdf_document(operator_story(uow, login.alliance_id, threshold))
                    pdf = document.write_pdf()
                    seconds.append(time.perf_counter() - started)
                    pages, size = len(document.pages), len(pdf)
        finally:
            runtime.close()
    return seconds, pages, size


def render(seconds: list[float], pages: int, size: int) -> str:
    best, median = min(seconds), statistics.median(seconds)
    verdict = "meets the goal" if median < GOAL_SECONDS else "misses the goal"
    return "\n".join(
        [
            f"Measured {date.today().isoformat()} on {platform.machine()} "
            f"{platform.system()}, Python {platform.python_version()}; "
            f"{len(seconds)} runs after seeding.",
            "",
            "| measurement | result (best / median) | goal | |",
            "| --- | --- | --- | --- |",
            f"| the demo's story told and rendered to PDF ({pages} pages, {size:,} bytes) "
            f"| {best:.2f} / {median:.2f} s | < {GOAL_SECONDS:.0f} s | {verdict} |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    table = render(*timed_stories(args.repeats))
    print(table)
    if args.write:
        replace_marked_section(DOC, START, END, table)


if __name__ == "__main__":
    main()
