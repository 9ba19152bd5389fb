"""The vote layer's reads through the driver (``db/driver_reads.py``) on PostgreSQL give what
SQLAlchemy gives for the same statements: the same rows, values of the same types, the
same errors; and the people of a group's tokens are the ones ``person_for_token`` finds
one by one (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from test_concurrency import Seeded, seed

from coauthor.config import Settings
from coauthor.db import tables
from coauthor.db.driver_reads import DriverRead, driver_read
from coauthor.domain import model as m
from coauthor.runtime import Runtime, build_runtime
from coauthor.services import eventlog
from coauthor.services.accounts import tokens
from coauthor.services.deliberation import acts, voting
from tests.pg import PostgresServer

pytestmark = pytest.mark.postgres

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def seeded_runtime(database_url: str) -> Iterator[tuple[Seeded, Runtime]]:
    """``test_concurrency``'s alliance (20 members with tokens, 5 statements), a vote cast
    by the first member, the second member's token revoked, the third deactivated."""
    seeded = seed(Settings(database_url=database_url))
    runtime = build_runtime(Settings(database_url=database_url))
    with runtime.uow() as uow:
        first = tokens.person_for_token(uow, seeded.tokens[0])
        vote = {"statement_id": seeded.statements[1], "value": 1}
        uow.write(acts.do_vote, first, seeded.alliance_id, seeded.deliberation_id, vote)
    revoked, deactivated = (token_digest_of(seeded, n) for n in (1, 2))
    with runtime.engine.begin() as connection:
        api_tokens, people = tables.api_tokens, tables.people
        connection.execute(
            api_tokens.update().where(api_tokens.c.token_hash == revoked).values(revoked_at=WHEN)
        )
        owner = sa.select(api_tokens.c.person_id).where(api_tokens.c.token_hash == deactivated)
        connection.execute(
            people.update()
            .where(people.c.id == owner.scalar_subquery())
            .values(deactivated_at=WHEN)
        )
    yield seeded, runtime
    runtime.close()


def token_digest_of(seeded: Seeded, number: int) -> str:
    return tokens.token_digest(seeded.tokens[number])


def test_the_people_of_a_groups_tokens_are_found_as_one_by_one(
    seeded_runtime: tuple[Seeded, Runtime],
) -> None:
    seeded, runtime = seeded_runtime
    secrets = [*seeded.tokens[:6], "cat_unknown", "not-a-token", seeded.tokens[3]]
    with runtime.uow() as uow:
        found = tokens.people_for_tokens(uow, secrets)
    assert found[seeded.tokens[1]] is None, "a revoked token finds nobody"
    assert found[seeded.tokens[2]] is None, "a deactivated person is not found"
    assert sum(person is not None for person in found.values()) == 4
    for secret in secrets:
        with runtime.uow() as uow:
            one = tokens.person_for_token(uow, secret)
            expected = None if one is None else _fields(one)
        person = found[secret]
        assert (None if person is None else _fields(person)) == expected, secret


def _fields(person: m.Person) -> dict[str, Any]:
    return {name: getattr(person, name) for name in m.Person.__dataclass_fields__}


def _ballot_keys(seeded: Seeded, runtime: Runtime) -> dict[str, list[str]]:
    """A ballot of every kind of facts row: a member with a vote on the statement, without,
    no such person, alliance, deliberation or statement."""
    owner = sa.select(tables.api_tokens.c.person_id).where(
        tables.api_tokens.c.token_hash == sa.bindparam("digest")
    )
    with runtime.engine.connect() as connection:
        voter, *others = (
            connection.execute(owner, {"digest": token_digest_of(seeded, n)}).scalar_one()
            for n in range(3)
        )
    alliance, deliberation, statement = seeded.alliance_id, seeded.deliberation_id, "st_none"
    keys = [
        (voter, alliance, deliberation, seeded.statements[1]),
        (voter, alliance, deliberation, seeded.statements[0]),
        (others[0], alliance, deliberation, seeded.statements[1]),
        ("pe_gone", alliance, deliberation, seeded.statements[1]),
        (others[1], "al_none", deliberation, seeded.statements[1]),
        (others[1], alliance, "dl_none", seeded.statements[1]),
        (others[1], alliance, deliberation, statement),
    ]
    names = ("persons", "alliances", "deliberations", "statements")
    return {name: [key[n] for key in keys] for n, name in enumerate(names)}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_driver_rows_are_sqlalchemys(seeded_runtime: tuple[Seeded, Runtime]) -> None:
    seeded, runtime = seeded_runtime
    digests = {"digests": [token_digest_of(seeded, n) for n in range(5)]}
    facts = _ballot_keys(seeded, runtime)
    reads = [
        (voting._group_facts_query(None), facts),
        (tokens._people_of_live_tokens(as_array=True), digests),
    ]
    with runtime.engine.connect() as connection:
        for statement, values in reads:
            expected = connection.execute(statement, values).all()
            rows = driver_read(statement, connection.dialect).rows(connection, values)
            assert len(rows) == len(expected) > 1
            for row, wanted in zip(sorted(rows), sorted(expected), strict=True):
                assert row._fields == tuple(wanted._fields)
                assert tuple(row) == tuple(wanted)
                assert [_kind(value) for value in row] == [_kind(value) for value in wanted]
            if statement is reads[0][0]:
                assert any(row.vote_at is not None for row in rows), "a vote's time is read"
                assert any(row.member_id is None for row in rows), "a row's missing parts"


