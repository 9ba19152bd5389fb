"""Many people writing to one alliance at once, over HTTP, on SQLite and PostgreSQL.

Two app instances (each its own engine and pool, as two server processes
would have) serve one database on loopback. Twenty clients, each a member
with their own API token, spread over both instances, write for a bounded
time: agreements, votes in one deliberation, and their partner's notes; others
read the deliberation's results meanwhile. Every request must succeed,
every write must be stored, the alliance's event chain must stay contiguous
and verify, and both instances must show the same results.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import sqlalchemy as sa
import uvicorn

from coauthor.config import Settings
from coauthor.db.tables import deliberation_releases
from coauthor.domain import model as m
from coauthor.runtime import build_runtime
from coauthor.services import eventlog
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.accounts.people import do_create_person
from coauthor.services.accounts.tokens import do_create_token
from coauthor.services.deliberation import acts as deliberation
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import AllianceCreate, MemberInput, PartnerInput
from coauthor.web.app import create_app

CLIENTS = 20
READERS = 4
WRITE_SECONDS = 4.0
STATEMENTS = 6
START_TIMEOUT = 15.0


@dataclass
class Seeded:
    alliance_id: str
    deliberation_id: str
    statements: list[str]
    partner_of: dict[str, str]
    """Client token → the partner whose notes that client writes."""
    tokens: list[str]


@dataclass
class Tally:
    """What the clients did, and every response that was not a success."""

    agreements: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    voters: set[int] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, response: httpx.Response, what: str) -> bool:
        if response.is_success:
            return True
        with self.lock:
            self.failures.append(f"{what}: {response.status_code} {response.text[:200]}")
        return False


def seed(settings: Settings) -> Seeded:
    runtime = build_runtime(settings)
    try:
        with runtime.uow() as uow:
            founder = do_create_person(
                uow,
                None,
                PersonInput(email="founder@a.example", name="Founder"),
                None,
                bootstrap=True,
            )
            alliance = alliances.do_create_alliance(
                uow, founder, AllianceCreate(name="Busy", kind="consortium", organization_name="A")
            )
            b = alliances.do_add_partner(
                uow, founder, alliance.id, PartnerInput(organization_name="B")
            )
            [a] = [p for p in uow.find(m.Partner, alliance_id=alliance.id) if p.id != b.id]
            started = deliberation.do_create_deliberation(
                uow, founder, alliance.id, {"question": "What next?", "strict_moderation": False}
            )
            statements = [
                deliberation.do_submit_statement(
                    uow, founder, alliance.id, started.id, {"text": f"Idea {number}"}
                ).id
                for number in range(STATEMENTS)
            ]
            tokens, partner_of = [], {}
            for number in range(CLIENTS):
                partner = a.id if number % 2 else b.id
                email = f"client{number}@example.org"
                member = MemberInput(email=email, partner_id=partner, role=m.Role.MANAGER)
                membership = alliances.do_add_member(uow, founder, alliance.id, member)
                person = uow.get(m.Person, id=membership.person_id)
                _, secret = do_create_token(uow, person, "load")
                tokens.append(secret)
                partner_of[secret] = partner
            uow.session.commit()
        return Seeded(alliance.id, started.id, statements, partner_of, tokens)
    finally:
        runtime.close()


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """One app instance (its own engine and pool) on a loopback port."""
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, host="127.0.0.1", port=sock.getsockname()[1], log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT)
        sock.close()
        app.state.runtime.close()


def write_until(
    base: str, token: str, number: int, seeded: Seeded, tally: Tally, end: float
) -> None:
    alliance = f"{base}/api/v1/alliances/{seeded.alliance_id}"
    votes = f"{alliance}/deliberations/{seeded.deliberation_id}/votes"
    notes = f"{alliance}/partners/{seeded.partner_of[token]}/notes"
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(headers=headers, timeout=30.0) as client:
        turn = 0
        while time.monotonic() < end:
            title = f"Agreement {number}-{turn}"
            agreement = client.post(f"{alliance}/agreements", json={"title": title, "kind": "mou"})
            if tally.check(agreement, "agreement"):
                with tally.lock:
                    tally.agreements[title] += 1
            statement = seeded.statements[turn % STATEMENTS]
            value = (-1, 0, 1)[(number + turn) % 3]
            vote = client.post(votes, json={"statement_id": statement, "value": value})
            if tally.check(vote, "vote"):
                with tally.lock:
                    tally.voters.add(number)
            body = f"Note {number}-{turn}"
            if tally.check(client.post(notes, json={"body": body}), "note"):
                with tally.lock:
                    tally.notes[body] += 1
            turn += 1


def read_until(base: str, token: str, seeded: Seeded, tally: Tally, end: float) -> None:
    url = (
        f"{base}/api/v1/alliances/{seeded.alliance_id}/deliberations/"
        f"{seeded.deliberation_id}/results"
    )
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30.0) as client:
        while time.monotonic() < end:
            tally.check(client.get(url), "results")
            time.sleep(0.05)


def test_twenty_clients_write_at_once_and_nothing_is_lost(database_url: str) -> None:
    settings = Settings(database_url=database_url, secret_key="concurrency", anonymity_threshold=5)
    seeded = seed(settings)
    tally = Tally()
    with served(settings) as first, served(settings) as second:
        bases = [first, second]
        end = time.monotonic() + WRITE_SECONDS
        with ThreadPoolExecutor(max_workers=CLIENTS + READERS) as pool:
            jobs = [
                pool.submit(write_until, bases[n % 2], token, n, seeded, tally, end)
                for n, token in enumerate(seeded.tokens)
            ]
            jobs += [
                pool.submit(read_until, bases[n % 2], seeded.tokens[n], seeded, tally, end)
                for n in range(READERS)
            ]
            for job in jobs:
                job.result()
        time.sleep(2 * settings.results_poll_seconds + 1)  # the instances' workers catch up
        results = [
            httpx.get(
                f"{base}/api/v1/alliances/{seeded.alliance_id}/deliberations/"
                f"{seeded.deliberation_id}/results",
                headers={"Authorization": f"Bearer {seeded.tokens[0]}"},
            ).json()
            for base in bases
        ]
    assert tally.failures == []
    assert sum(tally.agreements.values()) >= CLIENTS, "every client wrote at least once"
    assert len(tally.voters) == CLIENTS
    assert results[0] == results[1], "both instances show the same release"
    assert results[0]["release"] is not None, "twenty voters make at least one release"
    check_storage(settings, seeded, tally)


def check_storage(settings: Settings, seeded: Seeded, tally: Tally) -> None:
    runtime = build_runtime(settings)
    try:
        with runtime.uow() as uow:
            titles = Counter(a.title for a in uow.find(m.Agreement, alliance_id=seeded.alliance_id))
            assert titles == tally.agreements
            bodies = Counter(
                n.body for n in uow.find(m.PartnerNote, alliance_id=seeded.alliance_id)
            )
            assert bodies == tally.notes
            voters = {v.participant_id for v in uow.find(m.Vote, alliance_id=seeded.alliance_id)}
            assert len(voters) == CLIENTS
            events = eventlog.chain_events(uow, seeded.alliance_id)
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            kinds = Counter(e.kind for e in events)
            assert kinds["agreement.created"] == sum(tally.agreements.values())
            assert kinds["partner_note.added"] == sum(tally.notes.values())
            for chain in eventlog.chain_ids(uow):
                report = eventlog.verify_chain(uow, chain)
                assert report.ok, report
            releases = uow.session.scalars(
                sa.select(deliberation_releases.c.number).where(
                    deliberation_releases.c.deliberation_id == seeded.deliberation_id
                )
            ).all()
            assert sorted(releases) == list(range(1, len(releases) + 1)), "no release twice"
    finally:
        runtime.close()


def test_parallel_votes_of_one_person_are_upserts(database_url: str) -> None:
    """Someone's first vote sent from two tabs at once, the same vote twice, and votes on
    every statement in parallel: each answered 200, one participant, one vote per statement."""
    settings = Settings(database_url=database_url, secret_key="concurrency")
    seeded = seed(settings)
    token = seeded.tokens[0]
    with served(settings) as base:
        votes = (
            f"{base}/api/v1/alliances/{seeded.alliance_id}/deliberations/"
            f"{seeded.deliberation_id}/votes"
        )
        bodies = [
            {"statement_id": statement, "value": value}
            for statement in seeded.statements
            for value in (1, 1, -1)
        ]

        def send(body: dict[str, object]) -> int:
            headers = {"Authorization": f"Bearer {token}"}
            return httpx.post(votes, json=body, headers=headers, timeout=60.0).status_code

        with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
            statuses = list(pool.map(send, bodies))
    assert statuses == [200] * len(bodies)
    runtime = build_runtime(settings)
    try:
        with runtime.uow() as uow:
            voted_by = {v.participant_id for v in uow.find(m.Vote, alliance_id=seeded.alliance_id)}
            votes_stored = len(uow.find(m.Vote, alliance_id=seeded.alliance_id))
            participants = len(
                uow.find(
                    m.Participant,
                    alliance_id=seeded.alliance_id,
                    deliberation_id=seeded.deliberation_id,
                )
            )
    finally:
        runtime.close()
    assert len(voted_by) == 1 and votes_stored == STATEMENTS
    assert participants == 2, "the founder, who wrote the statements, and the voter once"
