"""The serving commands keep what their start made out of the cyclic collector's walks."""

from __future__ import annotations

import gc

import pytest
from fastapi import FastAPI

from coauthor import heap
from coauthor.web import app as web_app


def _walked(thing: object) -> bool:
    """Whether a full collection would walk ``thing`` (the frozen are not listed)."""
    return any(found is thing for found in gc.get_objects())


def test_what_lives_when_frozen_is_not_walked_and_what_comes_after_is() -> None:
    before = FastAPI()
    try:
        heap.freeze_what_lives_now()
        after = FastAPI()
        assert not _walked(before)
        assert _walked(after)
    finally:
        gc.unfreeze()
    assert _walked(before)


def test_the_served_app_is_frozen_with_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    made = FastAPI()
    monkeypatch.setattr(web_app, "create_app", lambda: made)
    try:
        assert web_app.create_served_app() is made
        assert not _walked(made)
    finally:
        gc.unfreeze()
