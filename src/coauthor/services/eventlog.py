"""The append-only, hash-chained event log.

Each alliance has its own chain (``chain_id`` = alliance id); writes that
belong to no alliance (accounts, organizations) go to the ``site`` chain. An
event's hash covers its chain, position, time, actor, kind, payload and the
previous event's hash, so editing or removing any stored event breaks every
hash after it, and ``verify_chain`` names the first event that no longer fits.

Each chain has a head row (``chain_heads``: its last seq and hash). Appending
locks that row first (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the
write transaction already holds the database's write lock), so concurrent
writers to one chain take turns instead of colliding on the next seq. The
head also lets ``verify`` notice events removed from the end of a chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from coauthor.db.tables import chain_heads
from coauthor.db.uow import UnitOfWork
from coauthor.domain.model import Event, Person

SITE_CHAIN = "site"
GENESIS = "0" * 64
NOTIFY_CHANNEL = "coauthor_changes"
"""On PostgreSQL every append notifies this channel with its chain id, at commit (the results
worker listens)."""


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(
    chain_id: str,
    seq: int,
    at: datetime,
    actor_id: str | None,
    kind: str,
    payload: dict,
    prev_hash: str,
) -> str:
    body = canonical_json(
        {
            "chain": chain_id,
            "seq": seq,
            "at": at.isoformat(),
            "actor": actor_id,
            "kind": kind,
            "payload": payload,
            "prev": prev_hash,
        }
    )
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class Head:
    """The last event of a chain: its seq (0 for an empty chain) and hash."""

    seq: int
    hash: str


EMPTY_HEAD = Head(0, GENESIS)


def _insert_head(uow: UnitOfWork, chain_id: str) -> None:
    """Create an empty chain's head row, unless a concurrent writer just did."""
    dialect = postgresql if uow.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(chain_heads).values(chain_id=chain_id, seq=0, hash=GENESIS)
    uow.session.execute(statement.on_conflict_do_nothing(index_elements=["chain_id"]))


def lock_head(uow: UnitOfWork, chain_id: str) -> Head:
    """The chain's head, locked until the transaction ends (created if the chain is new)."""
    select_head = (
        sa.select(chain_heads.c.seq, chain_heads.c.hash)
        .where(chain_heads.c.chain_id == chain_id)
        .with_for_update()
    )
    row = uow.session.execute(select_head).first()
    if row is None:
        _insert_head(uow, chain_id)
        row = uow.session.execute(select_head).one()
    return Head(row.seq, row.hash)


def set_head(uow: UnitOfWork, chain_id: str, head: Head) -> None:
    uow.session.execute(
        sa.update(chain_heads)
        .where(chain_heads.c.chain_id == chain_id)
        .values(seq=head.seq, hash=head.hash)
    )


def append(uow: UnitOfWork, chain_id: str, actor: Person | None, kind: str, payload: dict) -> Event:
    """Append one event to ``chain_id``; ``payload`` must be JSON-ready."""
    uow.flush()
    head = lock_head(uow, chain_id)
    seq = head.seq + 1
    at = uow.clock.now()
    actor_id = actor.id if actor else None
    payload = json.loads(canonical_json(payload))
    event = Event(
        chain_id=chain_id,
        seq=seq,
        at=at,
        actor_id=actor_id,
        kind=kind,
        payload=payload,
        prev_hash=head.hash,
        hash=event_hash(chain_id, seq, at, actor_id, kind, payload, head.hash),
    )
    uow.add(event)
    uow.flush()
    set_head(uow, chain_id, Head(seq, event.hash))
    if uow.session.get_bind().dialect.name == "postgresql":
        uow.session.execute(
            sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, chain_id)).execution_options(
                autoflush=False
            )
        )
    return event


def write_chain(uow: UnitOfWork, chain_id: str, events: list[Event]) -> None:
    """Store a whole chain that was checked already (an archive's), and its head."""
    if events:
        rows = [{name: getattr(e, name) for name in Event.__dataclass_fields__} for e in events]
        uow.session.execute(sa.insert(Event), rows)
    lock_head(uow, chain_id)
    last = events[-1] if events else None
    set_head(uow, chain_id, Head(last.seq, last.hash) if last else EMPTY_HEAD)


@dataclass(frozen=True)
class ChainReport:
    chain_id: str
    events: int
    first_broken_seq: int | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None


def check_events(chain_id: str, events: Iterable[Event], head: Head | None = None) -> ChainReport:
    """Check events of one chain, in order of ``seq``; with ``head``, that they end there."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for event in events:
        count += 1
        if event.seq != expected_seq:
            return ChainReport(chain_id, count, event.seq, f"expected event {expected_seq} here")
        if event.prev_hash != prev:
            return ChainReport(chain_id, count, event.seq, "does not follow the previous event")
        recomputed = event_hash(
            event.chain_id,
            event.seq,
            event.at,
            event.actor_id,
            event.kind,
            event.payload,
            event.prev_hash,
        )
        if recomputed != event.hash:
            return ChainReport(chain_id, count, event.seq, "content does not match its hash")
        prev = event.hash
        expected_seq += 1
    if head is not None:
        return _check_end(chain_id, count, prev, head)
    return ChainReport(chain_id, count, None, "intact")


def _check_end(chain_id: str, count: int, last_hash: str, head: Head) -> ChainReport:
    if head.seq != count or head.hash != last_hash:
        return ChainReport(
            chain_id,
            count,
            count + 1,
            f"the chain ends at event {count} but its head records event {head.seq}: "
            "events are missing from its end",
        )
    return ChainReport(chain_id, count, None, "intact")


def chain_ids(uow: UnitOfWork) -> list[str]:
    """Every chain that has events or a head (a head without events lost them all)."""
    with_events = set(uow.session.scalars(sa.select(Event.chain_id).distinct()))
    with_heads = set(uow.session.scalars(sa.select(chain_heads.c.chain_id)))
    return sorted(with_events | with_heads)


def chain_events(uow: UnitOfWork, chain_id: str) -> list[Event]:
    return uow.find(Event, order_by=Event.seq, chain_id=chain_id)


def head_of(uow: UnitOfWork, chain_id: str) -> Head | None:
    row = uow.session.execute(
        sa.select(chain_heads.c.seq, chain_heads.c.hash).where(chain_heads.c.chain_id == chain_id)
    ).first()
    return Head(row.seq, row.hash) if row else None


def verify_chain(uow: UnitOfWork, chain_id: str) -> ChainReport:
    events = chain_events(uow, chain_id)
    head = head_of(uow, chain_id)
    if head is None:
        return ChainReport(chain_id, len(events), 1, "the chain has no head row")
    return check_events(chain_id, events, head)


def verify_all(uow: UnitOfWork) -> list[ChainReport]:
    return [verify_chain(uow, chain_id) for chain_id in chain_ids(uow)]
