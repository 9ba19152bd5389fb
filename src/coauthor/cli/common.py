"""What every command shares: errors as ``error: …`` lines and exit codes, the operator's
unit of work, progress bars.

The CLI is run by the server's operator, who already holds the database: it
acts with no signed-in person (``actor=None``) and ``bootstrap=True`` where a
service offers it. Modules of this package import only typer, rich and the
standard library at the top; everything else is imported inside the command
that needs it, so ``coauthor --help`` and quick reads start fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

if TYPE_CHECKING:
    import click

    from coauthor.config import Settings
    from coauthor.db.uow import UnitOfWork
    from coauthor.domain.errors import CoauthorError, Loc

USAGE_ERROR = 2
VERIFY_FAILED = 1
MAX_ERRORS_SHOWN = 20


class Failure(Exception):
    """Stop the command: print ``lines`` on standard error and exit with ``code``."""

    def __init__(self, lines: list[str], code: int = USAGE_ERROR) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines
        self.code = code


def field_path(loc: Loc) -> str:
    """``("shares", 1, "percent")`` → ``shares[1].percent``."""
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    return text.removeprefix(".")


def _error_line(where: str, message: str) -> str:
    return f"error: {where}: {message}" if where else f"error: {message}"


def error_lines(exc: CoauthorError, path: Callable[[Loc], str] = field_path) -> list[str]:
    errors = getattr(exc, "errors", [])
    if not errors:
        return [f"error: {exc.detail}"]
    lines = [_error_line(path(e.loc), e.message) for e in errors[:MAX_ERRORS_SHOWN]]
    if len(errors) > MAX_ERRORS_SHOWN:
        lines.append(f"error: … and {len(errors) - MAX_ERRORS_SHOWN} more")
    return lines


def _failure_of(exc: Exception) -> Failure | None:
    """The message and exit code for an error a user can cause; None for a bug.

    The error types are looked up only when something went wrong, so that a
    command that succeeds never imports pydantic or SQLAlchemy for this.
    """
    if isinstance(exc, Failure):
        return exc
    from coauthor.domain.errors import CoauthorError

    if isinstance(exc, CoauthorError):
        return Failure(error_lines(exc))
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(exc, pydantic.ValidationError):
        return Failure(
            [
                f"error: COAUTHOR_{str(error['loc'][0]).upper()}: "
                + str(error["msg"]).removeprefix("Value error, ")
                for error in exc.errors()
            ]
        )
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is not None and isinstance(exc, sa_exc.OperationalError | sa_exc.NoSuchModuleError):
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return Failure([f"error: cannot use the database: {reason}"])
    return None


def bare_flags(command: click.Command, ctx: click.Context) -> None:
    """Show flags in --help without a value type: ``--admin``, not ``--admin <bool>``.

    Typer's rich help (0.2x with Click 8.2+) prints a type column for every
    option, flags included, so ``--admin <bool>`` and ``--help <bool>`` read as
    if they took a value; its plain help leaves flags bare. A parameter's own
    metavar takes the place of that type, so an empty one leaves the column
    blank. Applied to the whole command tree, help options included.
    """
    for param in command.get_params(ctx):
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        bare_flags(sub, typer.Context(sub, parent=ctx))


class OperatorGroup(TyperGroup):
    """Turns every error a user can cause into ``error: …`` on stderr and exit code 2."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        bare_flags(self, typer.Context(self, info_name=info_name))
        return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            failure = _failure_of(exc)
            if failure is None:
                raise
            for line in failure.lines:
                typer.echo(line, err=True)
            raise typer.Exit(failure.code) from None


def group(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, add_completion=False)


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def settings() -> Settings:
    """The settings, with a database URL that at least parses."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from coauthor.config import Settings

    current = Settings()
    try:
        make_url(current.database_url)
    except sa.exc.ArgumentError as exc:
        raise Failure([f"error: COAUTHOR_DATABASE_URL: {exc}"]) from None
    return current


def shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def operator_uow() -> Iterator[UnitOfWork]:
    """A unit of work on the configured database, migrated first; ``uow.write`` to change it."""
    from coauthor.runtime import build_runtime

    runtime = build_runtime(settings())
    try:
        with runtime.uow() as uow:
            yield uow
    finally:
        runtime.close()


@contextmanager
def progress(description: str) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar on stderr (only on a terminal), fed by ``report(what, done, total)``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    console = err_console()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task(description, total=None)

        def report(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total)

        yield report
