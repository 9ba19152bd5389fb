"""The docs keep step with the code: settings, CLI commands and options, the archive schema."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from coauthor.cli import app
from coauthor.config import Settings
from coauthor.services.archive.document import archive_schema_json

DOCS = Path(__file__).resolve().parents[2] / "docs"


def command_paths(command: Any, path: str = "coauthor") -> Iterator[tuple[str, Any]]:
    """Every command and group under ``command``, with its full name, depth first."""
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        full = f"{path} {name}"
        yield full, sub
        yield from command_paths(sub, full)


def sections(markdown: str) -> dict[str, str]:
    """Level-2 headings of a Markdown page (backticks removed) → the text under each."""
    parts = re.split(r"^## +(.+?) *$", markdown, flags=re.MULTILINE)
    return {
        heading.strip("` "): body for heading, body in zip(parts[1::2], parts[2::2], strict=True)
    }


def parameter_names(command: Any) -> list[str]:
    """A command's options (``--name``, ``-o``) and arguments (``EMAIL``)."""
    names: list[str] = []
    for param in command.params:
        if param.param_type_name == "option":
            names += [opt for opt in param.opts if opt != "--help"]
        elif param.param_type_name == "argument":
            names.append(param.name.upper())
    return names


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text()
    missing = [
        f"COAUTHOR_{name.upper()}"
        for name in Settings.model_fields
        if f"`COAUTHOR_{name.upper()}`" not in text
    ]
    assert not missing, f"docs/settings.md lacks {missing}"


def test_every_command_and_option_is_documented() -> None:
    documented = sections((DOCS / "cli.md").read_text())
    commands = list(command_paths(typer.main.get_command(app)))
    assert {"coauthor user create", "coauthor verify", "coauthor import"} <= dict(commands).keys()
    missing_commands = [path for path, _ in commands if path not in documented]
    assert not missing_commands, f"docs/cli.md has no '## …' section for {missing_commands}"
    missing_options = [
        f"{path} {name}"
        for path, command in commands
        for name in parameter_names(command)
        if f"`{name}`" not in documented[path]
    ]
    assert not missing_options, f"docs/cli.md does not document {missing_options}"


def test_committed_archive_schema_is_the_generated_one() -> None:
    committed = (DOCS / "archive.schema.json").read_text()
    assert committed == archive_schema_json(), (
        "docs/archive.schema.json is stale: run "
        "`.venv/bin/python -m coauthor.interop.archive > docs/archive.schema.json`"
    )
    assert json.loads(committed)["properties"]["format"]["const"] == "coauthor-archive/1"


def test_every_dated_change_of_pol_is_math_is_documented_with_its_commit() -> None:
    from coauthor.analysis.opinion_era import POLIS_HISTORY

    text = (DOCS / "deliberation.md").read_text()
    missing = [
        f"{era.since} {era.commit}"
        for era in POLIS_HISTORY
        if f"| {era.since} | `{era.commit}` |" not in text
    ]
    assert not missing, f"docs/deliberation.md lacks {missing}"
