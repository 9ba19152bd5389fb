"""What people send to the emergence log: plot twists, tensions, experiments, learnings, links.

Dates are calendar days (``occurred_on``, ``review_on``); the services check
them against the clock (a plot twist has happened already, an experiment is
reviewed after it starts).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from coauthor.domain.emergence import (
    ExperimentState,
    LearningSource,
    LinkKind,
    PlotTwistKind,
    Severity,
    TensionState,
)
from coauthor.services.inputs import Input, Name, Ref

Said = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
MAX_PARTNERS = 50


class PlotTwistInput(Input):
    """A plot twist: what happened, of which kind, how severe, on which day (default today)."""

    title: Name
    kind: PlotTwistKind = PlotTwistKind.SURPRISE
    severity: Severity = Severity.MEDIUM
    occurred_on: date | None = None
    description: Note = ""


class ResolveInput(Input):
    """How a plot twist was met, in words: it closes the plot twist."""

    resolution: Said


class LinkInput(Input):
    """A commitment, declaration, experiment or meeting of the same alliance."""

    target_kind: LinkKind
    target_id: Ref


class TensionInput(Input):
    """A tension between two or more partners, about something."""

    about: Name
    description: Note = ""
    partner_ids: list[Ref] = Field(min_length=2, max_length=MAX_PARTNERS)

    @model_validator(mode="after")
    def _distinct(self) -> TensionInput:
        if len(set(self.partner_ids)) != len(self.partner_ids):
            raise ValueError("partner_ids: a partner is listed twice")
        return self


class TensionStepInput(Input):
    """One step of a tension's course; ``outcome`` says how it ended (resolved or
    abandoned); ``meeting_id`` names the meeting where it was engaged."""

    to: TensionState
    note: Note = ""
    outcome: Note = ""
    meeting_id: Ref | None = None


class ExperimentInput(Input):
    """Adaptive work: the hypothesis, what we try, the signal we watch, and by when."""

    hypothesis: Said
    action: Said
    signal: Said
    review_on: date
    prompted_by: Ref | None = Field(
        default=None, description="The plot twist or tension that prompted it."
    )


class ExperimentStepInput(Input):
    """Start, conclude or abandon an experiment; concluding says the result, what we
    adjust, and may record what we learned."""

    to: ExperimentState
    result: Note = ""
    adjustment: Note = ""
    learning: Note = ""


class LearningInput(Input):
    """What we learned, from a retrospective or from a closed experiment."""

    text: Said
    source: LearningSource = LearningSource.RETROSPECTIVE
    experiment_id: Ref | None = None

    @model_validator(mode="after")
    def _experiment_named(self) -> LearningInput:
        if self.source is LearningSource.EXPERIMENT and self.experiment_id is None:
            raise ValueError("experiment_id: say which experiment taught it")
        if self.source is LearningSource.RETROSPECTIVE and self.experiment_id is not None:
            raise ValueError("source: a learning from an experiment has source 'experiment'")
        return self
