"""The append-only, hash-chained event log.

Each alliance has its own chain (``chain_id`` = alliance id); writes that
belong to no alliance (accounts, organizations) go to the ``site`` chain. An
event's hash covers its chain, position, time, actor, kind, payload and the
previous event's hash, so editing or removing any stored event breaks every
hash after it, and ``verify_chain`` names the first event that no longer fits.
The time is hashed in UTC, so the same instant written with another offset
(an archive's ``+02:00``) gives the same hash as the stored UTC value.

With an event-log key (``COAUTHOR_EVENT_LOG_KEY``, coauthor.eventkey) each
event and each head also carries a MAC, so a chain recomputed by someone
without the key fails ``verify``.

Each chain has a head row (``chain_heads``: its last seq and hash). Appending
locks that row first (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the
write transaction already holds the database's write lock), so concurrent
writers to one chain take turns instead of colliding on the next seq. The
head also lets ``verify`` notice events removed from the end of a chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from operator import attrgetter
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from coauthor.db.bulk import insert_rows
from coauthor.db.driver_reads import driver_read
from coauthor.db.tables import alliances, chain_heads, people
from coauthor.db.tables import events as events_table
from coauthor.db.uow import UnitOfWork
from coauthor.domain.model import Event, Person
from coauthor.eventkey import EventKey

SITE_CHAIN = "site"
GENESIS = "0" * 64
NOTIFY_CHANNEL = "coauthor_changes"
"""On PostgreSQL every append notifies this channel with its chain id, at commit (the results
worker listens)."""


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
"""One encoder for every event: ``json.dumps`` with these options builds a new one per call,
a quarter of the time an archive import's chain check spends per event."""


def canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


def _utc_text(at: datetime) -> str:
    """``at`` in UTC as ISO text. A time with a zero offset already (``datetime.UTC``,
    pydantic's own UTC) is not converted: a third of the time, for an archive's million
    events."""
    text = at.isoformat()
    if text.endswith("+00:00"):
        return text
    return at.astimezone(UTC).isoformat()


_PLAIN_VALUES = frozenset({str, int, bool, type(None)})


def event_hash(
    chain_id: str,
    seq: int,
    at: datetime,
    actor_id: str | None,
    kind: str,
    payload: dict,
    prev_hash: str,
) -> str:
    """The SHA-256 of the ``canonical_json`` of the event's fields, its time in UTC.

    A plain event — its time at a zero offset, its payload of text, integers, booleans and
    null, as nearly every event's is — is encoded by orjson, which writes those bytes
    exactly (the time as ``isoformat`` writes it in UTC) in about a third of the time: an
    archive's million events are checked, and every vote appends one. Any other event (a
    float, which orjson may print otherwise, nested values, another offset, a naive time),
    and any orjson refuses (an integer past 64 bits), by ``canonical_json`` itself.
    ``tests/unit/test_event_hash.py`` holds every event to the definition."""
    body = {
        "chain": chain_id,
        "seq": seq,
        "at": at,
        "actor": actor_id,
        "kind": kind,
        "payload": payload,
        "prev": prev_hash,
    }
    if at.utcoffset() == timedelta(0) and _PLAIN_VALUES.issuperset(map(type, payload.values())):
        try:
            return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
        except TypeError:  # orjson.JSONEncodeError
            pass
    body["at"] = _utc_text(at)
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


@dataclass(frozen=True)
class Head:
    """The last event of a chain: its seq (0 for an empty chain) and hash, and their MAC."""

    seq: int
    hash: str
    key_id: str | None = None
    mac: str | None = None


EMPTY_HEAD = Head(0, GENESIS)


def keyed_head(key: EventKey | None, chain_id: str, seq: int, last_hash: str) -> Head:
    if key is None:
        return Head(seq, last_hash)
    return Head(seq, last_hash, key.key_id, key.head_mac(chain_id, seq, last_hash))


def _insert_head(uow: UnitOfWork, chain_id: str) -> None:
    """Create an empty chain's head row, unless a concurrent writer just did."""
    dialect = postgresql if uow.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(chain_heads).values(chain_id=chain_id, seq=0, hash=GENESIS)
    uow.session.execute(statement.on_conflict_do_nothing(index_elements=["chain_id"]))


