"""HTTP writes under concurrency, and the alliance overview page while they run.

For SQLite and for PostgreSQL (a throwaway server started with initdb/pg_ctl),
``coauthor serve`` runs as its own process on loopback and a load generator in
this process sends, for ``--seconds`` each:

* writes (``POST …/agreements`` with a bearer token) from 1, 4 and 20
  concurrent clients: writes per second and their p95 latency;
* in the same run and with the same clients, ``GET /api/v1/me`` (one token
  lookup, no write): the per-request floor the writes are compared with, since
  absolute figures on a shared machine drift;
* 20 concurrent readers of the alliance overview page (signed in through the
  login form) while 20 clients write: its p95 latency.

Every write must succeed; the run fails otherwise. Prints a markdown table;
``--write`` puts it into docs/performance.md between the bench-http markers.

Usage: ``python benchmarks/bench_http.py [--seconds 5] [--write]``
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
sys.path.insert(0, str(ROOT / "scripts"))  # shared helpers for the scripts that write docs/
sys.path.insert(0, str(ROOT))  # the tests' PostgreSQL harness

from doc_section import replace_marked_section  # noqa: E402

START, END = "<!-- bench-http:start -->", "<!-- bench-http:end -->"
CLIENT_COUNTS = (1, 4, 20)
READERS = 20
PASSWORD = "bench password 1234"
SERVER_START_SECONDS = 90.0
GOAL_OVERVIEW_P95_MS = 100.0


@dataclass
class Sample:
    """Latencies of successful requests, and the failures."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, started: float, response: httpx.Response) -> None:
        elapsed = time.perf_counter() - started
        with self.lock:
            if response.is_success:
                self.latencies.append(elapsed)
            else:
                self.failures.append(f"{response.status_code} {response.text[:120]}")

    def p95_ms(self) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[max(0, int(0.95 * len(ordered)) - 1)] if ordered else float("nan")


@dataclass(frozen=True)
class World:
    alliance_id: str
    tokens: list[str]
    emails: list[str]


def seed(database_url: str) -> World:
    """An alliance with one founding manager and 20 manager members, each with a token."""
    from coauthor.config import Settings
    from coauthor.domain import model as m
    from coauthor.runtime import build_runtime
    from coauthor.services.accounts.inputs import PersonInput
    from coauthor.services.accounts.people import do_create_person
    from coauthor.services.accounts.tokens import do_create_token
    from coauthor.services.mechanics import alliances
    from coauthor.services.mechanics.inputs import AllianceCreate, MemberInput

    runtime = build_runtime(Settings(database_url=database_url))
    try:
        with runtime.uow() as uow:
            founder = do_create_person(
                uow,
                None,
                PersonInput(email="founder@bench.example", name="Founder"),
                PASSWORD,
                bootstrap=True,
            )
            create = AllianceCreate(name="Bench JV", kind="joint_venture", organization_name="A")
            alliance = alliances.do_create_alliance(uow, founder, create)
            [partner] = uow.find(m.Partner, alliance_id=alliance.id)
            tokens, emails = [], []
            for number in range(max(CLIENT_COUNTS)):
                email = f"writer{number}@bench.example"
                do_create_person(
                    uow,
                    None,
                    PersonInput(email=email, name=f"Writer {number}"),
                    PASSWORD,
                    bootstrap=True,
                )
                member = MemberInput(email=email, partner_id=partner.id, role=m.Role.MANAGER)
                membership = alliances.do_add_member(uow, founder, alliance.id, member)
                person = uow.get(m.Person, id=membership.person_id)
                tokens.append(do_create_token(uow, person, "bench")[1])
                emails.append(email)
            uow.session.commit()
        return World(alliance.id, tokens, emails)
    finally:
        runtime.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(database_url: str, *, workers: int = 1) -> Iterator[str]:
    """``coauthor serve`` (with ``workers`` web processes) as its own process; yields its
    base URL."""
    port = free_port()
    env = os.environ | {
        "COAUTHOR_DATABASE_URL": database_url,
        "COAUTHOR_SECRET_KEY": "bench-http",
        "COAUTHOR_LOGIN_MAX_ATTEMPTS": "1000",
    }
    command = [str(Path(sys.executable).with_name("coauthor")), "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed below, after the server stops)
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_SECONDS
    try:
        while True:
            try:
                httpx.get(f"{base}/login", timeout=1.0)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise SystemExit(
                        f"coauthor serve did not start:\n{log.read().decode()}"
                    ) from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.seek(0)
        errors = log.read().decode()
        log.close()
        if "Traceback" in errors:
            print(errors[-3000:], file=sys.stderr)


Request = Callable[[httpx.Client, int, int], httpx.Response]


def hammer(
    clients: int, seconds: float, request: Request, make_client: Callable[[int], httpx.Client]
) -> Sample:
    """``clients`` threads calling ``request(client, number, turn)`` until time is up.

    The clients are made (and signed in) first, one after the other, so that
    the measured time holds only the requests.
    """
    sample = Sample()
    made = [make_client(number) for number in range(clients)]
    end = time.monotonic() + seconds

    def run(number: int) -> None:
        client = made[number]
        try:
            turn = 0
            while time.monotonic() < end:
                started = time.perf_counter()
                sample.add(started, request(client, number, turn))
                turn += 1
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=clients) as pool:
        for job in [pool.submit(run, number) for number in range(clients)]:
            job.result()
    return sample


