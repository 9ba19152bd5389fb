"""Auditing the event log: chain heads to keep elsewhere (anchors), checks against them,
and keying a log that was written before the server had a key.

A chain can only be checked against itself: someone who rewrites a chain from
some event on and recomputes every later hash (and, without a key, that is
anyone who can write to the database) leaves a chain that holds. An *anchor* —
the heads printed by ``coauthor verify --print-heads`` and kept where the
database's users cannot write — pins each chain as it was then:
``check_anchor`` fails a chain that no longer reaches its anchored seq, or
whose event at that seq has another hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import Field

from coauthor.db.tables import events
from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import Conflict, ValidationFailed
from coauthor.domain.model import Person
from coauthor.services import eventlog, inputs
from coauthor.services.inputs import AwareDateTime, Input

HEADS_FORMAT = "coauthor-heads/1"
MAX_SEQ = 2**31 - 1
ChainId = Annotated[str, Field(pattern=r"^(site|[a-z]{2,4}_[A-Za-z0-9_-]{16})$")]
Hash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class AnchoredHead(Input):
    chain: ChainId
    seq: int = Field(ge=0, le=MAX_SEQ)
    hash: Hash


class Anchor(Input):
    """The heads of the chains at one moment (``coauthor verify --print-heads``)."""

    format: Literal["coauthor-heads/1"]
    at: AwareDateTime
    heads: list[AnchoredHead]


def heads_document(uow: UnitOfWork, chain_ids: list[str]) -> dict[str, Any]:
    """The current heads of ``chain_ids``, as the anchor document to keep elsewhere."""
    heads = []
    for chain_id in chain_ids:
        head = eventlog.head_of(uow, chain_id)
        if head is not None:
            heads.append({"chain": chain_id, "seq": head.seq, "hash": head.hash})
    at = uow.clock.now().isoformat().replace("+00:00", "Z")
    return {"format": HEADS_FORMAT, "at": at, "heads": heads}


def parse_anchor(data: Any) -> Anchor:
    return inputs.parse(Anchor, data)


@dataclass(frozen=True)
class AnchorCheck:
    chain_id: str
    seq: int
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _stored_hash_at(uow: UnitOfWork, chain_id: str, seq: int) -> str | None:
    return uow.session.scalar(
        sa.select(events.c.hash).where(events.c.chain_id == chain_id, events.c.seq == seq)
    )


def _last_seq(uow: UnitOfWork, chain_id: str) -> int | None:
    """The last stored seq; None when the chain has neither events nor a head."""
    last = uow.session.scalar(
        sa.select(sa.func.max(events.c.seq)).where(events.c.chain_id == chain_id)
    )
    if last is not None:
        return int(last)
    return 0 if eventlog.head_of(uow, chain_id) is not None else None


def _check_one(uow: UnitOfWork, anchored: AnchoredHead, when: str) -> str | None:
    last = _last_seq(uow, anchored.chain)
    if last is None:
        return f"the chain no longer exists; the anchor of {when} records event {anchored.seq}"
    if anchored.seq == 0:
        return None
    stored = _stored_hash_at(uow, anchored.chain, anchored.seq)
    if stored is None:
        return (
            f"the chain ends at event {last}, before event {anchored.seq} that the anchor of "
            f"{when} records: events were removed"
        )
    if stored != anchored.hash:
        return (
            f"event {anchored.seq} has another hash than the anchor of {when} records: "
            "the history was rewritten"
        )
    return None


def check_anchor(
    uow: UnitOfWork, anchor: Anchor | None, chain_ids: list[str] | None = None
) -> list[AnchorCheck]:
    """Each anchored chain (of ``chain_ids``, when given) against the stored one.

    Without ``chain_ids`` every chain the anchor records is checked, including
    those the database no longer knows of at all.
    """
    if anchor is None:
        return []
    when = anchor.at.isoformat().replace("+00:00", "Z")
    return [
        AnchorCheck(anchored.chain, anchored.seq, _check_one(uow, anchored, when))
        for anchored in anchor.heads
        if chain_ids is None or anchored.chain in chain_ids
    ]


def do_seal(uow: UnitOfWork, actor: Person | None, *, bootstrap: bool = False) -> dict[str, int]:
    """Key every event and head that does not carry this server's MAC yet; per chain, how many.

    For an existing log when a key is first set (or changed). Every chain's
    links and end are checked first and nothing is keyed unless all hold; the
    MACs then vouch for the log as it stands now, not for its past. The
    operator's only (the CLI).
    """
    if not bootstrap:
        raise Conflict("only the operator keys the event log (coauthor verify --seal)")
    key = uow.event_key
    if key is None:
        raise ValidationFailed.one(
            ("COAUTHOR_EVENT_LOG_KEY",), "is not set: there is no key to seal with"
        )
    chain_ids = eventlog.chain_ids(uow)
    broken = []
    for chain_id in chain_ids:
        head = eventlog.head_of(uow, chain_id)
        report = eventlog.check_events(
            chain_id, eventlog.chain_events(uow, chain_id), head, key=key
        )
        if head is None or not report.ok:
            broken.append(f"{chain_id} ({report.where}: {report.reason})" if head else chain_id)
    if broken:
        raise Conflict("nothing was sealed: these chains do not hold: " + ", ".join(broken))
    sealed = {chain_id: _seal_chain(uow, chain_id) for chain_id in chain_ids}
    counts = {chain_id: count for chain_id, count in sealed.items() if count}
    eventlog.append(
        uow, eventlog.SITE_CHAIN, actor, "eventlog.sealed", {"key_id": key.key_id, "events": counts}
    )
    return counts


def _seal_chain(uow: UnitOfWork, chain_id: str) -> int:
    key = uow.event_key
    assert key is not None
    stale = [
        event
        for event in eventlog.chain_events(uow, chain_id)
        if event.key_id != key.key_id or event.mac is None
    ]
    for event in stale:
        event.key_id = key.key_id
        event.mac = key.event_mac(event.hash)
    uow.flush()
    head = eventlog.lock_head(uow, chain_id)
    eventlog.set_head(uow, chain_id, head.seq, head.hash)
    return len(stale)
