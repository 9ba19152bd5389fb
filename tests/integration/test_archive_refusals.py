"""Archive import refuses instead of crashing, on SQLite and PostgreSQL.

Each hostile archive is refused with a ValidationFailed naming its JSON path,
exit code 2 from the CLI, and nothing written; a fuzz test mutates a real
archive and accepts only a clean refusal or an import that then verifies.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from coauthor.cli import app
from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.db.tables import metadata
from coauthor.domain import model as m
from coauthor.domain.errors import ValidationFailed
from coauthor.eventkey import EventKey
from coauthor.interop import archive
from coauthor.runtime import Runtime, build_runtime
from coauthor.services import eventlog
from coauthor.services.accounts import people
from coauthor.services.archive.export import export_alliance
from coauthor.services.archive.importer import do_import_archive
from coauthor.services.deliberation import acts
from coauthor.services.mechanics import alliances, registers
from coauthor.services.mechanics.inputs import MemberInput, PartnerNoteInput
from tests.integration.conftest import INTEGRATION_START
from tests.integration.test_eventlog import seed_alliance
from tests.pg import PostgresServer

KEY = "a-thirty-two-character-event-key-for-archives"
Document = dict[str, Any]


def build_small_alliance(runtime: Runtime) -> str:
    """Every kind of section, a few items each: an alliance small enough to import quickly."""
    alliance_id = seed_alliance(runtime)
    with runtime.uow() as uow:
        ann = people.person_by_email(uow, "ann@nordwerk.example")
        own = uow.find_one(m.Member, person_id=ann.id)
        assert own is not None
        partners = sorted(
            uow.find(m.Partner, alliance_id=alliance_id), key=lambda p: p.id != own.partner_id
        )
        member = alliances.do_add_member(
            uow, ann, alliance_id, MemberInput(email="bo@lab.example", partner_id=partners[1].id)
        )
        note = PartnerNoteInput(body="Keep the pilot small.")
        alliances.do_add_partner_note(uow, ann, alliance_id, partners[0].id, note)

        def item(kind: str, payload: Document) -> Any:
            return registers.do_create_item(uow, ann, alliance_id, kind, payload)

        shares = [{"partner_id": p.id, "percent": "50.00"} for p in partners]
        item("risk", {"title": "Price collapse", "likelihood": 3, "impact": 4, "shares": shares})
        item(
            "contribution",
            {
                "partner_id": partners[0].id,
                "kind": "money",
                "direction": "in",
                "description": "Capital call",
                "amount": "1000.00",
                "unit": "EUR",
                "on": "2026-01-19",
            },
        )
        body = item(
            "body",
            {"name": "Steering", "kind": "steering_committee", "seats": [{"member_id": member.id}]},
        )
        item(
            "meeting",
            {
                "body_id": body.id,
                "title": "Kick-off",
                "starts_at": "2026-02-02T09:00:00Z",
                "attendees": [{"member_id": member.id}],
            },
        )
        question = {"question": "What matters most?", "strict_moderation": False}
        deliberation = acts.do_create_deliberation(uow, ann, alliance_id, question)
        statement = acts.do_submit_statement(
            uow, ann, alliance_id, deliberation.id, {"text": "Safety first."}
        )
        vote = {"statement_id": statement.id, "value": 1}
        acts.do_vote(uow, ann, alliance_id, deliberation.id, vote)
        uow.session.commit()
    return alliance_id


def export_document(runtime: Runtime, alliance_id: str) -> Document:
    with runtime.uow() as uow:
        text = archive.dumps_archive(export_alliance(uow, None, alliance_id, bootstrap=True))
    return json.loads(text)


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory: pytest.TempPathFactory) -> Document:
    path = tmp_path_factory.mktemp("small") / "small.sqlite3"
    runtime = build_runtime(
        Settings(database_url=f"sqlite:///{path}"), clock=FixedClock(INTEGRATION_START)
    )
    try:
        return export_document(runtime, build_small_alliance(runtime))
    finally:
        runtime.close()


def row_counts(runtime: Runtime) -> dict[str, int]:
    with runtime.engine.connect() as connection:
        return {
            table.name: connection.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
            for table in metadata.sorted_tables
        }


def import_text(runtime: Runtime, text: str | bytes) -> str:
    with runtime.uow() as uow:
        alliance_id, _ = uow.write(
            do_import_archive, None, archive.loads_archive(text), bootstrap=True
        )
    return alliance_id


def refusal(runtime: Runtime, text: str | bytes) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        import_text(runtime, text)
    return [(archive.json_path(error.loc), error.message) for error in caught.value.errors]


def all_chains_verify(runtime: Runtime) -> bool:
    with runtime.uow() as uow:
        return all(report.ok for report in eventlog.verify_all(uow))


# --- each hostile archive ---------------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[Document], None]:
    def corrupt(document: Document) -> None:
        *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
        target: Any = document
        for part in parents:
            target = target[part]
        target[last] = value

    return corrupt


def _drop_last_events(document: Document) -> None:
    del document["events"][-2:]


def _drop_head(document: Document) -> None:
    document["head"] = None


HOSTILE: dict[str, tuple[Callable[[Document], None], str, str]] = {
    "NUL in a title": (
        _set("agreements.0.title", "NDA\x00"),
        "$.agreements[0].title",
        "contains a NUL character",
    ),
    "NUL in an event's payload": (
        _set("events.2.payload.name", "Lab\x00"),
        "$.events[2].payload.name",
        "contains a NUL character",
    ),
    "NUL in a payload's key": (
        _set("events.2.payload.na\x00me", "Lab"),
        "$.events[2].payload",
        "contains a NUL character",
    ),
    "lone surrogate in a name": (
        _set("people.0.name", "Ann \ud800"),
        "$.people[0].name",
        "is not valid Unicode: it holds a lone surrogate (\\ud800)",
    ),
    "the reserved id site": (_set("alliance.id", "site"), "$.alliance.id", "'site' is reserved"),
    "a path for an id": (_set("risks.0.id", "../../etc"), "$.risks[0].id", "is not an id"),
    "a malformed actor": (
        _set("events.0.actor_id", "pe_<script>"),
        "$.events[0].actor_id",
        "is not an id",
    ),
    "a seq no column holds": (
        _set("events.0.seq", 2**40),
        "$.events[0].seq",
        "must be at most 2\u202f147\u202f483\u202f647",
    ),
    "a number for a date": (
        _set("contributions.0.on", 1_700_000_000),
        "$.contributions[0].on",
        "a date or time is written as text",
    ),
    "a time out of range in UTC": (
        _set("alliance.created_at", "0001-01-01T00:00:00+14:00"),
        "$.alliance.created_at",
        "out of range once converted to UTC",
    ),
    "events cut off the end": (
        _drop_last_events,
        "$.head",
        "head: the chain ends at event 14 but its head records event 16",
    ),
    "events without a head": (
        _drop_head,
        "$.head",
        "an archive with events states its chain's head",
    ),
    "a head that is not the chain's": (
        _set("head.hash", "f" * 64),
        "$.head",
        "events are missing from its end",
    ),
}


def test_each_hostile_archive_is_refused_with_its_path_and_nothing_is_written(
    small_archive: Document, runtime: Runtime
) -> None:
    before = row_counts(runtime)
    assert len(small_archive["events"]) == 16
    for name, (corrupt, path, reason) in HOSTILE.items():
        document = json.loads(json.dumps(small_archive))
        corrupt(document)
        problems = refusal(runtime, json.dumps(document))
        assert any(where == path and reason in why for where, why in problems), (name, problems)
        assert row_counts(runtime) == before, name


TEXT_LEVEL = {
    "nested 1,000 deep": (
        lambda text: text[:-2] + ', "extra": ' + "[" * 1000 + "]" * 1000 + "}\n",
        "nested more than 32 levels deep",
    ),
    "NaN": (lambda text: text.replace('"seq": 1,', '"seq": NaN,', 1), "NaN is not a JSON number"),
    "Infinity": (
        lambda text: text.replace('"seq": 1,', '"seq": -Infinity,', 1),
        "-Infinity is not a JSON number",
    ),
    "a float too large": (
        lambda text: text.replace('"likelihood": 3', '"likelihood": 1e999', 1),
        "the number 1e999 is too large",
    ),
    "a 5,000 digit number": (
        lambda text: text.replace('"likelihood": 3', '"likelihood": ' + "9" * 5000, 1),
        "holds a number with more digits than this server reads",
    ),
    "not UTF-8": (lambda text: text.encode()[:40] + b"\xff\xfe" + text.encode()[40:], "not UTF-8"),
}


def test_hostile_json_text_is_refused_at_the_top(small_archive: Document, runtime: Runtime) -> None:
    text = json.dumps(small_archive, indent=2)
    before = row_counts(runtime)
    for name, (corrupt, reason) in TEXT_LEVEL.items():
        [(where, why)] = refusal(runtime, corrupt(text))
        assert (where, reason in why) == ("$", True), (name, why)
    assert row_counts(runtime) == before


def _same_instant_at_plus_two(value: str) -> str:
    moment = datetime.fromisoformat(value).astimezone(UTC) + timedelta(hours=2)
    return moment.replace(tzinfo=None).isoformat() + "+02:00"


def test_times_with_an_offset_are_normalised_to_utc_and_then_verify(
    small_archive: Document, runtime: Runtime
) -> None:
    document = json.loads(json.dumps(small_archive))
    for event in document["events"]:
        event["at"] = _same_instant_at_plus_two(event["at"])
    document["alliance"]["created_at"] = _same_instant_at_plus_two(
        document["alliance"]["created_at"]
    )
    assert document["events"][0]["at"].endswith("+02:00")
    alliance_id = import_text(runtime, json.dumps(document))
    assert all_chains_verify(runtime)
    assert export_document(runtime, alliance_id) == small_archive
    assert import_text(runtime, json.dumps(document)) == alliance_id  # the same alliance


def test_the_cli_exits_2_without_a_traceback(
    small_archive: Document, database_url: str, tmp_path: Path
) -> None:
    cases = {
        "deep": '{"format": "coauthor-archive/1", "x": ' + "[" * 1000 + "]" * 1000 + "}",
        "site": json.dumps(
            {**small_archive, "alliance": {**small_archive["alliance"], "id": "site"}}
        ),
        "surrogate": json.dumps(small_archive).replace("Ann", "\\ud800", 1),
        "nul": json.dumps(small_archive).replace("Lab", "L\\u0000b", 1),
    }
    env = {"COAUTHOR_DATABASE_URL": database_url}
    for name, text in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(text)
        result = CliRunner().invoke(app, ["import", str(path)], env=env)
        assert result.exit_code == 2, (name, result.output)
        assert result.stderr.startswith("error: $"), (name, result.stderr)
        assert "Traceback" not in result.stderr
    listed = CliRunner().invoke(app, ["alliance", "list", "--json"], env=env)
    assert json.loads(listed.stdout) == []


# --- MACs in archives ---------------------------------------------------------------------------


@pytest.fixture
def open_runtime(database_url: str) -> Iterator[Callable[[str], Runtime]]:
    opened: list[Runtime] = []

    def open_runtime(key: str = "") -> Runtime:
        settings = Settings(database_url=database_url, event_log_key=key)
        opened.append(build_runtime(settings, clock=FixedClock(INTEGRATION_START)))
        return opened[-1]

    yield open_runtime
    for runtime in opened:
        runtime.close()


def test_a_keyed_archive_carries_its_macs_and_head(tmp_path: Path) -> None:
    source = build_runtime(
        Settings(database_url=f"sqlite:///{tmp_path / 'k.sqlite3'}", event_log_key=KEY),
        clock=FixedClock(INTEGRATION_START),
    )
    try:
        document = export_document(source, seed_alliance(source))
    finally:
        source.close()
    key = EventKey(KEY)
    last = document["events"][-1]
    assert all(
        e["key_id"] == key.key_id and e["mac"] == key.event_mac(e["hash"])
        for e in document["events"]
    )
    assert document["head"] == {
        "seq": last["seq"],
        "hash": last["hash"],
        "key_id": key.key_id,
        "mac": key.head_mac(document["alliance"]["id"], last["seq"], last["hash"]),
    }


def keyed_archive(tmp_path: Path) -> Document:
    source = build_runtime(
        Settings(database_url=f"sqlite:///{tmp_path / 'source.sqlite3'}", event_log_key=KEY),
        clock=FixedClock(INTEGRATION_START),
    )
    try:
        return export_document(source, build_small_alliance(source))
    finally:
        source.close()


def recompute(document: Document, seq: int, title: str) -> None:
    """Change an event and recompute the chain's hashes, as someone without the key can."""
    chain_id = document["alliance"]["id"]
    prev = document["events"][seq - 2]["hash"]
    for event in document["events"][seq - 1 :]:
        if event["seq"] == seq:
            event["payload"]["title"] = title
        at = datetime.fromisoformat(event["at"])
        event["prev_hash"] = prev
        event["hash"] = eventlog.event_hash(
            chain_id, event["seq"], at, event["actor_id"], event["kind"], event["payload"], prev
        )
        prev = event["hash"]
    document["head"]["hash"] = prev


