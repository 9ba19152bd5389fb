"""The ``coauthor`` command: set up, serve, seed the demo, manage accounts, archive, verify.

One module per group of commands; each registers its commands on ``app``.
See docs/cli.md. Results go to standard output, messages and progress to
standard error. Exit codes: 0 done; 1 a chain failed verification; 2 a bad
argument or input.
"""

from __future__ import annotations

import typer

from coauthor.cli import (
    accounts,
    alliances,
    archive,
    deliberation,
    ledger,
    pulse,
    search,
    setup,
    story,
)
from coauthor.cli.common import OperatorGroup

app = typer.Typer(
    cls=OperatorGroup,
    help="Coauthor: a workspace for inter-organizational alliances.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for _commands in (setup, accounts, alliances, archive, deliberation, ledger, pulse, search, story):
    _commands.register(app)

__all__ = ["app"]
