"""The event chain in a worker process (``chainworker``) writes what one process writes.

A long chain is scanned, read, checked and made into rows by a forked worker
while the importer writes the rest. With the worker's threshold lowered to one
event, the demo archive goes that way: every table must hold the rows the
one-process import writes; every refusal must be the whole document's, with
nothing written; a worker that cannot start, dies or falls silent must leave
the import to this process, never hang it.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing.context
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coauthor.domain.errors import ValidationFailed
from coauthor.services.archive import chainworker, document, importer, ledger
from coauthor.services.archive.importer import do_import_archive
from tests.integration.test_archive_import_paths import (  # noqa: F401 - demo_text: a fixture
    demo_text,
    every_row,
    imported,
    runtime_on,
)


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every archive with events gets a worker, its chain read 7 events at a time and its
    commitments replayed 4 at a time; the list holds what each import beside a worker
    returned (None: it went another way) or the exception it raised."""
    monkeypatch.setattr(chainworker, "EVENTS_FOR_A_WORKER", 1)
    monkeypatch.setattr(document, "EVENTS_READ_AT_ONCE", 7)
    monkeypatch.setattr(ledger, "CHUNK", 4)
    returned: list[Any] = []
    beside = importer._import_with_worker

    def spied(*args: Any) -> Any:
        try:
            returned.append(result := beside(*args))
        except Exception as exc:
            returned.append(exc)
            raise
        return result

    monkeypatch.setattr(importer, "_import_with_worker", spied)
    return returned


WORKER_CHUNKS = 2
"""The commitments' chunks the worker replays when the split is fixed (``split``)."""


