"""Archives on SQLite and PostgreSQL: exact round trips, idempotent imports, refused archives."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from coauthor.config import Settings
from coauthor.db import migrate
from coauthor.db.tables import metadata
from coauthor.demo import pulse as demo_pulse
from coauthor.demo import seed as demo
from coauthor.demo.seed import seed_demo
from coauthor.domain import model as m
from coauthor.domain.errors import Conflict, PermissionDenied, ValidationFailed
from coauthor.interop import archive
from coauthor.runtime import Runtime, build_runtime
from coauthor.services import eventlog
from coauthor.services.accounts import people
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.archive.document import SECTIONS
from coauthor.services.archive.export import export_alliance
from coauthor.services.archive.importer import do_import_archive
from coauthor.services.mechanics import alliances, registers
from coauthor.services.mechanics.inputs import AllianceCreate, PartnerInput

END_OF_DEMO = datetime(2026, 6, 30, 18, 0, tzinfo=UTC)
OpenRuntime = Callable[[str], Runtime]


def export_text(runtime: Runtime, alliance_id: str) -> str:
    with runtime.uow() as uow:
        document = export_alliance(uow, None, alliance_id, bootstrap=True)
        return archive.dumps_archive(document)


def import_text(runtime: Runtime, text: str) -> tuple[str, bool]:
    with runtime.uow() as uow:
        result = uow.write(do_import_archive, None, archive.loads_archive(text), bootstrap=True)
        return result


def refusal(runtime: Runtime, text: str) -> list[tuple[str, str]]:
    """The (JSON path, reason) of each problem in a refused archive."""
    with runtime.uow() as uow, pytest.raises(ValidationFailed) as caught:
        uow.write(do_import_archive, None, archive.loads_archive(text), bootstrap=True)
    return [(archive.json_path(error.loc), error.message) for error in caught.value.errors]


def row_counts(runtime: Runtime) -> dict[str, int]:
    with runtime.engine.connect() as connection:
        return {
            table.name: connection.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
            for table in metadata.sorted_tables
        }


def add_person(runtime: Runtime, email: str, is_admin: bool = False) -> m.Person:
    with runtime.uow() as uow:
        data = PersonInput(email=email, name=email.split("@")[0], is_admin=is_admin)
        person = uow.write(people.do_create_person, None, data, None, bootstrap=True)
        return person


@pytest.fixture
def open_runtime() -> Iterator[OpenRuntime]:
    """Opens runtimes on database URLs and closes them after the test."""
    opened: list[Runtime] = []

    def open_runtime(url: str) -> Runtime:
        opened.append(build_runtime(Settings(database_url=url)))
        return opened[-1]

    yield open_runtime
    for runtime in opened:
        runtime.close()


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo alliance, seeded once on SQLite, as archive text."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    runtime = build_runtime(Settings(database_url=f"sqlite:///{path}"))
    try:
        with runtime.uow() as uow:
            login = uow.write(seed_demo, end=END_OF_DEMO)
        return export_text(runtime, login.alliance_id)
    finally:
        runtime.close()


def test_the_demo_archive_holds_the_whole_alliance(demo_archive: str) -> None:
    document = json.loads(demo_archive)
    assert document["format"] == "coauthor-archive/1"
    assert list(document) == ["format", *SECTIONS]
    assert len(document["partners"]) == len(demo.PARTNERS)
    assert len(document["deliberations"]) == 1
    assert len(document["votes"]) > 50
    everyone = [*demo.PEOPLE, *demo_pulse.TEAM]
    assert sorted(p["email"] for p in document["people"]) == sorted(p.email for p in everyone)
    assert len(document["members"]) == len(everyone)
    assert len(document["pulse_waves"]) == len(demo_pulse.WAVES)
    assert len(document["pulse_responses"]) > 100 and document["pulse_comments"]
    assert "invitation" not in demo_archive and "person" not in str(document["pulse_responses"])
    assert all(set(person) == {"email", "name"} for person in document["people"])
    assert "password" not in demo_archive
    assert all(sum(Decimal(s["percent"]) for s in r["shares"]) == 100 for r in document["risks"])
    assert [event["seq"] for event in document["events"]] == list(
        range(1, len(document["events"]) + 1)
    )
    assert document["events"][-1]["at"] < END_OF_DEMO.isoformat().replace("+00:00", "Z")


def test_export_import_export_is_exact_across_backends(
    demo_archive: str, database_url: str, tmp_path: Path, open_runtime: OpenRuntime
) -> None:
    alliance_id = json.loads(demo_archive)["alliance"]["id"]
    there = open_runtime(database_url)
    assert import_text(there, demo_archive) == (alliance_id, True)
    exported = export_text(there, alliance_id)
    assert exported == demo_archive
    back = open_runtime(f"sqlite:///{tmp_path / 'back.sqlite3'}")
    import_text(back, exported)
    assert export_text(back, alliance_id) == demo_archive
    with there.uow() as uow:
        assert all(report.ok for report in eventlog.verify_all(uow))
        [*_, imported] = eventlog.chain_events(uow, eventlog.SITE_CHAIN)
        assert imported.kind == "alliance.imported"
        assert imported.payload["id"] == alliance_id


def test_importing_the_same_archive_again_writes_nothing(
    demo_archive: str, database_url: str, open_runtime: OpenRuntime
) -> None:
    runtime = open_runtime(database_url)
    alliance_id, created = import_text(runtime, demo_archive)
    assert created
    counts = row_counts(runtime)
    assert counts["events"] > 200
    assert import_text(runtime, demo_archive) == (alliance_id, False)
    assert row_counts(runtime) == counts


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """A corruption that sets the value at a dotted path such as ``risks.3.title``."""

    def corrupt(document: dict) -> None:
        *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
        target: Any = document
        for part in parents:
            target = target[part]
        target[last] = value

    return corrupt


CORRUPTIONS = {
    "shares not summing to 100": (
        _set("risks.3.shares.0.percent", "1.00"),
        "$.risks[3].shares",
        "must sum to 100%",
    ),
    "unknown partner": (
        _set("obligations.2.debtor_partner_id", "pa_unknown"),
        "$.obligations[2].debtor_partner_id",
        "no such item in this alliance",
    ),
    "unknown member on a seat": (
        _set("bodies.1.seats.0.member_id", "me_unknown"),
        "$.bodies[1].seats[0].member_id",
        "no such item in this alliance",
    ),
    "member not among the people": (
        _set("members.0.email", "ghost@nowhere.example"),
        "$.members[0].email",
        "not in people",
    ),
    "wrong format version": (
        _set("format", "coauthor-archive/2"),
        "$.format",
        "expected 'coauthor-archive/1'",
    ),
    "broken hash chain": (
        _set("events.10.kind", "risk.deleted"),
        "$.events[10]",
        "event 11: content does not match its hash",
    ),
    "oversized field": (
        _set("agreements.0.title", "x" * 201),
        "$.agreements[0].title",
        "at most 200",
    ),
    "unknown field": (
        _set("alliance.colour", "red"),
        "$.alliance.colour",
        "is not a field that can be set here",
    ),
    "vote on an unknown statement": (
        _set("votes.0.statement_id", "st_unknown"),
        "$.votes[0].statement_id",
        "is not in its deliberation's statements",
    ),
    "participant of an unknown partner": (
        _set("participants.0.partner_id", "pa_unknown"),
        "$.participants[0].partner_id",
        "is not in partners",
    ),
    "pulse answer to an item its wave did not ask": (
        lambda document: document["pulse_responses"][0]["answers"].update(zz1=4),
        "$.pulse_responses[0].answers.zz1",
        "is not an item of its wave",
    ),
    "pulse answer off the scale": (
        lambda document: document["pulse_responses"][0]["answers"].update(to1=8),
        "$.pulse_responses[0].answers.to1",
        "must be at most 7",
    ),
    "pulse comment of an unknown wave": (
        _set("pulse_comments.0.wave_id", "pw_unknown"),
        "$.pulse_comments[0].wave_id",
        "is not in pulse_waves",
    ),
    "duplicate id": (
        lambda document: document["risks"][1].update(id=document["risks"][0]["id"]),
        "$.risks[1].id",
        "appears more than once",
    ),
}


def test_a_bad_archive_is_refused_with_its_json_path_and_nothing_is_written(
    demo_archive: str, database_url: str, open_runtime: OpenRuntime
) -> None:
    runtime = open_runtime(database_url)
    add_person(runtime, "ann@example.org")
    before = row_counts(runtime)
    for name, (corrupt, path, reason) in CORRUPTIONS.items():
        document = json.loads(demo_archive)
        corrupt(document)
        problems = refusal(runtime, json.dumps(document))
        assert any(where == path and reason in why for where, why in problems), (name, problems)
        assert row_counts(runtime) == before, name
    problems = refusal(runtime, demo_archive[: len(demo_archive) // 2])
    [(where, why)] = problems
    assert where == "$"
    assert why.startswith("not valid JSON at line ")
    assert row_counts(runtime) == before


def test_an_archive_for_an_existing_alliance_with_other_content_is_refused(
    demo_archive: str, tmp_path: Path, open_runtime: OpenRuntime
) -> None:
    runtime = open_runtime(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    import_text(runtime, demo_archive)
    before = row_counts(runtime)
    changed = json.loads(demo_archive)
    changed["alliance"]["name"] = "Helios Two"
    with runtime.uow() as uow, pytest.raises(Conflict) as caught:
        do_import_archive(uow, None, changed, bootstrap=True)
    assert caught.value.errors[0].loc == ("alliance", "id")
    assert row_counts(runtime) == before


def test_people_are_matched_by_email_and_missing_ones_cannot_sign_in(
    demo_archive: str, tmp_path: Path, open_runtime: OpenRuntime
) -> None:
    runtime = open_runtime(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    existing = add_person(runtime, "leah.cardinal@redcedar-metals.example")
    import_text(runtime, demo_archive)
    with runtime.uow() as uow:
        leah = people.person_by_email(uow, existing.email)
        assert leah is not None and leah.id == existing.id
        assert uow.find_one(m.Member, person_id=leah.id) is not None
        jonas = people.person_by_email(uow, "jonas.brandt@nordwerk.example")
        assert jonas is not None
        assert not people.password_matches(jonas.password_hash, "")
        assert jonas.password_hash == people.UNUSABLE_PASSWORD


def test_only_the_operator_and_site_admins_move_archives_and_admins_see_nothing_private(
    demo_archive: str, tmp_path: Path, open_runtime: OpenRuntime
) -> None:
    runtime = open_runtime(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    alliance_id, _ = import_text(runtime, demo_archive)
    admin = add_person(runtime, "root@example.org", is_admin=True)
    member = add_person(runtime, "eve@example.org")
    with runtime.uow() as uow:
        by_admin = export_alliance(uow, admin, alliance_id).model_dump(mode="json")
        with pytest.raises(PermissionDenied):
            export_alliance(uow, member, alliance_id)
        with pytest.raises(PermissionDenied):
            do_import_archive(uow, member, json.loads(demo_archive))
    full = json.loads(demo_archive)
    assert full["partner_notes"] and full["votes"]
    assert full["pulse_responses"] and full["pulse_comments"]
    assert by_admin["partner_notes"] == by_admin["votes"] == []
    assert by_admin["pulse_responses"] == by_admin["pulse_comments"] == []
    assert all(participant["email"] is None for participant in by_admin["participants"])
    assert [p | {"email": None} for p in full["participants"]] == by_admin["participants"]
    private = {"partner_notes", "votes", "participants", "pulse_responses", "pulse_comments"}
    assert {k: v for k, v in by_admin.items() if k not in private} == {
        k: v for k, v in full.items() if k not in private
    }


# --- generated alliances round-trip exactly (SQLite) ---------------------------------------

texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(str.strip)
storable = st.characters(codec="utf-8", exclude_characters="\x00")
"""Any character a database can store: not NUL, not a lone surrogate (the models refuse both)."""
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
amounts = st.decimals(min_value=0, max_value=Decimal("1e12"), places=2, allow_nan=False)


@st.composite
def shares(draw: st.DrawFn, partners: int) -> list[tuple[int, Decimal]]:
    """Positive shares (in cents) of some partners, summing to exactly 100."""
    bearers = sorted(draw(st.sets(st.integers(0, partners - 1), min_size=1)))
    cuts = draw(
        st.sets(st.integers(1, 9_999), min_size=len(bearers) - 1, max_size=len(bearers) - 1)
    )
    bounds = [0, *sorted(cuts), 10_000]
    return [
        (bearer, Decimal(high - low) / 100)
        for bearer, (low, high) in zip(bearers, pairwise(bounds), strict=True)
    ]


@st.composite
def alliance_specs(draw: st.DrawFn) -> dict[str, Any]:
    partners = draw(st.integers(min_value=2, max_value=4))
    agreement = st.fixed_dictionaries(
        {
            "title": texts,
            "kind": st.sampled_from(list(m.AgreementKind)),
            "effective_on": days,
            "signed_on": st.none() | days,
            "summary": st.text(storable, max_size=80),
        }
    )
    risk = st.fixed_dictionaries(
        {
            "title": texts,
            "likelihood": st.integers(1, 5),
            "impact": st.integers(1, 5),
            "status": st.sampled_from(list(m.RiskStatus)),
            "shares": shares(partners),
        }
    )
    contribution = st.fixed_dictionaries(
        {
            "partner": st.integers(0, partners - 1),
            "kind": st.sampled_from(list(m.ContributionKind)),
            "direction": st.sampled_from(["in", "value"]),
            "description": texts,
            "amount": amounts,
            "unit": st.sampled_from(["EUR", "hours", "licences"]),
            "on": days,
        }
    )
    return {
        "name": draw(texts),
        "partners": partners,
        "agreements": draw(st.lists(agreement, max_size=3)),
        "durations": draw(st.lists(st.integers(0, 4000), min_size=3, max_size=3)),
        "risks": draw(st.lists(risk, max_size=3)),
        "contributions": draw(st.lists(contribution, max_size=4)),
    }


def build_alliance(runtime: Runtime, spec: dict[str, Any]) -> str:
    with runtime.uow() as uow:
        data = PersonInput(email="ann@example.org", name="Ann")
        ann = people.do_create_person(uow, None, data, None, bootstrap=True)
        create = AllianceCreate(name=spec["name"], kind="consortium", organization_name="P0")
        alliance_id = alliances.do_create_alliance(uow, ann, create).id
        partner_ids = [uow.find(m.Partner, alliance_id=alliance_id)[0].id]
        for index in range(1, spec["partners"]):
            data = PartnerInput(organization_name=f"P{index}")
            partner_ids.append(alliances.do_add_partner(uow, ann, alliance_id, data).id)

        def create_item(kind: str, payload: dict[str, Any]) -> None:
            registers.do_create_item(uow, ann, alliance_id, kind, payload)

        for agreement, duration in zip(spec["agreements"], spec["durations"], strict=False):
            start = max(agreement["effective_on"], agreement["signed_on"] or date.min)
            expires = start + timedelta(days=duration)
            create_item("agreement", agreement | {"expires_on": expires})
        for risk in spec["risks"]:
            shares = [{"partner_id": partner_ids[i], "percent": p} for i, p in risk["shares"]]
            create_item("risk", risk | {"shares": shares})
        for contribution in spec["contributions"]:
            partner = partner_ids[contribution.pop("partner")]
            create_item("contribution", contribution | {"partner_id": partner})
        uow.session.commit()
        return alliance_id


@pytest.fixture(scope="module")
def empty_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite file to copy: faster than migrating for every example."""
    path = tmp_path_factory.mktemp("template") / "empty.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def fresh_sqlite(template: Path) -> Runtime:
    path = Path(tempfile.mkdtemp(dir=template.parent)) / "db.sqlite3"
    shutil.copy(template, path)
    return build_runtime(Settings(database_url=f"sqlite:///{path}"), migrate_db=False)


@settings(max_examples=25, deadline=None)
@given(spec=alliance_specs())
def test_generated_alliances_round_trip_exactly(empty_sqlite: Path, spec: dict[str, Any]) -> None:
    source, target = fresh_sqlite(empty_sqlite), fresh_sqlite(empty_sqlite)
    try:
        amounts_in = sorted(c["amount"] for c in spec["contributions"])
        alliance_id = build_alliance(source, spec)
        exported = export_text(source, alliance_id)
        assert import_text(target, exported) == (alliance_id, True)
        assert export_text(target, alliance_id) == exported
        document = json.loads(exported)
        assert sorted(Decimal(c["amount"]) for c in document["contributions"]) == amounts_in
        assert len(document["risks"]) == len(spec["risks"])
    finally:
        source.close()
        target.close()
