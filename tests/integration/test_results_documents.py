"""A release's results document, built once by whoever stores the release and read by every
process (services/deliberation/documents.py), on SQLite and PostgreSQL: the stored bytes are
the bytes the routed handler built from the stored release before they were stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.db.tables import deliberation_documents
from coauthor.domain import model as m
from coauthor.runtime import RESULTS_CACHE_SIZE, BoundedCache, Runtime, build_runtime
from coauthor.services.accounts import people, tokens
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.deliberation import acts, documents, results
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import AllianceCreate, MemberInput, PartnerInput
from coauthor.web import deliberation_results
from coauthor.web.app import create_app
from coauthor.web.results_polls import ResultsPolls
from coauthor.worker import ResultsWorker

THRESHOLD = 3
VOTERS = 12
STATEMENTS = 6


@pytest.fixture
def runtime(database_url: str) -> Iterator[Runtime]:
    """As the suite's runtime, on a clock with microseconds (a release's time is in its
    document) and the threshold of these tests."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC))
    settings = Settings(database_url=database_url, anonymity_threshold=THRESHOLD)
    runtime = build_runtime(settings, clock=clock)
    yield runtime
    runtime.close()


def _world(runtime: Runtime) -> dict[str, Any]:
    """Two partners, a manager, a site administrator outside the alliance and twelve voters
    in two camps; a deliberation with the votes of all twelve, not released yet."""
    with runtime.uow() as uow:
        admin = people.do_create_person(
            uow, None, PersonInput(email="admin@x.example", name="Admin"), None, bootstrap=True
        )
        admin.is_admin = True
        manager = people.do_create_person(
            uow, None, PersonInput(email="manager@x.example", name="Manager"), None, bootstrap=True
        )
        create = AllianceCreate(name="Stored", kind="consortium", organization_name="North")
        alliance = alliances.do_create_alliance(uow, manager, create)
        south = alliances.do_add_partner(
            uow, manager, alliance.id, PartnerInput(organization_name="South")
        )
        north = next(p for p in uow.find(m.Partner, alliance_id=alliance.id) if p.id != south.id)
        created = acts.do_create_deliberation(
            uow, manager, alliance.id, {"question": "Which way?", "strict_moderation": False}
        )
        statements = [
            acts.do_submit_statement(uow, manager, alliance.id, created.id, {"text": f"Idea {i}"})
            for i in range(STATEMENTS)
        ]
        voters = []
        for index in range(VOTERS):
            partner = north if index % 2 else south
            data = MemberInput(email=f"voter{index}@x.example", partner_id=partner.id)
            member = alliances.do_add_member(uow, manager, alliance.id, data)
            voters.append(uow.get(m.Person, id=member.person_id))
        uow.session.commit()
    world = {
        "alliance": alliance.id,
        "deliberation": created.id,
        "statements": [s.id for s in statements],
        "admin": admin.id,
        "manager": manager.id,
        "voters": [v.id for v in voters],
    }
    for index in range(VOTERS):
        for number in range(STATEMENTS):
            camp = 1 if (index % 2) == (number % 2) else -1
            _vote(runtime, world, index, number, camp if (index + number) % 5 else 0)
    return world


def _vote(runtime: Runtime, world: dict[str, Any], voter: int, statement: int, value: int) -> None:
    with runtime.uow() as uow:
        person = uow.get(m.Person, id=world["voters"][voter])
        body = {"statement_id": world["statements"][statement], "value": value}
        uow.write(acts.do_vote, person, world["alliance"], world["deliberation"], body)
    runtime.clock.advance(timedelta(milliseconds=1250))  # type: ignore[attr-defined]


def _fresh_caches(runtime: Runtime) -> None:
    runtime.results_documents = BoundedCache(RESULTS_CACHE_SIZE)
    runtime.results_json = BoundedCache(RESULTS_CACHE_SIZE)


def _built_from_the_release(runtime: Runtime, world: dict[str, Any], person_id: str) -> bytes:
    """What the routed handler encoded before documents were stored: the latest stored
    release presented for ``person_id`` (``presented_results``) and dumped, in a process
    that had not seen it."""
    _fresh_caches(runtime)
    with runtime.uow() as uow:
        person = uow.get(m.Person, id=person_id)
        version = results.results_version(uow, person, world["alliance"], world["deliberation"])
        document = deliberation_results.presented_results(
            runtime, uow, person, world["alliance"], world["deliberation"], version
        )
    _fresh_caches(runtime)
    return document.model_dump_json().encode()


def _stored(runtime: Runtime, world: dict[str, Any], number: int, status: str) -> bytes | None:
    with runtime.uow() as uow:
        return documents.stored_document(
            uow, world["alliance"], world["deliberation"], number, status
        )


def _version(runtime: Runtime, world: dict[str, Any]) -> str:
    with runtime.uow() as uow:
        manager = uow.get(m.Person, id=world["manager"])
        return results.results_version(uow, manager, world["alliance"], world["deliberation"])


