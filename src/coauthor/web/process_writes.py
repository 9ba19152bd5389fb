"""Writes grouped in a process of the web process's own: the votes of a database server.

``GroupWriter`` (``web/group_writes.py``) writes a group in a thread of the web process:
a PostgreSQL group is about seven round trips (pre-ping, BEGIN, the people, the heads
``FOR UPDATE``, the facts, the upsert and append, COMMIT), and after each one the thread
must take the interpreter lock back from the event loop that serves hundreds of polls a
second — up to a switch interval (5 ms) each time. ``ProcessWriter`` groups items exactly
as ``GroupWriter`` does (an item that arrives while a group is being written waits for
it; all that waited, up to ``MAX_GROUP``, form the next group; an item that finds the
writer idle is written at once, alone), but hands each group to a writer process of its
own, so the group's round trips wait for no lock of the web process. The web process
holds no thread for it: the group goes down a socket pair as one length-prefixed pickle
and the event loop itself reads the answer (``add_reader``), in the thread that already
holds the interpreter lock.

The writer process is started (``spawn``: a process that runs an event loop and threads
is never forked) when the first group is to be written, and builds what it writes with
from plain values (``WriterSpec``); items and outcomes cross as plain, picklable values
(``encode``, ``decode``). When it dies, or is silent for ``SILENCE_SECONDS`` with a group
in flight, that group's items get ``lost()`` (for votes ``Busy``: a 503 with Retry-After
— a group may have been committed before the writer died, and sending a vote again is
safe, as a vote is an upsert), and the next group starts a new writer. It stops when its
socket closes (``close``, or the web process's end), so it never outlives its web process.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import signal
import socket
import struct
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any, Generic

from coauthor.web.loop_writes import MAX_GROUP, Answer, Item, Pending, hand_out

SILENCE_SECONDS = 30.0
"""Longest a group may wait for the writer's answer (a new writer's start included: a
second or two) before the writer is taken for dead."""

STOP_SECONDS = 5.0
"""Longest ``close`` waits for the writer to finish its group and exit before killing it."""

_LENGTH = struct.Struct("!I")
_WRITTEN, _FAILED, _READY = "written", "failed", "ready"


class WriterLost(Exception):
    """The writer process died or fell silent while it had a group to write."""


WriteAll = Callable[[Any], Any]
"""In the writer process: the plain values of a group's items → the plain reply."""


@dataclass(frozen=True)
class WriterSpec:
    """How the writer process builds its ``write_all``: ``open_writer(setup)``, a context
    manager (a module-level function and a picklable ``setup``, as ``spawn`` needs)."""

    open_writer: Callable[[Any], AbstractContextManager[WriteAll]]
    setup: Any


class ProcessWriter(Generic[Item]):
    """Writes items in groups, one group at a time, in a writer process of its own."""

    def __init__(
        self,
        spec: WriterSpec,
        encode: Callable[[Sequence[Item]], Any],
        decode: Callable[[Sequence[Item], Any], Sequence[Any]],
        lost: Callable[[], Any],
        answer: Answer[Item] | None = None,
    ) -> None:
        self._spec = spec
        self._encode, self._decode, self._lost = encode, decode, lost
        self._answer = answer
        self._pending: list[Pending[Item]] = []
        self._serving: asyncio.Task[None] | None = None
        self._writer: _Writer | None = None

    async def run(self, item: Item) -> Any:
        """``item``'s outcome (``decode``'d), ``lost()`` when the writer was lost with it, or
        the exception its group's write raised."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._pending.append(Pending(item, done, deadline=0.0))
        if self._serving is None or self._serving.done():
            self._serving = loop.create_task(self._serve())
        return await asyncio.shield(done)

    async def _serve(self) -> None:
        while self._pending:
            group, self._pending = self._pending[:MAX_GROUP], self._pending[MAX_GROUP:]
            items = [pending.item for pending in group]
            try:
                outcomes = self._decode(items, await self._written(self._encode(items)))
            except WriterLost:
                outcomes = [self._lost() for _ in items]
            except Exception as failed:  # handed to every request that awaits it
                for pending in group:
                    pending.done.set_exception(failed)
                continue
            await hand_out(list(zip(group, outcomes, strict=True)), self._answer)

    def start(self) -> None:
        """Start a writer process now, unless one serves (else the next group starts one);
        a writer found dead is stopped and replaced."""
        if self._writer is not None and not self._writer.serving():
            self._writer.stop(at_once=True)
            self._writer = None
        if self._writer is None:
            self._writer = _Writer.start(self._spec, asyncio.get_running_loop())

    async def started(self) -> None:
        """Start a writer process now (``start``) and wait until it is ready to write, or
        for ``SILENCE_SECONDS`` at most (then the first group waits, or starts another)."""
        self.start()
        assert self._writer is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._writer.ready), SILENCE_SECONDS)
        except TimeoutError:
            return

    async def _written(self, request: Any) -> Any:
        """The writer's reply to ``request``; a writer lost on the way is stopped, and one
        found dead between groups is replaced first."""
        self.start()
        writer = self._writer
        assert writer is not None
        try:
            return await writer.write(request)
        except WriterLost:
            if self._writer is writer:
                self._writer = None
            writer.stop(at_once=True)
            raise

    @property
    def process(self) -> BaseProcess | None:
        """The writer process now serving, if one is started."""
        return None if self._writer is None else self._writer.process

    def close(self) -> None:
        """Stop the writer process (a group in flight gets ``lost()``)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.stop(at_once=False)