@pytest.fixture
def split(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker replays the first ``WORKER_CHUNKS`` chunks of commitments and this process
    the rest, whatever their pace: the worker never claims a later chunk, this process
    never an earlier one (it waits for the worker's)."""
    monkeypatch.setattr(chainworker, "due", lambda chunk, *pace: chunk < WORKER_CHUNKS)
    take = chainworker.Claims.take

    def taken_here(claims: chainworker.Claims, number: int) -> bool:
        return number >= WORKER_CHUNKS and take(claims, number)

    monkeypatch.setattr(chainworker.Claims, "take", taken_here)
    take_last = chainworker.Claims.take_last

    def last_taken_here(claims: chainworker.Claims, waiting_for: int) -> int | None:
        return take_last(claims, max(waiting_for, WORKER_CHUNKS - 1))

    monkeypatch.setattr(chainworker.Claims, "take_last", last_taken_here)


@pytest.fixture
def one_process_rows(
    demo_text: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, list[tuple]]:
    """The demo archive imported without a worker: it has fewer events than the threshold."""
    assert 0 < demo_text.count('"prev_hash"') < chainworker.EVENTS_FOR_A_WORKER
    return imported(tmp_path / "one-process.sqlite3", demo_text.encode(), monkeypatch)


@given(
    text=st.lists(st.sampled_from([b'"prev_hash"', b'"prev', b'hash"', b"a"]), max_size=12).map(
        b"".join
    ),
    piece=st.integers(1, 20),
    count=st.integers(0, 8),
)
def test_the_events_are_counted_up_to_the_threshold_a_piece_at_a_time(
    text: bytes, piece: int, count: int
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(importer, "_COUNTED_AT_ONCE", piece)
        holds = importer._holds_at_least(text, b'"prev_hash"', count)
    assert holds == (text.count(b'"prev_hash"') >= count)


ImportBeside = Callable[[], tuple[list[int], int]]


@pytest.fixture
def import_beside(
    demo_text: str,  # noqa: F811
    one_process_rows: dict[str, list[tuple]],
    workers: list[Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> ImportBeside:
    """Import the demo archive beside a worker, which must have run and written every row
    the one-process path writes; gives the first index of each chunk replayed here
    (``_replays_in_this_process``), and how many commitments there are."""

    def run() -> tuple[list[int], int]:
        replayed_here = _replays_in_this_process(monkeypatch)
        beside = imported(tmp_path / "beside.sqlite3", demo_text.encode(), monkeypatch)
        [(_, created)] = workers
        assert created
        assert beside["events"] and beside["speech_acts"] and beside["ledger_facts"]
        assert beside == one_process_rows  # each chunk written once, by one process or other
        return replayed_here, len(beside["commitments"])

    return run


def test_the_worker_path_writes_every_row_the_one_process_path_writes(
    import_beside: ImportBeside,
    split: None,
) -> None:
    replayed_here, commitments = import_beside()
    by_worker = WORKER_CHUNKS * ledger.CHUNK
    assert sorted(replayed_here) == list(range(by_worker, commitments, ledger.CHUNK))
    assert len(replayed_here) >= 2  # several chunks here, the first ones by the worker


@pytest.fixture
def taken_from_the_back(split: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the split fixed, the worker holds back its last chunk until this process has
    taken a chunk from the back (``Claims.take_last``), which it does while it waits."""
    taken = multiprocessing.get_context("fork").Event()
    take_last, send = chainworker.Claims.take_last, chainworker._send_rows

    def taking(claims: chainworker.Claims, waiting_for: int) -> int | None:
        number = take_last(claims, waiting_for)
        if number is not None:
            taken.set()
        return number

    def held_back(connection: Any, kind: bytes, message: Any) -> None:
        if kind == chainworker._LEDGER and message[0] == WORKER_CHUNKS - 1:
            assert taken.wait(30)
        send(connection, kind, message)

    monkeypatch.setattr(chainworker.Claims, "take_last", taking)
    monkeypatch.setattr(chainworker, "_send_rows", held_back)


def test_chunks_taken_from_the_back_are_written_in_their_turn(
    import_beside: ImportBeside,
    taken_from_the_back: None,
) -> None:
    replayed_here, commitments = import_beside()
    last = (commitments - 1) // ledger.CHUNK * ledger.CHUNK
    assert replayed_here[0] == last  # taken from the back first
    here = range(WORKER_CHUNKS * ledger.CHUNK, last + 1, ledger.CHUNK)
    assert sorted(replayed_here) == list(here)


def test_paced_the_two_processes_replay_every_chunk_once_and_write_the_same_rows(
    import_beside: ImportBeside,
) -> None:
    replayed_here, commitments = import_beside()
    chunks = range(0, commitments, ledger.CHUNK)
    assert set(replayed_here) <= set(chunks)
    assert len(set(replayed_here)) == len(replayed_here)


@pytest.mark.parametrize(
    ("pace", "claimed"),
    [
        ((0, 8, 0, 100), True),  # the first chunks at once, as many as may be ahead
        ((3, 8, 0, 100), True),
        ((4, 8, 12, 100), False),  # the next once an eighth of the chain is checked
        ((4, 8, 13, 100), True),
        ((7, 8, 49, 100), False),
        ((7, 8, 50, 100), True),
        ((7, 8, 100, 100), True),  # every chunk left once the chain is checked
        ((5, 6, 0, 0), True),  # no events: nothing to keep pace with
    ],
)
def test_the_worker_claims_a_chunk_when_its_chain_keeps_pace(
    pace: tuple[int, int, int, int], claimed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chainworker, "CHUNKS_AHEAD", 3)
    assert chainworker.due(*pace) is claimed


def test_each_chunk_is_claimed_once_from_one_end_or_the_other() -> None:
    claims = chainworker.Claims(multiprocessing.get_context("fork"))
    assert claims.claim(lambda number: True) is None  # not counted yet: none to claim
    claims.count(7)
    assert claims.claim(lambda number: number < 2) == 0  # the worker, from the front
    assert claims.claim(lambda number: number < 2) == 1
    assert claims.claim(lambda number: number < 2) is None  # not due
    assert not claims.take(0)  # the worker's, on its way
    assert claims.take_last(waiting_for=0) == 6  # the importer, from the back, meanwhile
    assert claims.take(2)  # the importer, at the front: nobody claimed it
    assert claims.claim(lambda number: True) == 3
    assert claims.take_last(waiting_for=3) == 5
    assert claims.take_last(waiting_for=3) == 4
    assert claims.take_last(waiting_for=3) is None  # they met
    assert claims.claim(lambda number: True) is None


def _replays_in_this_process(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The first index of each chunk of commitments replayed by this process (a forked
    worker's calls land in its own copy of the list)."""
    calls: list[int] = []
    here, derive = os.getpid(), ledger.derive

    def spied(alliance_id: str, first: int, records: Any) -> ledger.Derived:
        if os.getpid() == here:
            calls.append(first)
        return derive(alliance_id, first, records)

    monkeypatch.setattr(ledger, "derive", spied)
    return calls


def test_commitments_the_worker_cannot_find_are_replayed_here(
    import_beside: ImportBeside,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = importer.split_sections

    def without_commitments(raw: bytes, names: tuple[str, ...]) -> dict[str, Any]:
        return {**found(raw, names), "commitments": None}

    monkeypatch.setattr(importer, "split_sections", without_commitments)
    replayed_here, commitments = import_beside()
    assert replayed_here == list(range(0, commitments, ledger.CHUNK))


def _refused(runtime: Any, document: Any) -> list[Any]:
    with runtime.uow() as uow, pytest.raises(ValidationFailed) as refused:
        uow.write(do_import_archive, None, document, bootstrap=True)
    return refused.value.errors


def _break_event(where: int, field: str, value: Any) -> Any:
    def broken(data: dict[str, Any]) -> None:
        data["events"][where][field] = value

    return broken


def _illegal_first_move(data: dict[str, Any]) -> None:
    data["commitments"][0]["acts"][0]["move"] = "declare_satisfied"


def _illegal_last_move(data: dict[str, Any]) -> None:
    data["commitments"][-1]["acts"][0]["move"] = "declare_satisfied"


def _moved_head(data: dict[str, Any]) -> None:
    data["head"]["hash"] = "1" * 64


def _nul_in_an_act(data: dict[str, Any]) -> None:
    data["commitments"][-1]["acts"][-1]["text"] += "\u0000"


def _illegal_move_and_broken_chain(data: dict[str, Any]) -> None:
    _illegal_first_move(data)
    _break_event(-3, "hash", "0" * 64)(data)


def _illegal_last_move_and_broken_chain(data: dict[str, Any]) -> None:
    _illegal_last_move(data)
    _break_event(-3, "hash", "0" * 64)(data)


@pytest.mark.parametrize(
    "spoil",
    [
        _break_event(12, "hash", "0" * 64),  # the chain breaks after chunks were written
        _break_event(12, "at", 1700000000),  # a time given as a number, in a later chunk
        _break_event(-1, "seq", 10**6),  # the last event
        _moved_head,  # the chain does not end where the head says
        _illegal_first_move,  # refused by the worker's replay, before the chain
        _illegal_last_move,  # refused by this process's replay of the last chunk
        _illegal_move_and_broken_chain,  # both: the chain's error, as the whole document's
        _illegal_last_move_and_broken_chain,  # both, the move in this process's share
        _nul_in_an_act,  # refused by the worker's scan
    ],
)
def test_a_refusal_beside_a_worker_is_the_whole_documents_and_nothing_is_written(
    demo_text: str,  # noqa: F811
    workers: list[Any],
    split: None,
    tmp_path: Path,
    spoil: Any,
) -> None:
    data = json.loads(demo_text)
    spoil(data)
    runtime = runtime_on(tmp_path / "refused.sqlite3")
    try:
        before = every_row(runtime)
        beside = _refused(runtime, json.dumps(data).encode())
        assert every_row(runtime) == before
        whole = _refused(runtime, data)
        assert beside == whole
        assert every_row(runtime) == before
    finally:
        runtime.close()
    assert workers[0] is None or isinstance(workers[0], ValidationFailed)


@pytest.mark.parametrize(
    "spoil",
    [
        _illegal_last_move,  # refused in a chunk this process took from the back
        _illegal_last_move_and_broken_chain,  # with the chain's error, the whole document's
    ],
)
def test_a_refusal_in_a_chunk_taken_from_the_back_is_the_whole_documents(
    demo_text: str,  # noqa: F811
    workers: list[Any],
    taken_from_the_back: None,
    tmp_path: Path,
    spoil: Any,
) -> None:
    test_a_refusal_beside_a_worker_is_the_whole_documents_and_nothing_is_written(
        demo_text, workers, None, tmp_path, spoil
    )


def _dies_after_two_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    sent, send = itertools.count(), chainworker._send_rows

    def dying(connection: Any, kind: bytes, message: Any) -> None:
        if kind == chainworker._ROWS and next(sent) == 2:
            os._exit(3)
        send(connection, kind, message)

    monkeypatch.setattr(chainworker, "_send_rows", dying)


def _dies_replaying(monkeypatch: pytest.MonkeyPatch) -> None:
    sent, send = itertools.count(), chainworker._send_rows

    def dying(connection: Any, kind: bytes, message: Any) -> None:
        if kind == chainworker._LEDGER and next(sent) == 1:
            os._exit(3)
        send(connection, kind, message)

    monkeypatch.setattr(chainworker, "_send_rows", dying)


def _fails_replaying(monkeypatch: pytest.MonkeyPatch) -> None:
    here, derive = os.getpid(), ledger.derive

    def failing(*arguments: Any) -> ledger.Derived:
        if os.getpid() != here:
            raise MemoryError
        return derive(*arguments)

    monkeypatch.setattr(ledger, "derive", failing)


def _dies_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chainworker, "_work", lambda *arguments: os._exit(3))


def _falls_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chainworker, "SILENCE_S", 0.5)
    monkeypatch.setattr(chainworker, "_work", lambda *arguments: time.sleep(60))


def _cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(process: Any) -> None:
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.context.ForkProcess, "start", refused)


def _fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*arguments: Any) -> None:
        raise MemoryError

    monkeypatch.setattr(chainworker, "_checked_chunks", failing)


def _ids_drawn_afresh_for_each_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ids an import draws, drawn from the start again when a write begins again (after
    a worker's failure): the attempt rolled back drew some already."""
    written = importer._write

    def write(*args: Any) -> None:
        counter = itertools.count()
        monkeypatch.setattr(secrets, "token_urlsafe", lambda size: f"{next(counter):016d}")
        written(*args)

    monkeypatch.setattr(importer, "_write", write)


@pytest.mark.parametrize(
    "trouble",
    [
        _dies_after_two_chunks,
        _dies_replaying,
        _fails_replaying,
        _dies_at_once,
        _falls_silent,
        _cannot_start,
        _fails,
    ],
)
def test_a_worker_that_fails_leaves_the_import_to_this_process(
    demo_text: str,  # noqa: F811
    one_process_rows: dict[str, list[tuple]],
    workers: list[Any],
    split: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    trouble: Any,
) -> None:
    trouble(monkeypatch)
    _ids_drawn_afresh_for_each_write(monkeypatch)
    start = time.monotonic()
    rows = imported(tmp_path / "without.sqlite3", demo_text.encode(), monkeypatch)
    assert time.monotonic() - start < 30
    assert rows == one_process_rows
    [lost] = workers  # the one-process path imported
    assert isinstance(lost, chainworker.WorkerLost)
    assert "worker" in caplog.text and "importing the archive without it" in caplog.text
