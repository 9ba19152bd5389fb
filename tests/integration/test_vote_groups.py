"""Votes written as group commits (``uow.write_each``, web/vote_posts.py), SQLite and PostgreSQL.

A group is one transaction with one commit; each vote runs through ``acts.do_vote`` in a
savepoint of its own, so a refused vote (a closed deliberation, a rejected statement, no
permission) is answered with its own error and rolled back alone while the others are
stored; a lost race runs the whole group again; the event chain verifies after.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
import sqlalchemy as sa
from test_concurrency import Seeded, seed, served

from coauthor.config import Settings
from coauthor.db.engine import write_turn
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from coauthor.runtime import Runtime, build_runtime
from coauthor.services import eventlog
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.accounts.people import do_create_person
from coauthor.services.accounts.tokens import do_create_token
from coauthor.services.deliberation import acts
from coauthor.web.loop_writes import LoopWriter


class World:
    """``test_concurrency``'s alliance (20 voting members), a rejected statement, a closed
    deliberation with a statement, and someone who is no member."""

    def __init__(self, settings: Settings) -> None:
        self.seeded: Seeded = seed(settings)
        runtime = build_runtime(settings)
        try:
            with runtime.uow() as uow:
                founder = _by_email(uow, "founder@a.example")
                alliance_id = self.seeded.alliance_id
                self.rejected = self.seeded.statements[-1]
                acts.do_moderate(
                    uow,
                    founder,
                    alliance_id,
                    self.seeded.deliberation_id,
                    self.rejected,
                    {"decision": "rejected"},
                )
                closed = acts.do_create_deliberation(
                    uow, founder, alliance_id, {"question": "Closed?", "strict_moderation": False}
                )
                self.closed_statement = acts.do_submit_statement(
                    uow, founder, alliance_id, closed.id, {"text": "Too late"}
                ).id
                acts.do_set_status(uow, founder, alliance_id, closed.id, "closed")
                self.closed = closed.id
                outsider = do_create_person(
                    uow, None, PersonInput(email="out@x.example", name="Out"), None, bootstrap=True
                )
                self.outsider_token = do_create_token(uow, outsider, "out")[1]
                uow.session.commit()
        finally:
            runtime.close()

    @property
    def open_statements(self) -> list[str]:
        return [s for s in self.seeded.statements if s != self.rejected]


def _by_email(uow: UnitOfWork, email: str) -> m.Person:
    person = uow.find_one(m.Person, email=email)
    assert person is not None
    return person


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key="vote-groups")


@pytest.fixture
def world(settings: Settings) -> World:
    return World(settings)


@pytest.fixture
def runtime(settings: Settings, world: World) -> Iterator[Runtime]:
    built = build_runtime(settings)
    yield built
    built.close()


def _vote(
    world: World, email: str, deliberation_id: str, statement_id: str, value: int
) -> Callable[[UnitOfWork], m.Vote]:
    """A member of a group: ``acts.do_vote`` by the person of ``email``."""

    def write(uow: UnitOfWork) -> m.Vote:
        person = uow.find_one(m.Person, email=email)
        body = {"statement_id": statement_id, "value": value}
        return acts.do_vote(uow, person, world.seeded.alliance_id, deliberation_id, body)

    return write


def _stored(runtime: Runtime, world: World) -> list[tuple[str, str, int]]:
    with runtime.uow() as uow:
        joined = sa.select(m.Person.email, m.Vote.statement_id, m.Vote.value).join(
            m.Participant,
            sa.and_(
                m.Participant.alliance_id == m.Vote.alliance_id,
                m.Participant.id == m.Vote.participant_id,
            ),
        )
        rows = uow.session.execute(
            joined.join(m.Person, m.Person.id == m.Participant.person_id).where(
                m.Vote.alliance_id == world.seeded.alliance_id
            )
        ).all()
    return sorted((email, statement, value) for email, statement, value in rows)


def _chain(runtime: Runtime, world: World) -> tuple[eventlog.ChainReport, int]:
    """The alliance chain's report, and its ``vote.cast`` events."""
    with runtime.uow() as uow:
        report = eventlog.verify_chain(uow, world.seeded.alliance_id)
        kinds = [e.kind for e in eventlog.chain_events(uow, world.seeded.alliance_id)]
    return report, kinds.count("vote.cast")


