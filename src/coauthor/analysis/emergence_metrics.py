"""The emergence log's figures, for the diagnosis to come (docs/emergence.md, "Metrics").

Pure: plain records in, a frozen summary out. ``services.emergence.facts``
reads the records of one alliance without a signed-in person.

- plot twists raised per calendar month (UTC), every month from the first
  raised to ``now`` included, and by the partner of whoever raised them;
- the *partner spread*: Shannon entropy of the counts by partner over every
  partner of the alliance, divided by ln(number of partners) — 0 when one
  partner raises them all, 1 when each raises as many;
- the time to first response (a commitment, declaration or experiment linked
  to the plot twist), as a median in hours, and the share with a response;
- tensions still open more than ``OPEN_TOO_LONG_DAYS`` after surfacing, and
  those engaged and resolved;
- experiments run (started), ended, and ended with at least one learning.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from coauthor.domain.emergence import OPEN_TOO_LONG_DAYS

HOUR = 3600.0


@dataclass(frozen=True)
class PlotTwistRecord:
    id: str
    raised_at: datetime
    partner_id: str | None
    first_response_at: datetime | None
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class TensionRecord:
    id: str
    surfaced_at: datetime
    engaged_at: datetime | None
    closed_at: datetime | None
    resolved: bool
    """Ended by being resolved (not abandoned)."""


@dataclass(frozen=True)
class ExperimentRecord:
    id: str
    started: bool
    ended: bool
    learnings: int


@dataclass(frozen=True)
class EmergenceMetrics:
    plot_twists: int
    per_month: dict[str, int]
    """"YYYY-MM" → plot twists raised that month, each month from the first to now."""
    by_partner: dict[str, int]
    """Partner id → plot twists raised by its people; every partner listed, zeros too."""
    partner_spread: float | None
    """0 to 1; None with fewer than two partners or no plot twist."""
    with_response: int
    share_with_response: float | None
    median_hours_to_first_response: float | None
    median_hours_to_resolution: float | None
    tensions: int
    tensions_open: int
    tensions_open_past_limit: list[str]
    """Ids of tensions open more than OPEN_TOO_LONG_DAYS days, oldest first."""
    tensions_engaged_and_resolved: int
    experiments: int
    experiments_run: int
    experiments_ended: int
    experiments_ended_with_learning: int


def _month(moment: datetime) -> tuple[int, int]:
    return moment.year, moment.month


def months_between(first: datetime, last: datetime) -> list[str]:
    """Every "YYYY-MM" from ``first``'s month to ``last``'s, both included."""
    year, month = _month(first)
    end = _month(last)
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def per_month(raised: Sequence[datetime], now: datetime) -> dict[str, int]:
    if not raised:
        return {}
    counts = Counter(f"{m.year:04d}-{m.month:02d}" for m in raised)
    return {month: counts[month] for month in months_between(min(raised), max(now, *raised))}


def spread(counts: Sequence[int]) -> float | None:
    """Normalised Shannon entropy of ``counts`` (one per partner, zeros included)."""
    total = sum(counts)
    if len(counts) < 2 or total == 0:
        return None
    entropy = abs(sum(c / total * math.log(c / total) for c in counts if c))
    return entropy / math.log(len(counts))


def _median_hours(pairs: Sequence[tuple[datetime, datetime | None]]) -> float | None:
    hours = [(end - start).total_seconds() / HOUR for start, end in pairs if end is not None]
    return statistics.median(hours) if hours else None


def emergence_metrics(
    twists: Sequence[PlotTwistRecord],
    tensions: Sequence[TensionRecord],
    experiments: Sequence[ExperimentRecord],
    partner_ids: Sequence[str],
    now: datetime,
) -> EmergenceMetrics:
    by_partner = Counter(t.partner_id for t in twists if t.partner_id is not None)
    counts = {partner: by_partner[partner] for partner in partner_ids}
    responded = [t for t in twists if t.first_response_at is not None]
    open_tensions = [t for t in tensions if t.closed_at is None]
    too_long = sorted(
        (t for t in open_tensions if (now - t.surfaced_at).days > OPEN_TOO_LONG_DAYS),
        key=lambda t: (t.surfaced_at, t.id),
    )
    return EmergenceMetrics(
        plot_twists=len(twists),
        per_month=per_month([t.raised_at for t in twists], now),
        by_partner=counts,
        partner_spread=spread(list(counts.values())),
        with_response=len(responded),
        share_with_response=len(responded) / len(twists) if twists else None,
        median_hours_to_first_response=_median_hours(
            [(t.raised_at, t.first_response_at) for t in twists]
        ),
        median_hours_to_resolution=_median_hours([(t.raised_at, t.resolved_at) for t in twists]),
        tensions=len(tensions),
        tensions_open=len(open_tensions),
        tensions_open_past_limit=[t.id for t in too_long],
        tensions_engaged_and_resolved=sum(
            1 for t in tensions if t.resolved and t.engaged_at is not None
        ),
        experiments=len(experiments),
        experiments_run=sum(1 for e in experiments if e.started),
        experiments_ended=sum(1 for e in experiments if e.ended),
        experiments_ended_with_learning=sum(1 for e in experiments if e.ended and e.learnings),
    )
