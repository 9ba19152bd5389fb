"""The audit-grade event log on SQLite and PostgreSQL: heads, anchors and the keyed hash.

Each test tampers with the database behind the application's back, as someone
holding the database (but not the event-log key, nor the anchor file) could,
and checks what `coauthor verify` says.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from coauthor.cli import app
from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.eventkey import EventKey
from coauthor.runtime import Runtime, build_runtime
from coauthor.services import eventlog
from tests.integration.conftest import INTEGRATION_START
from tests.integration.test_eventlog import seed_alliance

KEY = "k" * 24 + "-event-log-key-for-tests"
OTHER_KEY = "o" * 24 + "-another-key-for-the-tests"


def run_verify(database_url: str, *args: str, key: str = "") -> Any:
    env = {"COAUTHOR_DATABASE_URL": database_url, "COAUTHOR_EVENT_LOG_KEY": key}
    return CliRunner().invoke(app, ["verify", *args], env=env)


@pytest.fixture
def keyed_runtime(database_url: str) -> Iterator[Runtime]:
    settings = Settings(database_url=database_url, event_log_key=KEY)
    runtime = build_runtime(settings, clock=FixedClock(INTEGRATION_START))
    yield runtime
    runtime.close()


def execute(runtime: Runtime, statement: str, **params: Any) -> int:
    with runtime.engine.begin() as connection:
        return connection.execute(sa.text(statement), params).rowcount


def move_head_to_last_event(runtime: Runtime, chain_id: str) -> None:
    """What a careful tamperer does after deleting events: point the head at the new end."""
    execute(
        runtime,
        "UPDATE chain_heads SET seq = (SELECT MAX(seq) FROM events WHERE chain_id = :chain),"
        " hash = (SELECT hash FROM events WHERE chain_id = :chain AND seq ="
        " (SELECT MAX(seq) FROM events WHERE chain_id = :chain)) WHERE chain_id = :chain",
        chain=chain_id,
    )


def rewrite_from(runtime: Runtime, chain_id: str, seq: int, payload: dict[str, Any]) -> None:
    """Change event ``seq``'s payload and recompute every hash after it, and the head's.

    The MACs are left as they were: without the key nobody can compute new ones.
    """
    with runtime.uow() as uow:
        events = eventlog.chain_events(uow, chain_id)
        prev = events[seq - 2].hash if seq > 1 else eventlog.GENESIS
        for event in events[seq - 1 :]:
            if event.seq == seq:
                event.payload = payload
            event.prev_hash = prev
            event.hash = eventlog.event_hash(
                chain_id, event.seq, event.at, event.actor_id, event.kind, event.payload, prev
            )
            prev = event.hash
        uow.session.execute(
            sa.text("UPDATE chain_heads SET hash = :hash WHERE chain_id = :chain"),
            {"hash": prev, "chain": chain_id},
        )
        uow.session.commit()


# --- without a key: the head and the alliances table -------------------------------------


def test_deleting_the_last_events_is_found_by_the_head(runtime: Runtime, database_url: str) -> None:
    alliance_id = seed_alliance(runtime)
    assert execute(runtime, "DELETE FROM events WHERE chain_id = :c AND seq >= 6", c=alliance_id)
    result = run_verify(database_url)
    assert result.exit_code == 1
    assert (
        f"error: chain {alliance_id}: head: the chain ends at event 5 but its head records "
        "event 7: events are missing from its end"
    ) in result.stderr


def test_deleting_a_whole_chain_is_found(runtime: Runtime, database_url: str) -> None:
    alliance_id = seed_alliance(runtime)
    execute(runtime, "DELETE FROM events WHERE chain_id = :c", c=alliance_id)
    execute(runtime, "DELETE FROM chain_heads WHERE chain_id = :c", c=alliance_id)
    result = run_verify(database_url)
    assert result.exit_code == 1
    assert (
        f"error: chain {alliance_id}: event 1: the chain is missing: no events and no head"
        in result.stderr
    )
    assert "ok: chain site: 3 events intact" in result.stdout


def test_deleting_the_whole_site_chain_is_found(runtime: Runtime, database_url: str) -> None:
    seed_alliance(runtime)
    execute(runtime, "DELETE FROM events WHERE chain_id = 'site'")
    execute(runtime, "DELETE FROM chain_heads WHERE chain_id = 'site'")
    result = run_verify(database_url)
    assert result.exit_code == 1
    assert "error: chain site: event 1: the chain is missing" in result.stderr


def test_an_empty_database_verifies(database_url: str) -> None:
    result = run_verify(database_url)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""


# --- anchors --------------------------------------------------------------------------------


def print_heads(database_url: str, tmp_path: Path, key: str = "") -> Path:
    result = run_verify(database_url, "--print-heads", key=key)
    assert result.exit_code == 0, result.stderr
    path = tmp_path / "heads.json"
    path.write_text(result.stdout)
    return path


def test_print_heads_writes_each_chains_last_seq_and_hash(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    alliance_id = seed_alliance(runtime)
    document = json.loads(print_heads(database_url, tmp_path).read_text())
    with runtime.uow() as uow:
        expected = [
            {"chain": chain, "seq": last.seq, "hash": last.hash}
            for chain in sorted((alliance_id, "site"))
            for last in eventlog.chain_events(uow, chain)[-1:]
        ]
    assert document["format"] == "coauthor-heads/1"
    assert document["at"].endswith("Z")
    assert datetime.fromisoformat(document["at"]) > INTEGRATION_START
    assert sorted(document["heads"], key=lambda head: head["chain"]) == expected
    assert [head["seq"] for head in document["heads"] if head["chain"] == alliance_id] == [7]


def test_an_anchor_still_matches_a_chain_that_only_grew(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    alliance_id = seed_alliance(runtime)
    anchor = print_heads(database_url, tmp_path)
    seed_alliance_writes(runtime, alliance_id)
    result = run_verify(database_url, "--anchor", str(anchor))
    assert result.exit_code == 0, result.stderr
    assert f"ok: chain {alliance_id}: 8 events intact, matches the anchor at event 7" in (
        result.stdout
    )


def seed_alliance_writes(runtime: Runtime, alliance_id: str) -> None:
    from coauthor.services.accounts import people
    from coauthor.services.mechanics import registers

    with runtime.uow() as uow:
        ann = people.person_by_email(uow, "ann@nordwerk.example")
        payload = {"title": "Side letter", "kind": "other"}
        uow.write(registers.do_create_item, ann, alliance_id, "agreement", payload)


def test_truncating_the_site_chain_and_its_head_is_found_by_an_anchor(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    seed_alliance(runtime)
    anchor = print_heads(database_url, tmp_path)
    execute(runtime, "DELETE FROM events WHERE chain_id = 'site' AND seq = 3")
    move_head_to_last_event(runtime, "site")
    assert run_verify(database_url).exit_code == 0  # the chain alone holds
    result = run_verify(database_url, "--anchor", str(anchor))
    assert result.exit_code == 1
    assert "error: chain site: anchor: the chain ends at event 2, before event 3" in result.stderr


def test_a_recomputed_chain_is_found_by_an_anchor(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    alliance_id = seed_alliance(runtime)
    anchor = print_heads(database_url, tmp_path)
    rewrite_from(runtime, alliance_id, 4, {"id": "ag_forged", "title": "Forged"})
    assert run_verify(database_url).exit_code == 0  # the chain alone holds
    result = run_verify(database_url, "--anchor", str(anchor))
    assert result.exit_code == 1
    assert f"error: chain {alliance_id}: anchor: event 7 has another hash" in result.stderr


def test_a_deleted_chain_is_found_by_an_anchor(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    alliance_id = seed_alliance(runtime)
    anchor = print_heads(database_url, tmp_path)
    for table in ("events", "chain_heads"):
        execute(runtime, f"DELETE FROM {table} WHERE chain_id = :c", c=alliance_id)
    result = run_verify(database_url, "--anchor", str(anchor))
    assert result.exit_code == 1
    assert f"error: chain {alliance_id}: anchor: the chain no longer exists" in result.stderr


def test_an_anchored_chain_the_database_no_longer_knows_is_found(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    """An alliance deleted with all its rows leaves no trace but in the anchor."""
    seed_alliance(runtime)
    anchor = print_heads(database_url, tmp_path)
    document = json.loads(anchor.read_text())
    gone = {"chain": "al_GoneWithAllRows1", "seq": 12, "hash": "a" * 64}
    anchor.write_text(json.dumps({**document, "heads": [*document["heads"], gone]}))
    result = run_verify(database_url, "--anchor", str(anchor))
    assert result.exit_code == 1
    assert "error: chain al_GoneWithAllRows1: anchor: the chain no longer exists" in result.stderr
    assert "ok: chain site: 3 events intact, matches the anchor at event 3" in result.stdout


def test_print_heads_prints_nothing_for_a_broken_log(runtime: Runtime, database_url: str) -> None:
    alliance_id = seed_alliance(runtime)
    execute(runtime, "UPDATE events SET kind = 'x' WHERE chain_id = :c AND seq = 2", c=alliance_id)
    result = run_verify(database_url, "--print-heads")
    assert result.exit_code == 1
    assert result.stdout == ""


BAD_ANCHORS = {
    "not JSON": ("{", "$: not valid JSON at line 1, column 2"),
    "another format": (
        {"format": "x", "at": "2026-01-01T00:00:00Z", "heads": []},
        "$.format: must be coauthor-heads/1",
    ),
    "a malformed chain id": (
        {
            "format": "coauthor-heads/1",
            "at": "2026-01-01T00:00:00Z",
            "heads": [{"chain": "../../etc", "seq": 1, "hash": "0" * 64}],
        },
        "$.heads[0].chain: String should match pattern",
    ),
}


@pytest.mark.parametrize("case", BAD_ANCHORS)
def test_a_malformed_anchor_exits_2_naming_the_json_path(
    runtime: Runtime, database_url: str, tmp_path: Path, case: str
) -> None:
    content, message = BAD_ANCHORS[case]
    path = tmp_path / "anchor.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    result = run_verify(database_url, "--anchor", str(path))
    assert result.exit_code == 2
    assert f"error: {path}: {message}" in result.stderr
    assert "Traceback" not in result.stderr


# --- the keyed hash -------------------------------------------------------------------------


def test_a_keyed_log_verifies_with_its_key(keyed_runtime: Runtime, database_url: str) -> None:
    alliance_id = seed_alliance(keyed_runtime)
    key = EventKey(KEY)
    with keyed_runtime.uow() as uow:
        events = eventlog.chain_events(uow, alliance_id)
        assert all(e.key_id == key.key_id and e.mac == key.event_mac(e.hash) for e in events)
        head = eventlog.head_of(uow, alliance_id)
        assert head is not None and head.mac == key.head_mac(alliance_id, 7, events[-1].hash)
    result = run_verify(database_url, key=KEY)
    assert result.exit_code == 0, result.stderr
    assert f"ok: chain {alliance_id}: 7 events intact, MACs checked" in result.stdout
    without = run_verify(database_url)
    assert without.exit_code == 0
    assert f"ok: chain {alliance_id}: 7 events intact, 7 MACs not checked: no key set" in (
        without.stdout
    )


def test_a_recomputed_chain_is_found_with_the_key(
    keyed_runtime: Runtime, database_url: str
) -> None:
    alliance_id = seed_alliance(keyed_runtime)
    rewrite_from(keyed_runtime, alliance_id, 4, {"id": "ag_forged", "title": "Forged"})
    assert run_verify(database_url).exit_code == 0  # without the key it cannot be told
    result = run_verify(database_url, key=KEY)
    assert result.exit_code == 1
    assert (
        f"error: chain {alliance_id}: event 4: its MAC does not match: the chain was recomputed"
    ) in result.stderr


def test_stripping_the_macs_of_a_recomputed_chain_is_found(
    keyed_runtime: Runtime, database_url: str
) -> None:
    alliance_id = seed_alliance(keyed_runtime)
    rewrite_from(keyed_runtime, alliance_id, 4, {"id": "ag_forged", "title": "Forged"})
    execute(
        keyed_runtime,
        "UPDATE events SET key_id = NULL, mac = NULL WHERE chain_id = :c",
        c=alliance_id,
    )
    result = run_verify(database_url, key=KEY)
    assert result.exit_code == 1
    assert f"chain {alliance_id}: event 1: carries no MAC though this server keys its log" in (
        result.stderr
    )


def test_truncating_a_keyed_chain_and_its_head_is_found(
    keyed_runtime: Runtime, database_url: str
) -> None:
    seed_alliance(keyed_runtime)
    execute(keyed_runtime, "DELETE FROM events WHERE chain_id = 'site' AND seq = 3")
    move_head_to_last_event(keyed_runtime, "site")
    result = run_verify(database_url, key=KEY)
    assert result.exit_code == 1
    assert "error: chain site: head: its MAC does not match: the chain's end was moved" in (
        result.stderr
    )


def test_another_key_is_not_this_servers(keyed_runtime: Runtime, database_url: str) -> None:
    alliance_id = seed_alliance(keyed_runtime)
    result = run_verify(database_url, alliance_id, key=OTHER_KEY)
    assert result.exit_code == 1
    assert f"key {EventKey(KEY).key_id}, not this server's key" in result.stderr


def test_seal_keys_a_log_written_before_the_key_was_set(
    runtime: Runtime, database_url: str
) -> None:
    alliance_id = seed_alliance(runtime)
    before = run_verify(database_url, key=KEY)
    assert before.exit_code == 1
    assert "event 1: carries no MAC though this server keys its log" in before.stderr
    sealed = run_verify(database_url, "--seal", key=KEY)
    assert sealed.exit_code == 0, sealed.stderr
    assert "sealed 10 events in 2 chains" in sealed.stderr
    assert f"ok: chain {alliance_id}: 7 events intact, MACs checked" in sealed.stdout
    assert "ok: chain site: 4 events intact, MACs checked" in sealed.stdout
    with runtime.uow() as uow:
        [*_, last] = eventlog.chain_events(uow, "site")
        assert last.kind == "eventlog.sealed"
        assert last.payload == {
            "key_id": EventKey(KEY).key_id,
            "events": {alliance_id: 7, "site": 3},
        }
    assert run_verify(database_url, key=KEY).exit_code == 0


def test_seal_refuses_a_broken_log_and_keys_nothing(runtime: Runtime, database_url: str) -> None:
    alliance_id = seed_alliance(runtime)
    execute(runtime, "UPDATE events SET kind = 'x' WHERE chain_id = :c AND seq = 2", c=alliance_id)
    result = run_verify(database_url, "--seal", key=KEY)
    assert result.exit_code == 2
    assert f"nothing was sealed: these chains do not hold: {alliance_id} (event 2" in result.stderr
    with runtime.uow() as uow:
        assert all(e.mac is None for e in eventlog.chain_events(uow, "site"))


def test_seal_needs_a_key(runtime: Runtime, database_url: str) -> None:
    seed_alliance(runtime)
    result = run_verify(database_url, "--seal")
    assert result.exit_code == 2
    assert "COAUTHOR_EVENT_LOG_KEY: is not set" in result.stderr


def test_a_short_key_is_refused(database_url: str) -> None:
    result = run_verify(database_url, key="short")
    assert result.exit_code == 2
    assert "COAUTHOR_EVENT_LOG_KEY: needs at least 32 characters" in result.stderr


def test_unkeyed_runtime_of_same_database_reads_a_keyed_log(
    keyed_runtime: Runtime, database_url: str
) -> None:
    seed_alliance(keyed_runtime)
    plain = build_runtime(Settings(database_url=database_url))
    try:
        with plain.uow() as uow:
            reports = eventlog.verify_all(uow)
        assert all(report.ok for report in reports)
        assert {r.chain_id: r.unchecked_macs for r in reports}["site"] == 3
    finally:
        plain.close()
