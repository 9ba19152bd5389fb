"""A vote's timeline, logged for profiling when ``COAUTHOR_VOTE_TIMELINE`` names a file.

Off by default (and then free: ``start`` returns None). With the variable set (to a file
path), every vote answered by ``web/vote_posts.py`` appends one JSON line to that file:
the moments it reached each step, in milliseconds since it arrived (its body read), and
the CPU time of the thread that wrote it. ``benchmarks/vote_timeline.py`` summarises the
lines (median and p95 of each step). Each web process appends its own lines.
"""

from __future__ import annotations

import json
import os
import threading
import time

TIMELINE_VARIABLE = "COAUTHOR_VOTE_TIMELINE"
_lock = threading.Lock()


class Timeline:
    """The moments one vote reached its steps (``mark``), and CPU spent writing it."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._started = time.perf_counter()
        self._arrived_at = time.time()
        self.marks: dict[str, float] = {}
        self.cpu_ms = 0.0
        self.batch = 1

    def mark(self, step: str) -> None:
        self.marks[step] = 1000 * (time.perf_counter() - self._started)

    def save(self) -> None:
        line = json.dumps(
            {
                "at": self._arrived_at,
                "server": os.getppid(),
                "marks": self.marks,
                "cpu_ms": self.cpu_ms,
                "batch": self.batch,
            }
        )
        with _lock, open(self._path, "a", encoding="utf-8") as log:
            log.write(line + "\n")


def start() -> Timeline | None:
    """A timeline for a vote that just arrived, when timelines are logged."""
    path = os.environ.get(TIMELINE_VARIABLE)
    return Timeline(path) if path else None


def mark(timeline: Timeline | None, step: str) -> None:
    if timeline is not None:
        timeline.mark(step)
