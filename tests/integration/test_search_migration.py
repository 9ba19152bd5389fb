"""A database from before the search migration: partners keep the colours they were shown in,
organization names get their comparison key, and the index is written on the first start."""

from __future__ import annotations

from alembic import command

from coauthor.config import Settings
from coauthor.db import migrate
from coauthor.db.engine import make_engine
from coauthor.domain import model as m
from coauthor.runtime import build_runtime
from coauthor.services.search.query import search

ROWS = """
INSERT INTO organizations (id, name, description, created_at) VALUES
  ('or_z', 'Zenith Metals', '', '2026-01-01 00:00:00'),
  ('or_a', 'acme  Labs', '', '2026-01-01 00:00:00'),
  ('or_m', 'Mercury Ltd', '', '2026-01-01 00:00:00');
INSERT INTO alliances (id, name, kind, stage, purpose, created_at) VALUES
  ('al_1', 'Old Alliance', 'consortium', 'operating', 'Recycle cobalt', '2026-01-01 00:00:00');
INSERT INTO partners (alliance_id, id, organization_id, joined_on, description) VALUES
  ('al_1', 'pa_z', 'or_z', NULL, ''),
  ('al_1', 'pa_a', 'or_a', NULL, ''),
  ('al_1', 'pa_m', 'or_m', NULL, '');
INSERT INTO people (id, email, name, password_hash, is_admin, created_at) VALUES
  ('pe_1', 'olga@example.org', 'Olga Berg', '!', false, '2026-01-01 00:00:00');
INSERT INTO members (alliance_id, id, person_id, partner_id, role, title) VALUES
  ('al_1', 'me_1', 'pe_1', 'pa_m', 'manager', '');
"""


def test_existing_partners_keep_their_colours_and_the_index_is_built(database_url: str) -> None:
    command.upgrade(migrate.alembic_config(database_url), "0002")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            for statement in ROWS.split(";"):
                if statement.strip():
                    connection.exec_driver_sql(statement)
    finally:
        engine.dispose()

    runtime = build_runtime(Settings(database_url=database_url))
    try:
        with runtime.uow() as uow:
            colours = {p.id: p.colour for p in uow.find(m.Partner, alliance_id="al_1")}
            assert colours == {"pa_a": 0, "pa_m": 1, "pa_z": 2}
            keys = {o.id: o.name_key for o in uow.find(m.Organization)}
            assert keys == {"or_a": "acme labs", "or_m": "mercury ltd", "or_z": "zenith metals"}
            olga = uow.get(m.Person, id="pe_1")
            assert [hit.title for hit in search(uow, olga, "cobalt").hits] == ["Old Alliance"]
            assert [hit.title for hit in search(uow, olga, "olga").hits] == ["Olga Berg"]
    finally:
        runtime.close()
