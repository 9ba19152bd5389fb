"""A throwaway PostgreSQL server on loopback, started with initdb/pg_ctl.

Used by the integration tests' fixtures and by the benchmarks, so both run
against a real server without any set-up beyond Debian's ``postgresql``
package. As root the server runs as an unprivileged user.
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

PG_SUPERUSER = "coauthor"
UNPRIVILEGED_USER = "coauthor-test"
START_TIMEOUT_SECONDS = 60


class PostgresUnavailable(RuntimeError):
    """The server could not be set up or started; the message says why."""


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
        raise PostgresUnavailable(
            f"could not create user {name!r} to run PostgreSQL: {result.stderr}"
        ) from None


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
            raise PostgresUnavailable(f"initdb failed:\n{result.stdout}\n{result.stderr}")

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
    raise PostgresUnavailable(f"PostgreSQL did not start; server log:\n{process.log_tail()}")


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A started server for the duration of the block, removed afterwards."""
    binaries = find_postgres_binaries()
    if binaries is None:
        raise PostgresUnavailable(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: run `make system-deps`"
        )
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
