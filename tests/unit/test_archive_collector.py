"""The cyclic collector is paused during an import and resumed after it, whatever happens."""

from __future__ import annotations

import gc

import pytest

from coauthor.services.archive.collector import cyclic_gc_paused


def test_paused_inside_and_resumed_after() -> None:
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_nested_pauses_resume_when_the_last_ends() -> None:
    with cyclic_gc_paused():
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_resumed_after_an_error() -> None:
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        raise RuntimeError("refused")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
