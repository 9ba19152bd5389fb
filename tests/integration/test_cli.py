"""The `coauthor` command, through typer's CliRunner and once as a real process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coauthor.cli import app
from coauthor.config import Settings
from coauthor.demo.seed import ALLIANCE_NAME
from coauthor.runtime import build_runtime
from coauthor.services.accounts import people

COAUTHOR = Path(sys.executable).with_name("coauthor")


class Cli:
    """Runs `coauthor` against one database."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def __call__(self, *args: str, input: str | None = None) -> object:
        env = {"COAUTHOR_DATABASE_URL": self.database_url}
        result = CliRunner().invoke(app, list(args), input=input, env=env)
        assert "Traceback" not in result.output + result.stderr
        return result

    def ok(self, *args: str, input: str | None = None) -> str:
        result = self(*args, input=input)
        assert result.exit_code == 0, result.stderr
        return result.stdout

    def fails(self, *args: str, input: str | None = None, code: int = 2) -> str:
        result = self(*args, input=input)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result.stderr

    def demo(self) -> dict[str, str]:
        printed = self.ok("demo", "--seed-only")
        return dict(re.findall(r"^\s+(email|password):\s+(\S+)$", printed, re.MULTILINE))


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(f"sqlite:///{tmp_path / 'cli.sqlite3'}")


def password_of(database_url: str, email: str) -> str:
    runtime = build_runtime(Settings(database_url=database_url))
    try:
        with runtime.uow() as uow:
            person = people.person_by_email(uow, email)
            assert person is not None
            return person.password_hash
    finally:
        runtime.close()


def test_init_and_migrate_create_and_update_the_database(cli: Cli, tmp_path: Path) -> None:
    assert "schema revision" in cli.ok("init")
    assert (tmp_path / "cli.sqlite3").exists()
    assert "schema revision" in cli.ok("migrate")


def test_users_passwords_and_tokens(cli: Cli) -> None:
    created = cli.ok(
        "user",
        "create",
        "Ann@Example.org",
        "--name",
        "Ann Lee",
        "--admin",
        input="correct horse battery\n",
    )
    assert "site administrator ann@example.org" in created
    stored = password_of(cli.database_url, "ann@example.org")
    assert people.password_matches(stored, "correct horse battery")
    assert "already exists" in cli.fails(
        "user", "create", "ann@example.org", "--name", "Ann", input="another long one\n"
    )
    assert "password: must be at least 12 characters" in cli.fails(
        "user", "create", "bob@example.org", "--name", "Bob", input="short\n"
    )
    assert "error: password:" in cli.fails("user", "create", "bob@example.org", "--name", "B")
    assert "error: email:" in cli.fails(
        "user", "create", "not-an-email", "--name", "X", input="long enough pw\n"
    )
    assert "--name" in cli.fails("user", "create", "bob@example.org", input="long enough pw\n")
    cli.ok("user", "set-password", "ann@example.org", input="a brand new password\n")
    stored = password_of(cli.database_url, "ann@example.org")
    assert people.password_matches(stored, "a brand new password")
    assert "no person with email" in cli.fails(
        "user", "set-password", "nobody@example.org", input="a brand new password\n"
    )
    token = cli.ok("token", "create", "ann@example.org", "--name", "nightly export")
    assert re.fullmatch(r"cat_[A-Za-z0-9_-]{43}\n", token)
    assert "no person with email" in cli.fails("token", "create", "nobody@example.org")


def test_demo_seeds_once_and_gives_a_new_password_each_run(cli: Cli) -> None:
    first, second = cli.demo(), cli.demo()
    assert first["email"] == second["email"] == "jonas.brandt@nordwerk.example"
    assert first["password"] != second["password"]
    stored = password_of(cli.database_url, first["email"])
    assert people.password_matches(stored, second["password"])
    assert not people.password_matches(stored, first["password"])
    [alliance] = json.loads(cli.ok("alliance", "list", "--json"))
    assert alliance["name"] == ALLIANCE_NAME
    assert (alliance["kind"], alliance["stage"]) == ("joint_venture", "operating")
    assert "ok: chain" in cli.ok("verify", alliance["id"])


def test_alliance_list_on_both_backends(database_url: str) -> None:
    cli = Cli(database_url)
    assert json.loads(cli.ok("alliance", "list", "--json")) == []
    cli.demo()
    [alliance] = json.loads(cli.ok("alliance", "list", "--json"))
    assert set(alliance) >= {"id", "name", "kind", "stage"}
    table = cli.ok("alliance", "list")
    assert alliance["id"] in table
    assert "Helios" in table


