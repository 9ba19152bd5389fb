"""An archive's event chain read, checked and made into rows in a second process.

A large archive's import is one long job for one core, while most machines
have two. Its event chain is a part apart: found in the bytes already
(``sections.py``), it needs nothing else of the document but the chain's id
(the alliance's). So a worker process, forked before the importer looks for
the chain, scans the whole text meanwhile (``checked_text``: size, encoding,
nesting, numbers, text no database stores), then, told where the chain is,
reads the events a chunk at a time into their compact
records, checks them as a chain (``eventlog.check_records``) and hands back
each checked chunk as the rows the driver takes (converted as
``db/bulk.py`` converts them), while the importing process reads the rest of
the document and writes it. Between the chain's chunks it replays chunks of
the commitments' acts, each claimed from the front of those left
(``Claims``) as its chain keeps pace (``due``); the importer replays a chunk
itself when it reaches one nobody claimed, and the last ones, from the back,
while it waits for the worker's, so the two meet wherever their pace makes
them meet. The importing process writes the events' rows
(one writer: the same transaction) and checks the chain's end against the
head the document states.

Whatever the worker refuses — the scan, a chunk the compact records refuse, a
broken chain — it stops and says so; the importer then rolls back what it
wrote and reads the document whole, for the whole document's error
(``importer.py``). A worker that cannot start, or that dies or falls silent,
raises ``WorkerLost``: the importer rolls back and imports without it.

The worker is forked (its copy of the text costs nothing until written,
which it never is) and only for archives with at least
``EVENTS_FOR_A_WORKER`` events, on SQLite (whose rows are plain values):
below that, starting it costs more than it saves.
"""

from __future__ import annotations

import marshal
import multiprocessing
import pickle
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

import sqlalchemy as sa

from coauthor.db.bulk import converted_rows, insert_converted
from coauthor.db.tables import commitments as commitments_table
from coauthor.db.tables import events as events_table
from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import ValidationFailed
from coauthor.eventkey import EventKey
from coauthor.services import eventlog
from coauthor.services.archive import document, ledger
from coauthor.services.archive.sections import Section

EVENTS_FOR_A_WORKER = 20_000
"""The fewest events for which the chain is given to a worker (see ``docs/performance.md``)."""

COLUMNS = eventlog.EVENT_COLUMNS
SILENCE_S = 600.0
"""How long the importer waits for a word from a living worker before it gives up on it."""

_ROWS, _LEDGER, _END = b"R", b"L", b"E"
"""The first byte of a message: a chunk's event rows, a chunk of commitments' derived
rows (``ledger.Derived``, as a tuple) — both by ``_send_rows`` — or the worker's last
word (pickled)."""
_DONE, _REFUSED, _FAILED = "done", "refused", "failed"


class WorkerLost(Exception):
    """The chain's worker could not start, died, or fell silent: import without it."""


class Refused(Exception):
    """The worker refused the commitments (or read others than the importer): the
    document must be read whole, for its error."""


@dataclass(frozen=True)
class Verdict:
    """What the worker found: the chain intact up to its end (``events``, the last one's
    hash), or refused (the document must be read whole for its error)."""

    refused: bool
    events: int = 0
    last_hash: str = eventlog.GENESIS


def _send(connection: Connection, kind: bytes, message: Any) -> None:
    connection.send_bytes(kind + pickle.dumps(message, pickle.HIGHEST_PROTOCOL))


def _send_rows(connection: Connection, kind: bytes, rows: list | tuple) -> None:
    """Rows as ``db/bulk.py`` converts them (text, numbers, bytes, None, in lists and
    tuples), by ``marshal``: both ends are the same interpreter, and a million event rows
    take it about a third of pickle's time to write and two thirds to read (no memo of
    every string). Anything else raises ValueError, and the worker fails (the import
    goes on without it)."""
    connection.send_bytes(kind + marshal.dumps(rows))


