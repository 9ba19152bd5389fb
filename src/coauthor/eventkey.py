"""The event log's keyed hash: HMAC-SHA256 with a secret kept outside the database.

A plain hash chain proves that stored events were not edited *unless* whoever
edited them also recomputed every later hash, which anyone with write access
to the database can do. A MAC under a server secret cannot be recomputed
without that secret, so a chain rewritten by someone who holds only the
database no longer verifies.

Each event's MAC covers its hash (which already covers its chain, position,
time, actor, kind, payload and the previous hash); each chain head's MAC
covers the chain id, last seq and last hash, so cutting events off the end and
moving the head back is caught too. Both carry the key's id (a digest of the
key, never the key), so events keyed on another server, or before the key
changed, are told apart from forged ones.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

MIN_KEY_LENGTH = 32
KEY_ID_LENGTH = 16


def key_id_of(secret: str) -> str:
    """A public name for ``secret``: 16 hex digits of a domain-separated SHA-256."""
    digest = hashlib.sha256(b"coauthor event-log key id\x00" + secret.encode())
    return digest.hexdigest()[:KEY_ID_LENGTH]


@dataclass(frozen=True)
class EventKey:
    """The server's event-log secret and its id."""

    secret: str = field(repr=False)
    key_id: str = field(init=False)

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_KEY_LENGTH:
            raise ValueError(f"the event-log key needs at least {MIN_KEY_LENGTH} characters")
        object.__setattr__(self, "key_id", key_id_of(self.secret))

    def _mac(self, *parts: str) -> str:
        message = "\x00".join(parts).encode()
        return hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()

    def event_mac(self, event_hash: str) -> str:
        return self._mac("event", event_hash)

    def head_mac(self, chain_id: str, seq: int, head_hash: str) -> str:
        return self._mac("head", chain_id, str(seq), head_hash)

    @staticmethod
    def same(expected: str, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(expected, given)


def event_key_from(secret: str) -> EventKey | None:
    """The key for a configured secret; None when no key is set (plain hash chains)."""
    return EventKey(secret) if secret else None
