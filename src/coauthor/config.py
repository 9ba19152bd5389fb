"""Settings, read from the environment (prefix ``COAUTHOR_``) or passed in by tests.

Every field here is documented in docs/settings.md; tests/unit/test_docs.py keeps
the two in step. Every field is a plain scalar, so reading the environment is a
short loop here rather than pydantic-settings, whose import (it loads asyncio and
pydantic's dataclasses) took longer than the rest of a quick CLI command.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

DEFAULT_DATA_DIR = Path("var")
DEFAULT_DATABASE_FILE = DEFAULT_DATA_DIR / "coauthor.sqlite3"
SMTP_SCHEMES = ("smtp", "smtp+starttls", "smtps")


def _comma_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


ENV_PREFIX = "COAUTHOR_"


class Settings(BaseModel):
    """What a deployment can change without touching code.

    ``Settings()`` reads ``COAUTHOR_<FIELD>`` variables (any case); values passed
    in take precedence over the environment.
    """

    model_config = ConfigDict(extra="ignore")

    def __init__(self, **values: Any) -> None:
        super().__init__(**(environment_values(type(self).model_fields) | values))

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_DATABASE_FILE}",
        description="SQLAlchemy URL of the database.",
    )
    secret_key: str = Field(
        default="",
        description="Key that signs session cookies and links. Empty: a random key is "
        "created once and kept in the file named by secret_key_file.",
    )
    secret_key_file: Path = Field(
        default=DEFAULT_DATA_DIR / "secret_key",
        description="Where the generated secret key is kept when secret_key is empty.",
    )
    session_max_age_seconds: int = Field(
        default=8 * 3600, ge=60, description="How long a sign-in session lasts at most."
    )
    session_idle_seconds: int = Field(
        default=30 * 60, ge=60, description="A session unused this long ends."
    )
    secure_cookies: bool = Field(
        default=False, description="Send cookies only over HTTPS (set true behind TLS)."
    )
    login_max_attempts: int = Field(
        default=5, ge=1, description="Failed sign-ins allowed per account (any address) per window."
    )
    login_max_attempts_per_address: int = Field(
        default=20, ge=1, description="Failed sign-ins allowed per client address per window."
    )
    login_window_seconds: int = Field(
        default=300, ge=1, description="Length of the login rate-limiting window."
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto headers are believed. Empty: none.",
    )
    public_url: str = Field(
        default="",
        description="The site's address as people reach it, for links in emails. "
        "Empty: http://HOST:PORT.",
    )
    smtp_url: str = Field(
        default="",
        description="Where to send email: smtp://, smtp+starttls:// or smtps://[user:pass@]host"
        "[:port]. Empty: no email is sent.",
    )
    mail_from: str = Field(
        default="Coauthor <coauthor@localhost>", description="The From address of emails."
    )
    invitation_days: int = Field(
        default=14, ge=1, le=90, description="How long an invitation link stays valid."
    )
    password_reset_minutes: int = Field(
        default=60, ge=5, le=24 * 60, description="How long a password-reset link stays valid."
    )
    event_log_key: str = Field(
        default="",
        description="Secret for the event log's keyed hash (HMAC-SHA256), at least 32 "
        "characters. Empty: the log is hash-chained without a key.",
    )
    anonymity_threshold: int = Field(
        default=5, ge=3, le=10, description="Smallest group whose answers are ever reported."
    )
    results_worker: Literal["embedded", "external", "inline"] = Field(
        default="embedded",
        description="Who publishes deliberation results: a background thread of each server "
        "process (embedded), a separate `coauthor worker` (external), or the request that "
        "finds a release due (inline).",
    )
    results_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How often the results worker looks for new votes on SQLite (PostgreSQL "
        "wakes it at once).",
    )
    pulse_comment_threshold: int = Field(
        default=10,
        ge=3,
        le=100,
        description="Fewest answers a pulse wave needs before its open comments are shown; "
        "at least the anonymity threshold.",
    )
    static_vendor_dir: Path = Field(
        default=Path("node_modules"),
        description="Where npm installed the front-end packages (htmx).",
    )
    host: str = Field(default="127.0.0.1", description="Address `coauthor serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `coauthor serve` uses.")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        for part in _comma_list(value):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or network") from None
        return value

    @field_validator("smtp_url")
    @classmethod
    def _known_mail_scheme(cls, url: str) -> str:
        if url and urlsplit(url).scheme not in SMTP_SCHEMES:
            raise ValueError("smtp_url must start with smtp://, smtp+starttls:// or smtps://")
        return url

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
            raise ValueError("public_url must be an http:// or https:// address")
        return url.rstrip("/")

    def proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        parts = _comma_list(self.trusted_proxies)
        return [ipaddress.ip_network(part, strict=False) for part in parts]

    def site_url(self) -> str:
        """Where links in emails point: never taken from a request's Host header."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if not url.startswith(("sqlite", "postgresql")):
            raise ValueError("database_url must be an sqlite:// or postgresql+psycopg:// URL")
        return url

    @field_validator("event_log_key")
    @classmethod
    def _long_enough(cls, key: str) -> str:
        from coauthor.eventkey import MIN_KEY_LENGTH

        if key and len(key) < MIN_KEY_LENGTH:
            raise ValueError(f"needs at least {MIN_KEY_LENGTH} characters (or none)")
        return key

    @field_validator("pulse_comment_threshold")
    @classmethod
    def _comments_need_more_people(cls, value: int, info: ValidationInfo) -> int:
        anonymity = info.data.get("anonymity_threshold")
        if anonymity is not None and value < anonymity:
            raise ValueError(f"must be at least the anonymity threshold ({anonymity})")
        return value

    def resolved_secret_key(self) -> str:
        """The configured key, else one generated once and stored next to the data."""
        if self.secret_key:
            return self.secret_key
        path = self.secret_key_file
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


def environment_values(fields: dict[str, Any]) -> dict[str, str]:
    """The ``COAUTHOR_*`` variables that name a field, keyed by field name (case ignored)."""
    found = {}
    for key, value in os.environ.items():
        name = key.lower().removeprefix(ENV_PREFIX.lower())
        if key.upper().startswith(ENV_PREFIX) and name in fields:
            found[name] = value
    return found
