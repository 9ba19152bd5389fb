"""``coauthor story``: Markdown or PDF by the file's suffix, and clear refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.runtime import build_runtime
from coauthor.services.emergence import plot_twists
from tests.integration.ledger_world import seed
from tests.integration.test_cli import Cli


def seeded(url: str) -> str:
    runtime = build_runtime(
        Settings(database_url=url), clock=FixedClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    )
    try:
        with runtime.uow() as uow:
            world = seed(uow, runtime.clock)  # type: ignore[arg-type]
            world.later()
            plot_twists.do_raise_plot_twist(
                uow, world.bob, world.alliance_id, {"title": "Foil in the feedstock"}
            )
            uow.session.commit()
            return world.alliance_id
    finally:
        runtime.close()


def test_the_story_as_markdown_and_pdf(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'story.sqlite3'}"
    alliance_id = seeded(url)
    cli = Cli(url)
    markdown = tmp_path / "story.md"
    said = cli(*("story", alliance_id, "-o", str(markdown)))
    assert said.exit_code == 0, said.stderr  # type: ignore[attr-defined]
    assert "Wrote 1 chapter, 1 entries" in said.stderr  # type: ignore[attr-defined]
    text = markdown.read_text()
    assert text.startswith("# The story of Helios") and "Foil in the feedstock" in text
    pdf = tmp_path / "story.pdf"
    cli.ok("story", alliance_id, "-o", str(pdf), "--by", "stage")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "name a .md or .pdf file" in cli.fails("story", alliance_id, "-o", "story.docx")
    assert "--by" in cli.fails("story", alliance_id, "-o", str(markdown), "--by", "month")
    assert "no such alliance" in cli.fails("story", "al_nope", "-o", str(markdown))
    assert "no such folder" in cli.fails("story", alliance_id, "-o", "/nowhere/story.md")
