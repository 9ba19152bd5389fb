"""The ``coauthor`` command: set up, serve, seed the demo, manage accounts, archive, verify.

The CLI is run by the server's operator, who already holds the database: it
acts with no signed-in person (``actor=None``) and ``bootstrap=True`` where a
service offers it (creating people, importing and exporting archives, the
demo). Where a service needs a person — setting a password, creating an API
token — the CLI acts as that person. See docs/cli.md.

Results go to standard output, messages and progress to standard error.
Exit codes: 0 done; 1 a chain failed verification; 2 a bad argument or input.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import pydantic
import sqlalchemy as sa
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table
from sqlalchemy.engine import make_url
from typer.core import TyperGroup

from coauthor.config import Settings
from coauthor.db import migrate as db_migrate
from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import CoauthorError, FieldError, Loc, NotFound, ValidationFailed
from coauthor.domain.model import Person
from coauthor.interop import archive
from coauthor.interop.polis_cli import MetaOption, deliberation_app, read_export
from coauthor.runtime import build_runtime
from coauthor.services import eventlog, inputs
from coauthor.services.accounts import inputs as account_inputs
from coauthor.services.accounts import people, tokens
from coauthor.services.archive.export import export_alliance
from coauthor.services.archive.importer import do_import_archive
from coauthor.services.mechanics import alliances

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
    errors: list[FieldError] = getattr(exc, "errors", [])
    if not errors:
        return [f"error: {exc.detail}"]
    lines = [_error_line(path(e.loc), e.message) for e in errors[:MAX_ERRORS_SHOWN]]
    if len(errors) > MAX_ERRORS_SHOWN:
        lines.append(f"error: … and {len(errors) - MAX_ERRORS_SHOWN} more")
    return lines


def _settings_error_lines(exc: pydantic.ValidationError) -> list[str]:
    return [
        f"error: COAUTHOR_{str(error['loc'][0]).upper()}: "
        + str(error["msg"]).removeprefix("Value error, ")
        for error in exc.errors()
    ]


def _failure_of(exc: Exception) -> Failure | None:
    """The message and exit code for an error a user can cause; None for a bug."""
    if isinstance(exc, Failure):
        return exc
    if isinstance(exc, CoauthorError):
        return Failure(error_lines(exc))
    if isinstance(exc, pydantic.ValidationError):
        return Failure(_settings_error_lines(exc))
    if isinstance(exc, sa.exc.OperationalError | sa.exc.NoSuchModuleError):
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return Failure([f"error: cannot use the database: {reason}"])
    return None


class OperatorGroup(TyperGroup):
    """Turns every error a user can cause into ``error: …`` on stderr and exit code 2."""

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


def _group(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, add_completion=False)


app = typer.Typer(
    cls=OperatorGroup,
    help="Coauthor: a workspace for inter-organizational alliances.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
user_app = _group("Create people and set their passwords.")
token_app = _group("Create API tokens.")
alliance_app = _group("List the alliances in the database.")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(alliance_app, name="alliance")
app.add_typer(deliberation_app, name="deliberation")


def _err() -> Console:
    return Console(stderr=True, highlight=False)


def _settings() -> Settings:
    settings = Settings()
    try:
        make_url(settings.database_url)
    except sa.exc.ArgumentError as exc:
        raise Failure([f"error: COAUTHOR_DATABASE_URL: {exc}"]) from None
    return settings


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def _operator_uow() -> Iterator[UnitOfWork]:
    """A unit of work on the configured database, migrated first; commit to keep writes."""
    runtime = build_runtime(_settings())
    try:
        with runtime.uow() as uow:
            yield uow
    finally:
        runtime.close()


@contextmanager
def _progress(description: str) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar on stderr (only on a terminal), fed by ``report(what, done, total)``."""
    console = _err()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task(description, total=None)

        def report(what: str, done: int, total: int) -> None:
            progress.update(task, description=what, completed=done, total=total)

        yield report


def _read_password() -> str:
    """One line from standard input (a hidden prompt on a terminal)."""
    if sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True, err=True)
    line = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not line:
        raise ValidationFailed.one("password", "give the password on standard input, one line")
    return line


def _person(uow: UnitOfWork, email: str) -> Person:
    person = people.person_by_email(uow, email)
    if person is None:
        raise NotFound(f"no person with email {email}")
    return person


def _migrate() -> None:
    url = _settings().database_url
    db_migrate.upgrade(url)
    typer.echo(f"{_shown(url)} is at schema revision {db_migrate.current_revision(url)}")


@app.command()
def init() -> None:
    """Create the database, or bring its schema up to date."""
    _migrate()


@app.command()
def migrate() -> None:
    """Bring the database's schema up to date (the same as init)."""
    _migrate()


HostOption = Annotated[
    str | None, typer.Option(help="Address to bind to [default: COAUTHOR_HOST or 127.0.0.1].")
]
PortOption = Annotated[
    int | None,
    typer.Option(min=1, max=65535, help="Port to listen on [default: COAUTHOR_PORT or 8000]."),
]


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from coauthor.web.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port)


@app.command()
def serve(host: HostOption = None, port: PortOption = None) -> None:
    """Serve the web application and the API with uvicorn."""
    settings = _settings()
    _serve(settings, host or settings.host, port or settings.port)