def _checked_chunks(
    raw: bytes,
    section: Section,
    chain_id: str,
    key: EventKey | None,
    dialect: sa.Dialect,
    connection: Connection,
    share: _WorkerShare,
) -> Verdict:
    """Read and check the chain a chunk at a time, each checked chunk sent as rows, and
    the worker's ``share`` of the commitments replayed as the chain advances (before each
    chunk, and every chunk left once the chain is checked); refused at the first chunk of
    either that is refused."""
    apart = document.EventsApart(None, raw, section)
    last_hash = eventlog.GENESIS
    refused = False
    checked_so_far = 0

    def records() -> Iterator[Any]:
        nonlocal last_hash, refused, checked_so_far
        chunks = apart.chunks()
        while True:
            if not share.replay_due(checked_so_far):
                refused = True
                return
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            except ValueError:  # pydantic's ValidationError: the models must say why
                refused = True
                return
            yield from chunk
            rows = [eventlog.event_row(key, chain_id, event) for event in chunk]
            _send_rows(connection, _ROWS, converted_rows(dialect, events_table, COLUMNS, rows))
            last_hash = chunk[-1].hash
            checked_so_far += len(chunk)

    checked = eventlog.check_records(chain_id, records(), None, key=key)
    if refused or not checked.ok or not share.replay_due(section.items):
        return Verdict(refused=True)
    return Verdict(refused=False, events=checked.events, last_hash=last_hash)


CHUNKS_AHEAD = 3
"""Chunks of commitments the worker may replay ahead of its chain's pace (``due``)."""


def due(chunk: int, chunks: int, checked: int, events: int) -> bool:
    """Whether the worker, having checked ``checked`` of the chain's ``events``, replays the
    commitments' chunk ``chunk`` (of ``chunks``) now: when its chain is as far along as its
    commitments are ``CHUNKS_AHEAD`` chunks before that one. So the first chunks are
    replayed at once (the importer needs them first), the chain is checked a little after
    the last chunk is replayed, and a chunk the worker has not claimed by the time the
    importer reaches it the importer replays. Once the chain is checked the worker takes
    every chunk left. (Without the chunks ahead, the importer, whose writes end the import,
    replayed about a third of the chunks: 35.3 s of wall time at 250,000 commitments
    against 32.6 s with three ahead; every chunk at once moved more to the worker than it
    saved, its chain's rows then coming last.)"""
    return (chunk - CHUNKS_AHEAD) * events <= chunks * checked


class Claims:
    """Who replays which chunk of the commitments (``ledger.CHUNK``), in shared memory and
    under its lock: the chunks nobody claimed lie between a front and a back. The worker
    claims from the front as its chain keeps pace (``due``); the importer, which writes
    the chunks in order, takes the front chunk itself when it reaches it unclaimed, and
    the back one while it waits for the worker's. So each chunk is replayed once, and the
    two processes meet wherever their pace makes them meet."""

    _FRONT, _BACK = 0, 1

    def __init__(self, context: Any) -> None:
        self._ends = context.Array("q", [0, 0])

    def count(self, chunks: int) -> None:
        """How many chunks there are (none can be claimed before): the back starts behind
        the last."""
        with self._ends.get_lock():
            self._ends[self._BACK] = chunks

    def claim(self, may: Callable[[int], bool]) -> int | None:
        """The worker's claim: the front chunk, when there is one and ``may`` take it."""
        with self._ends.get_lock():
            number = self._ends[self._FRONT]
            if number >= self._ends[self._BACK] or not may(number):
                return None
            self._ends[self._FRONT] = number + 1
            return number

    def take(self, number: int) -> bool:
        """The importer's claim of chunk ``number``, the next it writes and not one it took
        from the back: True when nobody claimed it (the importer replays it), False when
        the worker did (its rows are on their way)."""
        with self._ends.get_lock():
            if self._ends[self._FRONT] > number:
                return False
            self._ends[self._FRONT] = number + 1
            return True

    def take_last(self, waiting_for: int) -> int | None:
        """The importer's claim of the back chunk, while it waits for the worker's chunk
        ``waiting_for``: its number, or None when none is left behind that one."""
        with self._ends.get_lock():
            last = self._ends[self._BACK] - 1
            if last < self._ends[self._FRONT] or last <= waiting_for:
                return None
            self._ends[self._BACK] = last
            return last


