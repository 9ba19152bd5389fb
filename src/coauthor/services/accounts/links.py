"""Secrets that links and cookies carry: made here, signed, and only their digests stored.

A link (an invitation, a password reset) carries the record's id and a random
nonce, signed with the site's secret key so a tampered link is refused before
any lookup; the database keeps only the nonce's SHA-256 digest, so neither a
copy of the database nor the key alone is enough to forge one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from coauthor.services.mail import Outbox


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)


@dataclass(frozen=True)
class Site:
    """What the services that send links need to know about the deployment."""

    secret_key: str
    url: str
    """The public address links point to; from settings, never from a request's Host."""
    outbox: Outbox
    invitation_lifetime: timedelta = timedelta(days=14)
    reset_lifetime: timedelta = timedelta(hours=1)

    def sign(self, purpose: str, *parts: str) -> str:
        return URLSafeSerializer(self.secret_key, salt=purpose).dumps(list(parts))

    def unsign(self, purpose: str, token: str, count: int) -> list[str] | None:
        """The parts signed into ``token`` for ``purpose``, or None when it is not one of ours."""
        try:
            parts = URLSafeSerializer(self.secret_key, salt=purpose).loads(token)
        except BadSignature:
            return None
        if not isinstance(parts, list) or len(parts) != count:
            return None
        if not all(isinstance(part, str) for part in parts):
            return None
        return parts

    def link(self, path: str) -> str:
        return self.url + path
