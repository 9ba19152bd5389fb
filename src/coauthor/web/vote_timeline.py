"""A vote's timeline, logged for profiling when ``COAUTHOR_VOTE_TIMELINE`` names a file.

Off by default (and then free: ``start`` returns None, and ``coauthor serve`` runs
uvicorn's own protocol and the bare app). With the variable set (to a file path), every
vote answered by ``web/vote_posts.py`` appends one JSON line to that file: the moments it
reached each step, by ``time.perf_counter`` (CLOCK_MONOTONIC on Linux, so comparable with
the moments other processes on the machine log), and the CPU time of the thread that
wrote it. Two of the steps come before the vote layer: the server process read the
request's first bytes (``READ_KEY``, set by ``web/timed_serving.py``'s protocol) and the
request's task first ran the app (``TASK_KEY``, by its outermost wrapper). A client that
sends ``TIMELINE_HEADER`` with an id of its own can log its own moments under that id
(``benchmarks/bench_live.py`` does). ``benchmarks/vote_timeline.py`` summarises the lines
(median and p95 of each step). Each web process appends its own lines.
"""

from __future__ import annotations

import json
import os
import threading
import time

from starlette.types import Scope

TIMELINE_VARIABLE = "COAUTHOR_VOTE_TIMELINE"
TIMELINE_HEADER = b"x-vote-timeline"
READ_KEY = "coauthor.read_at"
"""The scope's key for the moment the server process read the request's first bytes."""
TASK_KEY = "coauthor.task_at"
"""The scope's key for the moment the request's task first ran the app."""
_lock = threading.Lock()


class Timeline:
    """The moments one vote reached its steps (``mark``), and CPU spent writing it."""

    def __init__(self, path: str, scope: Scope) -> None:
        self._path = path
        self._arrived_at = time.time()
        self.marks: dict[str, float] = {}
        for step, key in (("read", READ_KEY), ("task", TASK_KEY)):
            if key in scope:
                self.marks[step] = scope[key]
        self.mark("admitted")
        self.client_id = next(
            (
                value.decode("latin-1")
                for name, value in scope["headers"]
                if name == TIMELINE_HEADER
            ),
            None,
        )
        self.cpu_ms = 0.0
        self.batch = 1

    def mark(self, step: str) -> None:
        self.marks[step] = time.perf_counter()

    def save(self) -> None:
        line = json.dumps(
            {
                "at": self._arrived_at,
                "server": os.getppid(),
                "id": self.client_id,
                "marks": self.marks,
                "cpu_ms": self.cpu_ms,
                "batch": self.batch,
            }
        )
        append(self._path, line)


def append(path: str, line: str) -> None:
    """One line appended to the log (whole: each process's lines are short and written
    in one call to a file opened for appending)."""
    with _lock, open(path, "a", encoding="utf-8") as log:
        log.write(line + "\n")


def logging_to() -> str | None:
    """The file timelines are logged to, or None when they are not."""
    return os.environ.get(TIMELINE_VARIABLE) or None


def start(scope: Scope) -> Timeline | None:
    """A timeline for a vote the layer just took in, when timelines are logged."""
    path = logging_to()
    return Timeline(path, scope) if path else None


def mark(timeline: Timeline | None, step: str) -> None:
    if timeline is not None:
        timeline.mark(step)