def test_a_recomputed_archive_is_refused_by_the_server_holding_its_key(
    tmp_path: Path, open_runtime: Callable[[str], Runtime]
) -> None:
    document = keyed_archive(tmp_path)
    recompute(document, 5, "Forged")
    keyed = open_runtime(KEY)
    before = row_counts(keyed)
    problems = refusal(keyed, json.dumps(document))
    assert problems == [
        ("$.events[4]", "event 5: its MAC does not match: the chain was recomputed")
    ]
    assert row_counts(keyed) == before


def test_keyed_archives_move_between_servers(
    tmp_path: Path, open_runtime: Callable[[str], Runtime]
) -> None:
    document = keyed_archive(tmp_path)
    plain = open_runtime("")
    alliance_id = import_text(plain, json.dumps(document))
    assert export_document(plain, alliance_id) == document  # MACs kept verbatim
    with plain.uow() as uow:
        report = eventlog.verify_chain(uow, alliance_id)
        assert report.ok and report.unchecked_macs == 16
    other = open_runtime("another-key-of-at-least-thirty-two-characters")
    with other.uow() as uow:
        assert not eventlog.verify_chain(uow, alliance_id).ok  # kept MACs are not its own


def test_a_server_with_another_key_keys_the_imported_chain_with_its_own(
    tmp_path: Path, open_runtime: Callable[[str], Runtime]
) -> None:
    document = keyed_archive(tmp_path)
    other_key = "another-key-of-at-least-thirty-two-characters"
    other = open_runtime(other_key)
    alliance_id = import_text(other, json.dumps(document))
    assert all_chains_verify(other)
    exported = export_document(other, alliance_id)
    assert {e["key_id"] for e in exported["events"]} == {EventKey(other_key).key_id}
    assert exported["head"]["key_id"] == EventKey(other_key).key_id
    assert import_text(other, json.dumps(document)) == alliance_id  # still the same alliance


