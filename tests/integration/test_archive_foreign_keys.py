"""An import on SQLite checks foreign keys once, before it commits, instead of per row.

``do_import_archive`` is marked ``foreign_keys_checked_at_end``: ``uow.write``
begins its transaction with enforcement off and runs ``PRAGMA
foreign_key_check`` before the commit (``db/foreignkeys.py``). A row whose
parent is missing — here one the import's own link checks were made to miss —
refuses the whole import, naming the table and the row, with nothing written;
the pooled connection enforces foreign keys again afterwards, committed or
refused. Other writes keep enforcement on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from coauthor.domain.errors import ValidationFailed
from coauthor.runtime import Runtime
from coauthor.services.archive import chainworker, importer, ledger
from coauthor.services.archive.importer import do_import_archive
from tests.integration.test_archive_import_paths import (  # noqa: F401 - demo_text: a fixture
    demo_text,
    every_row,
    runtime_on,
)

UNKNOWN_PARTNER = "pa_notInThisArchive"


@pytest.fixture
def runtime(tmp_path: Path) -> Any:
    runtime = runtime_on(tmp_path / "keys.sqlite3")
    yield runtime
    runtime.close()


@pytest.fixture(params=["one process", "beside a worker"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of importing: the demo's chain in this process, or in a worker."""
    if request.param == "beside a worker":
        monkeypatch.setattr(chainworker, "EVENTS_FOR_A_WORKER", 1)
    return request.param


def foreign_keys(connection: Any) -> int:
    return connection.execute("PRAGMA foreign_keys").fetchone()[0]


def import_watching(runtime: Runtime, text: str) -> tuple[Any, list[int], set[Any]]:
    """What the import returned or raised, ``PRAGMA foreign_keys`` at each reported step,
    and the driver connections it ran on."""
    seen: list[int] = []
    connections: set[Any] = set()
    with runtime.uow() as uow:

        def report(what: str, done: int, total: int) -> None:
            connection = uow.session.connection().connection.dbapi_connection
            connections.add(connection)
            seen.append(foreign_keys(connection))

        try:
            result: Any = uow.write(do_import_archive, None, text, bootstrap=True, report=report)
        except ValidationFailed as refused:
            result = refused
    return result, seen, connections


def with_a_broken_key(text: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The demo archive with a performer in a partner it does not hold, which the ledger's
    link checks are made to miss: only the database can find it."""
    data = json.loads(text)
    commitment = data["commitments"][0]
    performer = next(p for p in commitment["parties"] if p["side"] == "performer")
    performer["partner_id"] = UNKNOWN_PARTNER
    monkeypatch.setattr(ledger, "link_errors", lambda archive, emails: [])
    return json.dumps(data)


def test_an_import_runs_without_per_row_keys_and_enforces_them_after(
    demo_text: str,  # noqa: F811
    runtime: Runtime,
    path: str,
) -> None:
    (_, created), seen, connections = import_watching(runtime, demo_text)
    assert created
    assert seen and set(seen) == {0}
    assert connections and {foreign_keys(c) for c in connections} == {1}


def test_a_broken_key_the_link_checks_missed_refuses_the_whole_import(
    demo_text: str,  # noqa: F811
    runtime: Runtime,
    path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = every_row(runtime)
    broken = with_a_broken_key(demo_text, monkeypatch)
    refused, seen, connections = import_watching(runtime, broken)
    assert isinstance(refused, ValidationFailed)
    assert set(seen) == {0}
    [error] = refused.errors
    assert error.loc == ("commitment_parties",)
    assert "of commitment_parties refers through alliance_id, partner_id" in error.message
    assert "to a row of partners (alliance_id, id) that is not there" in error.message
    commitment_id = json.loads(demo_text)["commitments"][0]["id"]
    assert commitment_id in error.message  # the row, by its primary key
    assert every_row(runtime) == before  # nothing written
    assert connections and {foreign_keys(c) for c in connections} == {1}


def test_other_writes_keep_foreign_keys_enforced(runtime: Runtime) -> None:
    def pragma(uow: Any) -> int:
        return foreign_keys(uow.session.connection().connection.dbapi_connection)

    with runtime.uow() as uow:
        assert uow.write(pragma) == 1


def test_the_whole_document_is_read_when_the_chunks_refuse(
    demo_text: str,  # noqa: F811
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A broken key found after the import fell back to the whole document is refused too."""
    monkeypatch.setattr(importer, "_import_in_chunks", lambda *args: None)
    refused, _, connections = import_watching(runtime, with_a_broken_key(demo_text, monkeypatch))
    assert isinstance(refused, ValidationFailed)
    assert refused.errors[0].loc == ("commitment_parties",)
    assert {foreign_keys(c) for c in connections} == {1}
