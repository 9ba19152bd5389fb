"""The results worker: publishes deliberation results releases off the request path.

A vote is stored and answered at once; this worker notices that a
deliberation's next release is due (``services/deliberation/results.py``)
and publishes it, so readers only ever read a stored release. It runs as a
background thread of each server process (``COAUTHOR_RESULTS_WORKER=embedded``,
the default) or once, as ``coauthor worker``, for several server processes
(``external``). Several workers on one database are safe: a release is made
in a write that checks again that it is due, and the second maker finds it
made.

It looks only at alliances whose event chain moved since it last looked (the
chain heads are one small table). On PostgreSQL every append notifies
(``NOTIFY coauthor_changes``) and the worker wakes at once, though it starts
a round at most once every ``COAUTHOR_RESULTS_POLL_SECONDS``; on SQLite it
looks every ``COAUTHOR_RESULTS_POLL_SECONDS``. Either way the interval runs from
the start of one round to the start of the next, so a vote waits for its
release at most that interval plus one release's work.

Before its first round it makes the analysis's compiled kernels ready
(``analysis/opinion_warm_up.py``), so that a fresh install compiles them then, not
while the first votes wait for their release.

Between releases it keeps each deliberation's votes as it last read them
(``services/deliberation/kept_votes.py``) and reads only the participants whose
votes changed since, falling back to reading every vote when it starts, after a
failed round, and whenever the copy does not add up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import cache

import sqlalchemy as sa
from threadpoolctl import ThreadpoolController

from coauthor.analysis.opinion_warm_up import warm_up
from coauthor.db.tables import chain_heads
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.runtime import Runtime
from coauthor.services import eventlog
from coauthor.services.deliberation import results
from coauthor.services.deliberation.kept_votes import KeptVotes

CHANNEL = eventlog.NOTIFY_CHANNEL
log = logging.getLogger("coauthor.worker")


class ResultsWorker:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.seen: dict[str, int] = {}
        self.kept: dict[tuple[str, str], KeptVotes] = {}
        """Each deliberation's votes as this worker last read them (``kept_votes.py``)."""

    def moved_chains(self) -> list[str]:
        """Alliances whose chain grew since the last look (every one, the first time)."""
        with self.runtime.uow() as uow:
            rows = uow.session.execute(sa.select(chain_heads.c.chain_id, chain_heads.c.seq))
            heads = {row.chain_id: row.seq for row in rows}
        moved = [chain for chain, seq in heads.items() if self.seen.get(chain) != seq]
        self.seen = heads
        return [chain for chain in moved if chain != eventlog.SITE_CHAIN]

    def run_once(self) -> int:
        """Publish every due release; how many were published."""
        threshold = self.runtime.settings.anonymity_threshold
        published = 0
        moved = self.moved_chains()
        with self.runtime.uow() as uow:
            for alliance_id in moved:
                for deliberation_id in results.due_in_alliances(uow, [alliance_id], threshold):
                    published += self._publish(uow, alliance_id, deliberation_id, threshold)
        return published

    def _publish(
        self, uow: UnitOfWork, alliance_id: str, deliberation_id: str, threshold: int
    ) -> int:
        """Compute the release in a read (from the votes kept since the last one and those
        changed since), then store it in a short write (1 if stored)."""
        deliberation = uow.get(m.Deliberation, alliance_id=alliance_id, id=deliberation_id)
        if deliberation is None:
            self.kept.pop((alliance_id, deliberation_id), None)
            return 0
        kept = self.kept.setdefault((alliance_id, deliberation_id), KeptVotes())
        with one_blas_thread():
            prepared = results.prepare_release(uow, deliberation, threshold, kept=kept)
        if prepared is None:
            return 0
        return int(uow.write(results.do_store_release, prepared) is not None)

    def run(self, stop: threading.Event) -> None:
        """Until ``stop`` is set: publish what is due, then wait for the next change. The
        analysis's compiled kernels are made ready first (``opinion_warm_up``): on a fresh
        install, compiling them in the first rounds held back every release for tens of
        seconds."""
        try:
            with one_blas_thread():
                warm_up()
        except Exception:
            log.exception("the results worker could not warm up the analysis; it goes on")
        wait = self._waiter(stop)
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("the results worker failed a round; it goes on")
                self.seen, self.kept = {}, {}
            wait()

    def _waiter(self, stop: threading.Event) -> Callable[[], None]:
        poll = self.runtime.settings.results_poll_seconds
        if self.runtime.engine.dialect.name != "postgresql":
            return _Rounds(stop, poll).wait_for_turn
        return _NotificationWaiter(self.runtime, stop, poll).wait


class _Rounds:
    """Rounds start ``poll`` seconds apart, from the start of one to the start of the next.

    Counting from the start (not from the end of the last round) keeps a vote's wait for the
    round that publishes it under ``poll`` plus one round's work, however long releases take,
    while a hundred votes a second still cost one round a second, not a hundred.
    """

    def __init__(self, stop: threading.Event, poll: float) -> None:
        self.stop = stop
        self.poll = poll
        self.round_started = time.monotonic()

    def wait_for_turn(self) -> None:
        self.stop.wait(max(0.0, self.round_started + self.poll - time.monotonic()))
        self.round_started = time.monotonic()


class _NotificationWaiter:
    """Waits on PostgreSQL's LISTEN for a change, or ``poll`` seconds at most.

    Rounds start at most once every ``poll`` seconds even when changes keep coming (every
    vote notifies), as ``_Rounds`` spaces them; the notifications that came meanwhile are
    read and dropped, as the round looks at every chain that moved.
    """

    def __init__(self, runtime: Runtime, stop: threading.Event, poll: float) -> None:
        import psycopg

        url = runtime.engine.url.set(drivername="postgresql")
        self.connection = psycopg.connect(
            url.render_as_string(hide_password=False), autocommit=True
        )
        self.connection.execute(f"LISTEN {CHANNEL}")
        self.stop = stop
        self.poll = poll
        self.rounds = _Rounds(stop, poll)

    def wait(self) -> None:
        if self.stop.is_set():
            self.connection.close()
            return
        for _ in self.connection.notifies(timeout=self.poll, stop_after=1):
            break
        self.rounds.wait_for_turn()
        for _ in self.connection.notifies(timeout=0.0):
            pass


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def one_blas_thread() -> AbstractContextManager[object]:
    """BLAS on one thread while a release is computed.

    The worker shares the machine's cores with the web processes; its matrix products are
    small (2,000 × 200 at Pol.is scale), and OpenBLAS's threads cost more CPU in waiting
    for each other than they save (a release took twice the CPU with them, measured with
    ``benchmarks/profile_release.py``). ``tests/integration/test_release_cost.py`` checks
    that a release computed so is the document computed with every thread.
    """
    return _blas().limit(limits=1, user_api="blas")


def start_in_background(runtime: Runtime) -> Callable[[], None]:
    """The embedded worker: a daemon thread; returns the function that stops it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=ResultsWorker(runtime).run, args=(stop,), name="results-worker", daemon=True
    )
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=10)

    return halt