def test_the_worker_stores_the_document_the_release_gives_every_reader(
    runtime: Runtime,
) -> None:
    world = _world(runtime)
    worker = ResultsWorker(runtime)
    assert worker.run_once() == 1
    first = _stored(runtime, world, 1, "open")
    assert first is not None
    readers = [world["voters"][0], world["voters"][1], world["manager"], world["admin"]]
    for person_id in readers:
        assert _built_from_the_release(runtime, world, person_id) == first, person_id
    for voter in range(THRESHOLD + 1):
        _vote(runtime, world, voter, voter % STATEMENTS, -1 if voter % 2 else 1)
    assert worker.run_once() == 1, "a warm-started second release"
    second = _stored(runtime, world, 2, "open")
    assert second is not None and second != first
    for person_id in readers:
        assert _built_from_the_release(runtime, world, person_id) == second, person_id
    text = second.decode()
    assert '"release":2' in text and '"version":"r2-open"' in text
    assert '"released_at":"2026-03-02T09:' in text


def test_every_process_reads_the_stored_bytes(runtime: Runtime, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The routed handler and the poll layer send the stored bytes without presenting the
    release again."""
    world = _world(runtime)
    with runtime.uow() as uow:
        manager = uow.get(m.Person, id=world["manager"])
        uow.write(results.do_release, manager, world["alliance"], world["deliberation"], THRESHOLD)
    stored = _stored(runtime, world, 1, "open")
    assert stored is not None

    def no_presenting(*args: Any) -> Any:
        raise AssertionError("a stored version was presented again")

    monkeypatch.setattr(deliberation_results, "presented_results", no_presenting)
    headers = _bearer(runtime, world["voters"][3])
    url = f"/api/v1/alliances/{world['alliance']}/deliberations/{world['deliberation']}/results"
    _fresh_caches(runtime)
    layered = TestClient(create_app(runtime=runtime)).get(url, headers=headers)
    assert layered.status_code == 200 and layered.content == stored
    assert layered.headers["etag"] == '"r1-open"'
    _fresh_caches(runtime)
    routed = TestClient(_without_layer(runtime)).get(url, headers=headers)
    assert routed.status_code == 200 and routed.content == stored
    assert routed.headers["etag"] == '"r1-open"'
    again = TestClient(_without_layer(runtime)).get(
        url, headers=headers | {"If-None-Match": '"r1-open"'}
    )
    assert again.status_code == 304


@pytest.mark.parametrize("layer", [True, False], ids=["poll-layer", "routed"])
def test_a_version_without_stored_bytes_is_built_as_before_and_stored(
    runtime: Runtime, layer: bool
) -> None:
    """A release made before the documents were stored (its document deleted here), and a
    status changed since the release (a version no worker stored)."""
    world = _world(runtime)
    assert ResultsWorker(runtime).run_once() == 1
    with runtime.uow() as uow:
        uow.session.execute(sa.delete(deliberation_documents))
        uow.session.commit()
    expected = _built_from_the_release(runtime, world, world["manager"])
    headers = _bearer(runtime, world["voters"][2])
    url = f"/api/v1/alliances/{world['alliance']}/deliberations/{world['deliberation']}/results"
    app = create_app(runtime=runtime) if layer else _without_layer(runtime)
    _fresh_caches(runtime)
    answer = TestClient(app).get(url, headers=headers)
    assert answer.status_code == 200 and answer.content == expected
    assert _stored(runtime, world, 1, "open") == expected, "stored for the other processes"
    with runtime.uow() as uow:
        manager = uow.get(m.Person, id=world["manager"])
        uow.write(acts.do_set_status, manager, world["alliance"], world["deliberation"], "closed")
    assert _version(runtime, world) == "r1-closed"
    closed = _built_from_the_release(runtime, world, world["manager"])
    assert b'"status":"closed"' in closed and closed != expected
    answer = TestClient(app).get(url, headers=headers | {"If-None-Match": '"r1-open"'})
    assert answer.status_code == 200 and answer.content == closed
    assert answer.headers["etag"] == '"r1-closed"'
    assert _stored(runtime, world, 1, "closed") == closed
    assert _stored(runtime, world, 1, "open") == expected


def test_inline_mode_stores_the_document_of_the_release_it_publishes(database_url: str) -> None:
    runtime = build_runtime(
        Settings(database_url=database_url, anonymity_threshold=THRESHOLD, results_worker="inline"),
        clock=FixedClock(datetime(2026, 3, 2, 9, 0, 0, 654321, tzinfo=UTC)),
    )
    try:
        world = _world(runtime)
        headers = _bearer(runtime, world["voters"][0])
        url = f"/api/v1/alliances/{world['alliance']}/deliberations/{world['deliberation']}/results"
        answer = TestClient(create_app(runtime=runtime)).get(url, headers=headers)
        assert answer.status_code == 200 and answer.headers["etag"] == '"r1-open"'
        assert answer.content == _stored(runtime, world, 1, "open")
        assert answer.content == _built_from_the_release(runtime, world, world["voters"][5])
    finally:
        runtime.close()


def _bearer(runtime: Runtime, person_id: str) -> dict[str, str]:
    with runtime.uow() as uow:
        _, secret = tokens.do_create_token(uow, uow.get(m.Person, id=person_id), "poll")
        uow.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _without_layer(runtime: Runtime) -> Any:
    app = create_app(runtime=runtime)
    app.user_middleware = [each for each in app.user_middleware if each.cls is not ResultsPolls]
    return app