class _WorkerShare:
    """The commitments' chunks the worker claims (``Claims``), replayed (``ledger.derive``)
    and sent as what they derive, the commitments' rows converted."""

    def __init__(
        self,
        raw: bytes,
        section: Section | None,
        alliance_id: str,
        claims: Claims,
        events: int,
        dialect: sa.Dialect,
        connection: Connection,
    ) -> None:
        self._raw = raw
        self._section = section
        self._alliance_id = alliance_id
        self._claims = claims
        self._events = events
        self._dialect = dialect
        self._connection = connection

    def replay_due(self, checked: int) -> bool:
        """Claim, replay and send each chunk due (``due``) once ``checked`` events of the
        chain are checked; False at the first chunk the models or the replay refuse."""
        if self._section is None:
            return True
        chunks = self._section.chunk_count(ledger.CHUNK)

        def may(number: int) -> bool:
            return due(number, chunks, checked, self._events)

        while (number := self._claims.claim(may)) is not None:
            if not self._replay(number):
                return False
        return True

    def _replay(self, number: int) -> bool:
        assert self._section is not None
        chunk = self._section.chunk(self._raw, ledger.CHUNK, number)
        try:
            records = document.read_commitments(chunk)
            derived = ledger.derive(self._alliance_id, number * ledger.CHUNK, records)
        except (ValueError, ValidationFailed):  # ValidationError is a ValueError
            return False
        rows = derived.commitments
        rows = converted_rows(self._dialect, commitments_table, ledger.COMMITMENT_ROW, rows)
        derived = derived._replace(commitments=rows, converted=True)
        _send_rows(self._connection, _LEDGER, (number, tuple(derived)))
        return True


class Sections(NamedTuple):
    """The sections of the text the worker reads: the events, and the commitments when the
    importer found them (else their acts are replayed by the importer)."""

    events: Section
    commitments: Section | None


def _work(
    raw: bytes,
    key: EventKey | None,
    dialect: sa.Dialect,
    claims: Claims,
    orders: Connection,
    results: Connection,
) -> None:
    """The worker: the scan first (while the importer finds the sections), then, once
    told the sections and the alliance's id (the chain's), the chain, and what the
    commitments' acts derive beside it, when it was given them (``_checked_chunks``)."""
    try:
        try:
            storable = document.storable_text(raw)
        except ValidationFailed:
            storable = False
        if not storable:
            _send(results, _END, (_REFUSED,))
            return
        sections: Sections | None = orders.recv()
        chain_id = None if sections is None else orders.recv()
        if sections is None or chain_id is None:
            return
        events = sections.events
        share = _WorkerShare(
            raw, sections.commitments, chain_id, claims, events.items, dialect, results
        )
        verdict = _checked_chunks(raw, events, chain_id, key, dialect, results, share)
        _send(results, _END, (_REFUSED,) if verdict.refused else (_DONE, verdict))
    except Exception as exc:  # reported to the importer, which imports without the worker
        _send(results, _END, (_FAILED, f"{type(exc).__name__}: {exc}"))
    finally:
        results.close()