def test_a_group_stores_its_votes_and_answers_each_refusal_alone(
    runtime: Runtime, world: World
) -> None:
    first, second = world.open_statements[:2]
    opened = world.seeded.deliberation_id
    steps_run: list[str] = []

    def with_step(name: str, then_fail: bool) -> Callable[[UnitOfWork], m.Vote]:
        vote = _vote(world, "client3@example.org", opened, second, -1 if then_fail else 0)

        def write(uow: UnitOfWork) -> m.Vote:
            uow.after_commit(lambda: steps_run.append(name))
            stored = vote(uow)
            if then_fail:
                raise Conflict("refused after its write")
            return stored

        return write

    group = [
        _vote(world, "client0@example.org", opened, first, 1),
        _vote(world, "client1@example.org", opened, world.rejected, 1),
        _vote(world, "client2@example.org", world.closed, world.closed_statement, 1),
        _vote(world, "out@x.example", opened, first, 1),
        with_step("refused", then_fail=True),
        _vote(world, "client0@example.org", opened, first, 1),
        with_step("stored", then_fail=False),
        _vote(world, "client4@example.org", opened, "st_nosuchstatement", 1),
    ]
    _, events_before = _chain(runtime, world)
    with runtime.uow() as uow:
        outcomes = uow.write_each(
            group, first=lambda u: eventlog.lock_heads(u, [world.seeded.alliance_id])
        )
    assert isinstance(outcomes[0], m.Vote) and outcomes[0].value == 1
    assert isinstance(outcomes[1], ValidationFailed)
    assert isinstance(outcomes[2], Conflict) and "closed" in str(outcomes[2])
    assert isinstance(outcomes[3], (NotFound, PermissionDenied))
    assert isinstance(outcomes[4], Conflict) and "after its write" in str(outcomes[4])
    assert isinstance(outcomes[5], m.Vote) and outcomes[5].at == outcomes[0].at
    assert isinstance(outcomes[6], m.Vote) and outcomes[6].value == 0
    assert isinstance(outcomes[7], ValidationFailed)
    assert steps_run == ["stored"], "a refused write's after-commit step never runs"
    assert _stored(runtime, world) == sorted(
        [("client0@example.org", first, 1), ("client3@example.org", second, 0)]
    )
    report, events_after = _chain(runtime, world)
    assert report.ok, report.reason
    assert events_after - events_before == 3, "one event per stored vote, none for a refusal"


class _LostRace(Exception):
    sqlstate = "40001"


def test_a_lost_race_runs_the_whole_group_again(runtime: Runtime, world: World) -> None:
    opened = world.seeded.deliberation_id
    statements = world.open_statements
    calls: list[int] = []
    raced = [False]

    def racing(uow: UnitOfWork) -> m.Vote:
        calls.append(1)
        stored = _vote(world, "client5@example.org", opened, statements[1], -1)(uow)
        if not raced[0]:
            raced[0] = True
            raise sa.exc.OperationalError("UPDATE", {}, _LostRace("could not serialize"))
        return stored

    group = [
        _vote(world, "client6@example.org", opened, statements[0], 1),
        racing,
        _vote(world, "client7@example.org", opened, statements[2], 0),
    ]
    _, events_before = _chain(runtime, world)
    with runtime.uow() as uow:
        outcomes = uow.write_each(group)
    assert calls == [1, 1], "run again from the start"
    assert all(isinstance(outcome, m.Vote) for outcome in outcomes)
    assert _stored(runtime, world) == sorted(
        [
            ("client5@example.org", statements[1], -1),
            ("client6@example.org", statements[0], 1),
            ("client7@example.org", statements[2], 0),
        ]
    )
    report, events_after = _chain(runtime, world)
    assert report.ok and events_after - events_before == 3


