"""The archive's two ways in write the same database (SQLite).

An archive's text is read by compact twins of the models (``parse_archive``),
its events a chunk at a time (``parse_events_apart``); a decoded document, or
text the twins refuse, by the models themselves, whole. Both imports of the
demo alliance, with the same clock and the same ids drawn, must leave every
table holding the same rows, and a refusal among the events must be the one
the whole document gives, with nothing written.
"""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import BaseModel, ValidationError

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.db.tables import metadata
from coauthor.demo.seed import seed_demo
from coauthor.domain.errors import ValidationFailed
from coauthor.interop import archive
from coauthor.runtime import Runtime, build_runtime
from coauthor.services.archive import document, importer
from coauthor.services.archive.document import parse_archive, parse_events_apart
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


def test_the_events_are_read_a_chunk_at_a_time_and_written_as_the_whole_would_be(
    demo_text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = demo_text.encode()
    apart = parse_events_apart(raw)
    assert apart is not None and not apart.archive.events
    monkeypatch.setattr(document, "EVENTS_READ_AT_ONCE", 7)
    chunks = list(apart.chunks())
    whole = parse_archive(raw).events
    assert len(chunks) == -(-len(whole) // 7) > 2
    assert [event for chunk in chunks for event in chunk] == whole

    in_chunks = imported(tmp_path / "chunks.sqlite3", raw, monkeypatch)
    monkeypatch.setattr(importer, "parse_events_apart", lambda raw: None)
    assert imported(tmp_path / "whole.sqlite3", raw, monkeypatch) == in_chunks


def _at_plus_two(value: str) -> str:
    """The same instant written with a +02:00 offset."""
    return datetime.fromisoformat(value).astimezone(timezone(timedelta(hours=2))).isoformat()


def test_times_in_another_offset_take_the_models_way_and_write_the_same_rows(
    demo_text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compact twins read times in UTC only (without a Python call per time); the same
    archive with its events' and speech acts' times at +02:00 is read by the models, which
    convert them, and writes the same rows."""
    shifted = json.loads(demo_text)
    for event in shifted["events"]:
        event["at"] = _at_plus_two(event["at"])
    for commitment in shifted["commitments"]:
        for act in commitment["acts"]:
            for field in ("at", "due_at", "reply_by"):
                if act.get(field):
                    act[field] = _at_plus_two(act[field])
    text = json.dumps(shifted).encode()
    assert b"+02:00" in text
    assert parse_events_apart(text) is None
    assert isinstance(parse_archive(text).commitments[0], BaseModel)

    in_utc = imported(tmp_path / "utc.sqlite3", demo_text.encode(), monkeypatch)
    assert imported(tmp_path / "plus-two.sqlite3", text, monkeypatch) == in_utc


@pytest.mark.parametrize(
    ("where", "field", "value"),
    [
        (12, "hash", "0" * 64),  # the chain breaks after the first chunks were written
        (12, "at", 1700000000),  # a time given as a number, in a later chunk
        (-1, "seq", 10**6),  # the last event
    ],
)
def test_a_refusal_among_the_events_is_the_whole_documents_and_nothing_is_written(
    demo_text: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    where: int,
    field: str,
    value: Any,
) -> None:
    data = json.loads(demo_text)
    data["events"][where][field] = value
    monkeypatch.setattr(document, "EVENTS_READ_AT_ONCE", 5)
    runtime = runtime_on(tmp_path / "refused.sqlite3")
    try:
        before = every_row(runtime)
        with runtime.uow() as uow, pytest.raises(ValidationFailed) as in_chunks:
            uow.write(do_import_archive, None, json.dumps(data).encode(), bootstrap=True)
        with runtime.uow() as uow, pytest.raises(ValidationFailed) as whole:
            uow.write(do_import_archive, None, data, bootstrap=True)
        assert in_chunks.value.errors == whole.value.errors
        assert every_row(runtime) == before
    finally:
        runtime.close()


def test_events_written_before_a_chunk_is_refused_are_rolled_back_for_the_whole_document(
    demo_text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk the compact records refuse after others were written (as the models may
    accept what they refuse): those events are rolled back and the models read it all."""
    raw = demo_text.encode()
    expected = imported(tmp_path / "expected.sqlite3", raw, monkeypatch)
    chunks = document.EventsApart.chunks

    def refused_third(apart: document.EventsApart) -> Iterator[list[Any]]:
        for index, chunk in enumerate(chunks(apart)):
            if index == 2:
                raise ValidationError.from_exception_data("EventRecord", [])
            yield chunk

    monkeypatch.setattr(document, "EVENTS_READ_AT_ONCE", 5)
    monkeypatch.setattr(document.EventsApart, "chunks", refused_third)
    assert imported(tmp_path / "fallen_back.sqlite3", raw, monkeypatch) == expected