def _login_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}/"


@app.command()
def demo(
    host: HostOption = None,
    port: PortOption = None,
    seed_only: Annotated[
        bool, typer.Option("--seed-only", help="Seed and print the login, but do not serve.")
    ] = False,
) -> None:
    """Migrate, seed the demo alliance if absent, print how to sign in, then serve."""
    from coauthor.demo.seed import seed_demo

    settings = _settings()
    host, port = host or settings.host, port or settings.port
    runtime = build_runtime(settings)
    try:
        with _progress("Seeding the demo alliance") as report, runtime.uow() as uow:
            login = uow.write(seed_demo, url=_login_url(host, port), report=report)
    finally:
        runtime.close()
    state = "seeded" if login.created else "already seeded; the demo password was reset"
    typer.echo(f"Demo alliance {state}.")
    typer.echo(f"Sign in at {login.url}")
    typer.echo(f"  email:    {login.email}")
    typer.echo(f"  password: {login.password}")
    if not seed_only:
        _serve(settings, host, port)


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="The person's email address (their login).")],
    name: Annotated[str, typer.Option("--name", help="The person's full name.")],
    admin: Annotated[bool, typer.Option("--admin", help="Make them a site administrator.")] = False,
) -> None:
    """Create a person; their password is read from standard input (one line)."""
    data = inputs.parse(
        account_inputs.PersonInput, {"email": email, "name": name, "is_admin": admin}
    )
    password = _read_password()
    with _operator_uow() as uow:
        person = uow.write(people.do_create_person, None, data, password, bootstrap=True)
    role = "site administrator" if person.is_admin else "person"
    typer.echo(f"created {role} {person.email} ({person.id})")


@user_app.command("set-password")
def user_set_password(
    email: Annotated[str, typer.Argument(help="The person's email address.")],
) -> None:
    """Set a person's password, read from standard input (one line)."""
    password = _read_password()
    with _operator_uow() as uow:
        person = _person(uow, email)
        uow.write(people.do_set_password, None, person, password, bootstrap=True)
    typer.echo(f"password set for {person.email}")


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Argument(help="Whose token: the person's email address.")],
    name: Annotated[str, typer.Option("--name", help="A label for the token.")] = "API token",
) -> None:
    """Create an API token for a person and print it (only the token, shown once)."""
    with _operator_uow() as uow:
        person = _person(uow, email)
        _, secret = uow.write(tokens.do_create_token, person, name)
    typer.echo(secret)


def _alliance_rows(uow: UnitOfWork) -> list[dict[str, str]]:
    return [
        {
            "id": alliance.id,
            "name": alliance.name,
            "kind": alliance.kind.value,
            "stage": alliance.stage.value,
            "created_at": alliance.created_at.isoformat(),
        }
        for alliance in alliances.every_alliance(uow)
    ]


@alliance_app.command("list")
def alliance_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead.")] = False,
) -> None:
    """List every alliance: id, name, kind, stage and when it was created."""
    with _operator_uow() as uow:
        rows = _alliance_rows(uow)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table(title="Alliances")
    table.add_column("id", no_wrap=True)
    for column in ("name", "kind", "stage", "created"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["id"], row["name"], row["kind"], row["stage"], row["created_at"][:10])
    Console().print(table)


@app.command("export")
def export_command(
    alliance_id: Annotated[str, typer.Argument(help="The alliance to export.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="Write here instead of stdout."),
    ] = None,
) -> None:
    """Export one alliance as a coauthor-archive/1 JSON document."""
    with _operator_uow() as uow, _progress(f"Exporting {alliance_id}"):
        document = export_alliance(uow, None, alliance_id, bootstrap=True)
        text = archive.dumps_archive(document)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output} ({len(document.events)} events)", err=True)


@app.command("import")
def import_command(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="The archive to import."),
    ],
) -> None:
    """Import a coauthor-archive/1 document; print the alliance's id."""
    try:
        document = archive.loads_archive(file.read_bytes())
        with _operator_uow() as uow, _progress(f"Importing {file.name}") as report:
            alliance_id, created = uow.write(
                do_import_archive, None, document, bootstrap=True, report=report
            )
    except CoauthorError as exc:
        raise Failure(error_lines(exc, archive.json_path)) from None
    state = "imported" if created else "already imported; nothing written"
    typer.echo(f"{state}: {alliance_id}", err=True)
    typer.echo(alliance_id)


@app.command()
def verify(
    alliance_id: Annotated[
        str | None, typer.Argument(help="Check only this alliance's chain.")
    ] = None,
) -> None:
    """Check the hash chains of the event log: every chain, or one alliance's."""
    with _operator_uow() as uow:
        if alliance_id is not None and alliances.alliance_by_id(uow, alliance_id) is None:
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
    with _operator_uow() as uow:
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

    settings = _settings()
    with _operator_uow() as uow:
        count = export_polis(
            uow,
            None,
            alliance_id,
            deliberation_id,
            output,
            settings.anonymity_threshold,
            bootstrap=True,
        )
    typer.echo(f"wrote {count} participants' votes to {output}")
