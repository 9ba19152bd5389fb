"""``coauthor deliberation``: analyse Pol.is exports, and move them in and out of alliances."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from coauthor.cli.common import Failure, operator_uow, settings

if TYPE_CHECKING:
    from coauthor.analysis.opinion import OpinionResult, PolisMath
    from coauthor.interop.polis import PolisExport

deliberation_app = typer.Typer(
    help="Deliberation math (Pol.is-compatible opinion groups).", no_args_is_help=True
)

EXIT_BAD_INPUT = 2
STATEMENT_PREVIEW = 70

MetaOption = Annotated[
    str | None,
    typer.Option(
        "--meta",
        metavar="IDS",
        help="Statements Pol.is treated as meta (demographic questions), e.g. 1-14,20: "
        "Pol.is's CSV export does not say which they are.",
    ),
]


EraOption = Annotated[
    str | None,
    typer.Option(
        "--era",
        metavar="DATE",
        help="Follow Pol.is's math as it was on DATE (YYYY-MM-DD) [default: the date of "
        "the export's last vote; with --replay, the date of each update].",
    ),
]


def parse_era(spec: str | None) -> PolisMath | None:
    """``--era 2016-05-01`` → the math Pol.is ran that day; ``ValueError`` if not a date."""
    from coauthor.analysis.opinion import polis_math_at

    if spec is None:
        return None
    try:
        when = date.fromisoformat(spec.strip())
    except ValueError:
        raise ValueError(f"--era: {spec!r} is not a date such as 2016-05-01") from None
    return polis_math_at(when)


def parse_statement_ids(spec: str) -> list[str]:
    """``"1-3,7"`` → ``["1", "2", "3", "7"]``; ``ValueError`` says which part is wrong."""
    ids: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        first, dash, last = part.partition("-")
        if not dash and first.isdigit():
            ids.append(str(int(first)))
        elif dash and first.strip().isdigit() and last.strip().isdigit():
            low, high = int(first), int(last)
            if low > high:
                raise ValueError(f"range {part!r} runs backwards")
            ids.extend(str(i) for i in range(low, high + 1))
        else:
            raise ValueError(f"{part!r} is not a statement id or a range such as 1-14")
    return ids


def read_export(path: Path, meta: str | None) -> PolisExport:
    """Read an export folder and mark ``--meta`` statements; ``ValueError`` on bad input."""
    from coauthor.interop.polis import read_polis_export, with_meta

    export = read_polis_export(path)
    if meta is None:
        return export
    try:
        return with_meta(export, parse_statement_ids(meta))
    except ValueError as error:
        raise ValueError(f"--meta: {error}") from None


@deliberation_app.callback()
def _deliberation() -> None:
    """Deliberation math (Pol.is-compatible opinion groups)."""


@deliberation_app.command("analyze")
def analyze_command(
    path: Annotated[Path, typer.Argument(help="A Pol.is export folder.")],
    seed: Annotated[int, typer.Option(help="Seed for the PCA start vectors.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    replayed: Annotated[
        bool,
        typer.Option(
            "--replay",
            help="Recompute along the vote log, update by update, as Pol.is did "
            "(slower; closer to Pol.is's own groups).",
        ),
    ] = False,
    meta: MetaOption = None,
    era: EraOption = None,
    max_updates: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="With --replay: merge the vote log's 1-second batches down to at most N "
            "updates (faster, approximate) [default: every batch].",
        ),
    ] = None,
) -> None:
    """Read a Pol.is export, compute opinion groups, and print them."""
    from coauthor.interop.polis import analyze_polis_export, replay_polis_export

    try:
        math = parse_era(era)
        export = read_export(path, meta)
    except ValueError as error:  # PolisImportError is one: file, line and reason
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {error}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if replayed:
        with _progress(as_json) as advance:
            result = replay_polis_export(
                export, seed=seed, max_updates=max_updates, progress=advance, era=math
            )
    else:
        result = analyze_polis_export(export, seed=seed, era=math)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    _print_summary(Console(), export, result)


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on standard error for the replay's updates (none under --json)."""
    if quiet:
        yield lambda done, total: None
        return
    console = Console(stderr=True)
    with Progress(
        TextColumn("replaying updates"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("replay", total=None)

        def advance(done: int, total: int) -> None:
            if done == 1 or done == total or done % 100 == 0:
                bar.update(task, completed=done, total=total)

        yield advance


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= STATEMENT_PREVIEW else text[: STATEMENT_PREVIEW - 1] + "…"


def _print_summary(console: Console, export: PolisExport, result: OpinionResult) -> None:
    matrix = export.matrix
    clustered = sum(g is not None for g in result.participant_groups)
    console.print(
        f"{matrix.shape[0]} participants ({clustered} clustered), {matrix.shape[1]} statements, "
        f"{matrix.n_votes} votes; k = {result.k}"
    )
    groups = Table(title="Opinion groups")
    for column in ("group", "size", "representative statements"):
        groups.add_column(column)
    for group in result.groups:
        lines = [
            f"{'+' if r.direction == 'agree' else '-'} [{r.statement_id}] "
            f"{_preview(export.texts.get(r.statement_id, ''))} ({r.p_success:.0%})"
            for r in group.representative
        ]
        groups.add_row(str(group.id), str(group.size), "\n".join(lines))
    console.print(groups)
    consensus = Table(title="Consensus")
    for column in ("direction", "statement", "share"):
        consensus.add_column(column)
    for direction, statements in (
        ("agree", result.consensus.agree),
        ("disagree", result.consensus.disagree),
    ):
        for c in statements:
            text = _preview(export.texts.get(c.statement_id, ""))
            consensus.add_row(direction, f"[{c.statement_id}] {text}", f"{c.p_success:.0%}")
    console.print(consensus)


@deliberation_app.command("import")
def deliberation_import(
    path: Annotated[Path, typer.Argument(help="A Pol.is export folder.")],
    alliance: Annotated[str, typer.Option("--alliance", help="The alliance to load it into.")],
    question: Annotated[
        str | None, typer.Option(help="The question [default: the export's topic].")
    ] = None,
    meta: MetaOption = None,
) -> None:
    """Load a Pol.is export into an alliance as a closed deliberation; prints its id."""
    from coauthor.interop.polis_transfer import import_polis

    try:
        export = read_export(path, meta)
    except ValueError as error:  # PolisImportError is one: file, line and reason
        raise Failure([f"error: {error}"]) from None
    with operator_uow() as uow:
        deliberation = uow.write(
            import_polis, None, alliance, export, question=question, bootstrap=True
        )
    typer.echo(deliberation.id)


@deliberation_app.command("export")
def deliberation_export(
    alliance_id: Annotated[str, typer.Argument(help="The alliance's id.")],
    deliberation_id: Annotated[str, typer.Argument(help="The deliberation's id.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder to write the CSVs to.")],
) -> None:
    """Write a deliberation as a Pol.is export folder (participants renumbered at random)."""
    from coauthor.interop.polis_transfer import export_polis

    current = settings()
    with operator_uow() as uow:
        count = export_polis(
            uow,
            None,
            alliance_id,
            deliberation_id,
            output,
            current.anonymity_threshold,
            bootstrap=True,
        )
    typer.echo(f"wrote {count} participants' votes to {output}")


def register(app: typer.Typer) -> None:
    app.add_typer(deliberation_app, name="deliberation")