class _Writer:
    """One writer process and this side of its socket, read by the event loop."""

    def __init__(
        self, process: BaseProcess, ours: socket.socket, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.process = process
        self._socket = ours
        self._loop = loop
        self._received = bytearray()
        self._waiting: asyncio.Future[Any] | None = None
        self._silence: asyncio.TimerHandle | None = None
        self.lost = False
        """Found dead or silent (or stopped): no group is to be sent to it."""
        self.ready: asyncio.Future[None] = loop.create_future()
        """Done once the writer has built what it writes with (groups sent before wait in
        the socket)."""
        loop.add_reader(ours.fileno(), self._readable)

    @classmethod
    def start(cls, spec: WriterSpec, loop: asyncio.AbstractEventLoop) -> _Writer:
        ours, theirs = socket.socketpair()
        process = multiprocessing.get_context("spawn").Process(
            target=serve_writes,
            args=(theirs, spec),
            name="coauthor-writer",
            daemon=True,
        )
        process.start()
        theirs.close()
        ours.setblocking(False)
        return cls(process, ours, loop)

    def serving(self) -> bool:
        return not self.lost and self.process.is_alive()

    async def write(self, request: Any) -> Any:
        frame = _frame(request)
        waiting = self._waiting = self._loop.create_future()
        self._silence = self._loop.call_later(
            SILENCE_SECONDS, self._lose, "the writer process fell silent"
        )
        try:
            await self._loop.sock_sendall(self._socket, frame)
        except OSError:
            self._lose("the writer process is gone")
        return await waiting

    def _readable(self) -> None:
        try:
            chunk = self._socket.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._lose("the writer process stopped")
            return
        self._received += chunk
        while len(self._received) >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(self._received)
            if len(self._received) < _LENGTH.size + length:
                return
            reply = bytes(self._received[_LENGTH.size : _LENGTH.size + length])
            del self._received[: _LENGTH.size + length]
            self._deliver(_unpickled(reply))

    def _deliver(self, reply: tuple[str, Any]) -> None:
        if reply[0] == _READY:
            if not self.ready.done():
                self.ready.set_result(None)
            return
        waiting, self._waiting = self._waiting, None
        if self._silence is not None:
            self._silence.cancel()
        if waiting is None or waiting.done():
            return
        kind, value = reply
        if kind == _WRITTEN:
            waiting.set_result(value)
        else:
            waiting.set_exception(value)

    def _lose(self, why: str) -> None:
        """The group in flight, if any, is lost; the writer is to be stopped."""
        self.lost = True
        self._unwatch()
        if not self.ready.done() and not self._loop.is_closed():
            self.ready.set_result(None)  # nobody waits for a lost writer to start
        waiting, self._waiting = self._waiting, None
        if waiting is not None and not waiting.done() and not self._loop.is_closed():
            waiting.set_exception(WriterLost(why))

    def _unwatch(self) -> None:
        if self._silence is not None:
            self._silence.cancel()
        if self._socket.fileno() >= 0:
            self._loop.remove_reader(self._socket.fileno())

    def stop(self, *, at_once: bool) -> None:
        """Close our end (the writer exits once its group is written) and reap it; killed
        at once, or when it has not exited within ``STOP_SECONDS``."""
        self._lose("the writer process was stopped")
        self._socket.close()
        if at_once:
            self.process.kill()
        self.process.join(STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(STOP_SECONDS)


def serve_writes(theirs: socket.socket, spec: WriterSpec) -> None:
    """The writer process: each request read is written, and its reply (or the exception
    the write raised) sent back, until the web process's end of the socket closes (an
    interrupt is the web process's to handle: it then closes its end)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with theirs, spec.open_writer(spec.setup) as write_all:
        theirs.sendall(_frame((_READY, None)))
        for request in _requests(theirs):
            try:
                reply = (_WRITTEN, write_all(request))
            except Exception as failed:  # the request's to raise, as a thread writer would
                reply = (_FAILED, failed)
            theirs.sendall(_picklable_frame(reply))


def _requests(theirs: socket.socket) -> Iterator[Any]:
    while True:
        head = _read_exactly(theirs, _LENGTH.size)
        if head is None:
            return
        body = _read_exactly(theirs, _LENGTH.unpack(head)[0])
        if body is None:
            return
        yield pickle.loads(body)


def _read_exactly(theirs: socket.socket, size: int) -> bytes | None:
    """``size`` bytes, or None when the socket closed first."""
    received = bytearray()
    while len(received) < size:
        chunk = theirs.recv(size - len(received))
        if not chunk:
            return None
        received += chunk
    return bytes(received)


def _frame(value: Any) -> bytes:
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(body)) + body


def _unpickled(reply: bytes) -> tuple[str, Any]:
    """The writer's reply; one that cannot be unpickled here fails its group."""
    try:
        return pickle.loads(reply)
    except Exception as unreadable:
        return _FAILED, RuntimeError(f"the writer's reply could not be read: {unreadable!r}")


def _picklable_frame(reply: tuple[str, Any]) -> bytes:
    """The reply's frame; an exception that cannot be pickled crosses as a ``RuntimeError``
    naming it (the request still fails with its message)."""
    try:
        return _frame(reply)
    except Exception as unpicklable:
        kind, value = reply
        failed = value if kind == _FAILED else unpicklable
        return _frame((_FAILED, RuntimeError(f"{type(failed).__name__}: {failed}")))
