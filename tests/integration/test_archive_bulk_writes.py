"""The ledger's bulk writes of an archive import leave the database they always left (SQLite).

The own indexes of the commitments and of their parties are dropped while their rows go
in and made again after them (``bulk.indexes_built_after``, lowered here to take the
demo's few commitments),
and their search entries are made with their derived rows, in the chain's worker for
the chunks it replays (``search.index.entries_apart``): every table, the schema and
the full-text rows must be what they are without, and a refusal must leave both as
they were.
"""

from __future__ import annotations

import itertools
import json
import secrets
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from coauthor.db import bulk
from coauthor.domain.errors import ValidationFailed
from coauthor.runtime import Runtime
from coauthor.services.archive import chainworker, ledger
from coauthor.services.archive.importer import do_import_archive
from coauthor.services.search import index
from tests.integration.test_archive_import_paths import (  # noqa: F401 - demo_text: a fixture
    demo_text,
    every_row,
    runtime_on,
)

WAYS = ("in one process", "beside a worker")


@pytest.fixture(params=WAYS)
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs both ways: in one process, and beside a worker (its threshold
    lowered, and chunks of four commitments so the demo's make several)."""
    if request.param == "beside a worker":
        monkeypatch.setattr(chainworker, "EVENTS_FOR_A_WORKER", 1)
        monkeypatch.setattr(ledger, "CHUNK", 4)
    return request.param


def _schema(runtime: Runtime) -> set[tuple]:
    with runtime.engine.connect() as connection:
        query = "SELECT type, name, tbl_name, sql FROM sqlite_master"
        return set(connection.exec_driver_sql(query).all())


def _full_text_rows(runtime: Runtime) -> list[tuple]:
    with runtime.engine.connect() as connection:
        query = "SELECT rowid, terms_title, terms_body FROM search_fts ORDER BY rowid"
        return connection.exec_driver_sql(query).all()


def _imported(path: Path, raw: bytes, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """The database after importing ``raw``, its ids drawn from one counter; its schema
    (the objects SQLite stores, with their SQL) is the one it had before."""
    counter = itertools.count()
    monkeypatch.setattr(secrets, "token_urlsafe", lambda size: f"{next(counter):016d}")
    runtime = runtime_on(path)
    before = _schema(runtime)
    with runtime.uow() as uow:
        uow.write(do_import_archive, None, raw, bootstrap=True)
    assert _schema(runtime) == before
    return runtime


def _spied_indexes_after(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Lower the threshold to one row; the list says, for each bulk insert asked, whether
    it built the indexes after."""
    monkeypatch.setattr(bulk, "INDEXES_AFTER_ROWS", 1)
    decided: list[bool] = []
    decide = bulk._build_indexes_after

    def spied(*args: Any) -> bool:
        decided.append(decide(*args))
        return decided[-1]

    monkeypatch.setattr(bulk, "_build_indexes_after", spied)
    return decided


@pytest.mark.usefixtures("way")
def test_indexes_made_after_the_commitments_leave_the_same_database(
    demo_text: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = demo_text.encode()
    kept = _imported(tmp_path / "kept.sqlite3", raw, monkeypatch)
    try:
        expected = (every_row(kept), _full_text_rows(kept))
    finally:
        kept.close()
    decided = _spied_indexes_after(monkeypatch)
    after = _imported(tmp_path / "after.sqlite3", raw, monkeypatch)
    try:
        assert decided == [True, True]  # the commitments', then their parties'
        assert after.engine.dialect.name == "sqlite"
        assert (every_row(after), _full_text_rows(after)) == expected
        with after.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    finally:
        after.close()


@pytest.mark.usefixtures("way")
def test_a_refused_act_leaves_the_ledgers_indexes_as_they_were(
    demo_text: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The last commitment's first act is one the table refuses: the import fails once
    the indexes are dropped and most of the commitments written."""
    data = json.loads(demo_text)
    data["commitments"][-1]["acts"][0]["move"] = "declare_satisfied"
    decided = _spied_indexes_after(monkeypatch)
    runtime = runtime_on(tmp_path / "refused.sqlite3")
    try:
        before = (every_row(runtime), _schema(runtime))
        with runtime.uow() as uow, pytest.raises(ValidationFailed) as refused:
            uow.write(do_import_archive, None, json.dumps(data).encode(), bootstrap=True)
        assert refused.value.errors[0].loc[:2] == ("commitments", len(data["commitments"]) - 1)
        assert True in decided
        assert (every_row(runtime), _schema(runtime)) == before
    finally:
        runtime.close()


@pytest.mark.usefixtures("way")
def test_the_imported_commitments_entries_are_the_ones_a_rebuild_writes(
    demo_text: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime = _imported(tmp_path / "imported.sqlite3", demo_text.encode(), monkeypatch)
    entries = index.search_entries
    query = sa.select(entries).where(entries.c.kind == "commitment").order_by(entries.c.doc)
    try:
        with runtime.engine.connect() as connection:
            imported = connection.execute(query).all()
        full_text = _full_text_rows(runtime)
        assert imported
        with runtime.uow() as uow:
            uow.write(lambda uow: index.rebuild(uow.session))
        with runtime.engine.connect() as connection:
            assert connection.execute(query).all() == imported
        assert _full_text_rows(runtime) == full_text
    finally:
        runtime.close()
