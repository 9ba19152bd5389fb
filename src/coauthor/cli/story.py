"""``coauthor story``: an alliance's shared story as Markdown or PDF (docs/emergence.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coauthor.cli.common import Failure, err_console, progress

FORMATS = {".md": "markdown", ".pdf": "pdf"}


def story(
    alliance_id: Annotated[str, typer.Argument(help="The alliance whose story to write.")],
    output: Annotated[
        Path,
        typer.Option("-o", "--output", help="Where to write: FILE.md (Markdown) or FILE.pdf."),
    ],
    by: Annotated[
        str, typer.Option("--by", help="Chapters by `quarter` or by the alliance's `stage`.")
    ] = "quarter",
) -> None:
    """Write the alliance's shared story, in chapters, to a Markdown or PDF file; the format
    comes from the file's suffix."""
    fmt = FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise Failure([f"error: --output: name a .md or .pdf file, not {output.name!r}"])
    if by not in ("quarter", "stage"):
        raise Failure([f"error: --by: must be quarter or stage, not {by!r}"])
    if not output.parent.is_dir():
        raise Failure([f"error: --output: no such folder {str(output.parent)!r}"])
    from coauthor.cli.common import operator_uow, settings
    from coauthor.reports import story as report
    from coauthor.services.story import Chaptering, operator_story

    with progress("Composing the story") as report_step, operator_uow() as uow:
        report_step("Composing the story", 0, 2)
        told = operator_story(uow, alliance_id, settings().anonymity_threshold, Chaptering(by))
        report_step("Rendering the PDF" if fmt == "pdf" else "Writing Markdown", 1, 2)
        if fmt == "pdf":
            output.write_bytes(report.to_pdf(told))
        else:
            output.write_text(report.to_markdown(told), encoding="utf-8")
        report_step("Done", 2, 2)
    chapters = len(told.chapters)
    plural = "" if chapters == 1 else "s"
    err_console().print(f"Wrote {chapters} chapter{plural}, {told.entries} entries, to {output}")


def register(app: typer.Typer) -> None:
    app.command("story")(story)
