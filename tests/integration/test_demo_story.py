"""The demo alliance's emergence year and its story: what the demo promises, and a PDF of
several pages with its charts. How long the story takes to render is measured by
``benchmarks/bench_story.py`` (goal: under ten seconds), not here."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from coauthor.config import Settings
from coauthor.demo.seed import seed_demo
from coauthor.reports.story import pdf_document, to_markdown
from coauthor.runtime import build_runtime
from coauthor.services.story import EntryKind, operator_story

END_OF_DEMO = datetime(2026, 6, 30, 18, 0, tzinfo=UTC)


def test_the_demo_story(tmp_path: Path) -> None:
    runtime = build_runtime(Settings(database_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}"))
    try:
        with runtime.uow() as uow:
            login = uow.write(seed_demo, end=END_OF_DEMO)
            told = operator_story(uow, login.alliance_id, runtime.settings.anonymity_threshold)
            document = pdf_document(told)
            pdf = document.write_pdf()
            markdown = to_markdown(told)
    finally:
        runtime.close()
    figures = told.metrics
    raised_months = [month for month, count in figures.per_month.items() if count]
    assert figures.plot_twists == 11 and len(raised_months) >= 9
    assert figures.tensions == 2 and figures.tensions_engaged_and_resolved == 1
    assert len(figures.tensions_open_past_limit) == 1  # the avoided one
    assert figures.experiments_ended_with_learning == 3
    assert 0 < figures.with_response < figures.plot_twists  # one still waits
    kinds = {entry.kind for chapter in told.chapters for entry in chapter.entries}
    assert {EntryKind.PLOT_TWIST, EntryKind.TENSION, EntryKind.EXPERIMENT} <= kinds
    assert {EntryKind.DECLARATION, EntryKind.KEPT, EntryKind.BROKEN, EntryKind.PULSE} <= kinds
    assert "Resolved after" in markdown and "Still open" in markdown
    assert len(document.pages) >= 5 and pdf.startswith(b"%PDF")
    assert b"<svg" not in pdf  # the charts were drawn, not left as text
