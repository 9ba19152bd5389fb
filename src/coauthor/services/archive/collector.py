"""Python's cyclic garbage collector, paused while an archive is imported.

An import builds millions of small objects (the document's records, the rows
written) that hold no reference cycles: reference counting frees them. The
cyclic collector would still walk them again and again as they pile up — a
third of the time spent reading a large archive. It is paused for the import
and resumed after it, whatever happens; imports running at once in one
process (threads) resume it when the last one ends, and a collector that was
already off stays off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pausing = 0
_resume = False


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off; it is on again afterwards if it was before."""
    global _pausing, _resume
    with _lock:
        if _pausing == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pausing += 1
    try:
        yield
    finally:
        with _lock:
            _pausing -= 1
            if _pausing == 0 and _resume:
                gc.enable()
