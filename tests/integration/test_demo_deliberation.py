"""The demo shows what no other tool has: opinion groups that follow partner lines, a fault
line and a bridging statement — with partners big enough that nothing is withheld (issue 9, 12).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from coauthor.analysis.anonymity import DEFAULT_THRESHOLD
from coauthor.config import Settings
from coauthor.demo import seed as demo
from coauthor.domain import model as m
from coauthor.runtime import build_runtime
from coauthor.services.accounts import people
from coauthor.services.deliberation import results

END_OF_DEMO = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, str]]:
    """The facts of the demo deliberation's release, and its statements' texts by id."""
    path = Path(tmp_path_factory.mktemp("demo")) / "demo.sqlite3"
    runtime = build_runtime(Settings(database_url=f"sqlite:///{path}"))
    try:
        with runtime.uow() as uow:
            login = uow.write(demo.seed_demo, end=END_OF_DEMO)
        with runtime.uow() as uow:
            jonas = people.person_by_email(uow, login.email)
            [started] = uow.find(m.Deliberation, alliance_id=login.alliance_id)
            texts = {s.id: s.text for s in uow.find(m.Statement, alliance_id=login.alliance_id)}
            release = uow.write(
                results.do_release,
                jonas,
                login.alliance_id,
                started.id,
                DEFAULT_THRESHOLD,
            )
            assert release is not None
            return release.facts, texts
    finally:
        runtime.close()


def test_every_demo_partner_has_more_voters_than_the_threshold() -> None:
    voters = Counter(p.partner for p in demo.PEOPLE if p.role != m.Role.OBSERVER)
    assert set(voters) == set(demo.PARTNERS)
    assert min(voters.values()) > DEFAULT_THRESHOLD


def test_the_partner_breakdown_is_shown_whole(
    released: tuple[dict[str, Any], dict[str, str]],
) -> None:
    facts, _ = released
    alignment = facts["partners"]["alignment"]
    assert alignment is not None
    assert len(alignment["partners"]) == len(demo.PARTNERS)
    assert results.OTHER_PARTNERS not in alignment["partners"]
    assert all(cell is not None for row in alignment["table"] for cell in row)
    assert all(group["size"] is not None for group in facts["groups"])


def test_the_groups_follow_partner_lines_with_a_fault_line_and_a_bridge(
    released: tuple[dict[str, Any], dict[str, str]],
) -> None:
    facts, texts = released
    partners = facts["partners"]
    assert partners["alignment"]["follows_partner_lines"]
    assert partners["fault_lines"]
    bridging = [texts[item["statement_id"]] for item in partners["bridging"]]
    assert "Every improvement is explained to plant staff before it goes live." in bridging
