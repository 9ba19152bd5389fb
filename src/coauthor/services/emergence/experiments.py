"""Experiments (adaptive leadership): a hypothesis, what we try, the signal we watch,
by when; then the result, what we adjust, and what we learned.

An experiment may be prompted by a plot twist or tension: it is then linked to
it, and counts as one of its responses.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.emergence import (
    Experiment,
    ExperimentState,
    Learning,
    LearningSource,
    LinkKind,
    check_experiment_step,
)
from coauthor.domain.errors import NotFound, ValidationFailed
from coauthor.ids import new_id
from coauthor.services import eventlog, inputs
from coauthor.services.emergence.inputs import ExperimentInput, ExperimentStepInput
from coauthor.services.emergence.links import add_link, source_of
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.services.paging import Page, PageRequest, keyset


def do_propose_experiment(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, payload: Any
) -> Experiment:
    """A planned experiment, reviewed on a day still to come."""
    access = open_alliance(uow, actor, alliance_id)
    permissions.require_take_part(actor, access.membership)
    data = inputs.parse(ExperimentInput, payload)
    now = uow.clock.now()
    if data.review_on < now.date():
        raise ValidationFailed.one("review_on", "is in the past: say when the signal will be read")
    if data.prompted_by is not None:
        try:
            source_of(uow, alliance_id, data.prompted_by)
        except NotFound:
            raise ValidationFailed.one(
                "prompted_by", "no such plot twist or tension in this alliance"
            ) from None
    experiment = Experiment(
        alliance_id=alliance_id,
        id=new_id("ex"),
        hypothesis=data.hypothesis,
        action=data.action,
        signal=data.signal,
        review_on=data.review_on,
        state=ExperimentState.PLANNED,
        created_at=now,
        created_by_person_id=actor.id if actor else None,
    )
    uow.add(experiment)
    uow.flush()
    if data.prompted_by is not None:
        add_link(uow, actor, alliance_id, data.prompted_by, LinkKind.EXPERIMENT, experiment.id)
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "experiment.proposed",
        data.model_dump(mode="json") | {"id": experiment.id},
    )
    return experiment


def get_experiment(uow: UnitOfWork, alliance_id: str, experiment_id: str) -> Experiment:
    found = uow.get(Experiment, alliance_id=alliance_id, id=experiment_id)
    if found is None:
        raise NotFound("no such experiment in this alliance")
    return found


def do_move_experiment(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, experiment_id: str, payload: Any
) -> Experiment:
    """Start, conclude (with its result) or abandon an experiment; a conclusion may record
    what was learned."""
    access = open_alliance(uow, actor, alliance_id)
    permissions.require_take_part(actor, access.membership)
    data = inputs.parse(ExperimentStepInput, payload)
    experiment = get_experiment(uow, alliance_id, experiment_id)
    check_experiment_step(experiment.state, data.to, data.result)
    if data.to is ExperimentState.RUNNING and (data.result or data.adjustment or data.learning):
        raise ValidationFailed.one("result", "a result is told when the experiment ends")
    now = uow.clock.now()
    experiment.state = data.to
    if data.to is ExperimentState.RUNNING:
        experiment.started_at = now
    else:
        experiment.closed_at = now
        experiment.result = data.result
        experiment.adjustment = data.adjustment
    if data.learning:
        uow.add(
            Learning(
                alliance_id=alliance_id,
                id=new_id("le"),
                text=data.learning,
                source=LearningSource.EXPERIMENT,
                recorded_at=now,
                recorded_by_person_id=actor.id if actor else None,
                experiment_id=experiment.id,
            )
        )
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "experiment.moved",
        data.model_dump(mode="json") | {"id": experiment.id},
    )
    return experiment


def experiments(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, request: PageRequest
) -> Page[Experiment]:
    """The alliance's experiments, latest first."""
    open_alliance(uow, actor, alliance_id)
    statement = sa.select(Experiment).where(Experiment.alliance_id == alliance_id)
    columns = (Experiment.created_at, Experiment.id)
    return keyset(
        uow.session, statement, columns, request, lambda e: (e.created_at, e.id), descending=True
    )


def experiment(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, experiment_id: str
) -> Experiment:
    open_alliance(uow, actor, alliance_id)
    return get_experiment(uow, alliance_id, experiment_id)
