"""Integration fixtures: a throwaway PostgreSQL server on loopback, and database URLs.

``postgres_url`` starts one server per test session (per xdist worker) with
``initdb``/``pg_ctl``, in a temporary directory that is removed afterwards.
``database_url`` runs a test once against a fresh SQLite file and once against a
fresh PostgreSQL database.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.runtime import Runtime, build_runtime
from tests.conftest import require_or_skip

PG_SUPERUSER = "coauthor"
PG_TEST_DATABASE = "coauthor_test"
UNPRIVILEGED_USER = "coauthor-test"
START_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class PostgresBinaries:
    initdb: str
    pg_ctl: str


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def admin_connection(self) -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit connection to the ``postgres`` maintenance database."""
        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        )

    def create_database(self, name: str) -> None:
        with self.admin_connection() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop_database(self, name: str) -> None:
        with self.admin_connection() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def find_postgres_binaries() -> PostgresBinaries | None:
    """initdb and pg_ctl from PATH, else from the newest /usr/lib/postgresql/*/bin."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return PostgresBinaries(initdb, pg_ctl)
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True):
        initdb, pg_ctl = f"{bindir}/initdb", f"{bindir}/pg_ctl"
        if os.access(initdb, os.X_OK) and os.access(pg_ctl, os.X_OK):
            return PostgresBinaries(initdb, pg_ctl)
    return None


def _version_key(bindir: str) -> tuple[int, ...]:
    version = Path(bindir).parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_os_user() -> str | None:
    """The unprivileged account to run PostgreSQL as when we are root (None otherwise)."""
    if os.geteuid() != 0:
        return None
    for candidate in ("postgres", UNPRIVILEGED_USER):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(candidate).pw_name
    create_system_user(UNPRIVILEGED_USER)
    return UNPRIVILEGED_USER


def create_system_user(name: str) -> None:
    result = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        pwd.getpwnam(name)
    except KeyError:
        pytest.fail(f"could not create user {name!r} to run PostgreSQL: {result.stderr}")


class PostgresProcess:
    """A PostgreSQL cluster in a temporary directory, driven through pg_ctl."""

    def __init__(self, binaries: PostgresBinaries, os_user: str | None) -> None:
        self.binaries = binaries
        self.os_user = os_user
        self.root = Path(tempfile.mkdtemp(prefix="coauthor-pg-"))
        self.data_dir = self.root / "data"
        self.log_file = self.root / "server.log"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self.os_user is not None:
            command = ["runuser", "-u", self.os_user, "--", *command]
        return subprocess.run(command, cwd=self.root, capture_output=True, text=True, check=False)

    def initdb(self) -> None:
        if self.os_user is not None:
            shutil.chown(self.root, user=self.os_user)
        result = self.run(
            self.binaries.initdb,
            f"--pgdata={self.data_dir}",
            "--auth=trust",
            f"--username={PG_SUPERUSER}",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        if result.returncode != 0:
            pytest.fail(f"initdb failed:\n{result.stdout}\n{result.stderr}")

    def start(self, port: int) -> bool:
        options = f"-h 127.0.0.1 -p {port} -k '{self.root}' -F"
        result = self.run(
            self.binaries.pg_ctl,
            f"--pgdata={self.data_dir}",
            f"--log={self.log_file}",
            f"--options={options}",
            f"--timeout={START_TIMEOUT_SECONDS}",
            "--wait",
            "start",
        )
        return result.returncode == 0

    def stop(self) -> None:
        for mode in ("fast", "immediate"):
            result = self.run(
                self.binaries.pg_ctl,
                f"--pgdata={self.data_dir}",
                f"--mode={mode}",
                "--wait",
                "stop",
            )
            if result.returncode == 0 or not (self.data_dir / "postmaster.pid").exists():
                return

    def log_tail(self) -> str:
        if not self.log_file.exists():
            return "(no server log)"
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-30:])

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def start_on_free_port(process: PostgresProcess, attempts: int = 3) -> int:
    for _ in range(attempts):
        port = free_port()
        if process.start(port):
            return port
    pytest.fail(f"PostgreSQL did not start; server log:\n{process.log_tail()}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A running PostgreSQL server on 127.0.0.1, stopped and deleted after the session."""
    binaries = find_postgres_binaries()
    require_or_skip(
        binaries is not None,
        "PostgreSQL server binaries (initdb, pg_ctl) not found: run `make system-deps`",
    )
    assert binaries is not None
    process = PostgresProcess(binaries, server_os_user())
    try:
        process.initdb()
        port = start_on_free_port(process)
        try:
            yield PostgresServer(host="127.0.0.1", port=port, user=PG_SUPERUSER)
        finally:
            process.stop()
    finally:
        process.remove()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """SQLAlchemy URL of the session's ``coauthor_test`` database."""
    postgres_server.create_database(PG_TEST_DATABASE)
    return postgres_server.url(PG_TEST_DATABASE)


def _fresh_postgres_url(server: PostgresServer) -> Iterator[str]:
    name = f"coauthor_t_{uuid.uuid4().hex[:16]}"
    server.create_database(name)
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each supported kind, created for this test alone."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
    else:
        yield from _fresh_postgres_url(request.getfixturevalue("postgres_server"))


INTEGRATION_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def runtime(database_url: str) -> Iterator[Runtime]:
    """The application wired to ``database_url`` (migrated), on a clock fixed at a Monday 9:00."""
    runtime = build_runtime(
        Settings(database_url=database_url), clock=FixedClock(INTEGRATION_START)
    )
    yield runtime
    runtime.close()
