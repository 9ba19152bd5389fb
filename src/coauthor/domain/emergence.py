"""Emergence: plot twists, tensions and conflicts, experiments and learnings.

Pure rules, no storage (docs/emergence.md). A plot twist is what surprised the
alliance; the partners answer it with commitments, declarations and
experiments (its *responses*, stored as links). A tension runs a course —
surfaced → engaged → resolved, escalated or abandoned — written below as a
table of allowed steps; an experiment runs planned → running → concluded (or
abandoned). A conclusion, a resolution and a plot twist's closing each need
their outcome in words.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from coauthor.domain.errors import ValidationFailed


class PlotTwistKind(enum.StrEnum):
    SURPRISE = "surprise"
    DISRUPTION = "disruption"
    OPPORTUNITY = "opportunity"
    BREAKTHROUGH = "breakthrough"


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class TensionState(enum.StrEnum):
    SURFACED = "surfaced"
    ENGAGED = "engaged"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    ABANDONED = "abandoned"


class ExperimentState(enum.StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    CONCLUDED = "concluded"
    ABANDONED = "abandoned"


class LinkKind(enum.StrEnum):
    """What a plot twist or tension may be linked to: its responses, and meetings."""

    COMMITMENT = "commitment"
    DECLARATION = "declaration"
    EXPERIMENT = "experiment"
    MEETING = "meeting"


class LearningSource(enum.StrEnum):
    RETROSPECTIVE = "retrospective"
    EXPERIMENT = "experiment"


TENSION_STEPS: Mapping[TensionState, frozenset[TensionState]] = {
    TensionState.SURFACED: frozenset({TensionState.ENGAGED, TensionState.ABANDONED}),
    TensionState.ENGAGED: frozenset(
        {TensionState.RESOLVED, TensionState.ESCALATED, TensionState.ABANDONED}
    ),
    TensionState.ESCALATED: frozenset(
        {TensionState.ENGAGED, TensionState.RESOLVED, TensionState.ABANDONED}
    ),
    TensionState.RESOLVED: frozenset(),
    TensionState.ABANDONED: frozenset(),
}
"""Where a tension may go from each state. Escalated goes back to engaged when the
higher level takes it up; resolving or abandoning ends the course."""

TENSION_CLOSED = frozenset({TensionState.RESOLVED, TensionState.ABANDONED})
OUTCOME_NEEDED = frozenset({TensionState.RESOLVED, TensionState.ABANDONED})
"""Ending a tension says how it ended: the outcome, or why it was left."""

EXPERIMENT_STEPS: Mapping[ExperimentState, frozenset[ExperimentState]] = {
    ExperimentState.PLANNED: frozenset({ExperimentState.RUNNING, ExperimentState.ABANDONED}),
    ExperimentState.RUNNING: frozenset({ExperimentState.CONCLUDED, ExperimentState.ABANDONED}),
    ExperimentState.CONCLUDED: frozenset(),
    ExperimentState.ABANDONED: frozenset(),
}
EXPERIMENT_CLOSED = frozenset({ExperimentState.CONCLUDED, ExperimentState.ABANDONED})

OPEN_TOO_LONG_DAYS = 30
"""A tension open longer than this shows as avoided (docs/emergence.md)."""


def _listing(states: frozenset[TensionState] | frozenset[ExperimentState]) -> str:
    return ", ".join(sorted(s.value for s in states)) or "nothing: its course has ended"


def check_tension_step(current: TensionState, to: TensionState, outcome: str) -> None:
    """Refuse a step the table does not allow, or an ending without its outcome."""
    allowed = TENSION_STEPS[current]
    if to not in allowed:
        raise ValidationFailed.one(
            "to",
            f"a tension {current.value} cannot become {to.value}; it may become "
            f"{_listing(allowed)}",
        )
    if to in OUTCOME_NEEDED and not outcome.strip():
        word = "how it was resolved" if to is TensionState.RESOLVED else "why it is left"
        raise ValidationFailed.one("outcome", f"say {word}")


def check_experiment_step(current: ExperimentState, to: ExperimentState, result: str) -> None:
    """Refuse a step the table does not allow, or a conclusion without its result."""
    allowed = EXPERIMENT_STEPS[current]
    if to not in allowed:
        raise ValidationFailed.one(
            "to",
            f"an experiment {current.value} cannot become {to.value}; it may become "
            f"{_listing(allowed)}",
        )
    if to in EXPERIMENT_CLOSED and not result.strip():
        word = "what the signal showed" if to is ExperimentState.CONCLUDED else "why it stopped"
        raise ValidationFailed.one("result", f"say {word}")


@dataclass(eq=False)
class PlotTwist:
    """A surprise, disruption, opportunity or breakthrough, raised by anyone."""

    alliance_id: str
    id: str
    title: str
    kind: PlotTwistKind
    severity: Severity
    occurred_on: date
    raised_at: datetime
    raised_by_person_id: str | None
    raised_by_partner_id: str | None
    description: str = ""
    resolved_at: datetime | None = None
    resolution: str = ""

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None


@dataclass(eq=False)
class Tension:
    """Friction or conflict between partners, and its course."""

    alliance_id: str
    id: str
    about: str
    state: TensionState
    surfaced_at: datetime
    surfaced_by_person_id: str | None
    description: str = ""
    engaged_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str = ""

    @property
    def open(self) -> bool:
        return self.state not in TENSION_CLOSED

    def age_days(self, now: datetime) -> int:
        """Days from surfacing to its end, or to ``now`` when it is still open."""
        end = self.closed_at or now
        return (end - self.surfaced_at).days


@dataclass(eq=False)
class TensionPartner:
    alliance_id: str
    tension_id: str
    partner_id: str


@dataclass(eq=False)
class TensionStep:
    """One step of a tension's course; the first is its surfacing."""

    alliance_id: str
    tension_id: str
    seq: int
    state: TensionState
    at: datetime
    person_id: str | None
    note: str = ""


@dataclass(eq=False)
class Experiment:
    """Adaptive work: a hypothesis, what we try, the signal we watch, by when; then the
    result and what we adjust."""

    alliance_id: str
    id: str
    hypothesis: str
    action: str
    signal: str
    review_on: date
    state: ExperimentState
    created_at: datetime
    created_by_person_id: str | None
    started_at: datetime | None = None
    closed_at: datetime | None = None
    result: str = ""
    adjustment: str = ""


@dataclass(eq=False)
class Learning:
    """What the partners learned, from a retrospective or a closed experiment."""

    alliance_id: str
    id: str
    text: str
    source: LearningSource
    recorded_at: datetime
    recorded_by_person_id: str | None
    experiment_id: str | None = None


@dataclass(eq=False)
class EmergenceLink:
    """A plot twist or tension (``source_id``) linked to a commitment, declaration,
    experiment or meeting (``target_kind``, ``target_id``)."""

    alliance_id: str
    source_id: str
    target_kind: LinkKind
    target_id: str
    linked_at: datetime
    linked_by_person_id: str | None


RESPONSE_KINDS = frozenset({LinkKind.COMMITMENT, LinkKind.DECLARATION, LinkKind.EXPERIMENT})
"""Links that count as the alliance responding (a meeting alone is not a response)."""
