"""``coauthor alliance``: the alliances in the database."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from coauthor.cli.common import group, operator_uow

alliance_app = group("List the alliances in the database.")


@alliance_app.command("list")
def alliance_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead.")] = False,
) -> None:
    """List every alliance: id, name, kind, stage and when it was created."""
    from coauthor.config import Settings
    from coauthor.services.mechanics.directory import every_alliance, every_alliance_quickly

    found = every_alliance_quickly(Settings().database_url)
    if found is None:
        with operator_uow() as uow:
            found = every_alliance(uow)
    rows = [
        {
            "id": row.id,
            "name": row.name,
            "kind": row.kind,
            "stage": row.stage,
            "created_at": row.created_at.isoformat(),
        }
        for row in found
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Alliances")
    table.add_column("id", no_wrap=True)
    for column in ("name", "kind", "stage", "created"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["id"], row["name"], row["kind"], row["stage"], row["created_at"][:10])
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(alliance_app, name="alliance")
