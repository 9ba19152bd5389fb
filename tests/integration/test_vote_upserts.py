"""The vote upserts' rule, statement by statement, on SQLite and PostgreSQL: a vote that
finds the same value stored for its cell (sent twice, or stored meanwhile by another
request after the facts were read) keeps the stored time; a vote of another value takes
its value and time; a cell set outright takes both whatever it holds.

The group path reaches these statements only in a race (its facts query sees a stored
vote of the same value and writes nothing), so the rule is checked here directly.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from test_concurrency import seed

from coauthor.config import Settings
from coauthor.db import tables
from coauthor.domain import model as m
from coauthor.runtime import build_runtime
from coauthor.services.deliberation import acts, voting


def _stored(connection: sa.Connection, key: dict[str, Any]) -> dict[str, Any]:
    votes = tables.votes
    where = [votes.c[name] == value for name, value in key.items()]
    return dict(connection.execute(sa.select(votes).where(*where)).mappings().one())


def _upsert(connection: sa.Connection, row: dict[str, Any], **kind: bool) -> None:
    connection.execute(voting._upsert_statement(connection.dialect.name, **kind), [row])


def _unnested_upsert(connection: sa.Connection, row: dict[str, Any]) -> None:
    arrays = {f"vote_{name}s": [row[name]] for name in voting.VOTE_COLUMNS}
    connection.execute(voting._unnested_upsert(), arrays)


def test_a_vote_of_the_stored_value_keeps_its_time(database_url: str) -> None:
    settings = Settings(database_url=database_url, secret_key="vote-upserts")
    seeded = seed(settings)
    runtime = build_runtime(settings)
    try:
        with runtime.uow() as uow:
            [founder] = uow.find(m.Person, email="founder@a.example")
            payload = {"statement_id": seeded.statements[0], "value": 1}
            acts.do_vote(uow, founder, seeded.alliance_id, seeded.deliberation_id, payload)
            connection = uow.session.connection()
            first = _stored(connection, {"statement_id": seeded.statements[0]})
            key = {name: first[name] for name in first if name not in ("value", "at")}
            later = first["at"] + timedelta(minutes=5)
            writers = [_upsert]
            if connection.dialect.name == "postgresql":
                writers.append(_unnested_upsert)
            for write in writers:
                write(connection, first | {"at": later})
                assert _stored(connection, key)["at"] == first["at"], write
            for step, (write, value) in enumerate(zip(writers, (-1, 0), strict=False), start=1):
                moved = first | {"value": value, "at": later + timedelta(minutes=step)}
                write(connection, moved)
                stored = _stored(connection, key)
                assert (stored["value"], stored["at"]) == (moved["value"], moved["at"]), write
            same_value = _stored(connection, key)["value"]
            outright = first | {"value": same_value, "at": later + timedelta(hours=1)}
            _upsert(connection, outright, only_if_changed=False)
            assert _stored(connection, key)["at"] == outright["at"], "set outright"
            uow.session.rollback()
    finally:
        runtime.close()