def _select_head(chain_id: str | sa.BindParameter[str]) -> sa.Select:
    columns = chain_heads.c
    return sa.select(columns.seq, columns.hash, columns.key_id, columns.mac).where(
        columns.chain_id == chain_id
    )


@cache
def _locked_head() -> sa.Select:
    """Built once: every write of the application reads its chain's head."""
    return _select_head(sa.bindparam("head_chain")).with_for_update()


@cache
def _head_update() -> sa.Update:
    columns = chain_heads.c
    return sa.update(chain_heads).where(columns.chain_id == sa.bindparam("head_chain"))


def lock_head(uow: UnitOfWork, chain_id: str) -> Head:
    """The chain's head, locked until the transaction ends (created if the chain is new).

    Run on the session's connection (pending changes are flushed first): the ORM's
    execution path costs more than these one-row statements."""
    uow.flush()
    held = uow.held_heads.get(chain_id)
    if held is not None:
        return held
    connection, key = uow.session.connection(), {"head_chain": chain_id}
    row = connection.execute(_locked_head(), key).first()
    if row is None:
        _insert_head(uow, chain_id)
        row = connection.execute(_locked_head(), key).one()
    return Head(row.seq, row.hash, row.key_id, row.mac)


def lock_heads(uow: UnitOfWork, chain_ids: Iterable[str]) -> None:
    """Lock the heads of those of these chains that exist, in order of their ids, until
    the transaction ends; on SQLite the write transaction holds the database already.

    A write that appends to several chains, or a group of writes (``acts.do_votes``) that
    changes other rows before appending, takes its heads first and in one order, so two
    such transactions never each hold what the other waits for. The heads locked are
    kept in ``uow.held_heads`` and moved by each append, so the appends of the
    transaction need not read them again (nobody else can move a locked head)."""
    wanted = sorted(set(chain_ids))
    if not wanted or uow.session.get_bind().dialect.name != "postgresql":
        return
    connection = uow.session.connection()
    rows = driver_read(_locked_heads(), connection.dialect).rows(
        connection, {"head_chains": wanted}
    )
    for row in rows:
        uow.held_heads[row.chain_id] = Head(row.seq, row.hash, row.key_id, row.mac)


@cache
def _locked_heads() -> sa.Select:
    """The heads of the chains of one array, locked in order of their ids: on PostgreSQL
    alone, read through the driver (``db/driver_reads.py``; every vote group of the vote
    layer locks its heads here). Built once."""
    columns = chain_heads.c
    chains = sa.any_(sa.bindparam("head_chains", type_=postgresql.ARRAY(sa.String)))
    return (
        sa.select(columns.chain_id, columns.seq, columns.hash, columns.key_id, columns.mac)
        .where(columns.chain_id == chains)
        .order_by(columns.chain_id)
        .with_for_update()
    )


def set_head(uow: UnitOfWork, chain_id: str, seq: int, last_hash: str) -> None:
    """Move the chain's head to ``seq``/``last_hash``, with its MAC when the server has a key."""
    _store_head(uow, chain_id, keyed_head(uow.event_key, chain_id, seq, last_hash))


def _store_head(uow: UnitOfWork, chain_id: str, head: Head) -> None:
    values = {"seq": head.seq, "hash": head.hash, "key_id": head.key_id, "mac": head.mac}
    uow.session.connection().execute(_head_update(), {"head_chain": chain_id, **values})
    _moved(uow, chain_id, head)


def _moved(uow: UnitOfWork, chain_id: str, head: Head) -> None:
    """Keep a head this transaction holds (``lock_heads``) where the write moved it."""
    if chain_id in uow.held_heads:
        uow.held_heads[chain_id] = head


def _keyed(key: EventKey | None, digest: str) -> dict[str, str | None]:
    if key is None:
        return {"key_id": None, "mac": None}
    return {"key_id": key.key_id, "mac": key.event_mac(digest)}


