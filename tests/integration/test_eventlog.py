"""The event log on SQLite and PostgreSQL: every write appends; `verify` finds tampering."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from coauthor.cli import app
from coauthor.domain import model as m
from coauthor.runtime import Runtime
from coauthor.services import eventlog
from coauthor.services.accounts import people
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.mechanics import alliances, registers
from coauthor.services.mechanics.inputs import AllianceCreate, PartnerInput


def event_count(runtime: Runtime, chain_id: str) -> int:
    with runtime.uow() as uow:
        return len(eventlog.chain_events(uow, chain_id))


def seed_alliance(runtime: Runtime) -> str:
    """An alliance with a few writes: its chain has 7 events."""
    with runtime.uow() as uow:
        data = PersonInput(email="ann@nordwerk.example", name="Ann")
        ann = people.do_create_person(uow, None, data, None, bootstrap=True)
        create = AllianceCreate(name="Helios", kind="joint_venture", organization_name="Nordwerk")
        alliance = alliances.do_create_alliance(uow, ann, create)
        alliances.do_add_partner(uow, ann, alliance.id, PartnerInput(organization_name="Lab"))
        for title in ("NDA", "MOU", "JV agreement"):
            payload = {"title": title, "kind": "other"}
            registers.do_create_item(uow, ann, alliance.id, "agreement", payload)
        uow.session.commit()
        return alliance.id


def verify(database_url: str, *args: str) -> object:
    return CliRunner().invoke(app, ["verify", *args], env={"COAUTHOR_DATABASE_URL": database_url})


def test_every_write_appends_one_event_to_its_chain(runtime: Runtime) -> None:
    alliance_id = seed_alliance(runtime)
    assert event_count(runtime, alliance_id) == 7
    assert event_count(runtime, eventlog.SITE_CHAIN) == 3  # a person, two organizations
    with runtime.uow() as uow:
        ann = people.person_by_email(uow, "ann@nordwerk.example")
        [agreement, *_] = uow.find(m.Agreement, alliance_id=alliance_id)
        changed = {"title": "NDA (signed)", "kind": "nda"}
        uow.write(registers.do_update_item, ann, alliance_id, "agreement", agreement.id, changed)
        uow.write(registers.do_delete_item, ann, alliance_id, "agreement", agreement.id)
    with runtime.uow() as uow:
        events = eventlog.chain_events(uow, alliance_id)
        assert [e.kind for e in events[-2:]] == ["agreement.updated", "agreement.deleted"]
        assert [e.seq for e in events] == list(range(1, 10))
        assert all(e.actor_id == ann.id for e in events)
        assert all(report.ok for report in eventlog.verify_all(uow))


def test_an_intact_log_verifies(runtime: Runtime, database_url: str) -> None:
    alliance_id = seed_alliance(runtime)
    result = verify(database_url)
    assert result.exit_code == 0, result.stderr
    assert f"ok: chain {alliance_id}: 7 events intact" in result.stdout
    assert "ok: chain site: 3 events intact" in result.stdout
    assert verify(database_url, alliance_id).exit_code == 0


FORGED_PAYLOAD = {"id": "ag_forged", "kind": "jv_agreement", "title": "JV agreement"}
TAMPERING = {
    "event row": sa.text(
        "UPDATE events SET kind = 'agreement.deleted' WHERE chain_id = :chain AND seq = 4"
    ),
    "event payload": sa.text(
        "UPDATE events SET payload = :payload WHERE chain_id = :chain AND seq = 4"
    ).bindparams(sa.bindparam("payload", value=FORGED_PAYLOAD, type_=sa.JSON)),
}


@pytest.mark.parametrize("tampering", TAMPERING)
def test_verify_names_the_first_event_edited_behind_the_apps_back(
    runtime: Runtime, database_url: str, tampering: str
) -> None:
    alliance_id = seed_alliance(runtime)
    with runtime.engine.begin() as connection:
        assert connection.execute(TAMPERING[tampering], {"chain": alliance_id}).rowcount == 1
    result = verify(database_url)
    assert result.exit_code == 1
    assert f"error: chain {alliance_id}: event 4: content does not match its hash" in result.stderr
    assert "ok: chain site: 3 events intact" in result.stdout
    assert "Traceback" not in result.stderr
    assert verify(database_url, alliance_id).exit_code == 1


def test_a_deleted_event_is_found(runtime: Runtime, database_url: str) -> None:
    alliance_id = seed_alliance(runtime)
    with runtime.engine.begin() as connection:
        connection.execute(
            sa.text("DELETE FROM events WHERE chain_id = :chain AND seq = 2"),
            {"chain": alliance_id},
        )
    result = verify(database_url, alliance_id)
    assert result.exit_code == 1
    assert f"chain {alliance_id}: event 3: expected event 2 here" in result.stderr


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_on_postgresql_an_append_notifies_its_chain_at_commit(
    runtime: Runtime, database_url: str
) -> None:
    """The event, the head and the notification go in one statement on PostgreSQL: the
    listener hears the chain once the write commits, not before, and the chain verifies."""
    import psycopg

    url = runtime.engine.url.set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as listener:
        listener.execute(f"LISTEN {eventlog.NOTIFY_CHANNEL}")
        with runtime.uow() as uow:
            data = PersonInput(email="ann@nordwerk.example", name="Ann")
            ann = people.do_create_person(uow, None, data, None, bootstrap=True)
            create = AllianceCreate(name="Helios", kind="joint_venture", organization_name="N")
            alliance = alliances.do_create_alliance(uow, ann, create)
            uow.session.flush()
            assert list(listener.notifies(timeout=0.3)) == [], "heard before the commit"
            uow.session.commit()
        heard = {note.payload for note in listener.notifies(timeout=1.0, stop_after=2)}
    assert alliance.id in heard
    with runtime.uow() as uow:
        events = eventlog.chain_events(uow, alliance.id)
        assert [e.seq for e in events] == list(range(1, len(events) + 1)) and events
        assert all(report.ok for report in eventlog.verify_all(uow))
