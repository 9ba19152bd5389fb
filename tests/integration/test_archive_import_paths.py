"""The archive's two ways in write the same database (SQLite).

An archive's text is read by compact twins of the models (``parse_archive``);
a decoded document, or text the twins refuse, by the models themselves. Both
imports of the demo alliance, with the same clock and the same ids drawn,
must leave every table holding the same rows.
"""

from __future__ import annotations

import itertools
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import BaseModel

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.db.tables import metadata
from coauthor.demo.seed import seed_demo
from coauthor.interop import archive
from coauthor.runtime import Runtime, build_runtime
from coauthor.services.archive.document import parse_archive
from coauthor.services.archive.export import export_alliance
from coauthor.services.archive.importer import do_import_archive

END_OF_DEMO = datetime(2026, 6, 30, 18, 0, tzinfo=UTC)
IMPORTED_AT = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def runtime_on(path: Path) -> Runtime:
    settings = Settings(database_url=f"sqlite:///{path}", secret_key="import-paths")
    return build_runtime(settings, clock=FixedClock(IMPORTED_AT))


@pytest.fixture(scope="module")
def demo_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    runtime = runtime_on(tmp_path_factory.mktemp("paths") / "demo.sqlite3")
    try:
        with runtime.uow() as uow:
            login = uow.write(seed_demo, end=END_OF_DEMO)
            return archive.dumps_archive(
                export_alliance(uow, None, login.alliance_id, bootstrap=True)
            )
    finally:
        runtime.close()


def every_row(runtime: Runtime) -> dict[str, list[tuple]]:
    """Every table's rows, in one order."""
    with runtime.engine.connect() as connection:
        return {
            table.name: sorted(
                (tuple(row) for row in connection.execute(sa.select(table))), key=repr
            )
            for table in metadata.sorted_tables
        }


def imported(
    path: Path, document: str | dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> dict[str, list[tuple]]:
    """The database after importing ``document``, its new ids drawn from one counter."""
    counter = itertools.count()
    monkeypatch.setattr(secrets, "token_urlsafe", lambda size: f"{next(counter):016d}")
    runtime = runtime_on(path)
    try:
        with runtime.uow() as uow:
            uow.write(do_import_archive, None, document, bootstrap=True)
        return every_row(runtime)
    finally:
        runtime.close()


def test_the_text_and_the_decoded_document_write_the_same_rows(
    demo_text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = parse_archive(demo_text.encode())
    assert read.commitments and read.events
    assert not isinstance(read.commitments[0], BaseModel)  # the compact records
    assert not isinstance(read.commitments[0].acts[0], BaseModel)
    assert isinstance(parse_archive(json.loads(demo_text)).commitments[0], BaseModel)

    from_text = imported(tmp_path / "text.sqlite3", demo_text.encode(), monkeypatch)
    from_models = imported(tmp_path / "models.sqlite3", json.loads(demo_text), monkeypatch)
    for table in ("commitments", "speech_acts", "ledger_facts", "events"):
        assert from_text[table], f"the demo archive wrote no {table}"
    assert from_text == from_models