def test_a_driver_reads_error_is_sqlalchemys(postgres_server: PostgresServer) -> None:
    """A failed read raises SQLAlchemy's exception of its kind (what ``uow.write`` tells a
    lost race by) and leaves the connection usable once rolled back; a connection that is
    gone is invalidated, and the next read runs on a new one (through a cursor of its own,
    not the one kept with the lost connection). Cursor events see a read."""
    name = "driver_reads_errors"
    postgres_server.create_database(name)
    engine = sa.create_engine(postgres_server.url(name))
    bad_number = DriverRead.of(sa.select(sa.cast(sa.bindparam("text"), sa.Integer)), engine.dialect)
    backend = DriverRead.of(sa.select(sa.func.pg_backend_pid().label("pid")), engine.dialect)
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    try:
        with engine.connect() as connection:
            with pytest.raises(sa.exc.DataError) as raised:
                bad_number.rows(connection, {"text": "not a number"})
            assert not raised.value.connection_invalidated
            connection.rollback()
            [(pid,)] = backend.rows(connection, {})
            assert seen == [bad_number.sql, backend.sql]
            with postgres_server.admin_connection() as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            with pytest.raises(sa.exc.OperationalError) as raised:
                backend.rows(connection, {})
            assert raised.value.connection_invalidated
            assert connection.invalidated
            connection.rollback()
            [(other,)] = backend.rows(connection, {})
            assert other != pid
    finally:
        engine.dispose()
        postgres_server.drop_database(name)


def _kind(value: Any) -> tuple[type, Any]:
    """A value's type, and a time's zone: what equal values may still differ in."""
    return type(value), getattr(value, "tzinfo", None)


def test_an_append_through_the_driver_stores_what_it_was_given(
    postgres_server: PostgresServer,
) -> None:
    """``eventlog.append_all`` runs its statement through the driver on PostgreSQL: the
    events are stored with their payloads as JSON values of every kind (not as text), their
    times in UTC, the head moved, the chain verified, and the notification (a constant of
    the statement, not a parameter) sent on its channel."""
    name = "driver_append"
    postgres_server.create_database(name)
    settings = Settings(database_url=postgres_server.url(name))
    seeded = seed(settings)
    runtime = build_runtime(settings)
    payloads = [
        {"text": 'é ✓ "quoted"', "number": 3, "share": 0.25, "flag": True, "none": None},
        {"nested": {"list": [1, "two", [3.5, False]]}, "empty": {}},
    ]
    when = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)
    new = [eventlog.NewEvent(None, "test.driver", payload, when) for payload in payloads]
    try:
        address = postgres_server.url(name).replace("+psycopg", "")
        with psycopg.connect(address, autocommit=True) as listener:
            listener.execute(f"LISTEN {eventlog.NOTIFY_CHANNEL}")
            with runtime.uow() as uow:
                appended = uow.write(eventlog.append_all, seeded.alliance_id, new)
                given = [(event.seq, event.hash, event.at) for event in appended]
            heard = [note.payload for note in listener.notifies(timeout=5, stop_after=1)]
        assert heard == [seeded.alliance_id]
        with runtime.uow() as uow:
            stored = eventlog.chain_events(uow, seeded.alliance_id)[-2:]
            assert eventlog.verify_chain(uow, seeded.alliance_id).ok
            head = eventlog.head_of(uow, seeded.alliance_id)
            assert [event.payload for event in stored] == payloads
            assert [(event.seq, event.hash, event.at) for event in stored] == given
            assert all(event.at.tzinfo is not None and event.at == when for event in stored)
            assert head is not None
            assert (head.seq, head.hash) == (stored[-1].seq, stored[-1].hash)
    finally:
        runtime.close()
        postgres_server.drop_database(name)
