"""``coauthor pulse``: the pulse survey's statistics from the command line."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from coauthor.cli.common import group as command_group

pulse_app = command_group("Pulse survey statistics.")

EXIT_BAD_INPUT = 2

OPTION_OF_FIELD = {"items": "--items", "reverse": "--reverse", "scale_points": "--scale-points"}


class MissingPolicy(enum.StrEnum):
    PAIRWISE = "pairwise"
    LISTWISE = "listwise"


@pulse_app.callback()
def _pulse() -> None:
    """Pulse survey statistics."""


def _names(spec: str | None) -> list[str]:
    """``"A, B,C"`` → ``["A", "B", "C"]``."""
    return [] if spec is None else [name.strip() for name in spec.split(",")]


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {message}", markup=False)
    return typer.Exit(EXIT_BAD_INPUT)


@pulse_app.command("stats")
def stats_command(
    csv: Annotated[Path, typer.Argument(help="Answers: one row per respondent, a header row.")],
    group_col: Annotated[
        str, typer.Option("--group-col", help="The column naming each respondent's group.")
    ],
    items: Annotated[str, typer.Option("--items", help="The item columns, comma-separated.")],
    scale_points: Annotated[
        int, typer.Option("--scale-points", help="Response options of every item (1..N).")
    ],
    reverse: Annotated[
        str | None,
        typer.Option("--reverse", help="Reverse-keyed items, comma-separated: scored N + 1 − x."),
    ] = None,
    missing: Annotated[
        MissingPolicy,
        typer.Option("--missing", help="Alpha and omega over pairwise-complete or complete rows."),
    ] = MissingPolicy.PAIRWISE,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Reliability, agreement and ICC of a pulse survey exported as CSV."""
    from coauthor.analysis.pulse_summary import survey_statistics
    from coauthor.domain.errors import ValidationFailed
    from coauthor.interop.survey_csv import SurveyCsvError, read_survey_csv

    try:
        responses = read_survey_csv(
            csv,
            group_column=group_col,
            items=_names(items),
            scale_points=scale_points,
            reverse=_names(reverse),
        )
    except SurveyCsvError as error:
        raise _fail(str(error)) from None
    except ValidationFailed as error:
        field = error.errors[0]
        raise _fail(f"{OPTION_OF_FIELD.get(field.field, field.field)}: {field.message}") from None
    report = survey_statistics(
        responses.answers,
        responses.groups,
        responses.items,
        responses.scale_points,
        missing.value,  # type: ignore[arg-type]
    )
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, allow_nan=False))
        return
    _print_report(Console(), report)


def _shown(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _print_report(console: Console, report: dict[str, Any]) -> None:
    from rich.table import Table

    console.print(
        f"{report['n']} respondents, {len(report['items'])} items "
        f"(1–{report['scale_points']}), {len(report['groups'])} groups; "
        f"missing answers: {report['missing']}"
    )
    console.print(
        f"alpha {_shown(report['alpha'])}  omega {_shown(report['omega'])}  "
        f"ICC(1) {_shown(report['icc1'])}  ICC(2) {_shown(report['icc2'])}"
    )
    agreement = "rwg" if len(report["items"]) == 1 else "rwg_j"
    table = Table(title="Agreement within groups")
    for column in ("group", "n", agreement, "AD"):
        table.add_column(column)
    for group in report["groups"]:
        table.add_row(
            group["group"], str(group["n"]), _shown(group[agreement]), _shown(group["ad"])
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(pulse_app, name="pulse")
