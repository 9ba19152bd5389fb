"""``export``, ``import`` and ``verify``: archives and the event log's hash chains."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from coauthor.cli.common import VERIFY_FAILED, Failure, error_lines, operator_uow, progress

if TYPE_CHECKING:
    from coauthor.db.uow import UnitOfWork
    from coauthor.services.audit import Anchor, AnchorCheck
    from coauthor.services.eventlog import ChainReport


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
    anchor: Annotated[
        Path | None,
        typer.Option(
            "--anchor",
            exists=True,
            dir_okay=False,
            readable=True,
            help="Also check the chains against heads printed earlier by --print-heads.",
        ),
    ] = None,
    print_heads: Annotated[
        bool,
        typer.Option(
            "--print-heads",
            help="When every chain holds, print their heads as JSON on stdout, to keep elsewhere.",
        ),
    ] = False,
    seal: Annotated[
        bool,
        typer.Option(
            "--seal",
            help="First key every event and head without this server's MAC "
            "(COAUTHOR_EVENT_LOG_KEY must be set).",
        ),
    ] = False,
) -> None:
    """Check the hash chains of the event log: every chain, or one alliance's."""
    anchored = _read_anchor(anchor) if anchor else None
    with operator_uow() as uow:
        if seal:
            _seal(uow)
        outcome = _check(uow, alliance_id, anchored, print_heads=print_heads)
    for line in outcome.ok_lines:
        typer.echo(line, err=print_heads)
    if outcome.errors:
        raise Failure(outcome.errors, VERIFY_FAILED)
    if outcome.heads is not None:
        import json

        typer.echo(json.dumps(outcome.heads, indent=2))


@dataclass
class _Outcome:
    ok_lines: list[str]
    errors: list[str]
    heads: dict[str, Any] | None


def _seal(uow: UnitOfWork) -> None:
    from coauthor.services.audit import do_seal

    sealed = uow.write(do_seal, None, bootstrap=True)
    typer.echo(f"sealed {sum(sealed.values())} events in {len(sealed)} chains", err=True)


def _check(
    uow: UnitOfWork, alliance_id: str | None, anchored: Anchor | None, *, print_heads: bool
) -> _Outcome:
    """Every chain (or one alliance's), and every chain the anchor records (or that one)."""
    from coauthor.domain.errors import NotFound
    from coauthor.services import audit, eventlog
    from coauthor.services.mechanics.directory import alliance_exists

    if alliance_id is not None and not alliance_exists(uow, alliance_id):
        raise NotFound(f"no alliance with id {alliance_id}")
    chains = [alliance_id] if alliance_id else eventlog.chain_ids(uow)
    reports = [eventlog.verify_chain(uow, chain) for chain in chains]
    checks = audit.check_anchor(uow, anchored, [alliance_id] if alliance_id else None)
    errors = [f"error: chain {r.chain_id}: {r.where}: {r.reason}" for r in reports if not r.ok]
    errors += [f"error: chain {c.chain_id}: anchor: {c.problem}" for c in checks if not c.ok]
    heads = audit.heads_document(uow, chains) if print_heads else None
    return _Outcome(_ok_lines(reports, checks, keyed=uow.event_key is not None), errors, heads)


def _read_anchor(path: Path) -> Anchor:
    from coauthor.domain.errors import CoauthorError
    from coauthor.interop.archive import json_path
    from coauthor.services.archive.jsontext import decode_json
    from coauthor.services.audit import parse_anchor

    try:
        return parse_anchor(decode_json(path.read_bytes(), "an anchor"))
    except CoauthorError as exc:
        raise Failure(error_lines(exc, lambda loc: f"{path}: {json_path(loc)}")) from None


def _ok_lines(reports: list[ChainReport], checks: list[AnchorCheck], *, keyed: bool) -> list[str]:
    anchored = {check.chain_id: check.seq for check in checks if check.ok}
    lines = []
    for report in reports:
        if not report.ok:
            continue
        notes = ["MACs checked"] if keyed else []
        if report.unchecked_macs:
            notes.append(f"{report.unchecked_macs} MACs not checked: no key set")
        if report.chain_id in anchored:
            notes.append(f"matches the anchor at event {anchored[report.chain_id]}")
        suffix = "".join(f", {note}" for note in notes)
        lines.append(f"ok: chain {report.chain_id}: {report.events} events intact{suffix}")
    return lines


def register(app: typer.Typer) -> None:
    app.command("export")(export_command)
    app.command("import")(import_command)
    app.command()(verify)