class ChainWorker:
    """The importer's side: starts the worker, tells it the sections it reads, collects
    its rows as they come (a thread that only receives, so the worker never waits for
    the importer), writes them when asked, hands over the commitments' derived rows, and
    gives its verdict.

    It is started before the sections are found, so that its scan of the text runs
    while the importer finds them (``read``)."""

    def __init__(self, raw: bytes, key: EventKey | None, dialect: sa.Dialect):
        context = multiprocessing.get_context("fork")
        orders_end, self._orders = context.Pipe(duplex=False)
        results_end, worker_results = context.Pipe(duplex=False)
        self.derives = False
        """Whether the worker replays the commitments' acts (``derived_by``)."""
        self._claims = Claims(context)
        arguments = (raw, key, dialect, self._claims, orders_end, worker_results)
        self._process = context.Process(target=_work, args=arguments, daemon=True)
        try:
            self._process.start()
        except OSError as exc:
            results_end.close()
            self._orders.close()
            raise WorkerLost(f"the event chain's worker could not start: {exc}") from exc
        finally:
            orders_end.close()
            worker_results.close()
        self._arrived: deque[bytes] = deque()
        self._derived: deque[bytes] = deque()
        self._ended = threading.Event()
        self._end: tuple | None = None
        self._receiver = threading.Thread(target=self._receive, args=(results_end,), daemon=True)
        self._receiver.start()

    def _receive(self, connection: Connection) -> None:
        try:
            while True:
                if not connection.poll(SILENCE_S):
                    self._end = (_FAILED, f"no word from the worker for {SILENCE_S:.0f} s")
                    return
                message = connection.recv_bytes()
                if message.startswith(_ROWS):
                    self._arrived.append(message)
                    continue
                if message.startswith(_LEDGER):
                    self._derived.append(message)
                    continue
                self._end = pickle.loads(memoryview(message)[1:])
                return
        except (EOFError, OSError):
            self._end = (_FAILED, "the worker ended without a verdict")
        finally:
            connection.close()
            self._ended.set()

    def read(self, sections: Sections) -> None:
        """Tell the worker the sections it reads once its scan passed."""
        self.derives = sections.commitments is not None
        if sections.commitments is not None:
            self._claims.count(sections.commitments.chunk_count(ledger.CHUNK))
        self._tell(sections, last=False)

    def begin(self, chain_id: str) -> None:
        """Tell the worker the chain's id (the archive's alliance): it reads the events."""
        self._tell(chain_id)

    def _tell(self, order: Sections | str | None, *, last: bool = True) -> None:
        try:
            self._orders.send(order)
        except (BrokenPipeError, OSError):
            pass  # it ended already; its verdict says why
        finally:
            if last:
                self._orders.close()

    def write_arrived(self, uow: UnitOfWork) -> None:
        """Write the rows that have arrived so far."""
        while self._arrived:
            rows = marshal.loads(memoryview(self._arrived.popleft())[1:])
            insert_converted(uow.session, events_table, COLUMNS, rows)

    def derived_by(
        self, uow: UnitOfWork, alliance_id: str, commitments: Sequence[Any]
    ) -> ledger.DeriveChunk:
        """What each chunk of the archive's ``commitments`` derives, in turn, as
        ``ledger.write_ledger`` asks for it: derived here when nobody claimed the chunk
        (``Claims.take``), else the worker's, waited for — meanwhile the event rows that
        arrive are written and the back chunks taken (``Claims.take_last``) and derived
        here, each held until its turn (a refused act in one raised then, once every
        chunk before it passed). Raises ``Refused`` when the worker refused the chunk or
        read other commitments than ``records``, ``WorkerLost`` when it failed."""
        held: dict[int, ledger.Derived | ValidationFailed] = {}

        def replayed_here(number: int) -> ledger.Derived | ValidationFailed:
            first = number * ledger.CHUNK
            try:
                return ledger.derive(alliance_id, first, commitments[first : first + ledger.CHUNK])
            except ValidationFailed as refused:
                return refused

        def next_chunk(first: int, records: Sequence[Any]) -> ledger.Derived:
            number = first // ledger.CHUNK
            if number in held:
                derived = held.pop(number)
                if isinstance(derived, ValidationFailed):
                    raise derived
                return derived
            if self._claims.take(number):
                return ledger.derive(alliance_id, first, records)
            while not self._derived:
                if self._ended.is_set() and not self._derived:
                    self._refuse_or_lose()
                last = self._claims.take_last(number)
                if last is None:
                    self._ended.wait(0.02)
                else:
                    held[last] = replayed_here(last)
                self.write_arrived(uow)
            return self._workers_chunk(number, records)

        return next_chunk

    def _workers_chunk(self, number: int, records: Sequence[Any]) -> ledger.Derived:
        """The worker's chunk ``number`` of commitments, arrived: ``Refused`` when it is
        another, or holds other commitments than ``records``."""
        workers_number, fields = marshal.loads(memoryview(self._derived.popleft())[1:])
        derived = ledger.Derived(*fields)
        ids = [row[1] for row in derived.commitments]
        if workers_number != number or ids != [record.id for record in records]:
            raise Refused("the worker read other commitments")
        return derived

    def _refuse_or_lose(self) -> None:
        """The worker ended without the chunk asked for: why, raised."""
        end = self._end
        assert end is not None
        if end[0] == _FAILED:
            self._reap()
            raise WorkerLost(f"the event chain's worker failed: {end[1]}")
        raise Refused("the worker refused the commitments")

    def verdict(self, uow: UnitOfWork | None) -> Verdict:
        """Wait for the worker's verdict, writing its rows as they come (or, without a
        unit of work, dropping them); raises ``WorkerLost`` when it failed or died."""
        while not self._ended.wait(0.05):
            self._drain(uow)
        self._drain(uow)
        self._reap()
        end = self._end
        assert end is not None
        if end[0] == _REFUSED:
            return Verdict(refused=True)
        if end[0] == _DONE:
            return end[1]
        raise WorkerLost(f"the event chain's worker failed: {end[1]}")

    def _drain(self, uow: UnitOfWork | None) -> None:
        if uow is not None:
            self.write_arrived(uow)
        else:
            self._arrived.clear()

    def stop(self) -> None:
        """End the worker without waiting for its verdict (the import goes another way)."""
        if not self._orders.closed:
            self._tell(None)
        if self._process.is_alive():
            self._process.terminate()
        self._reap()
        self._arrived.clear()

    def _reap(self) -> None:
        self._process.join(5.0)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