def append(uow: UnitOfWork, chain_id: str, actor: Person | None, kind: str, payload: dict) -> Event:
    """Append one event to ``chain_id``; ``payload`` must be JSON-ready.

    The event is inserted directly (a Core insert), not through the session's flush: it
    is never changed after, and every write of the application appends one, so the
    session's bookkeeping for it was a large share of a small write such as a vote.
    """
    head = lock_head(uow, chain_id)  # flushes what the write changed first
    seq = head.seq + 1
    at = uow.clock.now()
    actor_id = actor.id if actor else None
    payload = json.loads(canonical_json(payload))
    digest = event_hash(chain_id, seq, at, actor_id, kind, payload, head.hash)
    event = Event(
        chain_id=chain_id,
        seq=seq,
        at=at,
        actor_id=actor_id,
        kind=kind,
        payload=payload,
        prev_hash=head.hash,
        hash=digest,
        **_keyed(uow.event_key, digest),
    )
    values = {name: getattr(event, name) for name in EVENT_COLUMNS}
    connection = uow.session.connection()
    if connection.dialect.name == "postgresql":
        head = keyed_head(uow.event_key, chain_id, seq, digest)
        moved = {f"head_{name}": getattr(head, name) for name in ("seq", "hash", "key_id", "mac")}
        appended = {f"event_{name}": value for name, value in values.items()}
        connection.execute(_append_and_notify(), {"head_chain": chain_id, **moved, **appended})
        _moved(uow, chain_id, head)
        return event
    connection.execute(_event_insert(), values)
    set_head(uow, chain_id, seq, digest)
    return event


@dataclass(frozen=True)
class NewEvent:
    """An event to append (``append_all``), with the time ``append`` would have read."""

    actor: Person | None
    kind: str
    payload: dict
    at: datetime


class Alongside(NamedTuple):
    """A write of other rows to run in the statement of an append (``append_all``): a
    data-modifying statement built once (its parameters named apart from the append's
    ``event_``/``head_`` ones) and its parameters."""

    statement: sa.Insert
    values: dict[str, Any]


def append_all(
    uow: UnitOfWork, chain_id: str, new: Sequence[NewEvent], alongside: Alongside | None = None
) -> list[Event]:
    """Append several events to ``chain_id``, in order, as ``append`` for each would (the
    same seqs, links and hashes; each at its own ``at``), in one statement on PostgreSQL —
    the events' insert, the head's move and the notification, as ``_append_and_notify``
    for one, and ``alongside``'s write as one more part of it (a round trip less for a
    write that changes rows and appends their events: ``acts.do_votes``) — and in an
    ``executemany`` and the head's update on SQLite (where nobody passes ``alongside``:
    it is a part of PostgreSQL's statement, so it needs events to append)."""
    if not new:
        assert alongside is None, "a write alongside an append needs events to append"
        return []
    head = lock_head(uow, chain_id)  # flushes what the write changed first
    events: list[Event] = []
    seq, last_hash = head.seq, head.hash
    for entry in new:
        seq += 1
        actor_id = entry.actor.id if entry.actor else None
        payload = json.loads(canonical_json(entry.payload))
        digest = event_hash(chain_id, seq, entry.at, actor_id, entry.kind, payload, last_hash)
        events.append(
            Event(
                chain_id=chain_id,
                seq=seq,
                at=entry.at,
                actor_id=actor_id,
                kind=entry.kind,
                payload=payload,
                prev_hash=last_hash,
                hash=digest,
                **_keyed(uow.event_key, digest),
            )
        )
        last_hash = digest
    connection = uow.session.connection()
    if connection.dialect.name != "postgresql":
        assert alongside is None, "a write alongside an append is PostgreSQL's"
        rows = [{name: getattr(event, name) for name in EVENT_COLUMNS} for event in events]
        connection.execute(_event_insert(), rows)
        set_head(uow, chain_id, seq, last_hash)
        return events
    moved_head = keyed_head(uow.event_key, chain_id, seq, last_hash)
    values: dict[str, Any] = {"head_chain": chain_id}
    values.update({f"head_{name}": getattr(moved_head, name) for name in HEAD_COLUMNS})
    for name in EVENT_COLUMNS:
        values[f"event_{name}s"] = [getattr(event, name) for event in events]
    statement = _append_all_and_notify()
    if alongside is not None:
        statement = _append_all_alongside(alongside.statement)
        values.update(alongside.values)
    # through the driver: SQLAlchemy's execution of these twenty arrays was about a quarter
    # of a vote group's CPU; the WITH parts write, the one row is the notification's
    driver_read(statement, connection.dialect).rows(connection, values)
    _moved(uow, chain_id, moved_head)
    return events


