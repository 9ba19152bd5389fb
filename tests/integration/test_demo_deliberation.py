"""The demo shows what no other tool has: opinion groups that follow partner lines, a fault
line and a bridging statement — with partners big enough that nothing is withheld (issue 9, 12).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from coauthor.analysis.anonymity import DEFAULT_THRESHOLD
from coauthor.config import Settings
from coauthor.demo import seed as demo
from coauthor.domain import model as m
from coauthor.runtime import build_runtime
from coauthor.services.accounts import people
from coauthor.services.deliberation import acts as deliberation
from coauthor.services.deliberation.results import DeliberationResults

END_OF_DEMO = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_results(tmp_path_factory: pytest.TempPathFactory) -> tuple[DeliberationResults, dict]:
    """The results of the demo's deliberation, and its statements' texts by id."""
    path = Path(tmp_path_factory.mktemp("demo")) / "demo.sqlite3"
    runtime = build_runtime(Settings(database_url=f"sqlite:///{path}"))
    try:
        with runtime.uow() as uow:
            login = uow.write(demo.seed_demo, end=END_OF_DEMO)
        with runtime.uow() as uow:
            jonas = people.person_by_email(uow, login.email)
            [started] = uow.find(m.Deliberation, alliance_id=login.alliance_id)
            found = deliberation.results(
                uow, jonas, login.alliance_id, started.id, DEFAULT_THRESHOLD
            )
            return found, {sid: s.text for sid, s in found.statements.items()}
    finally:
        runtime.close()


def test_every_demo_partner_has_more_voters_than_the_threshold() -> None:
    voters = Counter(p.partner for p in demo.PEOPLE if p.role != m.Role.OBSERVER)
    assert set(voters) == set(demo.PARTNERS)
    assert min(voters.values()) > DEFAULT_THRESHOLD


def test_the_partner_breakdown_is_shown_whole(
    demo_results: tuple[DeliberationResults, dict],
) -> None:
    results = demo_results[0]
    assert results.partners.withheld == []
    assert results.undescribed_groups == frozenset()
    alignment = results.partners.alignment
    assert alignment is not None
    assert sorted(alignment.partners) == sorted(demo.PARTNERS)
    assert min(alignment.table.sum(axis=0)) >= DEFAULT_THRESHOLD


def test_the_groups_follow_partner_lines_with_a_fault_line_and_a_bridge(
    demo_results: tuple[DeliberationResults, dict],
) -> None:
    results, texts = demo_results
    assert results.partners.follows_partner_lines
    lines = results.partners.lines
    assert lines is not None
    assert [texts[f.statement_id] for f in lines.fault_lines]
    bridging = [texts[b.statement_id] for b in lines.bridging]
    assert "Every improvement is explained to plant staff before it goes live." in bridging