# --- fuzz: refused cleanly, or imported and verified -------------------------------------------

TRICKY_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfff",
    "site",
    "../../etc",
    "al_AAAAAAAAAAAAAAAA",
    "2026-01-01T00:00:00+02:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "2026-02-30",
    "1e999",
    "NaN",
    "x" * 300,
    "0" * 64,
]
json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**31, -(2**31) - 1, 2**63, 10**30, 0, -1])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(TRICKY_TEXT)
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=8) | st.sampled_from(TRICKY_TEXT), children, max_size=3)
    ),
    max_leaves=8,
)


def _places(value: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _places(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _places(child, (*path, index))


def _parent(document: Document, path: tuple) -> Any:
    target: Any = document
    for part in path[:-1]:
        target = target[part]
    return target


@st.composite
def mutated(draw: st.DrawFn, original: Document) -> Document:
    document = json.loads(json.dumps(original))
    for _ in range(draw(st.integers(1, 3))):
        places = [path for path in _places(document) if path]
        path = draw(st.sampled_from(places))
        parent, last = _parent(document, path), path[-1]
        action = draw(st.sampled_from(["replace", "delete", "duplicate", "shift", "add"]))
        if action == "replace":
            parent[last] = draw(json_values)
        elif action == "delete":
            del parent[last]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(json.loads(json.dumps(parent[last])))
        elif action == "shift" and isinstance(parent[last], str) and parent[last].endswith("Z"):
            with contextlib.suppress(ValueError):
                parent[last] = _same_instant_at_plus_two(parent[last])
        elif action == "add" and isinstance(parent[last], dict):
            parent[last][draw(st.sampled_from(TRICKY_TEXT))] = draw(json_values)
    return document


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def fuzz_runtime(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    """One database per backend for the whole fuzz run: each example is rolled back."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite3'}"
        cleanup: Callable[[], None] = lambda: None  # noqa: E731
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        name = f"coauthor_fuzz_{uuid.uuid4().hex[:12]}"
        server.create_database(name)
        url = server.url(name)
        cleanup = lambda: server.drop_database(name)  # noqa: E731
    runtime = build_runtime(Settings(database_url=url), clock=FixedClock(INTEGRATION_START))
    yield runtime
    runtime.close()
    cleanup()


FUZZ_EXAMPLES = 120


def test_a_mutated_archive_is_refused_cleanly_or_imports_and_verifies(
    small_archive: Document, fuzz_runtime: Runtime
) -> None:
    outcomes: Counter[str] = Counter()

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(document=mutated(small_archive))
    def imports_or_refuses(document: Document) -> None:
        text = json.dumps(document)
        with fuzz_runtime.uow() as uow:
            try:
                loaded = archive.loads_archive(text)
                do_import_archive(uow, None, loaded, bootstrap=True)
                uow.flush()
            except ValidationFailed as refused:
                assert refused.errors and all(isinstance(e.loc, tuple) for e in refused.errors)
                outcomes["refused"] += 1
                return
            outcomes["imported"] += 1
            reports = eventlog.verify_all(uow)
            assert all(report.ok for report in reports), reports

    imports_or_refuses()
    assert outcomes["imported"] >= 10 and outcomes["refused"] >= 50, outcomes