HEAD_COLUMNS = ("seq", "hash", "key_id", "mac")


EVENT_COLUMNS = tuple(Event.__dataclass_fields__)
assert EVENT_COLUMNS[0] == "chain_id"
_values_after_chain = attrgetter(*EVENT_COLUMNS[1:])
"""An event's values in ``EVENT_COLUMNS`` order but its chain id, in one C call (an import
writes millions)."""


@cache
def _event_insert() -> sa.Insert:
    return sa.insert(events_table)


@cache
def _append_and_notify() -> sa.Select:
    """On PostgreSQL: the event's insert, the head's move and the notification in one
    statement (data-modifying ``WITH`` parts run once each). The head stays locked from
    ``lock_head`` to the commit, so every write of an alliance waits for the one before it;
    under bench_live's load, with three round trips here (each waiting for the interpreter
    lock and for the database server's turn on the cores), votes queued for seconds for
    that lock."""
    columns, heads = events_table.c, chain_heads.c
    event = sa.insert(events_table).values(
        {name: sa.bindparam(f"event_{name}", type_=columns[name].type) for name in EVENT_COLUMNS}
    )
    head = (
        sa.update(chain_heads)
        .where(heads.chain_id == sa.bindparam("head_chain"))
        .values(
            {
                name: sa.bindparam(f"head_{name}", type_=heads[name].type)
                for name in ("seq", "hash", "key_id", "mac")
            }
        )
    )
    notify = sa.func.pg_notify(NOTIFY_CHANNEL, sa.bindparam("head_chain", type_=sa.String))
    return sa.select(notify).add_cte(event.cte("appended_event")).add_cte(head.cte("moved_head"))


@cache
def _append_all_and_notify() -> sa.Select:
    """``_append_and_notify`` for any number of events: the events come as one array per
    column, unnested into one insert (a multi-row ``VALUES`` cannot be cached by
    SQLAlchemy, and compiling it cost a group of 30 votes about 35 ms of CPU). Built once."""
    columns, heads = events_table.c, chain_heads.c
    arrays = [
        sa.bindparam(f"event_{name}s", type_=postgresql.ARRAY(columns[name].type))
        for name in EVENT_COLUMNS
    ]
    unnested = sa.func.unnest(*arrays).table_valued(*EVENT_COLUMNS).render_derived("new_events")
    event = sa.insert(events_table).from_select(
        EVENT_COLUMNS, sa.select(*(unnested.c[name] for name in EVENT_COLUMNS))
    )
    head = (
        sa.update(chain_heads)
        .where(heads.chain_id == sa.bindparam("head_chain"))
        .values(
            {name: sa.bindparam(f"head_{name}", type_=heads[name].type) for name in HEAD_COLUMNS}
        )
    )
    notify = sa.func.pg_notify(NOTIFY_CHANNEL, sa.bindparam("head_chain", type_=sa.String))
    return sa.select(notify).add_cte(event.cte("appended_events")).add_cte(head.cte("moved_head"))


@cache
def _append_all_alongside(statement: sa.Insert) -> sa.Select:
    """``_append_all_and_notify`` with ``statement`` as one more data-modifying part: built
    once per such statement (each is built once)."""
    return _append_all_and_notify().add_cte(statement.cte("alongside"))


def write_chain(uow: UnitOfWork, chain_id: str, events: Sequence[Any], head: Head) -> None:
    """Store a whole chain and its head, both checked already (an archive's).

    ``events`` are an archive's event records as ``check_records`` checked them
    (or ``Event``s): the attributes of ``EVENT_COLUMNS`` but the chain id, which
    is ``chain_id``; they are written in bulk (``db/bulk.py``), read as they come.
    With a key, every event and the head are keyed with it: the importing
    operator vouches for the chain as it was checked. Without one, they keep the
    MACs they came with, so an archive moves between servers without a key byte
    for byte.
    """
    uow.flush()
    write_events(uow, chain_id, events)
    lock_head(uow, chain_id)
    if uow.event_key is None:
        _store_head(uow, chain_id, head)
    else:
        set_head(uow, chain_id, head.seq, head.hash)


