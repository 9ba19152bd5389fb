"""``export``, ``import`` and ``verify``: archives and the event log's hash chains."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coauthor.cli.common import VERIFY_FAILED, Failure, error_lines, operator_uow, progress


def export_command(
    alliance_id: Annotated[str, typer.Argument(help="The alliance to export.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="Write here instead of stdout."),
    ] = None,
) -> None:
    """Export one alliance as a coauthor-archive/1 JSON document."""
    from coauthor.interop.archive import dumps_archive
    from coauthor.services.archive.export import export_alliance

    with operator_uow() as uow, progress(f"Exporting {alliance_id}"):
        document = export_alliance(uow, None, alliance_id, bootstrap=True)
        text = dumps_archive(document)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output} ({len(document.events)} events)", err=True)


def import_command(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="The archive to import."),
    ],
) -> None:
    """Import a coauthor-archive/1 document; print the alliance's id."""
    from coauthor.domain.errors import CoauthorError
    from coauthor.interop.archive import json_path
    from coauthor.services.archive.importer import do_import_archive

    try:
        document = file.read_bytes()  # read straight into the models (parse_archive)
        with operator_uow() as uow, progress(f"Importing {file.name}") as report:
            alliance_id, created = uow.write(
                do_import_archive, None, document, bootstrap=True, report=report
            )
    except CoauthorError as exc:
        raise Failure(error_lines(exc, json_path)) from None
    state = "imported" if created else "already imported; nothing written"
    typer.echo(f"{state}: {alliance_id}", err=True)
    typer.echo(alliance_id)


def verify(
    alliance_id: Annotated[
        str | None, typer.Argument(help="Check only this alliance's chain.")
    ] = None,
) -> None:
    """Check the hash chains of the event log: every chain, or one alliance's."""
    from coauthor.domain.errors import NotFound
    from coauthor.services import eventlog
    from coauthor.services.mechanics.directory import alliance_exists

    with operator_uow() as uow:
        if alliance_id is not None and not alliance_exists(uow, alliance_id):
            raise NotFound(f"no alliance with id {alliance_id}")
        chains = [alliance_id] if alliance_id else eventlog.chain_ids(uow)
        reports = [eventlog.verify_chain(uow, chain) for chain in chains]
    broken = [report for report in reports if not report.ok]
    for report in reports:
        if report.ok:
            typer.echo(f"ok: chain {report.chain_id}: {report.events} events intact")
    if broken:
        raise Failure(
            [f"error: chain {r.chain_id}: event {r.first_broken_seq}: {r.reason}" for r in broken],
            VERIFY_FAILED,
        )


def register(app: typer.Typer) -> None:
    app.command("export")(export_command)
    app.command("import")(import_command)
    app.command()(verify)
