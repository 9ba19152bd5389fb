"""An import raises its SQLite connection's page cache for its transaction, and puts it back.

The cache asked for is twice the archive's text's size, bounded by
``PAGE_CACHE_MAX_KIB``; afterwards (committed or refused) the pooled connection
caches what it did before, so nothing else runs with the import's memory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from coauthor.db.pagecache import page_cache_of
from coauthor.domain.errors import ValidationFailed
from coauthor.runtime import Runtime
from coauthor.services.archive import importer
from coauthor.services.archive.importer import PAGE_CACHE_MAX_KIB, do_import_archive
from tests.integration.test_archive_import_paths import (  # noqa: F401 - demo_text: a fixture
    demo_text,
    runtime_on,
)

DEFAULT_CACHE = -2000
"""SQLite's default ``cache_size``: 2,000 KiB."""


def cache_size(uow: Any) -> int:
    return uow.session.connection().exec_driver_sql("PRAGMA cache_size").scalar_one()


@pytest.fixture
def runtime(tmp_path: Path) -> Any:
    runtime = runtime_on(tmp_path / "cache.sqlite3")
    yield runtime
    runtime.close()


def test_the_cache_is_raised_in_the_block_and_put_back_after(runtime: Runtime) -> None:
    with runtime.uow() as uow:
        assert cache_size(uow) == DEFAULT_CACHE
        with page_cache_of(uow.session, 10_000):
            assert cache_size(uow) == -10_000
        assert cache_size(uow) == DEFAULT_CACHE


def test_the_cache_is_put_back_when_the_block_fails(runtime: Runtime) -> None:
    with runtime.uow() as uow:
        with pytest.raises(RuntimeError), page_cache_of(uow.session, 10_000):
            raise RuntimeError("refused")
        assert cache_size(uow) == DEFAULT_CACHE


def test_a_cache_no_larger_than_the_connections_is_left_as_it_is(runtime: Runtime) -> None:
    with runtime.uow() as uow:
        uow.session.connection().exec_driver_sql("PRAGMA cache_size=500")  # pages
        page_size = uow.session.connection().exec_driver_sql("PRAGMA page_size").scalar_one()
        with page_cache_of(uow.session, 500 * page_size // 1024):
            assert cache_size(uow) == 500
        assert cache_size(uow) == 500


def test_the_import_asks_for_its_texts_size_bounded() -> None:
    assert importer._page_cache_kib({"format": "coauthor-archive/1"}) == 0
    assert importer._page_cache_kib(b"x" * 5_000_000) == 10_000_000 // 1024
    assert importer._page_cache_kib("x" * 5_000_000) == 10_000_000 // 1024
    assert importer._page_cache_kib(b"x" * (PAGE_CACHE_MAX_KIB * 1024)) == PAGE_CACHE_MAX_KIB


def imports_with_cache(
    runtime: Runtime, text: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[int], Any]:
    """The import's ``cache_size`` seen at each reported step (its page cache asked to be
    3,000 KiB, above the default, whatever the text's size), and what it returned or raised."""
    monkeypatch.setattr(importer, "_page_cache_kib", lambda document: 3_000)
    seen: list[int] = []
    with runtime.uow() as uow:

        def report(what: str, done: int, total: int) -> None:
            seen.append(cache_size(uow))

        try:
            result: Any = uow.write(do_import_archive, None, text, bootstrap=True, report=report)
        except ValidationFailed as refused:
            result = refused
    return seen, result


def test_an_import_runs_with_the_larger_cache_and_puts_it_back(
    demo_text: str,  # noqa: F811
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen, (_, created) = imports_with_cache(runtime, demo_text, monkeypatch)
    assert created
    assert seen and set(seen) == {-3_000}
    with runtime.uow() as uow:
        assert cache_size(uow) == DEFAULT_CACHE


def test_a_refused_import_puts_the_cache_back_too(
    demo_text: str,  # noqa: F811
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = json.loads(demo_text)
    data["commitments"][0]["acts"][0]["move"] = "declare_satisfied"
    _, refused = imports_with_cache(runtime, json.dumps(data), monkeypatch)
    assert isinstance(refused, ValidationFailed)
    with runtime.uow() as uow:
        assert cache_size(uow) == DEFAULT_CACHE
