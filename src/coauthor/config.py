"""Settings, read from the environment (prefix ``COAUTHOR_``) or passed in by tests.

Every field here is documented in docs/settings.md; tests/unit/test_docs.py keeps
the two in step.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")
DEFAULT_DATABASE_FILE = DEFAULT_DATA_DIR / "coauthor.sqlite3"


class Settings(BaseSettings):
    """What a deployment can change without touching code."""

    model_config = SettingsConfigDict(env_prefix="COAUTHOR_", extra="ignore")

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
        default=8 * 3600, ge=60, description="How long a login session lasts."
    )
    secure_cookies: bool = Field(
        default=False, description="Send cookies only over HTTPS (set true behind TLS)."
    )
    login_max_attempts: int = Field(
        default=5, ge=1, description="Failed logins allowed per email and address per window."
    )
    login_window_seconds: int = Field(
        default=300, ge=1, description="Length of the login rate-limiting window."
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
    static_vendor_dir: Path = Field(
        default=Path("node_modules"),
        description="Where npm installed the front-end packages (htmx).",
    )
    host: str = Field(default="127.0.0.1", description="Address `coauthor serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `coauthor serve` uses.")

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if not url.startswith(("sqlite", "postgresql")):
            raise ValueError("database_url must be an sqlite:// or postgresql+psycopg:// URL")
        return url

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
