"""A long-running process's start kept out of the cyclic garbage collector's sight.

A server process holds a few hundred thousand objects from its start to its end — the
modules, the routes and their dependencies, the models, the mappers — and every full
collection walks all of them. Under bench_live's load a full collection ran every 6 to
8 seconds in each web process and stopped it for 150 to 450 ms, every poll and vote in
flight waiting; the results worker's process paused alike between its releases.
``gc.freeze`` moves the objects alive at that moment to a generation the collector never
walks, so a full collection walks only what the process made since. Only the serving
commands do this, once their start is done: an app made in a test, and dropped after it,
must stay collectable.
"""

from __future__ import annotations

import gc


def freeze_what_lives_now() -> None:
    """Collect the garbage made so far, then keep what is left out of later collections."""
    gc.collect()
    gc.freeze()
