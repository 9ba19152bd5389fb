"""The columnar figures equal the commitment-by-commitment reference on random ledgers, for
the alliance, every partner's view and every period; and they survive the stored rows."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coauthor.analysis import ledger_metrics as figures
from coauthor.domain.ledger import SpeechAct
from tests.ledger_strategies import runs
from tests.unit import ledger_reference as reference

START = datetime(2025, 1, 1, tzinfo=UTC)
PARTNERS = ("pa_a", "pa_b", "pa_c")


def close(mine: Any, theirs: Any, path: str = "") -> None:
    """Equal, floats up to rounding (hours come from timestamps on one side)."""
    if isinstance(mine, dict):
        assert mine.keys() == theirs.keys(), path
        for key in mine:
            close(mine[key], theirs[key], f"{path}.{key}")
    elif isinstance(mine, list | tuple):
        assert len(mine) == len(theirs), path
        for index, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            close(a, b, f"{path}[{index}]")
    elif isinstance(mine, float) and isinstance(theirs, float):
        assert math.isclose(mine, theirs, rel_tol=1e-9, abs_tol=1e-9), (path, mine, theirs)
    else:
        assert mine == theirs, (path, mine, theirs)


@st.composite
def ledgers(draw: st.DrawFn) -> list[tuple[str, tuple[str, ...], list[SpeechAct]]]:
    """Commitments between three partners, some joint, each with a random run."""
    found = []
    for _ in range(draw(st.integers(0, 8))):
        customer = draw(st.sampled_from(PARTNERS))
        others = [p for p in PARTNERS if p != customer]
        performers = tuple(sorted(draw(st.sets(st.sampled_from(others), min_size=1))))
        found.append((customer, performers, draw(runs(START))))
    return found


def records(ledger: list, module: Any) -> list[Any]:
    return [
        module.CommitmentRecord.from_acts(
            alliance_id="al_1",
            commitment_id=f"c{index}",
            customer_partner_id=customer,
            performer_partner_ids=performers,
            acts=acts,
        )
        for index, (customer, performers, acts) in enumerate(ledger)
    ]


FIGURES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FIGURES
@given(ledgers(), st.integers(0, 200))
def test_columnar_figures_equal_the_reference(ledger: list, days_later: int) -> None:
    last = max((acts[-1].at for _, _, acts in ledger), default=START)
    now = last + timedelta(days=days_later)
    mine, theirs = records(ledger, figures), records(ledger, reference)
    close(
        figures.ledger_metrics(mine, now).to_dict(), reference.ledger_metrics(theirs, now).to_dict()
    )
    partners = figures.by_partner(mine, now)
    assert partners.keys() == reference.by_partner(theirs, now).keys()
    for key, view in reference.by_partner(theirs, now).items():
        close(partners[key].to_dict(), view.to_dict(), key)
    for period in ("month", "quarter"):
        ours = figures.by_period(mine, now, period, partner_id="pa_b")
        expected = reference.by_period(theirs, now, period, partner_id="pa_b")
        assert ours.keys() == expected.keys()
        for key in expected:
            close(ours[key].to_dict(), expected[key].to_dict(), key)


@FIGURES
@given(ledgers(), st.integers(0, 200))
def test_the_stored_rows_give_the_same_figures(ledger: list, days_later: int) -> None:
    last = max((acts[-1].at for _, _, acts in ledger), default=START)
    now = last + timedelta(days=days_later)
    facts = [figures.facts_of_record(record) for record in records(ledger, figures)]
    rows = [figures.fact_row(f) for f in facts if f]
    stored = figures.FactsTable.from_rows(rows, [f.alliance_id for f in facts if f])
    assert figures.table_metrics(stored, now) == figures.ledger_metrics(
        records(ledger, figures), now
    )
