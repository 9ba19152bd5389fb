"""Pulse links: signed tokens naming one invitation, good until the wave closes.

A token is the invitation's alliance, wave and id, signed with the site's
secret key (itsdangerous, salt ``pulse-link``). It carries no time of its
own: the same invitation always gives the same link, so a manager can show
it again, and it expires when its wave closes (the service checks the wave).
A token that does not verify names nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from coauthor.domain.pulse import WaveInvitation

SALT = "pulse-link"


@dataclass(frozen=True)
class LinkKey:
    alliance_id: str
    wave_id: str
    invitation_id: str


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def token_for(secret_key: str, invitation: WaveInvitation) -> str:
    return _serializer(secret_key).dumps(
        [invitation.alliance_id, invitation.wave_id, invitation.id]
    )


def read_token(secret_key: str, token: str) -> LinkKey | None:
    """The invitation a token names, or None when it was not signed with this key."""
    try:
        value = _serializer(secret_key).loads(token)
    except BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) for v in value)):
        return None
    return LinkKey(*value)
