"""SQLite's page cache, made larger for one long write (a large archive's import).

SQLite keeps 2 MB of the database's pages in memory per connection by default
(``cache_size=-2000``). A large import inserts millions of rows keyed by random
opaque ids into tables and indexes far larger than that, so most inserts
touch a page that was evicted since it was last read (and, within the
import's one transaction, written out to the WAL and read back). For such a
write the connection's cache is raised to what the caller says, and put back
afterwards, whatever happens, so the pooled connection serves everything else
with the default. SQLite allocates cache pages only as it reads them, so the
larger bound costs memory only when the database touched is that large.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session


def _cache_kib(pages_or_kib: int, page_size: int) -> int:
    """``PRAGMA cache_size`` in KiB: negative values are KiB, positive ones pages."""
    return -pages_or_kib if pages_or_kib < 0 else pages_or_kib * page_size // 1024


@contextmanager
def page_cache_of(session: Session, kib: int) -> Iterator[None]:
    """Run the block with the session's SQLite connection caching up to ``kib`` KiB of
    pages, when that is more than it does already; its setting is put back after.
    Nothing changes on other databases."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    page_size = connection.exec_driver_sql("PRAGMA page_size").scalar_one()
    if kib <= _cache_kib(before, page_size):
        yield
        return
    connection.exec_driver_sql(f"PRAGMA cache_size=-{int(kib)}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(before)}")
