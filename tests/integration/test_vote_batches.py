"""A group of votes through ``acts.do_votes`` gives exactly what ``acts.do_vote`` for each
vote in order in one transaction gives (SQLite and PostgreSQL).

One alliance is seeded once and copied, so the two databases start identical (ids
included). Then the same groups of votes — drawn at random with a fixed seed, and a few
written by hand — are played into one through the batched path (``uow.write(do_votes)``)
and into the other through ``do_vote`` one by one (``uow.write_each``: one transaction,
each vote in a savepoint, a refused one rolled back alone). Both sides run on a clock that
moves a microsecond at every reading and make participant ids from a counter, so their
times and ids match only if they read the clock and make participants in the same order.
After each group every answer must be the same (the vote, or the error with its status
and message), every row of the votes, participants, events and chain heads the same, and
the event chain must verify. The votes refused are of every kind: not signed in, no
member, an observer, a deactivated person, a person deleted since signing in, a payload
that is not a vote, no such alliance, deliberation or statement, a statement of another
deliberation, a rejected statement, a closed deliberation.
"""

from __future__ import annotations

import itertools
import random
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from psycopg import sql
from test_concurrency import seed

from coauthor.config import Settings
from coauthor.db import tables
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import CoauthorError, ValidationFailed
from coauthor.runtime import Runtime, build_runtime
from coauthor.services import eventlog
from coauthor.services.deliberation import acts, voting
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import MemberInput
from tests.pg import PostgresServer

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = "a-thirty-two-character-event-key-for-vote-batches"
"""The event log is keyed (``COAUTHOR_EVENT_LOG_KEY``): each event and the head carry a MAC."""


class TickingClock:
    """Moves one microsecond at every reading: two runs agree only if they read it in the
    same order."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        self._now += timedelta(microseconds=1)
        return self._now


@dataclass(frozen=True)
class World:
    alliance_id: str
    open_id: str
    closed_id: str
    other_id: str
    """An open deliberation whose statements are not ``open_id``'s."""
    statements: list[str]
    rejected: str
    closed_statement: str
    other_statement: str
    voters: list[str]
    """Person ids of members who may vote."""
    refused_people: list[str]
    """An outsider, an observer and a deactivated member."""
    newcomer: str
    """A member who has not taken part yet (none of the groups' voters)."""


def _seeded(settings: Settings) -> World:
    seeded = seed(settings)
    runtime = build_runtime(settings)
    try:
        with runtime.uow() as uow:
            founder = uow.find_one(m.Person, email="founder@a.example")
            alliance_id, opened = seeded.alliance_id, seeded.deliberation_id
            rejected = seeded.statements[-1]
            acts.do_moderate(uow, founder, alliance_id, opened, rejected, {"decision": "rejected"})
            closed = acts.do_create_deliberation(
                uow, founder, alliance_id, {"question": "Closed?", "strict_moderation": False}
            )
            closed_statement = acts.do_submit_statement(
                uow, founder, alliance_id, closed.id, {"text": "Too late"}
            ).id
            acts.do_set_status(uow, founder, alliance_id, closed.id, "closed")
            other = acts.do_create_deliberation(
                uow, founder, alliance_id, {"question": "Other?", "strict_moderation": False}
            )
            other_statement = acts.do_submit_statement(
                uow, founder, alliance_id, other.id, {"text": "Elsewhere"}
            ).id
            [partner, *_] = uow.find(m.Partner, alliance_id=alliance_id)
            observer = alliances.do_add_member(
                uow,
                founder,
                alliance_id,
                MemberInput(email="watch@x.example", partner_id=partner.id, role=m.Role.OBSERVER),
            )
            people = {p.email: p.id for p in uow.find(m.Person)}
            deactivated = people["client11@example.org"]
            deactivating = uow.get(m.Person, id=deactivated)
            assert deactivating is not None
            deactivating.deactivated_at = START  # as ``admin.do_deactivate`` marks them
            outsider = alliances.do_add_member(
                uow,
                founder,
                alliance_id,
                MemberInput(email="gone@x.example", partner_id=partner.id),
            )
            alliances.do_remove_member(uow, founder, alliance_id, outsider.id)
            uow.session.commit()
    finally:
        runtime.close()
    return World(
        alliance_id=alliance_id,
        open_id=opened,
        closed_id=closed.id,
        other_id=other.id,
        statements=seeded.statements[:-1],
        rejected=rejected,
        closed_statement=closed_statement,
        other_statement=other_statement,
        voters=[people[f"client{n}@example.org"] for n in range(6)] + [people["founder@a.example"]],
        refused_people=[outsider.person_id, observer.person_id, deactivated],
        newcomer=people["client7@example.org"],
    )


