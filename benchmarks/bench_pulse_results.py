"""Benchmark a pulse wave's results: the figures behind the results page, and the pages.

1. **Figures of one large wave** — 10 partners × 50 respondents, both role
   bands, the 21 standard items and 2 of the alliance's own (7-point scale,
   5% of answers missing, fixed seed): ``wave_figures`` (every reported group
   and measure: scores with intervals, rwg(j), AD, alpha, omega, ICC, and the
   gaps between all 45 pairs of partners). The reference workload, run
   interleaved on the same answers, is ``survey_statistics`` — what
   ``coauthor pulse stats`` computes over the same file (alpha, omega, ICC of
   the mean score, agreement per partner, no gaps, no anonymity rules).
2. **Pages of the demo** — the demo alliance seeded into a temporary SQLite
   file; the Pulse tab (trend over the closed waves) and a closed wave's
   results page through the app (``TestClient``), first request (figures
   computed) and then warm (figures kept per process: a closed wave never
   changes).

Usage: ``python benchmarks/bench_pulse_results.py [--repeats 7] [--write]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
sys.path.insert(0, str(ROOT / "scripts"))

from doc_section import replace_marked_section  # noqa: E402

START, END = "<!-- bench-pulse-results:start -->", "<!-- bench-pulse-results:end -->"
PARTNERS, RESPONDENTS, OWN_ITEMS = 10, 50, 2
MISSING_SHARE = 0.05


def wave(seed: int = 0):
    """Respondents of one wave and its measures, as the results service builds them."""
    from coauthor.analysis.pulse_results import Measure, Respondent
    from coauthor.domain.pulse import DIMENSION_LABELS, STANDARD_ITEMS, Dimension

    rng = np.random.default_rng(seed)
    items = len(STANDARD_ITEMS) + OWN_ITEMS
    rows = []
    for partner in range(PARTNERS):
        shift = rng.normal(0, 0.5)
        for person in range(RESPONDENTS):
            latent = 5 + shift + rng.normal(0, 0.7)
            answers = np.clip(np.round(latent + rng.normal(0, 0.8, items)), 1, 7)
            answers[rng.random(items) < MISSING_SHARE] = np.nan
            band = "leadership" if person < 10 else "team"
            rows.append(Respondent(f"Partner {partner:02d}", band, tuple(answers.tolist())))
    measures = [
        Measure(
            d.value,
            DIMENSION_LABELS[d],
            tuple(i for i, item in enumerate(STANDARD_ITEMS) if item.dimension == d),
        )
        for d in Dimension
    ]
    measures += [
        Measure(f"own{i}", f"Own {i}", (len(STANDARD_ITEMS) + i,)) for i in range(OWN_ITEMS)
    ]
    return rows, measures


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def figures_case(repeats: int) -> dict[str, float]:
    from coauthor.analysis.pulse_results import wave_figures
    from coauthor.analysis.pulse_summary import survey_statistics

    rows, measures = wave()
    matrix = np.array([r.answers for r in rows])
    partners = [r.partner for r in rows]
    keys = [str(i) for i in range(matrix.shape[1])]

    def ours() -> object:
        return wave_figures(rows, measures, 7, 5)

    def reference() -> object:
        return survey_statistics(matrix, partners, keys, 7, "pairwise")

    figures = ours()
    assert len(figures.gaps) == PARTNERS * (PARTNERS - 1) // 2
    assert len(figures.groups) == 1 + PARTNERS * 3
    ours_times, reference_times = [], []
    for _ in range(repeats):
        reference_times.append(timed(reference))
        ours_times.append(timed(ours))
    return {
        "ours": statistics.median(ours_times),
        "reference": statistics.median(reference_times),
    }


def pages_case(repeats: int) -> dict[str, float]:
    from fastapi.testclient import TestClient

    from coauthor.config import Settings
    from coauthor.demo.seed import seed_demo
    from coauthor.domain.pulse import Wave
    from coauthor.runtime import build_runtime
    from coauthor.services.pulse import results
    from coauthor.web.app import create_app

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database_url=f"sqlite:///{Path(folder) / 'demo.sqlite3'}",
            secret_key="bench-pulse",
            static_vendor_dir=ROOT / "node_modules",
        )
        runtime = build_runtime(settings)
        try:
            with runtime.uow() as uow:
                login = uow.write(seed_demo)
                now = uow.clock.now()
                closed = [
                    w.id
                    for w in uow.find(Wave, alliance_id=login.alliance_id)
                    if not w.is_open(now)
                ]
            app = create_app(runtime=runtime)
            base = f"/a/{login.alliance_id}/pulse"
            with TestClient(app) as client:
                client.post(
                    "/login",
                    data={
                        "email": login.email,
                        "password": login.password,
                        "csrf_token": _csrf(client),
                    },
                )
                results._cache._entries.clear()
                tab_cold = timed(lambda: _ok(client.get(base)))
                tab_warm = statistics.median(
                    timed(lambda: _ok(client.get(base))) for _ in range(repeats)
                )
                results._cache._entries.clear()
                page = f"{base}/waves/{closed[0]}"
                wave_cold = timed(lambda: _ok(client.get(page)))
                wave_warm = statistics.median(
                    timed(lambda: _ok(client.get(page))) for _ in range(repeats)
                )
        finally:
            runtime.close()
    return {
        "waves": len(closed),
        "tab_cold": tab_cold,
        "tab_warm": tab_warm,
        "wave_cold": wave_cold,
        "wave_warm": wave_warm,
    }


def _csrf(client) -> str:
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)


def _ok(response) -> None:
    assert response.status_code == 200, response.status_code


def render(figures: dict[str, float], pages: dict[str, float], repeats: int) -> str:
    ms = lambda seconds: f"{1000 * seconds:.0f} ms"  # noqa: E731
    ratio = figures["ours"] / figures["reference"]
    return "\n".join(
        [
            f"Measured {date.today().isoformat()} on {platform.machine()} {platform.system()}, "
            f"{os.cpu_count()} cores (shared), Python {platform.python_version()}; "
            f"medians of {repeats} runs.",
            "",
            "| case | size | reference | ours | ours ÷ reference |",
            "| --- | --- | --- | --- | --- |",
            f"| figures of one wave | {PARTNERS} partners × {RESPONDENTS} respondents × "
            f"{21 + OWN_ITEMS} items, 2 bands | {ms(figures['reference'])} "
            f"(`pulse stats` summary) | {ms(figures['ours'])} | {ratio:.1f} |",
            "",
            f"- Demo pages ({pages['waves']} closed waves, about 35 answers each): the Pulse tab "
            f"{ms(pages['tab_cold'])} on its first request (figures of every closed wave "
            f"computed for the trend), then {ms(pages['tab_warm'])}; a wave's results page "
            f"{ms(pages['wave_cold'])} first, then {ms(pages['wave_warm'])}.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    figures = figures_case(args.repeats)
    pages = pages_case(args.repeats)
    table = render(figures, pages, args.repeats)
    print(table)
    if args.write:
        replace_marked_section(DOC, START, END, table)


if __name__ == "__main__":
    main()
