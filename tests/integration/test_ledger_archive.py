"""The ledger through the services and the archive, on random move sequences (SQLite):
the cache always equals the replayed acts, and export → import keeps every state.
Plus an archive with an illegal move is refused whole, naming the act's JSON path."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.db.tables import metadata
from coauthor.domain.commitments import Commitment
from coauthor.domain.errors import ValidationFailed
from coauthor.domain.ledger import Move, Party, SpeechAct, replay
from coauthor.interop import archive
from coauthor.runtime import Runtime, build_runtime
from coauthor.services.archive.export import export_alliance
from coauthor.services.archive.importer import do_import_archive
from coauthor.services.ledger import commitments as ledger
from tests.integration.ledger_world import World, seed
from tests.ledger_strategies import runs

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
PEOPLE = {Party.CUSTOMER: "ann", Party.PERFORMER: "bob"}


def runtime_on(path: Path) -> Runtime:
    return build_runtime(
        Settings(database_url=f"sqlite:///{path}", secret_key="ledger-archive"),
        clock=FixedClock(START),
    )


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, str]]:
    """(an empty migrated database, the seeded world's database, the world's alliance id)."""
    folder = tmp_path_factory.mktemp("ledger-archive")
    empty, seeded = folder / "empty.sqlite3", folder / "seeded.sqlite3"
    runtime_on(empty).close()
    runtime = runtime_on(seeded)
    with runtime.uow() as uow:
        world = seed(uow, runtime.clock)  # type: ignore[arg-type]
    runtime.close()
    yield empty, seeded, world.alliance_id


def _payload(act: SpeechAct) -> dict[str, Any]:
    payload: dict[str, Any] = {"move": act.move.value, "text": act.text}
    if act.conditions is not None:
        payload["conditions"] = act.conditions
    for name in ("due_at", "reply_by"):
        if getattr(act, name) is not None:
            payload[name] = getattr(act, name).isoformat()
    if act.evidence:
        payload["evidence"] = list(act.evidence)
    return payload


def play(world: World, acts: list[SpeechAct]) -> Commitment:
    """Make every act through the services, at its moment, checking the cache after each."""
    first = acts[0]
    world.clock.set(first.at)
    payload: dict[str, Any] = {"move": first.move.value, "what": first.text}
    payload["conditions"] = first.conditions
    if first.due_at is not None:
        payload["due_at"] = first.due_at.isoformat()
    if first.move is Move.REQUEST:
        payload["performer_ids"] = [world.people["bob"].id]
        opener = "ann"
    else:
        payload["customer_id"] = world.people["ann"].id
        opener = "bob"
    opened = ledger.do_open_commitment(world.uow, world.people[opener], world.alliance_id, payload)
    assert_cache(world, opened)
    for act in acts[1:]:
        world.clock.set(act.at)
        who = PEOPLE[act.party]
        ledger.do_move(world.uow, world.people[who], world.alliance_id, opened.id, _payload(act))
        assert_cache(world, opened)
    return opened


def assert_cache(world: World, commitment: Commitment) -> None:
    stored = [a.speech_act() for a in ledger.acts_of(world.uow, world.alliance_id, commitment.id)]
    state = replay(stored)
    assert (commitment.phase, commitment.state) == (state.phase, int(state.state))
    assert commitment.awaits == state.phase.awaits
    assert commitment.due_at == (state.terms.due_at if state.terms else None)
    assert commitment.reply_by == state.reply_by
    assert commitment.moves == len(stored)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(runs(START, max_moves=8), min_size=1, max_size=3))
def test_random_moves_keep_their_states_through_export_and_import(
    templates: tuple[Path, Path, str], tmp_path_factory: pytest.TempPathFactory, ledger_runs: list
) -> None:
    empty, seeded, alliance_id = templates
    folder = tmp_path_factory.mktemp("example")
    source_path, target_path = folder / "source.sqlite3", folder / "target.sqlite3"
    shutil.copyfile(seeded, source_path)
    shutil.copyfile(empty, target_path)
    source, target = runtime_on(source_path), runtime_on(target_path)
    try:
        with source.uow() as uow:
            world = seed_view(uow, source, alliance_id)
            for acts in ledger_runs:
                play(world, acts)
            uow.session.commit()
            before = states(uow, alliance_id)
            text = archive.dumps_archive(export_alliance(uow, None, alliance_id, bootstrap=True))
        with target.uow() as uow:
            uow.write(do_import_archive, None, archive.loads_archive(text), bootstrap=True)
            assert states(uow, alliance_id) == before
            again = archive.dumps_archive(export_alliance(uow, None, alliance_id, bootstrap=True))
        assert again == text
    finally:
        source.close()
        target.close()


def seed_view(uow: Any, runtime: Runtime, alliance_id: str) -> World:
    """The seeded world's people and ids, read back from its database."""
    from coauthor.domain import model as m

    people = {}
    for member in uow.find(m.Member, alliance_id=alliance_id):
        person = uow.get(m.Person, id=member.person_id)
        people[person.email.split("@")[0]] = person
    return World(uow, runtime.clock, alliance_id, people, {}, {})  # type: ignore[arg-type]


def states(uow: Any, alliance_id: str) -> dict[str, tuple]:
    """Each commitment's cache and the state its stored acts replay to."""
    found = {}
    for c in uow.find(Commitment, alliance_id=alliance_id):
        acts = [a.speech_act() for a in ledger.acts_of(uow, alliance_id, c.id)]
        found[c.id] = (c.phase, c.state, c.awaits, c.due_at, c.reply_by, c.moves, replay(acts))
    return found


def test_an_archive_with_an_illegal_move_is_refused_whole(
    templates: tuple[Path, Path, str], tmp_path: Path
) -> None:
    empty, seeded, alliance_id = templates
    source_path, target_path = tmp_path / "source.sqlite3", tmp_path / "target.sqlite3"
    shutil.copyfile(seeded, source_path)
    shutil.copyfile(empty, target_path)
    source, target = runtime_on(source_path), runtime_on(target_path)
    try:
        with source.uow() as uow:
            world = seed_view(uow, source, alliance_id)
            asked = world.ask("ann", ["bob"])
            world.move("bob", asked, "promise")
            uow.session.commit()
            document = json.loads(
                archive.dumps_archive(export_alliance(uow, None, alliance_id, bootstrap=True))
            )
        [commitment] = document["commitments"]
        commitment["acts"][1]["move"] = "declare_satisfied"
        with target.engine.connect() as connection:
            before = {
                t.name: connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables
            }
        with target.uow() as uow, pytest.raises(ValidationFailed) as refused:
            uow.write(do_import_archive, None, document, bootstrap=True)
        [error] = refused.value.errors
        assert archive.json_path(error.loc) == "$.commitments[0].acts[1].move"
        assert error.message.startswith("The performer cannot declare satisfied now.")
        with target.engine.connect() as connection:
            after = {
                t.name: connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables
            }
        assert after == before
        commitment["acts"][1] |= {"move": "promise", "actor_email": "nobody@example.org"}
        with target.uow() as uow, pytest.raises(ValidationFailed) as refused:
            uow.write(do_import_archive, None, document, bootstrap=True)
        assert [archive.json_path(e.loc) for e in refused.value.errors] == [
            "$.commitments[0].acts[1].actor_email"
        ]
    finally:
        source.close()
        target.close()
