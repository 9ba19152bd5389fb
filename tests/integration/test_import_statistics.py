"""A large import refreshes PostgreSQL's planner statistics of the tables it filled.

Until autovacuum analyses a table, PostgreSQL plans as if it were nearly empty: right after
bench_live's import, a vote's lookup by its whole key checked every vote of the
deliberation (``db/bulk.refresh_statistics``).
"""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa

from coauthor.analysis.opinion import VoteMatrix
from coauthor.config import Settings
from coauthor.db import bulk
from coauthor.runtime import build_runtime
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.accounts.people import do_create_person
from coauthor.services.deliberation.transfer import Conversation, do_import_conversation
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import AllianceCreate
from tests.pg import PostgresServer

PARTICIPANTS, STATEMENTS = 250, 48


def _conversation() -> Conversation:
    rows, cols = np.divmod(np.arange(PARTICIPANTS * STATEMENTS), STATEMENTS)
    values = (rows + cols) % 3 - 1
    matrix = VoteMatrix.from_arrays(
        rows,
        cols,
        values,
        participant_ids=[str(i) for i in range(PARTICIPANTS)],
        statement_ids=[str(j) for j in range(STATEMENTS)],
    )
    texts = {str(j): f"Statement {j}" for j in range(STATEMENTS)}
    return Conversation(matrix, texts, "What next?", "Synthetic", None)


@pytest.mark.postgres
def test_a_large_import_leaves_its_tables_analysed(postgres_server: PostgresServer) -> None:
    assert PARTICIPANTS * STATEMENTS >= bulk.ANALYZE_AFTER_ROWS
    name = "coauthor_import_statistics"
    postgres_server.create_database(name)
    runtime = build_runtime(Settings(database_url=postgres_server.url(name)))
    try:
        with runtime.uow() as uow:
            founder = do_create_person(
                uow, None, PersonInput(email="f@x.example", name="F"), None, bootstrap=True
            )
            create = AllianceCreate(name="Big", kind="consortium", organization_name="Org")
            alliance = alliances.do_create_alliance(uow, founder, create)
            do_import_conversation(uow, None, alliance.id, _conversation(), bootstrap=True)
            uow.session.commit()
        with runtime.engine.connect() as connection:
            estimated = dict(
                connection.execute(
                    sa.text(
                        "SELECT relname, reltuples FROM pg_class "
                        "WHERE relname IN ('votes', 'participants')"
                    )
                ).all()
            )
    finally:
        runtime.close()
        postgres_server.drop_database(name)
    assert estimated == {"votes": PARTICIPANTS * STATEMENTS, "participants": PARTICIPANTS}