@dataclass
class Side:
    runtime: Runtime
    ids: Iterator[int]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sides(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[World, Side, Side]]:
    """The seeded world in two identical databases: (world, batched side, one-by-one side)."""
    if request.param == "sqlite":
        first, second = tmp_path / "batched.sqlite3", tmp_path / "each.sqlite3"
        world = _seeded(
            Settings(database_url=f"sqlite:///{first}", secret_key="batches", event_log_key=KEY)
        )
        shutil.copyfile(first, second)
        urls = [f"sqlite:///{first}", f"sqlite:///{second}"]
        dropped: list[str] = []
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        name = f"coauthor_batch_{random.randrange(16**12):012x}"
        server.create_database(name)
        world = _seeded(
            Settings(database_url=server.url(name), secret_key="batches", event_log_key=KEY)
        )
        with server.admin_connection() as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name + "_each"), sql.Identifier(name)
                )
            )
        urls = [server.url(name), server.url(name + "_each")]
        dropped = [name, name + "_each"]
    runtimes = [
        build_runtime(
            Settings(database_url=url, secret_key="batches", event_log_key=KEY),
            clock=TickingClock(START),
        )
        for url in urls
    ]
    try:
        yield world, Side(runtimes[0], itertools.count()), Side(runtimes[1], itertools.count())
    finally:
        for runtime in runtimes:
            runtime.close()
        for name in dropped:
            request.getfixturevalue("postgres_server").drop_database(name)


Ballot = tuple[str | None, str, str, Any]
"""(person id, or None for nobody signed in, or ``DELETED``; alliance; deliberation;
payload)."""

DELETED = "pe_deletedsincesignin"


def _random_group(world: World, rng: random.Random, size: int) -> list[Ballot]:
    group: list[Ballot] = []
    for _ in range(size):
        roll = rng.random()
        statement = rng.choice(world.statements[:4])
        value = rng.choice((-1, 0, 1))
        person: str | None = rng.choice(world.voters[:4])
        alliance, deliberation = world.alliance_id, world.open_id
        payload: Any = {"statement_id": statement, "value": value}
        if roll < 0.04:
            person = None
        elif roll < 0.08:
            person = DELETED
        elif roll < 0.16:
            person = rng.choice(world.refused_people)
        elif roll < 0.20:
            payload = {"statement_id": statement, "value": 5}
        elif roll < 0.23:
            payload = {"statement_id": "st_nosuchstatement", "value": value}
        elif roll < 0.26:
            payload = {"statement_id": world.rejected, "value": value}
        elif roll < 0.29:
            payload = {"statement_id": world.other_statement, "value": value}
        elif roll < 0.32:
            deliberation = world.closed_id
            payload = {"statement_id": world.closed_statement, "value": value}
        elif roll < 0.34:
            deliberation = "dl_nosuchdeliberation"
        elif roll < 0.36:
            alliance = "al_nosuchalliance"
        elif roll < 0.40:
            deliberation = world.other_id
            payload = {"statement_id": world.other_statement, "value": value}
        group.append((person, alliance, deliberation, payload))
    return group


def _hand_written(world: World) -> list[list[Ballot]]:
    a, b = world.voters[4], world.voters[5]
    s, t = world.statements[:2]
    opened, alliance = world.open_id, world.alliance_id

    def vote(person: str, statement: str, value: int) -> Ballot:
        return (person, alliance, opened, {"statement_id": statement, "value": value})

    return [
        # a first vote, the same again, another value, back: one participant, one cell
        [vote(a, s, 1), vote(a, s, 1), vote(a, s, -1), vote(a, s, 1), vote(b, t, 0)],
        # back to the value read (-1 → 1 here), and the same value as stored
        [vote(a, s, -1), vote(a, s, 1), vote(b, t, 0), vote(b, s, 0), vote(b, s, 0)],
        [vote(a, t, -1), (None, alliance, opened, {"statement_id": t, "value": 1})],
    ]


def _person(uow: UnitOfWork, person_id: str | None) -> m.Person | None:
    """The actor as the vote layer hands it over: loaded before the write; a deleted one
    is a person whose row is gone."""
    if person_id is None:
        return None
    if person_id == DELETED:
        return m.Person(
            id=DELETED,
            email="deleted@x.example",
            name="Deleted",
            password_hash="",
            is_admin=False,
            created_at=START,
        )
    return uow.get(m.Person, id=person_id)


