"""``coauthor search``: the search index, rebuilt from the alliances' items."""

from __future__ import annotations

from typing import Annotated

import typer

from coauthor.cli.common import Failure, group, operator_uow

search_app = group("The search index.")


@search_app.command("reindex")
def reindex(
    alliance: Annotated[
        str | None,
        typer.Option("--alliance", help="Rebuild only this alliance's entries (its id)."),
    ] = None,
) -> None:
    """Write the search index again from the items themselves: every alliance, or one."""
    from coauthor.services.mechanics.directory import alliance_exists
    from coauthor.services.search.index import rebuild

    with operator_uow() as uow:
        if alliance is not None and not alliance_exists(uow, alliance):
            raise Failure([f"error: --alliance: no alliance has the id {alliance}"])
        written = uow.write(lambda uow: rebuild(uow.session, alliance))
    scope = f"alliance {alliance}" if alliance else "every alliance"
    typer.echo(f"Indexed {written} items of {scope}.")


def register(app: typer.Typer) -> None:
    app.add_typer(search_app, name="search")