def write_events(uow: UnitOfWork, chain_id: str, events: Iterable[Any]) -> None:
    """Insert checked events of ``chain_id`` in bulk (see ``write_chain``), not its head."""
    rows = (event_row(uow.event_key, chain_id, event) for event in events)
    insert_rows(uow.session, events_table, EVENT_COLUMNS, rows)


def event_row(key: EventKey | None, chain_id: str, event: Any) -> tuple[Any, ...]:
    """An event's values in ``EVENT_COLUMNS`` order, keyed with ``key`` when there is one."""
    if key is None:
        return (chain_id, *_values_after_chain(event))
    keyed = _keyed(key, event.hash)
    return (
        chain_id,
        *(keyed[name] if name in keyed else getattr(event, name) for name in EVENT_COLUMNS[1:]),
    )


@dataclass(frozen=True)
class ChainReport:
    chain_id: str
    events: int
    first_broken_seq: int | None
    reason: str
    at_head: bool = False
    """The problem is the chain's head (its end), not an event."""
    unchecked_macs: int = 0
    """Events keyed with a key this server does not hold, whose MACs could not be checked."""

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None

    @property
    def where(self) -> str:
        return "head" if self.at_head else f"event {self.first_broken_seq}"


class _Broken(Exception):
    def __init__(self, seq: int, reason: str, *, at_head: bool = False) -> None:
        super().__init__(reason)
        self.seq = seq
        self.reason = reason
        self.at_head = at_head


@dataclass
class _KeyCheck:
    """The keyed-hash rules for one chain, event by event.

    ``strict`` (a server with a key verifying its own log): every event and the
    head must carry a valid MAC under that key. Otherwise (an archive being
    imported) MACs under the server's key, when it has one, are checked, and
    other MACs, or none, are accepted: an archive may come from a server
    without a key, or with another key.
    """

    key: EventKey | None
    strict: bool
    unchecked: int = 0

    def event(self, event: Event) -> None:
        if event.mac is None:
            if self.strict:
                raise _Broken(event.seq, "carries no MAC though this server keys its log")
            return
        if self.key is None or event.key_id != self.key.key_id:
            if self.strict:
                raise _Broken(event.seq, f"keyed with key {event.key_id}, not this server's key")
            self.unchecked += 1
        elif not EventKey.same(self.key.event_mac(event.hash), event.mac):
            raise _Broken(event.seq, "its MAC does not match: the chain was recomputed")

    def head(self, chain_id: str, head: Head) -> None:
        if self.key is None:
            return
        if head.key_id != self.key.key_id:
            if self.strict:
                raise _Broken(head.seq, "carries no MAC under this server's key", at_head=True)
            return
        expected = self.key.head_mac(chain_id, head.seq, head.hash)
        if not EventKey.same(expected, head.mac):
            raise _Broken(
                head.seq, "its MAC does not match: the chain's end was moved", at_head=True
            )


def check_events(
    chain_id: str,
    events: Iterable[Event],
    head: Head | None = None,
    *,
    key: EventKey | None = None,
    strict: bool = False,
) -> ChainReport:
    """Check events of one chain, in order of ``seq``; with ``head``, that they end there.

    ``key`` and ``strict``: see ``_KeyCheck``.
    """
    return _check(chain_id, events, head, _KeyCheck(key, strict), attrgetter("chain_id"))


def check_records(
    chain_id: str, records: Iterable[Any], head: Head | None, *, key: EventKey | None = None
) -> ChainReport:
    """``check_events`` for the events of ``chain_id`` as an archive holds them: records with
    the attributes of an ``Event`` but its chain id (the archive's alliance is the chain),
    hashed as they are, without a copy of each. Without ``head`` the end is left to
    ``check_records_end``."""
    return _check(chain_id, records, head, _KeyCheck(key, strict=False), lambda _: chain_id)


