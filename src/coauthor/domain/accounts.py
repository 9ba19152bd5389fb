"""Accounts beyond the person: sign-in sessions, invitations and password resets.

A secret that a browser or an email carries (a session's cookie, an
invitation's or a reset's link) is never stored: only its SHA-256 digest is,
so a copy of the database lets no one in.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from coauthor.domain.model import Role


class SessionEnd(enum.StrEnum):
    """Why a session ended before it expired."""

    SIGNED_OUT = "signed_out"
    SIGNED_OUT_ELSEWHERE = "signed_out_elsewhere"
    PASSWORD_CHANGED = "password_changed"
    DEACTIVATED = "deactivated"


@dataclass(eq=False)
class SignInSession:
    """One sign-in of one person in one browser; the cookie holds the secret, we its digest."""

    id: str
    person_id: str
    secret_hash: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str = ""
    address: str = ""
    ended_at: datetime | None = None
    ended_because: SessionEnd | None = None

    def is_live(self, now: datetime, idle: timedelta) -> bool:
        """Not ended, not past its lifetime, and used within the idle limit."""
        return self.ended_at is None and now < self.expires_at and now - self.last_seen_at < idle

    def end(self, now: datetime, because: SessionEnd) -> None:
        if self.ended_at is None:
            self.ended_at, self.ended_because = now, because


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"


@dataclass(eq=False)
class Invitation:
    """An offer to join an alliance as a member, sent to an email address.

    Nobody becomes a member without saying yes: the member is created when the
    person who holds the link accepts. Single use: once answered (or
    cancelled, or past ``expires_at``) the link no longer works.
    """

    alliance_id: str
    id: str
    email: str
    partner_id: str
    role: Role
    invited_by_person_id: str | None
    nonce_hash: str
    created_at: datetime
    expires_at: datetime
    status: InvitationStatus = InvitationStatus.PENDING
    name: str = ""
    """The name the manager suggested; the invitee chooses their own."""
    title: str = ""
    answered_at: datetime | None = None
    person_id: str | None = None
    """Who accepted it."""

    def is_open(self, now: datetime) -> bool:
        return self.status == InvitationStatus.PENDING and now < self.expires_at


@dataclass(eq=False)
class PasswordReset:
    """A single-use, short-lived link that lets its holder choose a new password."""

    id: str
    person_id: str
    nonce_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def is_open(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at
