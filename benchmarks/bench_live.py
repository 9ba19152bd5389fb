"""A live deliberation at Pol.is scale: pollers on the results while votes arrive.

For SQLite and for PostgreSQL (a throwaway server): a deliberation of 2,000
participants × 200 statements (120,000 votes, four planted opinion groups) is
loaded, ``coauthor serve --workers 2`` runs as its own process (two web
processes, one per core, and the results worker they share in the serving
process), and for ``--seconds``:

* ``wrk`` (C, from Debian) runs 200 concurrent pollers on ``GET …/results``,
  each sending ``If-None-Match`` with the last ``ETag`` it saw, as the results
  page's poll does: requests per second, p95 latency, errors — twice: paced,
  each poller pausing 0.45 s on average after each answer (200 pollers
  standing for 2,000 participants whose pages poll every 5 s: 400 requests a
  second when answers take 50 ms), then at saturation, with no pause (the
  capacity: each poller asks again as soon as it is answered);
* 50 voters send 100 votes a second in all: vote p95, errors. They run in a
  process of their own (``benchmarks/live_voters.py``: asyncio tasks, one
  keep-alive connection each, sending the bytes ``httpx`` sends), as a
  participant's browser runs on a machine of its own; ``--voters threads`` runs
  the 50 ``httpx`` threads of this interpreter they were until the seventh
  round, whose own CPU and waits for the interpreter lock were in every vote
  they timed (``--voters threads process``: both in turn, same server);
* a watcher polls the results every 100 ms and, for each vote, measures the
  time from sending it to the first results version released after it was
  stored.

Goals (docs/performance.md): results p95 < 100 ms and ≥ 400 requests/s with
200 pollers; vote p95 < 50 ms at 100 votes/s with no errors; a vote visible
within 2 s. Every goal is checked for both loads and printed for each. Prints
a markdown table; ``--write`` puts it into
docs/performance.md between the bench-live markers.

Besides the table it prints, per row, the CPU time of the voters' client, the server's
processes, PostgreSQL's, wrk with the voters' process, and this process.

Usage: ``python benchmarks/bench_live.py [--seconds 60] [--write]
[--databases SQLite PostgreSQL] [--loads paced saturation] [--voters process threads]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_http import server  # noqa: E402
from doc_section import replace_marked_section  # noqa: E402

from coauthor.web.vote_timeline import TIMELINE_VARIABLE  # noqa: E402
from coauthor.web.vote_timeline import append as append_line  # noqa: E402

START, END = "<!-- bench-live:start -->", "<!-- bench-live:end -->"
PARTICIPANTS, STATEMENTS, VOTES = 2_000, 200, 120_000
POLLERS, VOTERS, VOTES_PER_SECOND = 200, 50, 100
PAUSE_MS = 450
"""A paced poller's mean pause after each answer. With answers within 50 ms, 200 pollers
then send the 400 requests a second of 2,000 participants whose pages poll every 5 s; with
slower answers they send fewer, as pages would."""
LOADS = {"paced": PAUSE_MS, "saturation": None}
DATABASES = ("SQLite", "PostgreSQL")
WEB_PROCESSES = 2
GOALS = {"results_p95_ms": 100.0, "results_per_s": 400.0, "vote_p95_ms": 50.0, "visible_s": 2.0}

WRK_SCRIPT = """
local etag = ""
local counts = {ok = 0, not_modified = 0, errors = 0}
local threads = {}
function setup(thread) table.insert(threads, thread); thread:set("thread_number", #threads) end
function init(args) token = args[1] end
function request()
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. token,
                                 ["If-None-Match"] = etag})
end
function response(status, headers, body)
  if status == 200 then counts.ok = counts.ok + 1; etag = headers["etag"] or headers["ETag"] or etag
  elseif status == 304 then counts.not_modified = counts.not_modified + 1
  else counts.errors = counts.errors + 1 end
  ok, not_modified, errors = counts.ok, counts.not_modified, counts.errors