def test_export_and_import_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    cli.demo()
    [alliance] = json.loads(cli.ok("alliance", "list", "--json"))
    printed = cli.ok("export", alliance["id"])
    file = tmp_path / "helios.json"
    cli.ok("export", alliance["id"], "-o", str(file))
    assert file.read_text(encoding="utf-8") == printed
    other = Cli(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    result = other("import", str(file))
    assert (result.exit_code, result.stdout) == (0, f"{alliance['id']}\n")
    assert "imported" in result.stderr
    again = other("import", str(file))
    assert (again.exit_code, again.stdout) == (0, f"{alliance['id']}\n")
    assert "nothing written" in again.stderr
    assert other.ok("export", alliance["id"]) == printed


def test_a_bad_archive_is_reported_by_json_path(cli: Cli, tmp_path: Path) -> None:
    cli.demo()
    [alliance] = json.loads(cli.ok("alliance", "list", "--json"))
    document = json.loads(cli.ok("export", alliance["id"]))
    document["risks"][3]["shares"][0]["percent"] = "1.00"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))
    other = Cli(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    stderr = other.fails("import", str(broken))
    assert re.match(
        r"error: \$\.risks\[3\]\.shares: shares must sum to 100%, not [\d.]+%\n", stderr
    )
    truncated = tmp_path / "truncated.json"
    truncated.write_text(json.dumps(document, indent=2)[:5000])
    assert re.match(
        r"error: \$: not valid JSON at line \d+, column \d+: ",
        other.fails("import", str(truncated)),
    )
    assert json.loads(other.ok("alliance", "list", "--json")) == []


def test_bad_arguments_exit_2_with_a_message(cli: Cli, tmp_path: Path) -> None:
    assert "error: no alliance with id al_missing" in cli.fails("export", "al_missing")
    assert "error: no alliance with id al_missing" in cli.fails("verify", "al_missing")
    assert "does not exist" in cli.fails("import", str(tmp_path / "missing.json"))
    assert "No such command" in cli.fails("frobnicate")
    assert "port" in cli.fails("serve", "--port", "0")
    bad_url = Cli("mysql://somewhere/db")
    assert "error: COAUTHOR_DATABASE_URL:" in bad_url.fails("alliance", "list")
    unreachable = Cli("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert "error: cannot use the database:" in unreachable.fails("alliance", "list")


def test_serve_and_demo_hand_the_web_app_to_uvicorn(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from coauthor.analysis import opinion_warm_up

    served: list[tuple[str, str, int]] = []

    def run(app: object, host: str, port: int, **options: object) -> None:
        assert options["proxy_headers"] is False, "uvicorn must not trust X-Forwarded-For"
        served.append((type(app).__name__, host, port))

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(opinion_warm_up, "warm_up", lambda: served.append(("warm-up", "", 0)))
    cli.ok("serve", "--host", "0.0.0.0", "--port", "8123")
    printed = cli.ok("demo", "--port", "8124")
    assert served == [
        ("FastAPI", "0.0.0.0", 8123),
        ("warm-up", "", 0),
        ("FastAPI", "127.0.0.1", 8124),
    ], "the demo prepares the analysis before it serves"
    assert "Sign in at http://127.0.0.1:8124/" in printed


def test_the_installed_command_lists_alliances_as_json(cli: Cli) -> None:
    cli.demo()
    env = os.environ | {"COAUTHOR_DATABASE_URL": cli.database_url}
    result = subprocess.run(
        [str(COAUTHOR), "alliance", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    [alliance] = json.loads(result.stdout)
    assert alliance["name"] == ALLIANCE_NAME
    assert alliance["id"].startswith("al_")


def test_deliberation_import_marks_meta_statements(cli: Cli) -> None:
    from sqlalchemy import select

    from coauthor.db import tables

    polis = Path(__file__).parents[1] / "data" / "polis" / "london.youth.policing"
    cli.demo()
    [alliance] = json.loads(cli.ok("alliance", "list", "--json"))
    refused = cli.fails(
        "deliberation", "import", str(polis), "--alliance", alliance["id"], "--meta", "1-x"
    )
    assert refused.strip() == "error: --meta: '1-x' is not a statement id or a range such as 1-14"
    cli.ok("deliberation", "import", str(polis), "--alliance", alliance["id"], "--meta", "1-14")
    runtime = build_runtime(Settings(database_url=cli.database_url))
    try:
        with runtime.engine.connect() as connection:
            rows = connection.execute(
                select(tables.statements.c.external_id, tables.statements.c.is_meta)
            ).all()
    finally:
        runtime.close()
    assert rows, "the import stored no statements"
    assert {external for external, is_meta in rows if is_meta} == {str(i) for i in range(1, 15)}
