"""Learnings: what the partners learned, from retrospectives and closed experiments."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.emergence import EXPERIMENT_CLOSED, Learning
from coauthor.domain.errors import NotFound, ValidationFailed
from coauthor.ids import new_id
from coauthor.services import eventlog, inputs
from coauthor.services.emergence.experiments import get_experiment
from coauthor.services.emergence.inputs import LearningInput
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.services.paging import Page, PageRequest, keyset


def do_record_learning(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, payload: Any
) -> Learning:
    """A learning from a retrospective, or from an experiment once it has ended."""
    access = open_alliance(uow, actor, alliance_id)
    permissions.require_take_part(actor, access.membership)
    data = inputs.parse(LearningInput, payload)
    if data.experiment_id is not None:
        try:
            experiment = get_experiment(uow, alliance_id, data.experiment_id)
        except NotFound:
            raise ValidationFailed.one(
                "experiment_id", "no such experiment in this alliance"
            ) from None
        if experiment.state not in EXPERIMENT_CLOSED:
            raise ValidationFailed.one(
                "experiment_id", "the experiment is still " + experiment.state.value
            )
    learning = Learning(
        alliance_id=alliance_id,
        id=new_id("le"),
        text=data.text,
        source=data.source,
        recorded_at=uow.clock.now(),
        recorded_by_person_id=actor.id if actor else None,
        experiment_id=data.experiment_id,
    )
    uow.add(learning)
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "learning.recorded",
        data.model_dump(mode="json") | {"id": learning.id},
    )
    return learning


def learnings(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, request: PageRequest
) -> Page[Learning]:
    """The alliance's learnings, latest first."""
    open_alliance(uow, actor, alliance_id)
    statement = sa.select(Learning).where(Learning.alliance_id == alliance_id)
    columns = (Learning.recorded_at, Learning.id)
    return keyset(
        uow.session,
        statement,
        columns,
        request,
        lambda item: (item.recorded_at, item.id),
        descending=True,
    )
