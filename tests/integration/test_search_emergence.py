"""The emergence log in search, on SQLite and PostgreSQL: plot twists, tensions, experiments
and learnings are found by their words, link to their page, follow every write, are found
by no one outside the alliance, and come back after a reindex and an archive import."""

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
from coauthor.domain.emergence import PlotTwist
from coauthor.interop import archive
from coauthor.runtime import Runtime, build_runtime
from coauthor.services.accounts import people
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.archive.export import export_alliance
from coauthor.services.archive.importer import do_import_archive
from coauthor.services.emergence import experiments, learnings, plot_twists, tensions
from coauthor.services.search import index
from coauthor.services.search.query import search
from coauthor.web.pages.links import item_url
from tests.integration.ledger_world import World, seed


@dataclass
class Log:
    world: World
    outsider: str
    twist: str
    tension: str
    experiment: str
    learning: str


@pytest.fixture
def log(runtime: Runtime) -> Iterator[Log]:
    with runtime.uow() as uow:
        world = seed(uow, runtime.clock)  # type: ignore[arg-type]
        outsider = people.do_create_person(
            uow,
            None,
            PersonInput(email="zed@elsewhere.example", name="Zed Outside"),
            None,
            bootstrap=True,
        )
        helios, bob = world.alliance_id, world.bob
        twist = plot_twists.do_raise_plot_twist(
            uow,
            bob,
            helios,
            {
                "title": "Main customer doubles its order",
                "kind": "opportunity",
                "description": "The turbine maker wants twice the castings",
            },
        )
        tension = tensions.do_surface_tension(
            uow,
            world.ann,
            helios,
            {
                "about": "Who pays for the second screen",
                "description": "Sieving costs are disputed",
                "partner_ids": [world.partners["nordwerk"], world.partners["red_cedar"]],
            },
        )
        experiment = experiments.do_propose_experiment(
            uow,
            bob,
            helios,
            {
                "hypothesis": "A weekly call cuts the lead time",
                "action": "Thirty minutes each Monday",
                "signal": "Lead time in days",
                "review_on": "2026-04-30",
            },
        )
        learning = learnings.do_record_learning(
            uow, world.ann, helios, {"text": "Retro: celebrate small wins"}
        )
        uow.session.commit()
        yield Log(world, outsider.id, twist.id, tension.id, experiment.id, learning.id)


def found(uow: UnitOfWork, person_id: str, query: str) -> list[tuple[str, str]]:
    actor = uow.get(m.Person, id=person_id)
    return sorted((hit.kind, hit.item_id) for hit in search(uow, actor, query).hits)


def test_each_kind_is_found_by_its_words_and_links_to_its_page(log: Log) -> None:
    uow, helios, olga = log.world.uow, log.world.alliance_id, log.world.olga.id
    pages = {
        "turbine": ("plot_twist", log.twist, f"/emergence/plot-twists/{log.twist}"),
        "sieving": ("tension", log.tension, f"/emergence/tensions/{log.tension}"),
        "monday": ("experiment", log.experiment, f"/emergence/experiments/{log.experiment}"),
        "celebrate": ("learning", log.learning, "/emergence#learnings"),
    }
    for word, (kind, item_id, page) in pages.items():
        [hit] = search(uow, log.world.olga, word).hits  # an observer sees the alliance
        assert (hit.kind, hit.item_id, hit.alliance_id) == (kind, item_id, helios)
        assert item_url(hit.kind, hit.alliance_id, hit.item_id, hit.parent_id) == (
            f"/a/{helios}{page}"
        )
    assert found(uow, olga, "second screen") == [("tension", log.tension)]
    assert found(uow, olga, "lead time") == [("experiment", log.experiment)]
    assert [hit.label for hit in search(uow, log.world.olga, "customer order").hits] == [
        "Plot twist"
    ]


def test_a_person_outside_the_alliance_finds_nothing(log: Log) -> None:
    uow = log.world.uow
    for word in ("turbine", "sieving", "monday", "celebrate", "customer"):
        assert found(uow, log.outsider, word) == []


def test_every_transition_and_edit_keeps_the_entries_current(log: Log) -> None:
    world = log.world
    uow, helios, ann = world.uow, world.alliance_id, world.ann.id
    uow.write(
        plot_twists.do_resolve_plot_twist,
        world.bob,
        helios,
        log.twist,
        {"resolution": "A second shift on the casting line"},
    )
    assert found(uow, ann, "casting shift") == [("plot_twist", log.twist)]

    for to, fields in (("engaged", {}), ("resolved", {"outcome": "Split sixty forty by volume"})):
        world.later(24)
        uow.write(tensions.do_move_tension, world.ann, helios, log.tension, {"to": to} | fields)
    assert found(uow, ann, "sixty forty") == [("tension", log.tension)]

    for to, fields in (
        ("running", {}),
        ("concluded", {"result": "From nine days to six", "adjustment": "Drop the report"}),
    ):
        world.later(24)
        uow.write(
            experiments.do_move_experiment,
            world.bob,
            helios,
            log.experiment,
            {"to": to} | fields,
        )
    assert found(uow, ann, "nine days") == [("experiment", log.experiment)]
    assert found(uow, ann, "report") == [("experiment", log.experiment)]

    def retitle(uow: UnitOfWork) -> None:
        twist = uow.session.get(PlotTwist, {"alliance_id": helios, "id": log.twist})
        assert twist is not None
        twist.title = "Main customer halves its order"

    uow.write(retitle)
    assert found(uow, ann, "halves") == [("plot_twist", log.twist)]
    assert found(uow, ann, "doubles") == []


def test_reindex_finds_them(log: Log) -> None:
    uow, ann = log.world.uow, log.world.ann.id
    kinds = ("plot_twist", "tension", "experiment", "learning")
    emergence_docs = sa.select(search_entries.c.doc).where(search_entries.c.kind.in_(kinds))
    uow.write(lambda uow: index._delete(uow.session, list(uow.session.scalars(emergence_docs))))
    assert found(uow, ann, "turbine") == []
    uow.write(lambda uow: index.rebuild(uow.session))
    written = uow.session.scalars(
        sa.select(search_entries.c.kind).where(search_entries.c.kind.in_(kinds))
    )
    assert sorted(written) == sorted(kinds)
    assert found(uow, ann, "turbine") == [("plot_twist", log.twist)]
    assert found(uow, ann, "celebrate") == [("learning", log.learning)]


def test_an_imported_emergence_log_is_found(log: Log, tmp_path: Path) -> None:
    text = archive.dumps_archive(
        export_alliance(log.world.uow, None, log.world.alliance_id, bootstrap=True)
    )
    target = build_runtime(Settings(database_url=f"sqlite:///{tmp_path / 'target.sqlite3'}"))
    try:
        with target.uow() as uow:
            uow.write(do_import_archive, None, archive.loads_archive(text), bootstrap=True)
            olga = people.person_by_email(uow, "olga@example.org")
            assert olga is not None
            for word, kind, item_id in (
                ("turbine", "plot_twist", log.twist),
                ("sieving", "tension", log.tension),
                ("monday", "experiment", log.experiment),
                ("celebrate", "learning", log.learning),
            ):
                assert found(uow, olga.id, word) == [(kind, item_id)]
    finally:
        target.close()
