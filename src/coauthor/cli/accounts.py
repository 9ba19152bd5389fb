"""``coauthor user`` and ``coauthor token``: people, passwords and API tokens."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from coauthor.cli.common import group, operator_uow

if TYPE_CHECKING:
    from coauthor.db.uow import UnitOfWork
    from coauthor.domain.model import Person

user_app = group("Create people and set their passwords.")
token_app = group("Create API tokens.")


def _read_password() -> str:
    """One line from standard input (a hidden prompt on a terminal)."""
    from coauthor.domain.errors import ValidationFailed

    if sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True, err=True)
    line = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not line:
        raise ValidationFailed.one("password", "give the password on standard input, one line")
    return line


def _person(uow: UnitOfWork, email: str) -> Person:
    from coauthor.domain.errors import NotFound
    from coauthor.services.accounts.people import person_by_email

    person = person_by_email(uow, email)
    if person is None:
        raise NotFound(f"no person with email {email}")
    return person


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="The person's email address (their login).")],
    name: Annotated[str, typer.Option("--name", help="The person's full name.")],
    admin: Annotated[
        bool, typer.Option("--admin", help="Make them a site administrator (a flag, no value).")
    ] = False,
) -> None:
    """Create a person; their password is read from standard input (one line)."""
    from coauthor.services import inputs
    from coauthor.services.accounts.inputs import PersonInput
    from coauthor.services.accounts.people import do_create_person

    data = inputs.parse(PersonInput, {"email": email, "name": name, "is_admin": admin})
    password = _read_password()
    with operator_uow() as uow:
        person = uow.write(do_create_person, None, data, password, bootstrap=True)
    role = "site administrator" if person.is_admin else "person"
    typer.echo(f"created {role} {person.email} ({person.id})")


@user_app.command("set-password")
def user_set_password(
    email: Annotated[str, typer.Argument(help="The person's email address.")],
) -> None:
    """Set a person's password, read from standard input (one line)."""
    from coauthor.services.accounts.people import do_set_password

    password = _read_password()
    with operator_uow() as uow:
        person = _person(uow, email)
        uow.write(do_set_password, None, person, password, bootstrap=True)
    typer.echo(f"password set for {person.email}")


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Argument(help="Whose token: the person's email address.")],
    name: Annotated[str, typer.Option("--name", help="A label for the token.")] = "API token",
) -> None:
    """Create an API token for a person and print it (only the token, shown once)."""
    from coauthor.services.accounts.tokens import do_create_token

    with operator_uow() as uow:
        person = _person(uow, email)
        _, secret = uow.write(do_create_token, person, name)
    typer.echo(secret)


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