end
function done(summary, latency, requests)
  local total = {ok = 0, not_modified = 0, errors = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(total) do total[key] = total[key] + (thread:get(key) or 0) end
  end
  io.write(string.format("RESULT %d %d %d %d %.3f %.3f\\n", summary.requests,
    total.ok, total.not_modified, total.errors + summary.errors.status + summary.errors.timeout,
    latency:percentile(95) / 1000, latency:percentile(50) / 1000))
end
"""

PAUSE_SCRIPT = """
function delay()
  if not seeded then math.randomseed(thread_number); seeded = true end
  return math.random(0, 2 * %d)
end
"""
"""wrk asks for ``delay`` before each request only when the script defines it, so the
saturation run's script leaves it out."""


@dataclass
class Votes:
    latencies: list[float] = field(default_factory=list)
    stored: list[tuple[float, datetime]] = field(default_factory=list)
    """(when sent, by the clock here; when answered, in UTC) per vote that succeeded."""
    errors: list[str] = field(default_factory=list)
    cpu_s: float = 0.0
    """CPU time the voters' client spent."""
    lock: threading.Lock = field(default_factory=threading.Lock)


def planted(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Votes of four opinion groups with noise: (participant rows, statement cols, values)."""
    cells = rng.choice(PARTICIPANTS * STATEMENTS, size=VOTES, replace=False)
    rows, cols = np.divmod(cells, STATEMENTS)
    leaning = rng.choice([-1, 1], size=(4, STATEMENTS))
    agree = leaning[rows % 4, cols]
    noise = rng.random(VOTES)
    values = np.where(noise < 0.15, -agree, np.where(noise < 0.25, 0, agree))
    return rows.astype(np.int64), cols.astype(np.int64), values.astype(np.int64)


def seed(database_url: str) -> tuple[str, str, list[str], list[str], str]:
    """The big deliberation and 50 voting members: (alliance, deliberation, statement ids,
    voter tokens, a reader token)."""
    from coauthor.analysis.opinion import VoteMatrix
    from coauthor.config import Settings
    from coauthor.domain import model as m
    from coauthor.runtime import build_runtime
    from coauthor.services.accounts.inputs import PersonInput
    from coauthor.services.accounts.people import do_create_person
    from coauthor.services.accounts.tokens import do_create_token
    from coauthor.services.deliberation.transfer import Conversation, do_import_conversation
    from coauthor.services.mechanics import alliances
    from coauthor.services.mechanics.inputs import AllianceCreate, MemberInput

    rows, cols, values = planted(np.random.default_rng(7))
    matrix = VoteMatrix.from_arrays(
        rows,
        cols,
        values,
        participant_ids=[str(i) for i in range(PARTICIPANTS)],
        statement_ids=[str(j) for j in range(STATEMENTS)],
    )
    runtime = build_runtime(Settings(database_url=database_url))
    try:
        with runtime.uow() as uow:
            founder = do_create_person(
                uow,
                None,
                PersonInput(email="founder@live.example", name="Founder"),
                None,
                bootstrap=True,
            )
            create = AllianceCreate(name="Live", kind="consortium", organization_name="Org")
            alliance = alliances.do_create_alliance(uow, founder, create)
            [partner] = uow.find(m.Partner, alliance_id=alliance.id)
            texts = {str(j): f"Statement {j}" for j in range(STATEMENTS)}
            conversation = Conversation(matrix, texts, "What next?", "Synthetic", None)
            deliberation = do_import_conversation(
                uow, None, alliance.id, conversation, bootstrap=True
            )
            deliberation.status = m.DeliberationStatus.OPEN
            statements = [s.id for s in uow.find(m.Statement, alliance_id=alliance.id)]
            tokens = []
            for number in range(VOTERS):
                email = f"voter{number}@live.example"
                member = MemberInput(email=email, partner_id=partner.id, role=m.Role.MEMBER)
                membership = alliances.do_add_member(uow, founder, alliance.id, member)
                person = uow.get(m.Person, id=membership.person_id)
                tokens.append(do_create_token(uow, person, "live")[1])
            reader = do_create_token(uow, founder, "reader")[1]
            uow.session.commit()
        return alliance.id, deliberation.id, statements, tokens, reader
    finally:
        runtime.close()


class ProcessVoters:
    """VOTES_PER_SECOND votes in all from the voters of ``benchmarks/live_voters.py``, a
    process of their own (asyncio tasks on raw keep-alive connections), started and
    prepared when made (before the clock starts: this waits for its ``ready``), voting
    from ``run``."""

    def __init__(
        self, base: str, url: str, statements: list[str], tokens: list[str], seconds: float
    ) -> None:
        job = {
            "base": base,
            "url": url,
            "statements": statements,
            "tokens": tokens,
            "seconds": seconds,
            "votes_per_second": VOTES_PER_SECOND,
        }
        command = [sys.executable, str(ROOT / "benchmarks" / "live_voters.py")]
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(job) + "\n")
        self._process.stdin.flush()
        if self._process.stdout.readline().strip() != "ready":
            raise SystemExit("the voters' process did not start")

    def run(self, votes: Votes) -> None:
        output, _ = self._process.communicate("go\n")
        if self._process.returncode != 0:
            raise SystemExit(f"the voters' process failed ({self._process.returncode})")
        result = json.loads(output)
        votes.latencies = result["latencies"]
        votes.stored = [(sent, datetime.fromisoformat(at)) for sent, at in result["stored"]]
        votes.errors = result["errors"]
        votes.cpu_s = result["cpu_s"]


class ThreadVoters:
    """The voters as they were until the seventh round, kept to show what they add
    (``--voters threads``): VOTES_PER_SECOND votes in all, spread over 50 threads of this
    interpreter with an ``httpx`` client each, each voter on its own schedule."""

    def __init__(
        self, base: str, url: str, statements: list[str], tokens: list[str], seconds: float
    ) -> None:
        self._job = (base, url, statements, tokens, seconds)

    def run(self, votes: Votes) -> None:
        vote_in_threads(*self._job, votes)


def vote_in_threads(
    base: str, url: str, statements: list[str], tokens: list[str], seconds: float, votes: Votes
) -> None:
    interval = VOTERS / VOTES_PER_SECOND
    end = time.monotonic() + seconds
    timeline = os.environ.get(TIMELINE_VARIABLE)
    cpu = time.process_time()

    def voter(number: int) -> None:
        rng = random.Random(number)
        next_at = time.monotonic() + rng.random() * interval
        with httpx.Client(
            base_url=base, timeout=30.0, headers={"Authorization": f"Bearer {tokens[number]}"}
        ) as client:
            while next_at < end:
                time.sleep(max(0.0, next_at - time.monotonic()))
                body = {"statement_id": rng.choice(statements), "value": rng.choice((-1, 0, 1))}
                vote_id = f"{number}-{next_at:.6f}"
                marks: dict[str, float] = {}
                timed = {"headers": {"X-Vote-Timeline": vote_id}} if timeline else {}
                if timeline:
                    timed["extensions"] = {"trace": partial(_trace, marks)}
                sent = time.perf_counter()
                response = client.post(url, json=body, **timed)
                received = time.perf_counter()
                with votes.lock:
                    if response.status_code == 200:
                        votes.latencies.append(received - sent)
                        votes.stored.append((sent, datetime.now(UTC)))
                    else:
                        votes.errors.append(f"{response.status_code} {response.text[:100]}")
                if timeline:
                    marks |= {"client_sent": sent, "client_received": received}
                    append_line(timeline, json.dumps({"client": vote_id, "marks": marks}))
                next_at += interval

    threads = [threading.Thread(target=voter, args=(n,)) for n in range(VOTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    votes.cpu_s = time.process_time() - cpu


TRACED_STEPS = {
    "http11.send_request_headers.complete": "client_written",
    "http11.receive_response_body.complete": "client_read",
}
"""``httpx``'s trace events that mark a vote's timeline steps in the voters' threads: its
head written to the socket, its answer's last byte read."""


def _trace(marks: dict[str, float], event: str, _info: dict) -> None:
    step = TRACED_STEPS.get(event)
    if step is not None:
        marks[step] = time.perf_counter()


VOTER_CLIENTS = {"process": ProcessVoters, "threads": ThreadVoters}
"""``--voters``: the voters' process (the default), or the threads they were until the
seventh round, whose CPU is the whole benchmark process's (the watcher's too)."""


def watch(base: str, url: str, token: str, seconds: float) -> list[tuple[float, datetime]]:
    """(when seen here, released_at) of every new results version, polled every 100 ms."""
    seen, etag = [], ""
    end = time.monotonic() + seconds + 5
    with httpx.Client(
        base_url=base, timeout=30.0, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        while time.monotonic() < end:
            response = client.get(url, headers={"If-None-Match": etag})
            if response.status_code == 200:
                etag = response.headers.get("etag", "")
                released = response.json().get("released_at")
                if released:
                    seen.append((time.perf_counter(), datetime.fromisoformat(released)))
            time.sleep(0.1)
    return seen


def visibility(votes: Votes, versions: list[tuple[float, datetime]]) -> list[float]:
    """Seconds from sending each vote to seeing the first release made after it was stored."""
    delays = []
    for sent, stored in votes.stored:
        later = [seen for seen, released in versions if released >= stored]
        if later:
            delays.append(min(later) - sent)
    return delays


def run_wrk(base: str, path: str, token: str, seconds: float, pause_ms: int | None) -> dict:
    """wrk's pollers for ``seconds``; with ``pause_ms`` each waits a random 0–2×pause_ms
    (uniform, so pollers do not fall into step) after each answer."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT + (PAUSE_SCRIPT % pause_ms if pause_ms else ""))
    try:
        command = [
            "wrk",
            "-t",
            "2",
            "-c",
            str(POLLERS),
            "-d",
            f"{seconds:.0f}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            script.name,
            f"{base}{path}",
            "--",
            token,
        ]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    found = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)", output)
    if found is None:
        raise SystemExit(f"wrk gave no result:\n{output}")
    requests, ok, not_modified, errors, p95, p50 = found.groups()
    return {
        "requests_per_s": int(requests) / seconds,
        "ok": int(ok),
        "not_modified": int(not_modified),
        "errors": int(errors),
        "p95_ms": float(p95),
        "p50_ms": float(p50),
    }


def bench_database(label: str, database_url: str, options: argparse.Namespace) -> list[dict]:
    """One row per load (paced, then saturation) and voters' client against one server of
    ``database_url``; the clients take turns within each load."""
    alliance_id, deliberation_id, statements, tokens, reader = seed(database_url)
    path = f"/api/v1/alliances/{alliance_id}/deliberations/{deliberation_id}"
    rows = []
    with server(database_url, workers=WEB_PROCESSES) as base:
        wait_for_first_release(base, f"{path}/results", reader)
        for load in options.loads:
            for voters in options.voters:
                shown = load if len(options.voters) == 1 else f"{load}, {voters} voters"
                figures = measure(
                    base,
                    path,
                    statements,
                    tokens,
                    reader,
                    options.seconds,
                    LOADS[load],
                    voters,
                    database_url,
                )
                rows.append({"database": label, "load": shown} | figures)
    return rows


def wait_for_first_release(base: str, url: str, reader: str) -> None:
    """The worker publishes the first release of the loaded votes before the clock starts."""
    headers = {"Authorization": f"Bearer {reader}"}
    deadline = time.monotonic() + 120
    while httpx.get(f"{base}{url}", headers=headers, timeout=120.0).json()["release"] is None:
        if time.monotonic() > deadline:
            raise SystemExit("the results worker published no release within 120 s")
        time.sleep(0.5)


def measure(
    base: str,
    path: str,
    statements: list[str],
    tokens: list[str],
    reader: str,
    seconds: float,
    pause_ms: int | None,
    voters: str,
    database_url: str,
) -> dict:
    """Pollers, voters and the watcher together for ``seconds``: the row's figures."""
    votes = Votes()
    versions: list[tuple[float, datetime]] = []
    voting_client = VOTER_CLIENTS[voters](base, f"{path}/votes", statements, tokens, seconds)
    voting = threading.Thread(target=voting_client.run, args=(votes,))
    watching = threading.Thread(
        target=lambda: versions.extend(watch(base, f"{path}/results", reader, seconds))
    )
    ports = {"server": urlsplit(base).port, "database server": make_url(database_url).port}
    before = {name: cpu_seconds_on(port) for name, port in ports.items()}
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    own_before = time.process_time()
    voting.start()
    watching.start()
    polled = run_wrk(base, f"{path}/results", reader, seconds, pause_ms)
    voting.join()
    watching.join()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    clients_cpu_s = (
        children.ru_utime + children.ru_stime - children_before.ru_utime - children_before.ru_stime
    )
    delays = visibility(votes, versions)
    ordered = sorted(votes.latencies)
    return {
        "results": polled,
        "vote_p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))] if ordered else float("nan"),
        "votes_per_s": len(votes.latencies) / seconds,
        "vote_errors": len(votes.errors),
        "voters_cpu_s": votes.cpu_s,
        "cpu_s": {
            **{name: cpu_seconds_on(port) - before[name] for name, port in ports.items()},
            "wrk and voters' process": clients_cpu_s,
            "this process (watcher; threads voters)": time.process_time() - own_before,
        },
        "versions": len(versions),
        "visible_p95_s": statistics.quantiles(delays, n=20)[-1]
        if len(delays) > 1
        else float("nan"),
        "visible_max_s": max(delays) if delays else float("nan"),
        "unseen": len(votes.stored) - len(delays),
    }


def cpu_seconds_on(port: int | None) -> float:
    """CPU time so far (user and system, from /proc) of the processes started with ``port``
    as an argument of their own (``coauthor serve --port``, PostgreSQL's ``-p``) and of
    their descendants (the web processes and their vote writers; PostgreSQL's backends); 0
    without a port."""
    if port is None:
        return 0.0
    processes = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # ended meanwhile
        processes[stat.parent.name] = (fields[1], command, int(fields[11]) + int(fields[12]))
    roots = {pid for pid, (_, command, _) in processes.items() if str(port).encode() in command}
    tree, grown = set(roots), True
    while grown:
        below = {pid for pid, (parent, _, _) in processes.items() if parent in tree}
        grown = not below <= tree
        tree |= below
    return sum(processes[pid][2] for pid in tree) / os.sysconf("SC_CLK_TCK")


VOTERS_SHOWN = {
    "process": "in a process of their own",
    "threads": "as threads of the benchmark's process",
}


def render(rows: list[dict], seconds: float, voters: list[str]) -> str:
    lines = [
        f"Measured {date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; `coauthor serve --workers {WEB_PROCESSES}` "
        f"({WEB_PROCESSES} web processes, the results worker in the serving process), wrk and "
        f"the voters ({' / '.join(VOTERS_SHOWN[v] for v in dict.fromkeys(voters))}) on the "
        f"same machine; {seconds:g} s per load and database. "
        f"{PARTICIPANTS:,} participants × {STATEMENTS} statements, {VOTES:,} votes loaded. "
        f"Paced: each of the {POLLERS} pollers pauses {PAUSE_MS} ms on average after each "
        "answer; saturation: no pause.",
        "",
        "| database | pollers | results req/s | results p50 / p95 | 200 / 304 / errors "
        "| votes/s | vote p95 | vote errors | releases seen | vote → visible p95 (max) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        r = row["results"]
        lines.append(
            f"| {row['database']} | {row['load']} | {r['requests_per_s']:.0f} "
            f"| {r['p50_ms']:.0f} / "
            f"{r['p95_ms']:.0f} ms | {r['ok']} / {r['not_modified']} / {r['errors']} "
            f"| {row['votes_per_s']:.0f} | {row['vote_p95_ms']:.0f} ms | {row['vote_errors']} "
            f"| {row['versions']} | {row['visible_p95_s']:.2f} s ({row['visible_max_s']:.2f} s) |"
        )
    checks = []
    for row in rows:
        r = row["results"]
        met = {
            "results p95 < 100 ms": r["p95_ms"] < GOALS["results_p95_ms"],
            "≥ 400 results req/s": r["requests_per_s"] >= GOALS["results_per_s"],
            "vote p95 < 50 ms": row["vote_p95_ms"] < GOALS["vote_p95_ms"],
            "no errors": r["errors"] == 0 and row["vote_errors"] == 0,
            "visible within 2 s (p95)": row["visible_p95_s"] < GOALS["visible_s"],
        }
        shown = ", ".join(f"{name}: {'met' if ok else 'missed'}" for name, ok in met.items())
        checks.append(f"- {row['database']}, {row['load']}: {shown}.")
    return "\n".join([*lines, "", *checks])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    parser.add_argument("--databases", nargs="+", choices=DATABASES, default=list(DATABASES))
    parser.add_argument("--loads", nargs="+", choices=LOADS, default=list(LOADS))
    parser.add_argument(
        "--voters",
        nargs="+",
        choices=VOTER_CLIENTS,
        default=["process"],
        help="the voters' client; with both, they take turns against the same server",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit(
            "wrk is missing: `make bench` installs it (scripts/install-system-deps.sh bench)"
        )
    from tests.pg import running_postgres

    rows = []
    if "SQLite" in args.databases:
        with tempfile.TemporaryDirectory() as folder:
            rows += bench_database("SQLite", f"sqlite:///{folder}/live.sqlite3", args)
    if "PostgreSQL" in args.databases:
        with running_postgres() as postgres:
            postgres.create_database("live")
            rows += bench_database("PostgreSQL", postgres.url("live"), args)
    table = render(rows, args.seconds, args.voters)
    print(table)
    for row in rows:
        used = ", ".join(f"{name} {value:.1f} s" for name, value in row["cpu_s"].items())
        print(
            f"{row['database']}, {row['load']}: CPU of the voters' client "
            f"{row['voters_cpu_s']:.1f} s; {used}"
        )
    if args.write:
        replace_marked_section(DOC, START, END, table)


if __name__ == "__main__":
    main()
