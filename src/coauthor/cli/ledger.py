"""``coauthor ledger``: the commitment ledger's figures for an alliance."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from coauthor.cli.common import Failure, group, operator_uow

ledger_app = group("The commitment ledger: what it says about an alliance.")


@ledger_app.command("metrics")
def ledger_metrics(
    alliance_id: Annotated[str, typer.Argument(help="The alliance whose ledger to read.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    period: Annotated[
        str, typer.Option("--period", help="Group the figures by `quarter` or `month` opened.")
    ] = "quarter",
) -> None:
    """Reliability, responsiveness, clarity, candor, silent lapses, rework and reciprocity:
    for the alliance, each partner and each period (docs/ledger.md, "Metrics")."""
    if period not in ("quarter", "month"):
        raise Failure([f"error: --period: must be quarter or month, not {period!r}"])
    from coauthor.domain.model import Alliance
    from coauthor.services.ledger.figures import figures_of

    with operator_uow() as uow:
        alliance = uow.get(Alliance, id=alliance_id)
        if alliance is None:
            raise Failure([f"error: ALLIANCE_ID: no alliance with id {alliance_id}"])
        figures = figures_of(uow, alliance, period=period)  # type: ignore[arg-type]
        document = figures.to_dict()
    if as_json:
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    _print_tables(document)


def _percent(value: dict) -> str:
    return "—" if value["value"] is None else f"{100 * value['value']:.0f}%"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}h"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _row(name: str, figures: dict) -> list[str]:
    waits, candor = figures["responsiveness"], figures["candor"]
    lapses = figures["silent_lapses"]
    return [
        name,
        str(figures["requests"]),
        _percent(figures["reliability"]),
        _hours(waits["answer"]["median_hours"]),
        _hours(waits["declaration"]["median_hours"]),
        _percent(figures["clarity"]["explicit"]),
        f"{_share(candor['declines_per_request'])}/{_share(candor['counters_per_request'])}",
        f"{lapses['count']}/{lapses['past_due']}",
    ]


COLUMNS = ("", "asked", "kept", "answer", "declare", "clear", "candor", "lapsed")
LEGEND = (
    "kept: reliability · answer, declare: median wait in states 2 and 4 · clear: requests "
    "with conditions and a due date · candor: declines/counters per request · lapsed: silent "
    "lapses/past due. --json gives every figure (renege and cancel rates, rework loops, "
    "reciprocity) with its counts."
)


def _table(title: str, rows: list[list[str]]) -> object:
    from rich.table import Table

    table = Table(title=title, title_justify="left", pad_edge=False)
    table.add_column(COLUMNS[0], overflow="fold", min_width=12, max_width=24)
    for column in COLUMNS[1:]:
        table.add_column(column, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return table


def _print_tables(document: dict) -> None:
    from rich.console import Console

    console = Console()
    scopes = [_row("alliance", document)] + [
        _row(partner["partner"], partner) for partner in document["by_partner"]
    ]
    as_of = document["as_of"][:16].replace("T", " ")
    console.print(_table(f"{document['alliance']}, as of {as_of} UTC", scopes))
    periods = [_row(period["period"], period) for period in document["by_period"]]
    console.print(_table("By period opened", periods))
    console.print(LEGEND, style="dim")


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")