def check_records_end(
    chain_id: str, events: int, last_hash: str, head: Head, *, key: EventKey | None = None
) -> ChainReport:
    """The end of an archive's chain that ``check_records`` checked without its head:
    ``events`` events, the last hashed ``last_hash`` (``GENESIS`` for none), must end where
    ``head`` says, as ``check_records`` with the head would have found."""
    keys = _KeyCheck(key, strict=False)
    try:
        _check_end(events, last_hash, head)
        keys.head(chain_id, head)
    except _Broken as broken:
        return ChainReport(chain_id, events, broken.seq, broken.reason, broken.at_head)
    return ChainReport(chain_id, events, None, "intact")


def _check(
    chain_id: str,
    events: Iterable[Any],
    head: Head | None,
    keys: _KeyCheck,
    chain_of: Callable[[Any], str],
) -> ChainReport:
    prev = GENESIS
    count = 0
    try:
        for event in events:
            count += 1
            _check_link(event, chain_of(event), count, prev)
            keys.event(event)
            prev = event.hash
        if head is not None:
            _check_end(count, prev, head)
            keys.head(chain_id, head)
    except _Broken as broken:
        return ChainReport(
            chain_id, count, broken.seq, broken.reason, broken.at_head, keys.unchecked
        )
    return ChainReport(chain_id, count, None, "intact", unchecked_macs=keys.unchecked)


def _check_link(event: Event, chain_id: str, expected_seq: int, prev: str) -> None:
    if event.seq != expected_seq:
        raise _Broken(event.seq, f"expected event {expected_seq} here")
    if event.prev_hash != prev:
        raise _Broken(event.seq, "does not follow the previous event")
    recomputed = event_hash(
        chain_id,
        event.seq,
        event.at,
        event.actor_id,
        event.kind,
        event.payload,
        event.prev_hash,
    )
    if recomputed != event.hash:
        raise _Broken(event.seq, "content does not match its hash")


def _check_end(count: int, last_hash: str, head: Head) -> None:
    if head.seq != count or head.hash != last_hash:
        raise _Broken(
            count + 1,
            f"the chain ends at event {count} but its head records event {head.seq}: "
            "events are missing from its end",
            at_head=True,
        )


def chain_ids(uow: UnitOfWork) -> list[str]:
    """Every chain that has events or a head (a head without events lost them all), and
    every alliance's chain (an alliance whose chain is gone lost its history)."""
    with_events = set(uow.session.scalars(sa.select(Event.chain_id).distinct()))
    with_heads = set(uow.session.scalars(sa.select(chain_heads.c.chain_id)))
    of_alliances = set(uow.session.scalars(sa.select(alliances.c.id)))
    site = {SITE_CHAIN} if of_alliances or _anyone(uow) else set()
    return sorted(with_events | with_heads | of_alliances | site)


def _anyone(uow: UnitOfWork) -> bool:
    """Whether the site chain must exist: creating a person appends to it."""
    return uow.session.execute(sa.select(people.c.id).limit(1)).first() is not None


def chain_events(uow: UnitOfWork, chain_id: str) -> list[Event]:
    return uow.find(Event, order_by=Event.seq, chain_id=chain_id)


def head_of(uow: UnitOfWork, chain_id: str) -> Head | None:
    row = uow.session.execute(_select_head(chain_id)).first()
    return Head(row.seq, row.hash, row.key_id, row.mac) if row else None


def verify_chain(uow: UnitOfWork, chain_id: str) -> ChainReport:
    """Check a stored chain: its links, its end, and (with a key) every MAC."""
    events = chain_events(uow, chain_id)
    head = head_of(uow, chain_id)
    if head is None:
        if not events:
            return ChainReport(chain_id, 0, 1, "the chain is missing: no events and no head")
        return ChainReport(chain_id, len(events), 1, "the chain has no head row", at_head=True)
    key = uow.event_key
    return check_events(chain_id, events, head, key=key, strict=key is not None)


def verify_all(uow: UnitOfWork) -> list[ChainReport]:
    return [verify_chain(uow, chain_id) for chain_id in chain_ids(uow)]