def _batched(side: Side, group: list[Ballot], monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    monkeypatch.setattr(voting, "new_id", lambda prefix: f"{prefix}_{next(side.ids)}")
    with side.runtime.uow() as uow:
        ballots = [voting.Ballot(_person(uow, p), a, d, payload) for p, a, d, payload in group]
        return [_answer(o) for o in uow.write(acts.do_votes, ballots)]


def _one_by_one(side: Side, group: list[Ballot], monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    monkeypatch.setattr(voting, "new_id", lambda prefix: f"{prefix}_{next(side.ids)}")
    with side.runtime.uow() as uow:
        people = [_person(uow, p) for p, *_ in group]
        writes = [
            lambda u, who=who, a=a, d=d, payload=payload: acts.do_vote(u, who, a, d, payload)
            for who, (_, a, d, payload) in zip(people, group, strict=True)
        ]
        return [_answer(o) for o in uow.write_each(writes)]


def _answer(outcome: object) -> Any:
    """What the vote's answer is made of: the vote's fields, or the error's kind, status,
    message and fields."""
    if isinstance(outcome, m.Vote):
        return asdict(outcome)
    assert isinstance(outcome, CoauthorError), outcome
    fields = [asdict(e) for e in outcome.errors] if isinstance(outcome, ValidationFailed) else []
    return (type(outcome).__name__, outcome.status, str(outcome), fields)


def _rows(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    found = {}
    with runtime.engine.connect() as connection:
        for table in (tables.votes, tables.participants, tables.events, tables.chain_heads):
            ordered = sa.select(table).order_by(*table.primary_key.columns)
            found[table.name] = [tuple(row) for row in connection.execute(ordered)]
    return found


def _verified(runtime: Runtime) -> list[eventlog.ChainReport]:
    with runtime.uow() as uow:
        return eventlog.verify_all(uow)


def test_a_group_through_do_votes_is_do_vote_for_each_in_order(
    sides: tuple[World, Side, Side], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, batched, each = sides
    rng = random.Random(14)
    groups = _hand_written(world) + [
        _random_group(world, rng, size) for size in (1, 2, 8, 30, 64, 17, 40, 5, 64, 25)
    ]
    votes, refusals = 0, set()
    for group in groups:
        expected = _one_by_one(each, group, monkeypatch)
        assert _batched(batched, group, monkeypatch) == expected, group
        assert _rows(batched.runtime) == _rows(each.runtime)
        votes += sum(isinstance(answer, dict) for answer in expected)
        refusals |= {answer[:3] for answer in expected if not isinstance(answer, dict)}
    reports = _verified(batched.runtime)
    assert reports and all(report.ok for report in reports), reports
    assert all(event[-1] is not None for event in _rows(batched.runtime)["events"]), "keyed"
    assert votes > 150, "most votes pass"
    assert refusals == {
        ("NotAuthenticated", 401, "sign in first"),
        ("NotFound", 404, "no such alliance"),  # no member, deactivated, deleted, no alliance
        ("NotFound", 404, "no such deliberation"),
        ("PermissionDenied", 403, "only the alliance's members (not observers) take part"),
        ("Conflict", 409, "this deliberation is closed"),
        ("ValidationFailed", 422, "value: choose one of: -1, 0 or 1"),
        ("ValidationFailed", 422, f"statement_id: {voting.NO_STATEMENT}"),
        ("ValidationFailed", 422, f"statement_id: {voting.CLOSED_STATEMENT}"),
    }, "refusals of every kind"


def test_a_participant_inserted_meanwhile_runs_the_group_again(
    sides: tuple[World, Side, Side], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A routed first vote of the same person commits between the group's facts query and
    its participant insert: the unique violation is a lost race, the whole group runs
    again (as ``uow.write`` runs a write again) and then sees that participant. On
    PostgreSQL the other vote is written through a connection of its own; on SQLite,
    whose write lock the group holds, the row is put in the group's own transaction just
    before its insert, which collides the same way and is rolled back with the group."""
    world, batched, _ = sides
    runtime, voter, statement = batched.runtime, world.newcomer, world.statements[0]
    write = voting._Group.write
    attempts: list[int] = []

    def raced(group: voting._Group, uow: UnitOfWork) -> None:
        attempts.append(len(group.joined))
        if len(attempts) == 1:
            [row] = group.joined.values()
            other = {**row, "id": "pt_routed"}
            if runtime.engine.dialect.name == "postgresql":
                with runtime.engine.begin() as connection:
                    connection.execute(sa.insert(tables.participants), other)
            else:
                uow.session.connection().execute(sa.insert(tables.participants), other)
        write(group, uow)

    monkeypatch.setattr(voting._Group, "write", raced)
    with runtime.uow() as uow:
        person = uow.get(m.Person, id=voter)
        payload = {"statement_id": statement, "value": 1}
        ballots = [voting.Ballot(person, world.alliance_id, world.open_id, payload)]
        [outcome] = uow.write(acts.do_votes, ballots)
    assert isinstance(outcome, m.Vote)
    if runtime.engine.dialect.name == "postgresql":
        assert attempts == [1, 0], "run again, the second time with the participant found"
        assert outcome.participant_id == "pt_routed"
    else:
        assert attempts == [1, 1], "run again, the colliding row rolled back with the group"
    rows = _rows(runtime)
    assert [r for r in rows["participants"] if r[3] == voter] == [
        r for r in rows["participants"] if r[1] == outcome.participant_id
    ]
    assert len([r for r in rows["participants"] if r[3] == voter]) == 1
    assert all(report.ok for report in _verified(runtime))