def bearer(base: str, world: World) -> Callable[[int], httpx.Client]:
    def make(number: int) -> httpx.Client:
        headers = {"Authorization": f"Bearer {world.tokens[number]}"}
        return httpx.Client(base_url=base, headers=headers, timeout=60.0)

    return make


def signed_in(base: str, world: World) -> Callable[[int], httpx.Client]:
    """A client signed in through the login form, as a browser would be."""

    def make(number: int) -> httpx.Client:
        client = httpx.Client(base_url=base, timeout=60.0)
        form = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token, "the login form carries a CSRF token"
        data = {"email": world.emails[number], "password": PASSWORD, "csrf_token": token.group(1)}
        answer = client.post("/login", data=data)
        if answer.status_code != 303:
            raise SystemExit(f"signing in failed: {answer.status_code} {answer.text[:300]}")
        return client

    return make


def bench_database(label: str, database_url: str, seconds: float) -> list[dict]:
    world = seed(database_url)
    agreements = f"/api/v1/alliances/{world.alliance_id}/agreements"

    def write(client: httpx.Client, number: int, turn: int) -> httpx.Response:
        return client.post(agreements, json={"title": f"A {number}-{turn}", "kind": "mou"})

    def me(client: httpx.Client, number: int, turn: int) -> httpx.Response:
        return client.get("/api/v1/me")

    def overview(client: httpx.Client, number: int, turn: int) -> httpx.Response:
        return client.get(f"/a/{world.alliance_id}")

    rows = []
    with server(database_url) as base:
        for clients in CLIENT_COUNTS:
            floor = hammer(clients, seconds, me, bearer(base, world))
            readers: Sample | None = None
            if clients == max(CLIENT_COUNTS):
                with ThreadPoolExecutor(max_workers=1) as side:
                    reading = side.submit(
                        hammer, READERS, seconds, overview, signed_in(base, world)
                    )
                    writes = hammer(clients, seconds, write, bearer(base, world))
                    readers = reading.result()
            else:
                writes = hammer(clients, seconds, write, bearer(base, world))
            failures = writes.failures + floor.failures + (readers.failures if readers else [])
            if failures:
                raise SystemExit(
                    f"{label}, {clients} clients: {len(failures)} failed: {failures[:3]}"
                )
            rows.append(
                {
                    "database": label,
                    "clients": clients,
                    "writes_per_s": len(writes.latencies) / seconds,
                    "write_p95_ms": writes.p95_ms(),
                    "floor_per_s": len(floor.latencies) / seconds,
                    "overview_p95_ms": readers.p95_ms() if readers else None,
                    "overview_per_s": len(readers.latencies) / seconds if readers else None,
                }
            )
    return rows


def render(rows: list[dict], seconds: float) -> str:
    lines = [
        f"Measured {date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; `coauthor serve` (one uvicorn process) and the load "
        f"generator on the same machine, {seconds:g} s per measurement. Writes are `POST "
        "…/agreements`, each appended to the alliance's event chain; the floor is `GET "
        "/api/v1/me` with the same clients in the same run.",
        "",
        "| database | clients | writes/s | write p95 | floor (reads/s) | writes ÷ floor "
        "| overview p95, 20 readers |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        overview = (
            f"{row['overview_p95_ms']:.0f} ms ({row['overview_per_s']:.0f} pages/s)"
            if row["overview_p95_ms"] is not None
            else "—"
        )
        lines.append(
            f"| {row['database']} | {row['clients']} | {row['writes_per_s']:.0f} "
            f"| {row['write_p95_ms']:.0f} ms | {row['floor_per_s']:.0f} "
            f"| {row['writes_per_s'] / row['floor_per_s']:.2f} | {overview} |"
        )
    worst = max(r["overview_p95_ms"] for r in rows if r["overview_p95_ms"] is not None)
    verdict = "meets" if worst < GOAL_OVERVIEW_P95_MS else "misses"
    lines += [
        "",
        f"Every write succeeded. The overview page's p95 with 20 readers during 20 writers "
        f"{verdict} the {GOAL_OVERVIEW_P95_MS:.0f} ms budget (worst {worst:.0f} ms).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    from tests.pg import running_postgres

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows += bench_database("SQLite", f"sqlite:///{folder}/bench.sqlite3", args.seconds)
    with running_postgres() as postgres:
        postgres.create_database("bench")
        rows += bench_database("PostgreSQL", postgres.url("bench"), args.seconds)
    table = render(rows, args.seconds)
    print(table)
    if args.write:
        replace_marked_section(DOC, START, END, table)


if __name__ == "__main__":
    main()
