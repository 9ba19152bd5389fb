"""The emergence log in the archive: exported, imported on either database and exported
again unchanged; links to what the archive does not hold are refused by their path."""

from __future__ import annotations

import json
from pathlib import Path

from coauthor.config import Settings
from coauthor.runtime import Runtime, build_runtime
from coauthor.services.story import operator_story
from tests.integration.ledger_world import seed
from tests.integration.test_archive import export_text, import_text, refusal
from tests.integration.test_story import live_a_little


def lived(runtime: Runtime) -> str:
    with runtime.uow() as uow:
        world = seed(uow, runtime.clock)  # type: ignore[arg-type]
        world.later()
        live_a_little(world)
        uow.session.commit()
        return world.alliance_id


def test_the_emergence_log_travels_whole(runtime: Runtime, tmp_path: Path) -> None:
    alliance_id = lived(runtime)
    text = export_text(runtime, alliance_id)
    document = json.loads(text)
    assert [len(document[s]) for s in ("plot_twists", "tensions", "experiments", "learnings")] == [
        1,
        1,
        1,
        2,
    ]
    [tension] = document["tensions"]
    assert [step["state"] for step in tension["steps"]] == ["surfaced", "engaged", "resolved"]
    assert {link["target_kind"] for link in document["emergence_links"]} == {
        "commitment",
        "experiment",
        "meeting",
    }
    other = build_runtime(Settings(database_url=f"sqlite:///{tmp_path / 'other.sqlite3'}"))
    try:
        assert import_text(other, text) == (alliance_id, True)
        assert export_text(other, alliance_id) == text
        with other.uow() as uow:
            told = operator_story(uow, alliance_id, 5)
            assert told.metrics.tensions_engaged_and_resolved == 1
            assert told.metrics.with_response == 1
    finally:
        other.close()


def test_links_outside_the_archive_are_refused(runtime: Runtime, tmp_path: Path) -> None:
    alliance_id = lived(runtime)
    document = json.loads(export_text(runtime, alliance_id))
    document["emergence_links"][0]["target_id"] = "cm_AAAAAAAAAAAAAAAA"
    document["tensions"][0]["steps"][1]["seq"] = 7
    document["tensions"][0]["partner_ids"][0] = "pa_AAAAAAAAAAAAAAAA"
    other = build_runtime(Settings(database_url=f"sqlite:///{tmp_path / 'other.sqlite3'}"))
    try:
        found = refusal(other, json.dumps(document))
    finally:
        other.close()
    paths = [path for path, _ in found]
    assert "$.emergence_links[0].target_id" in paths
    assert "$.tensions[0].steps[1].seq" in paths
    assert "$.tensions[0].partner_ids[0]" in paths
