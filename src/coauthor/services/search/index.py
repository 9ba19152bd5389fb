"""Keeping the search index current: in the same transaction as every write, and rebuilt on demand.

``track(session_factory)`` (the runtime calls it) watches each session's
flushes: every searchable item added, changed or deleted — and every item
whose document follows something that changed (a member when their person
is renamed) — is noted, and its entry rewritten just before the transaction
commits (``before_commit``), so an item and its entry are committed together
or not at all. No service needs to call the index, which is why a feature
only declares its kinds (kinds.py) to be found.

``rebuild`` writes every entry again from the items themselves (``coauthor
search reindex``); ``rebuild_if_missing`` does that once for a database
that had items before the index existed (after the migration that adds it).

On SQLite each entry also has a row in the FTS5 table ``search_fts`` (its row
id is the entry's ``doc``); on PostgreSQL the GIN index over
``search_entries`` follows by itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from coauthor.db.bulk import insert_rows
from coauthor.db.tables import NATIVE_SEARCH_TABLE, search_entries
from coauthor.services.search.kinds import BY_ENTITY, BY_KIND, FOLLOWERS, SEARCHABLE, Searchable
from coauthor.services.search.text import doc_id, fold

PENDING = "search_pending"
"""``session.info`` key: the (kind, alliance id, item id) whose entries are to be rewritten."""
FOLLOWING = "search_following"
"""``session.info`` key: changed items that other kinds' documents follow (resolved at commit)."""
Pending = set[tuple[str, str, str]]
FTS_COLUMNS = ("doc", "terms_title", "terms_body")
ENTRY_COLUMNS = (
    "alliance_id",
    "kind",
    "item_id",
    "doc",
    "partner_id",
    "parent_id",
    "title",
    "body",
    "terms_title",
    "terms_body",
)
"""The columns of ``search_entries`` in the order of an entry's row (``_entry``)."""
_FTS_VALUES = itemgetter(*(ENTRY_COLUMNS.index(name) for name in FTS_COLUMNS))
NATIVE_SEARCH_ROWS = sa.table(
    NATIVE_SEARCH_TABLE, sa.column("rowid"), sa.column("terms_title"), sa.column("terms_body")
)


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _pending(session: Session) -> Pending:
    return session.info.setdefault(PENDING, set())


def _note_changes(session: Session, _context: Any) -> None:
    """After a flush: note what changed, while the session still knows new, dirty and deleted."""
    pending = _pending(session)
    following = session.info.setdefault(FOLLOWING, [])
    for item in (*session.new, *session.dirty, *session.deleted):
        searchable = BY_ENTITY.get(type(item))
        if searchable is not None:
            pending.add((searchable.kind, *searchable.key_of(item)))
        if type(item) in FOLLOWERS:
            following.append(item)


def _take_pending(session: Session) -> Pending:
    """The noted entries, with those that follow a changed item, and forget them."""
    pending = session.info.pop(PENDING, set())
    for item in session.info.pop(FOLLOWING, []):
        for follower, follow in FOLLOWERS[type(item)]:
            pending.update((follower.kind, *key) for key in follow.affected(session, item))
    return pending


def _write_pending(session: Session) -> None:
    """Before commit: flush what is left, then rewrite every noted entry."""
    session.flush()
    pending = _take_pending(session)
    while pending:
        refresh(session, sorted(pending))
        session.flush()
        pending = _take_pending(session)


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(PENDING, None)
    session.info.pop(FOLLOWING, None)


def track(session_factory: sessionmaker[Session]) -> None:
    """Keep the index current in every session ``session_factory`` makes."""
    if getattr(session_factory, "_search_tracked", False):
        return
    sa.event.listen(session_factory, "after_flush", _note_changes)
    sa.event.listen(session_factory, "before_commit", _write_pending)
    sa.event.listen(session_factory, "after_soft_rollback", _forget)
    session_factory._search_tracked = True  # type: ignore[attr-defined]


def write_now(session: Session) -> None:
    """Bring the index up to date inside the current transaction (before a search in it)."""
    _write_pending(session)


EntryRow = tuple
"""An entry of ``search_entries`` as a row, its values in ``ENTRY_COLUMNS`` order."""


def _entry(searchable: Searchable, session: Session | None, item: Any) -> EntryRow | None:
    """The item's entry; ``session`` only for kinds whose document reads more than the item."""
    document = searchable.document(session, item)  # type: ignore[arg-type]
    if document is None:
        return None
    alliance_id, item_id = searchable.key_of(item)
    kind = searchable.kind
    title, body = document.title, document.body
    return (
        alliance_id,
        kind,
        item_id,
        doc_id(alliance_id, kind, item_id),
        document.partner_id,
        document.parent_id,
        title,
        body,
        fold(title),
        fold(body),
    )


