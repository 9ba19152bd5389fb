"""The emergence log of one alliance as records for ``analysis.emergence_metrics``.

No signed-in person: the diagnosis (and the story) call this with the unit of
work and the alliance's id, after deciding themselves who may see the result.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import sqlalchemy as sa

from coauthor.analysis.emergence_metrics import (
    EmergenceMetrics,
    ExperimentRecord,
    PlotTwistRecord,
    TensionRecord,
    emergence_metrics,
)
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.emergence import (
    EXPERIMENT_CLOSED,
    RESPONSE_KINDS,
    EmergenceLink,
    Experiment,
    Learning,
    PlotTwist,
    Tension,
    TensionState,
)


def _first_responses(uow: UnitOfWork, alliance_id: str) -> dict[str, datetime]:
    query = (
        sa.select(EmergenceLink.source_id, sa.func.min(EmergenceLink.linked_at))
        .where(
            EmergenceLink.alliance_id == alliance_id,
            EmergenceLink.target_kind.in_(sorted(RESPONSE_KINDS)),
        )
        .group_by(EmergenceLink.source_id)
    )
    return {source_id: at for source_id, at in uow.session.execute(query)}


def plot_twist_records(uow: UnitOfWork, alliance_id: str) -> list[PlotTwistRecord]:
    first = _first_responses(uow, alliance_id)
    return [
        PlotTwistRecord(t.id, t.raised_at, t.raised_by_partner_id, first.get(t.id), t.resolved_at)
        for t in uow.find(PlotTwist, alliance_id=alliance_id, order_by=PlotTwist.raised_at)
    ]


def tension_records(uow: UnitOfWork, alliance_id: str) -> list[TensionRecord]:
    return [
        TensionRecord(
            t.id, t.surfaced_at, t.engaged_at, t.closed_at, t.state is TensionState.RESOLVED
        )
        for t in uow.find(Tension, alliance_id=alliance_id, order_by=Tension.surfaced_at)
    ]


def experiment_records(uow: UnitOfWork, alliance_id: str) -> list[ExperimentRecord]:
    taught = Counter(
        learning.experiment_id
        for learning in uow.find(Learning, alliance_id=alliance_id)
        if learning.experiment_id
    )
    return [
        ExperimentRecord(e.id, e.started_at is not None, e.state in EXPERIMENT_CLOSED, taught[e.id])
        for e in uow.find(Experiment, alliance_id=alliance_id, order_by=Experiment.created_at)
    ]


def alliance_metrics(uow: UnitOfWork, alliance_id: str) -> EmergenceMetrics:
    """The emergence figures of one alliance, now (by the unit of work's clock)."""
    partner_ids = [p.id for p in uow.find(m.Partner, alliance_id=alliance_id)]
    return emergence_metrics(
        plot_twist_records(uow, alliance_id),
        tension_records(uow, alliance_id),
        experiment_records(uow, alliance_id),
        sorted(partner_ids),
        uow.clock.now(),
    )