@contextmanager
def _turn_held_a_moment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """On SQLite, the write turn held by another writer (as another web process would) until
    ``QUEUED`` votes wait for it: within one process the event loop writes a vote that finds
    the turn free at once, alone. A database server needs nothing."""
    runtime = build_runtime(settings)
    turn = write_turn(runtime.engine)
    holding, queued = threading.Event(), threading.Event()
    arrived = [0]
    run = LoopWriter.run

    async def counted(self: LoopWriter, item: object) -> object:
        arrived[0] += 1
        if arrived[0] >= QUEUED:
            queued.set()
        return await run(self, item)

    monkeypatch.setattr(LoopWriter, "run", counted)

    def hold() -> None:
        assert turn is not None
        with turn:
            holding.set()
            queued.wait(HOLD_SECONDS)

    holder = threading.Thread(target=hold)
    if turn is not None:
        holder.start()
        holding.wait(5)
    try:
        yield
    finally:
        queued.set()
        if turn is not None:
            holder.join()
        runtime.close()


QUEUED = 10
HOLD_SECONDS = 20.0


def test_votes_fired_in_parallel_are_grouped_and_each_answered(
    settings: Settings, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many people, one person many times, the same vote twice, and refused votes, all at
    once through a served app: each answered as alone (200, or its own 4xx), written in
    groups of more than one vote, one participant per person, the chain intact."""
    groups: list[int] = []
    do_votes = acts.do_votes

    def counted(uow: UnitOfWork, ballots: list) -> list:
        groups.append(len(ballots))
        return do_votes(uow, ballots)

    monkeypatch.setattr(acts, "do_votes", counted)
    seeded, statements = world.seeded, world.open_statements
    url = f"/api/v1/alliances/{seeded.alliance_id}/deliberations/{seeded.deliberation_id}/votes"
    closed_url = url.replace(seeded.deliberation_id, world.closed)
    sends: list[tuple[str, str, dict[str, object], int]] = []
    for number, token in enumerate(seeded.tokens[:12]):
        for statement in statements:
            sends += [(token, url, {"statement_id": statement, "value": 1}, 200)] * 2
        sends.append((token, url, {"statement_id": world.rejected, "value": 1}, 422))
        if number % 3 == 0:
            closed = {"statement_id": world.closed_statement, "value": 1}
            sends.append((token, closed_url, closed, 409))
    outsider = {"statement_id": statements[0], "value": 1}
    sends += [(world.outsider_token, url, outsider, 404)] * 4
    with served(settings) as base:

        def send(request: tuple[str, str, dict[str, object], int]) -> int:
            token, path, body, _ = request
            headers = {"Authorization": f"Bearer {token}"}
            return httpx.post(base + path, json=body, headers=headers, timeout=60).status_code

        with (
            ThreadPoolExecutor(max_workers=48) as threads,
            _turn_held_a_moment(settings, monkeypatch),
        ):
            statuses = list(threads.map(send, sends))
    assert statuses == [expected for *_, expected in sends]
    assert max(groups) > 1, "votes that waited were written together"
    runtime = build_runtime(settings)
    try:
        stored = _stored(runtime, world)
        report, events = _chain(runtime, world)
        with runtime.uow() as uow:
            participants = uow.find(
                m.Participant,
                alliance_id=seeded.alliance_id,
                deliberation_id=seeded.deliberation_id,
            )
            joined = [participant.person_id for participant in participants]
    finally:
        runtime.close()
    voters = {f"client{number}@example.org" for number in range(12)}
    assert stored == sorted((email, s, 1) for email in voters for s in statements)
    assert len(joined) == len(set(joined)) == len(voters) + 1, "and the founder"
    assert report.ok, report.reason
    assert events == 12 * len(statements) * 2, "one event per vote stored, none per refusal"
