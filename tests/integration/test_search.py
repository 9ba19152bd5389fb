"""Search on SQLite (FTS5) and PostgreSQL (full text): what is found, by whom, and kept current.

Two alliances: Helios (Nordwerk, managed by Ann, and Red Cedar with Renée)
and Borealis, where only Carl is. Everything is written through the services,
so the index is what the write path itself kept up to date.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from coauthor.config import Settings
from coauthor.db.tables import search_entries
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import NotFound
from coauthor.interop import archive
from coauthor.runtime import Runtime, build_missing_index, build_runtime
from coauthor.services.accounts import people
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.archive.export import export_alliance
from coauthor.services.archive.importer import do_import_archive
from coauthor.services.deliberation import acts as deliberation
from coauthor.services.ledger import commitments as ledger
from coauthor.services.mechanics import alliances, registers
from coauthor.services.mechanics.inputs import (
    AllianceCreate,
    MemberInput,
    PartnerInput,
    PartnerNoteInput,
)
from coauthor.services.pulse import items as pulse_items
from coauthor.services.search import index
from coauthor.services.search.query import search
from coauthor.web.pages.links import item_url


@dataclass
class World:
    helios: str
    borealis: str
    nordwerk: str
    red_cedar: str
    ann: str
    renee: str
    carl: str
    admin: str
    risk: str


def _person(uow: UnitOfWork, email: str, name: str, is_admin: bool = False) -> m.Person:
    data = PersonInput(email=email, name=name, is_admin=is_admin)
    return people.do_create_person(uow, None, data, None, bootstrap=True)


@pytest.fixture
def world(runtime: Runtime) -> Iterator[World]:
    with runtime.uow() as uow:
        ann = _person(uow, "ann@nordwerk.example", "Ann Vogel")
        carl = _person(uow, "carl@borealis.example", "Carl Nyström")
        admin = _person(uow, "root@site.example", "Site Admin", is_admin=True)
        create = AllianceCreate(name="Helios", kind="joint_venture", organization_name="Nordwerk")
        helios = alliances.do_create_alliance(uow, ann, create)
        [nordwerk] = uow.find(m.Partner, alliance_id=helios.id)
        red_cedar = alliances.do_add_partner(
            uow, ann, helios.id, PartnerInput(organization_name="Red Cedar Cooperative")
        )
        member = MemberInput(
            email="renee@redcedar.example", name="Renée Beaulieu", partner_id=red_cedar.id
        )
        renee = uow.get(m.Person, id=alliances.do_add_member(uow, ann, helios.id, member).person_id)
        alliances.do_add_partner_note(
            uow,
            renee,
            helios.id,
            red_cedar.id,
            PartnerNoteInput(body="Members want the shredder quote."),
        )
        alliances.do_add_partner_note(
            uow,
            ann,
            helios.id,
            nordwerk.id,
            PartnerNoteInput(body="Board wants a shredder decision."),
        )
        registers.do_create_item(
            uow, ann, helios.id, "agreement",
            {"title": "Shredder supply agreement", "kind": "contract", "summary": "Two lines."},
        )  # fmt: skip
        risk = registers.do_create_item(
            uow, ann, helios.id, "risk",
            {"title": "Thermal runaway in storage", "likelihood": 2, "impact": 5,
             "mitigation": "Quarantine bay away from the shredder.",
             "shares": [{"partner_id": nordwerk.id, "percent": "100"}]},
        )  # fmt: skip
        borealis = alliances.do_create_alliance(
            uow,
            carl,
            AllianceCreate(name="Borealis", kind="consortium", organization_name="Borealis Oy"),
        )
        registers.do_create_item(
            uow, carl, borealis.id, "agreement", {"title": "Shredder lease", "kind": "contract"}
        )
        uow.session.commit()
        yield World(
            helios.id,
            borealis.id,
            nordwerk.id,
            red_cedar.id,
            ann.id,
            renee.id,
            carl.id,
            admin.id,
            risk.id,
        )


def titles(uow: UnitOfWork, person_id: str, query: str, alliance_id: str | None = None) -> list:
    actor = uow.get(m.Person, id=person_id)
    return sorted(hit.title for hit in search(uow, actor, query, alliance_id).hits)


def test_words_match_the_start_of_words_without_case_or_accents(
    runtime: Runtime, world: World
) -> None:
    with runtime.uow() as uow:
        assert titles(uow, world.ann, "therm RUNAWAY") == ["Thermal runaway in storage"]
        assert titles(uow, world.ann, "renee") == ["Renée Beaulieu"]
        assert titles(uow, world.ann, "beaulieu renée", world.helios) == ["Renée Beaulieu"]
        assert titles(uow, world.ann, "quarantine") == ["Thermal runaway in storage"]
        assert titles(uow, world.ann, "thermal lease") == []
        assert titles(uow, world.ann, "  ;;  ") == []
        assert titles(uow, world.ann, 'shred" * (:') == [
            "Board wants a shredder decision.",
            "Shredder supply agreement",
            "Thermal runaway in storage",
        ]


def test_only_ones_own_alliances_and_partners_notes_are_found(
    runtime: Runtime, world: World
) -> None:
    with runtime.uow() as uow:
        assert titles(uow, world.ann, "shredder") == [
            "Board wants a shredder decision.",
            "Shredder supply agreement",
            "Thermal runaway in storage",
        ]
        assert titles(uow, world.renee, "shredder") == [
            "Members want the shredder quote.",
            "Shredder supply agreement",
            "Thermal runaway in storage",
        ]
        assert titles(uow, world.carl, "shredder") == ["Shredder lease"]
        assert titles(uow, world.admin, "shredder") == [
            "Shredder lease",
            "Shredder supply agreement",
            "Thermal runaway in storage",
        ]
        carl = uow.get(m.Person, id=world.carl)
        with pytest.raises(NotFound):
            search(uow, carl, "shredder", world.helios)


def test_the_index_follows_every_write(runtime: Runtime, world: World) -> None:
    with runtime.uow() as uow:
        ann = uow.get(m.Person, id=world.ann)
        risk = registers.get_item(uow, world.helios, "risk", world.risk)
        payload = registers.as_input(uow, world.helios, "risk", risk)
        uow.write(
            registers.do_update_item,
            ann,
            world.helios,
            "risk",
            world.risk,
            payload | {"title": "Battery fire in the yard"},
        )
        assert titles(uow, world.ann, "thermal") == []
        assert titles(uow, world.ann, "battery fire") == ["Battery fire in the yard"]

        renee = uow.get(m.Person, id=world.renee)
        uow.write(lambda uow: setattr(renee, "name", "Renée Cardinal"))
        assert titles(uow, world.ann, "cardinal") == ["Renée Cardinal"]
        assert titles(uow, world.ann, "beaulieu") == []

        uow.write(registers.do_delete_item, ann, world.helios, "risk", world.risk)
        assert titles(uow, world.ann, "battery") == []


def test_a_write_that_fails_leaves_the_index_as_it_was(runtime: Runtime, world: World) -> None:
    with runtime.uow() as uow:
        ann = uow.get(m.Person, id=world.ann)

        def add_then_fail(uow: UnitOfWork) -> None:
            registers.do_create_item(
                uow, ann, world.helios, "agreement", {"title": "Ghost accord", "kind": "mou"}
            )
            raise RuntimeError("the write fails after the agreement was flushed")

        with pytest.raises(RuntimeError):
            uow.write(add_then_fail)
        assert titles(uow, world.ann, "ghost") == []


def test_statements_are_found_once_accepted_and_never_with_their_author(
    runtime: Runtime, world: World
) -> None:
    with runtime.uow() as uow:
        ann, renee = uow.get(m.Person, id=world.ann), uow.get(m.Person, id=world.renee)
        started = uow.write(
            deliberation.do_create_deliberation,
            ann,
            world.helios,
            {"question": "Where should the second plant go?", "strict_moderation": True},
        )
        statement = uow.write(
            deliberation.do_submit_statement,
            renee,
            world.helios,
            started.id,
            {"text": "Next to the cooperative's yard."},
        )
        assert titles(uow, world.ann, "cooperative yard") == []
        uow.write(
            deliberation.do_moderate,
            ann,
            world.helios,
            started.id,
            statement.id,
            {"decision": "accepted"},
        )
        [hit] = search(uow, ann, "cooperative yard").hits
        assert (hit.kind, hit.parent_id, hit.partner_id) == ("statement", started.id, None)
        assert "Renée" not in hit.title + hit.snippet
        assert titles(uow, world.ann, "second plant") == ["Where should the second plant go?"]


def test_rebuilding_gives_the_same_index(runtime: Runtime, world: World) -> None:
    with runtime.uow() as uow:
        columns = (search_entries.c.kind, search_entries.c.item_id, search_entries.c.title)
        before = sorted(uow.session.execute(sa.select(*columns)).all())
        found = titles(uow, world.ann, "shredder")
        assert uow.write(lambda uow: index.rebuild(uow.session)) == len(before)
        assert sorted(uow.session.execute(sa.select(*columns)).all()) == before
        assert titles(uow, world.ann, "shredder") == found
        assert uow.write(lambda uow: index.rebuild(uow.session, world.borealis)) == 4


def test_a_database_without_an_index_gets_one_once(runtime: Runtime, world: World) -> None:
    with runtime.uow() as uow:
        uow.write(lambda uow: index._clear(uow.session, None))
        assert titles(uow, world.ann, "shredder") == []
    assert build_missing_index(runtime) is True
    assert build_missing_index(runtime) is False
    with runtime.uow() as uow:
        assert titles(uow, world.ann, "thermal") == ["Thermal runaway in storage"]


def _ask_renee(uow: UnitOfWork, world: World) -> str:
    """Ann asks Renée for the throughput figures: a commitment between the two partners."""
    ann = uow.get(m.Person, id=world.ann)
    asked = {
        "move": "request",
        "what": "Send the shredder throughput figures",
        "performer_ids": [world.renee],
        "conditions": "Per line, for March",
    }
    return uow.write(ledger.do_open_commitment, ann, world.helios, asked).id


def test_commitments_are_found_by_what_was_asked_and_the_terms_on_the_table(
    runtime: Runtime, world: World
) -> None:
    with runtime.uow() as uow:
        commitment_id = _ask_renee(uow, world)
        [hit] = search(uow, uow.get(m.Person, id=world.renee), "throughput").hits
        assert (hit.kind, hit.item_id, hit.label) == ("commitment", commitment_id, "Commitment")
        assert hit.title == "Send the shredder throughput figures"
        assert item_url(hit.kind, hit.alliance_id, hit.item_id, hit.parent_id) == (
            f"/a/{world.helios}/ledger/{commitment_id}"
        )
        assert titles(uow, world.carl, "throughput") == []
        assert titles(uow, world.ann, "march") == ["Send the shredder throughput figures"]
        renee = uow.get(m.Person, id=world.renee)
        counter = {"move": "counter_offer", "conditions": "Per line, for April"}
        uow.write(ledger.do_move, renee, world.helios, commitment_id, counter)
        assert titles(uow, world.ann, "april") == [], "a counter-offer is not yet the terms"
        accept = {"move": "accept_counter"}
        uow.write(
            ledger.do_move, uow.get(m.Person, id=world.ann), world.helios, commitment_id, accept
        )
        assert titles(uow, world.ann, "march") == []
        assert titles(uow, world.ann, "april throughput") == [
            "Send the shredder throughput figures"
        ]


def test_an_alliances_own_pulse_questions_are_found_while_they_are_asked(
    runtime: Runtime, world: World
) -> None:
    question = "Decisions reach the shop floor in time"
    with runtime.uow() as uow:
        ann = uow.get(m.Person, id=world.ann)
        item = uow.write(pulse_items.do_add_item, ann, world.helios, {"text": question})
        assert titles(uow, world.renee, "shop floor") == [question]
        assert titles(uow, world.carl, "shop floor") == []
        [hit] = search(uow, ann, "shop floor").hits
        assert (
            item_url(hit.kind, hit.alliance_id, hit.item_id) == f"/a/{world.helios}/pulse#own-items"
        )
        uow.write(pulse_items.do_retire_item, ann, world.helios, item.id)
        assert titles(uow, world.renee, "shop floor") == []


def test_an_imported_alliances_commitments_are_found(
    runtime: Runtime, world: World, tmp_path: Path
) -> None:
    """The import writes the ledger in bulk, past the session, and indexes it itself."""
    with runtime.uow() as uow:
        commitment_id = _ask_renee(uow, world)
        text = archive.dumps_archive(export_alliance(uow, None, world.helios, bootstrap=True))
    target = build_runtime(Settings(database_url=f"sqlite:///{tmp_path / 'target.sqlite3'}"))
    try:
        with target.uow() as uow:
            uow.write(do_import_archive, None, archive.loads_archive(text), bootstrap=True)
            renee = people.person_by_email(uow, "renee@redcedar.example")
            assert renee is not None
            [hit] = search(uow, renee, "throughput figures").hits
            assert (hit.kind, hit.item_id) == ("commitment", commitment_id)
            assert titles(uow, renee.id, "thermal") == ["Thermal runaway in storage"]
    finally:
        target.close()
