"""Every --help shows flags as flags: ``--admin``, never ``--admin <bool>`` (issue 9, 13)."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from coauthor.cli import app
from tests.unit.test_docs import command_paths

COMMANDS = [path.split()[1:] for path, _ in command_paths(typer.main.get_command(app))]


@pytest.mark.parametrize(
    "command", [[], *COMMANDS], ids=lambda words: " ".join(words) or "coauthor"
)
def test_help_shows_no_value_type_for_a_flag(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    assert "--help" in result.output
    assert "<bool>" not in result.output


def test_options_that_take_a_value_still_say_what_it_is() -> None:
    result = CliRunner().invoke(app, ["user", "create", "--help"], terminal_width=120)
    assert "--name" in result.output and "<str>" in result.output
    admin_line = next(line for line in result.output.splitlines() if "--admin" in line)
    assert "<" not in admin_line
