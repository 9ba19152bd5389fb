"""bench_live's voters as a process of their own: asyncio tasks on raw keep-alive sockets.

A participant's browser votes from a machine of its own; the benchmark's voters share
the server's two cores. As 50 Python threads with ``httpx`` clients in the benchmark's
interpreter (beside its watcher) they added their own CPU, interpreter-lock waits and
thread scheduling to every vote they timed. Here each voter is a task on one event loop,
with one HTTP/1.1 connection kept alive for all its votes (as each ``httpx.Client`` kept
one), and sends the request ``httpx`` would send: the head is built by ``httpx`` itself
once per voter (``head_of``: the same header names, order and values, the bearer
token included), the body is ``httpx``'s compact JSON. A vote is timed from just before
its request's first byte is written to its answer's last byte read.

Reads a JSON job on stdin's first line (``base``, ``url``, ``statements``, ``tokens``,
``seconds``, ``votes_per_second``), answers ``ready`` once prepared, votes when told
``go``, and writes one JSON result on stdout: per vote that succeeded its latency (s), its
sending moment (``time.perf_counter``, CLOCK_MONOTONIC, comparable with the benchmark's
own) and its answer's moment in UTC; the errors; the CPU time the voting took.
With ``COAUTHOR_VOTE_TIMELINE`` set, each vote also carries an ``X-Vote-Timeline`` id and
its moments are appended to that file (``benchmarks/vote_timeline.py``).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

TIMELINE_VARIABLE = "COAUTHOR_VOTE_TIMELINE"


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    stored: list[tuple[float, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    timeline: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    keep_alive: bool


@dataclass(frozen=True)
class RequestHead:
    """The request line and headers ``httpx`` sends for a JSON vote, built by ``httpx``
    once (``head_of``), split where its Content-Length goes."""

    before_length: bytes
    after_length: bytes

    def request(self, body: bytes, timeline_id: str | None) -> bytes:
        length = b"Content-Length: %d\r\n" % len(body)
        extra = b"" if timeline_id is None else f"X-Vote-Timeline: {timeline_id}\r\n".encode()
        return self.before_length + length + self.after_length + extra + b"\r\n" + body


def heads_of(base: str, url: str, tokens: list[str]) -> list[RequestHead]:
    """Each token's ``RequestHead``, from one ``httpx`` client (its SSL context is built
    once): the headers come out as from a client of each token's own."""
    with httpx.Client(base_url=base) as client:
        requests = [
            client.build_request("POST", url, json={}, headers={"Authorization": f"Bearer {t}"})
            for t in tokens
        ]
    return [_head(request) for request in requests]


def _head(request: httpx.Request) -> RequestHead:
    before = [f"POST {request.url.raw_path.decode('ascii')} HTTP/1.1\r\n".encode()]
    after: list[bytes] = []
    lines = before
    for name, value in request.headers.raw:
        if name.lower() == b"content-length":
            lines = after
        else:
            lines.append(name + b": " + value + b"\r\n")
    return RequestHead(b"".join(before), b"".join(after))


def _body(statement_id: str, value: int) -> bytes:
    """The body as ``httpx`` encodes ``json=`` (compact separators, no ASCII escaping)."""
    vote = {"statement_id": statement_id, "value": value}
    return json.dumps(vote, ensure_ascii=False, separators=(",", ":")).encode()


async def _answer(reader: asyncio.StreamReader) -> Answer:
    """One response: status, body (by Content-Length or chunked) and whether the
    connection stays open."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].split(b"\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = await _chunked(reader)
    else:
        body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
    keep_alive = headers.get(b"connection", b"").lower() != b"close"
    return Answer(int(status_line.split()[1]), body, keep_alive)


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return b"".join(chunks)
        chunks.append(chunk[:-2])


async def voter(job: dict, head: RequestHead, number: int, start: float, tally: Tally) -> None:
    """One voter's votes on its own schedule, as bench_live's threads had them: a random
    offset within the interval, then one vote per interval."""
    interval = len(job["tokens"]) / job["votes_per_second"]
    end = start + job["seconds"]
    timed = bool(os.environ.get(TIMELINE_VARIABLE))
    where = urlsplit(job["base"])
    rng = random.Random(number)
    next_at = start + rng.random() * interval
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while next_at < end:
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        body = _body(rng.choice(job["statements"]), rng.choice((-1, 0, 1)))
        if connection is None:
            connection = await asyncio.open_connection(where.hostname, where.port)
        reader, writer = connection
        vote_id = f"{number}-{next_at:.6f}"
        request = head.request(body, vote_id if timed else None)
        sent = time.perf_counter()
        writer.write(request)
        answer = await _answer(reader)
        received = time.perf_counter()
        if answer.status == 200:
            tally.latencies.append(received - sent)
            tally.stored.append((sent, datetime.now(UTC).isoformat()))
        else:
            tally.errors.append(f"{answer.status} {answer.body[:100]!r}")
        if timed:
            line = {"client": vote_id, "marks": {"client_sent": sent, "client_received": received}}
            tally.timeline.append(json.dumps(line))
        if not answer.keep_alive:
            writer.close()
            connection = None
        next_at += interval
    if connection is not None:
        connection[1].close()


async def vote_all(job: dict, heads: list[RequestHead]) -> Tally:
    tally = Tally()
    start = time.perf_counter()
    await asyncio.gather(*(voter(job, head, n, start, tally) for n, head in enumerate(heads)))
    return tally


def main() -> None:
    """The job's first line on stdin; once the requests' heads are built, ``ready`` on
    stdout; the votes begin when ``go`` comes on stdin (so neither this interpreter's
    start nor its imports fall within the benchmark's clock)."""
    job = json.loads(sys.stdin.readline())
    heads = heads_of(job["base"], job["url"], job["tokens"])
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("no go")
    cpu_before = time.process_time()
    tally = asyncio.run(vote_all(job, heads))
    path = os.environ.get(TIMELINE_VARIABLE)
    if path and tally.timeline:
        with open(path, "a", encoding="utf-8") as log:
            log.write("\n".join(tally.timeline) + "\n")
    cpu = time.process_time() - cpu_before
    result = {
        "latencies": tally.latencies,
        "stored": tally.stored,
        "errors": tally.errors,
        "cpu_s": cpu,
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
