"""Migration 0011 converts the figures' facts both ways: down to the 27 columns and the waits
table of 0010, and up again to one row of binary records, with the same figures after."""

from __future__ import annotations

from datetime import timedelta

from alembic import command

from coauthor.analysis.ledger_metrics import table_metrics
from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.db import migrate
from coauthor.db.engine import make_engine
from coauthor.runtime import build_runtime
from coauthor.services.ledger import facts
from tests.integration.conftest import INTEGRATION_START
from tests.integration.ledger_world import seed


def test_the_facts_survive_the_migration_down_and_up(database_url: str) -> None:
    clock = FixedClock(INTEGRATION_START)
    runtime = build_runtime(Settings(database_url=database_url), clock=clock)
    with runtime.uow() as uow:
        world = seed(uow, clock)
        kept = world.ask("ann", ["bob"], conditions="c", due_on="2026-03-10")
        world.later(5)
        world.move("bob", kept, "promise")
        world.move("bob", kept, "report_completion")
        world.later(23)
        world.move("ann", kept, "declare_satisfied")
        waiting = world.offer("lee", "nina")
        uow.session.commit()
        clock.advance(timedelta(days=20))
        before = table_metrics(facts.load_table(uow, world.alliance_id), clock.now())
        kept_id, waiting_id, alliance_id = kept.id, waiting.id, world.alliance_id
    runtime.close()

    config = migrate.alembic_config(database_url)
    command.downgrade(config, "0010")
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            old = connection.exec_driver_sql(
                "SELECT commitment_id, opener, promised, ended, outcome, waiting_state, "
                "waiting_answerer FROM ledger_facts ORDER BY opened_at"
            ).all()
            waits = connection.exec_driver_sql(
                "SELECT commitment_id, ordinal, state, answerer, hours FROM ledger_waits "
                "ORDER BY hours"
            ).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in old] == [
        (kept_id, "customer", 1, 5, "kept", None, None),
        (waiting_id, "performer", 0, None, None, 2, "customer"),
    ]
    # Bob promised 6 hours after the request; Ann declared 24 hours after the report.
    assert [tuple(row) for row in waits] == [
        (kept_id, 1, 2, "performer", 6.0),
        (kept_id, 2, 4, "customer", 24.0),
    ]

    command.upgrade(config, "head")
    runtime = build_runtime(Settings(database_url=database_url), clock=clock)
    try:
        with runtime.uow() as uow:
            after = table_metrics(facts.load_table(uow, alliance_id), clock.now())
    finally:
        runtime.close()
    assert after == before
    assert after.reliability.to_dict() == {"value": 1.0, "count": 1, "of": 1}
    assert after.answer_waits.answered_hours == (6.0,)
    assert after.answer_waits.waiting_hours == (480.0,)  # Nina has not answered in 20 days
