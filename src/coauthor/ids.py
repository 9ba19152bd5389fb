"""Opaque public ids: a short kind prefix and 96 random bits, never sequential."""

from __future__ import annotations

import re
import secrets

ID_PATTERN = re.compile(r"^[a-z]{2,4}_[A-Za-z0-9_-]{16}$")


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(12)}"


def looks_like_id(value: str) -> bool:
    return bool(ID_PATTERN.match(value))
