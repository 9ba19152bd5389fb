"""The append-only, hash-chained event log.

Each alliance has its own chain (``chain_id`` = alliance id); writes that
belong to no alliance (accounts, organizations) go to the ``site`` chain. An
event's hash covers its chain, position, time, actor, kind, payload and the
previous event's hash, so editing or removing any stored event breaks every
hash after it, and ``verify_chain`` names the first event that no longer fits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from coauthor.db.uow import UnitOfWork
from coauthor.domain.model import Event, Person

SITE_CHAIN = "site"
GENESIS = "0" * 64


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


def _last_event(uow: UnitOfWork, chain_id: str) -> Event | None:
    statement = (
        sa.select(Event).where(Event.chain_id == chain_id).order_by(Event.seq.desc()).limit(1)
    )
    return uow.session.scalars(statement).first()


def append(uow: UnitOfWork, chain_id: str, actor: Person | None, kind: str, payload: dict) -> Event:
    """Append one event to ``chain_id``; ``payload`` must be JSON-ready."""
    uow.flush()
    last = _last_event(uow, chain_id)
    seq = last.seq + 1 if last else 1
    prev = last.hash if last else GENESIS
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
        prev_hash=prev,
        hash=event_hash(chain_id, seq, at, actor_id, kind, payload, prev),
    )
    uow.add(event)
    uow.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    chain_id: str
    events: int
    first_broken_seq: int | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None


def check_events(chain_id: str, events: Iterable[Event]) -> ChainReport:
    """Check events of one chain, in order of ``seq``."""
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
    return ChainReport(chain_id, count, None, "intact")


def chain_ids(uow: UnitOfWork) -> list[str]:
    return list(uow.session.scalars(sa.select(Event.chain_id).distinct().order_by(Event.chain_id)))


def chain_events(uow: UnitOfWork, chain_id: str) -> list[Event]:
    return uow.find(Event, order_by=Event.seq, chain_id=chain_id)


def verify_chain(uow: UnitOfWork, chain_id: str) -> ChainReport:
    return check_events(chain_id, chain_events(uow, chain_id))


def verify_all(uow: UnitOfWork) -> list[ChainReport]:
    return [verify_chain(uow, chain_id) for chain_id in chain_ids(uow)]