def _item(session: Session, searchable: Searchable, alliance_id: str, item_id: str) -> Any:
    mapper = sa.inspect(searchable.entity)
    names = [column.key for column in mapper.primary_key]
    values = {"alliance_id": alliance_id, "id": item_id}
    return session.get(searchable.entity, {name: values[name] for name in names})


def _delete(session: Session, docs: list[int]) -> None:
    if not docs:
        return
    session.execute(sa.delete(search_entries).where(search_entries.c.doc.in_(docs)))
    if is_sqlite(session):
        session.execute(
            sa.text(f"DELETE FROM {NATIVE_SEARCH_TABLE} WHERE rowid IN :docs").bindparams(
                sa.bindparam("docs", expanding=True)
            ),
            {"docs": docs},
        )


def _insert(session: Session, entries: list[EntryRow]) -> None:
    """One bulk insert per table through the driver (``db/bulk.py``): a rebuild or an
    archive import writes hundreds of thousands of entries.

    The full-text rows go in by row id (``doc``, a hash, so in no order of its own):
    FTS5 writes out the terms it holds in memory whenever a row id comes lower than the
    one before, so rows in a hash's order made a segment of a row or two each, merged
    again and again; in order, one segment per bulk insert. The table holds the same
    rows either way."""
    if not entries:
        return
    insert_rows(session, search_entries, ENTRY_COLUMNS, entries)
    if is_sqlite(session):
        fts_rows = sorted(map(_FTS_VALUES, entries))
        insert_rows(session, NATIVE_SEARCH_ROWS, ("rowid", "terms_title", "terms_body"), fts_rows)


def entries_apart(kind: str, items: Iterable[Any]) -> list[EntryRow]:
    """The entries of items written past the session (an archive import's ledger), made
    without one, so that another process can make them (the archive's chain worker):
    for kinds whose document reads only the item (``Searchable.reads_only_the_item``).

    ``items`` need only the attributes the kind's document and key read (rows of its
    table will do). ``insert_entries`` writes them."""
    searchable = BY_KIND[kind]
    if not searchable.reads_only_the_item:
        raise ValueError(f"a {kind}'s document reads more than the item")
    return [entry for item in items if (entry := _entry(searchable, None, item)) is not None]


def insert_entries(session: Session, entries: list[EntryRow]) -> int:
    """Write entries ``entries_apart`` made, of items that have none yet, in one bulk
    insert per table (``db/bulk.py``); return how many."""
    _insert(session, entries)
    return len(entries)


def refresh(session: Session, keys: Iterable[tuple[str, str, str]]) -> None:
    """Rewrite the entries of (kind, alliance id, item id): gone items lose theirs."""
    docs, entries = [], []
    for kind, alliance_id, item_id in keys:
        searchable = BY_KIND[kind]
        docs.append(doc_id(alliance_id, kind, item_id))
        item = _item(session, searchable, alliance_id, item_id)
        entry = _entry(searchable, session, item) if item is not None else None
        if entry is not None:
            entries.append(entry)
    _delete(session, docs)
    _insert(session, entries)


def _clear(session: Session, alliance_id: str | None) -> None:
    """Remove the entries of one alliance, or all of them."""
    if alliance_id is None:
        if is_sqlite(session):
            session.execute(sa.text(f"DELETE FROM {NATIVE_SEARCH_TABLE}"))
        session.execute(sa.delete(search_entries))
        return
    docs = sa.select(search_entries.c.doc).where(search_entries.c.alliance_id == alliance_id)
    _delete(session, list(session.scalars(docs)))


def rebuild(session: Session, alliance_id: str | None = None) -> int:
    """Write the entries of one alliance (or of all) again from its items; return how many."""
    _clear(session, alliance_id)
    written = 0
    for searchable in SEARCHABLE:
        statement = sa.select(searchable.entity)
        if alliance_id is not None:
            owner = "id" if searchable.kind == "alliance" else "alliance_id"
            statement = statement.where(getattr(searchable.entity, owner) == alliance_id)
        entries = [
            entry
            for item in session.scalars(statement)
            if (entry := _entry(searchable, session, item)) is not None
        ]
        _insert(session, entries)
        written += len(entries)
    _forget(session)
    return written


def is_missing(session: Session) -> bool:
    """True when alliances exist but none has an entry: the index was never built here."""
    has_entries = session.execute(sa.select(search_entries.c.doc).limit(1)).first()
    if has_entries is not None:
        return False
    alliance = BY_KIND["alliance"].entity
    return session.execute(sa.select(alliance.id).limit(1)).first() is not None


def rebuild_if_missing(session: Session) -> bool:
    """Build the index of a database whose items predate it; True when it did."""
    if not is_missing(session):
        return False
    rebuild(session)
    return True
