"""``coauthor ledger metrics``: the demo alliance's figures as JSON and as tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_cli import Cli


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(f"sqlite:///{tmp_path / 'ledger-cli.sqlite3'}")


def test_ledger_metrics_of_the_demo(cli: Cli) -> None:
    cli.demo()
    [alliance] = json.loads(cli.ok("alliance", "list", "--json"))
    document = json.loads(cli.ok("ledger", "metrics", alliance["id"], "--json"))
    for key in (
        "reliability",
        "responsiveness",
        "clarity",
        "candor",
        "silent_lapses",
        "reciprocity",
    ):
        assert key in document
    assert document["alliance_id"] == alliance["id"]
    # The demo tells every kind of story: some kept, one reneged, declines and counters,
    # one promise lapsing in silence right now.
    assert document["promises"] > 50
    assert 0 < document["reliability"]["value"] < 1
    assert document["renege_rate"]["count"] >= 2
    assert document["candor"]["declines"] >= 1 and document["candor"]["counters"] >= 1
    assert document["silent_lapses"]["current"] >= 1
    assert document["rework_loops"]["count"] >= 1
    partners = [entry["partner"] for entry in document["by_partner"]]
    assert partners == sorted(partners, key=str.lower) and len(partners) == 3
    assert len(document["reciprocity"]["partners"]) == 3
    assert all("-Q" in entry["period"] for entry in document["by_period"])
    months = json.loads(cli.ok("ledger", "metrics", alliance["id"], "--json", "--period", "month"))
    assert len(months["by_period"]) > len(document["by_period"])
    table = cli.ok("ledger", "metrics", alliance["id"])
    assert "kept" in table and "By period opened" in table
    assert "no alliance with id al_nope" in cli.fails("ledger", "metrics", "al_nope")
    assert "--period" in cli.fails("ledger", "metrics", alliance["id"], "--period", "week")
