"""The operator's quick reads (db/quick.py): the same rows as the full path, or none at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from coauthor.runtime import Runtime
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.accounts.people import do_create_person
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.directory import every_alliance, every_alliance_quickly
from coauthor.services.mechanics.inputs import AllianceCreate

NAMES = ("Zeta works", "Ærø energy", "alpha lab", "Alpha Lab")


def seeded(runtime: Runtime) -> None:
    with runtime.uow() as uow:
        ann = do_create_person(
            uow, None, PersonInput(email="ann@example.org", name="Ann"), None, bootstrap=True
        )
        for name in NAMES:
            data = AllianceCreate(name=name, kind="consortium", organization_name="Org")
            alliances.do_create_alliance(uow, ann, data)
        uow.session.commit()


def test_quick_rows_equal_the_full_path(runtime: Runtime, database_url: str) -> None:
    assert every_alliance_quickly(database_url) == []
    seeded(runtime)
    with runtime.uow() as uow:
        full = every_alliance(uow)
    quick = every_alliance_quickly(database_url)
    assert quick == full
    assert [row.name for row in full] == sorted(NAMES)
    assert all(row.created_at.utcoffset() is not None for row in full)


def test_a_database_behind_the_code_is_left_to_the_full_path(
    runtime: Runtime, database_url: str
) -> None:
    seeded(runtime)
    with runtime.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
    assert every_alliance_quickly(database_url) is None


def test_what_the_quick_path_cannot_open_is_left_to_the_full_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite3"
    assert every_alliance_quickly(f"sqlite:///{missing}") is None
    assert not missing.exists(), "a quick read must never create a database"
    assert every_alliance_quickly("sqlite://") is None
    assert every_alliance_quickly("sqlite:///:memory:") is None
    assert every_alliance_quickly(f"sqlite:///{missing}?timeout=5") is None
    assert every_alliance_quickly("postgresql+psycopg://nobody@127.0.0.1:1/none") is None
    assert every_alliance_quickly("mysql://nobody@localhost/none") is None


def _loaded_modules(database_url: str, *args: str) -> tuple[str, set[str]]:
    """Standard output and the top-level packages loaded by ``coauthor ARGS`` in a new process."""
    program = (
        "import json, sys\n"
        "from coauthor.cli import app\n"
        "try:\n"
        f"    app({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})), file=sys.stderr)\n"
    )
    env = os.environ | {"COAUTHOR_DATABASE_URL": database_url}
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, set(json.loads(result.stderr.splitlines()[-1]))


def test_quick_commands_load_neither_sqlalchemy_nor_the_web_stack(
    runtime: Runtime, database_url: str
) -> None:
    seeded(runtime)
    listed, loaded = _loaded_modules(database_url, "alliance", "list", "--json")
    assert sorted(row["name"] for row in json.loads(listed)) == sorted(NAMES)
    assert not loaded & {
        "sqlalchemy",
        "alembic",
        "fastapi",
        "starlette",
        "numpy",
        "numba",
        "jinja2",
    }
    _, loaded = _loaded_modules(database_url, "--help")
    assert not loaded & {"sqlalchemy", "pydantic", "fastapi", "numpy", "numba", "psycopg"}
