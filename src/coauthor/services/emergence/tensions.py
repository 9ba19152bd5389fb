"""Tensions and conflicts between partners, and their course.

A tension is surfaced between two or more partners of the alliance, then
engaged (at a meeting, which is linked), and resolved, escalated or abandoned
(``domain.emergence.TENSION_STEPS``). Each step is kept, so the story can tell
how it was met; ending it needs its outcome in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.emergence import (
    EmergenceLink,
    LinkKind,
    Tension,
    TensionPartner,
    TensionState,
    TensionStep,
    check_tension_step,
)
from coauthor.domain.errors import FieldError, NotFound, ValidationFailed
from coauthor.ids import new_id
from coauthor.services import eventlog, inputs
from coauthor.services.emergence.inputs import TensionInput, TensionStepInput
from coauthor.services.emergence.links import add_link, check_target, links_of
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.services.paging import Page, PageRequest, keyset


@dataclass(frozen=True)
class TensionView:
    tension: Tension
    partner_ids: list[str]
    steps: list[TensionStep]
    links: list[EmergenceLink]

    @property
    def meeting_ids(self) -> list[str]:
        return [link.target_id for link in self.links if link.target_kind is LinkKind.MEETING]


def _check_partners(uow: UnitOfWork, alliance_id: str, partner_ids: list[str]) -> None:
    errors = [
        FieldError(("partner_ids", index), "is not a partner of this alliance")
        for index, partner_id in enumerate(partner_ids)
        if uow.get(m.Partner, alliance_id=alliance_id, id=partner_id) is None
    ]
    if errors:
        raise ValidationFailed(errors)


def do_surface_tension(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, payload: Any
) -> Tension:
    """Name a tension between partners; its course starts at "surfaced"."""
    access = open_alliance(uow, actor, alliance_id)
    permissions.require_take_part(actor, access.membership)
    data = inputs.parse(TensionInput, payload)
    _check_partners(uow, alliance_id, data.partner_ids)
    now = uow.clock.now()
    tension = Tension(
        alliance_id=alliance_id,
        id=new_id("te"),
        about=data.about,
        state=TensionState.SURFACED,
        surfaced_at=now,
        surfaced_by_person_id=actor.id if actor else None,
        description=data.description,
    )
    uow.add(tension)
    uow.flush()
    uow.add_all(TensionPartner(alliance_id, tension.id, p) for p in data.partner_ids)
    uow.add(
        TensionStep(
            alliance_id, tension.id, 1, TensionState.SURFACED, now, tension.surfaced_by_person_id
        )
    )
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "tension.surfaced",
        data.model_dump(mode="json") | {"id": tension.id},
    )
    return tension


def _get(uow: UnitOfWork, alliance_id: str, tension_id: str) -> Tension:
    found = uow.get(Tension, alliance_id=alliance_id, id=tension_id)
    if found is None:
        raise NotFound("no such tension in this alliance")
    return found


def _step_count(uow: UnitOfWork, alliance_id: str, tension_id: str) -> int:
    query = sa.select(sa.func.count()).where(
        TensionStep.alliance_id == alliance_id, TensionStep.tension_id == tension_id
    )
    return uow.session.scalar(query) or 0


def do_move_tension(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, tension_id: str, payload: Any
) -> Tension:
    """One step of the course; an ending needs its outcome, an engagement may name its meeting."""
    access = open_alliance(uow, actor, alliance_id)
    permissions.require_take_part(actor, access.membership)
    data = inputs.parse(TensionStepInput, payload)
    tension = _get(uow, alliance_id, tension_id)
    check_tension_step(tension.state, data.to, data.outcome)
    if data.meeting_id is not None:
        if data.to is not TensionState.ENGAGED:
            raise ValidationFailed.one("meeting_id", "a meeting is named when a tension is engaged")
        check_target(uow, alliance_id, LinkKind.MEETING, data.meeting_id, "meeting_id")
    now = uow.clock.now()
    seq = _step_count(uow, alliance_id, tension_id) + 1
    uow.add(
        TensionStep(
            alliance_id, tension.id, seq, data.to, now, actor.id if actor else None, data.note
        )
    )
    tension.state = data.to
    if data.to is TensionState.ENGAGED and tension.engaged_at is None:
        tension.engaged_at = now
    if not tension.open:
        tension.closed_at = now
        tension.outcome = data.outcome
    if (
        data.meeting_id is not None
        and uow.get(
            EmergenceLink,
            alliance_id=alliance_id,
            source_id=tension.id,
            target_kind=LinkKind.MEETING,
            target_id=data.meeting_id,
        )
        is None
    ):
        add_link(uow, actor, alliance_id, tension.id, LinkKind.MEETING, data.meeting_id)
    eventlog.append(
        uow, alliance_id, actor, "tension.moved", data.model_dump(mode="json") | {"id": tension.id}
    )
    return tension


def _views(uow: UnitOfWork, alliance_id: str, found: list[Tension]) -> list[TensionView]:
    ids = [t.id for t in found]
    if not ids:
        return []
    partners: dict[str, list[str]] = {i: [] for i in ids}
    for row in uow.find(
        TensionPartner,
        TensionPartner.alliance_id == alliance_id,
        TensionPartner.tension_id.in_(ids),
    ):
        partners[row.tension_id].append(row.partner_id)
    steps: dict[str, list[TensionStep]] = {i: [] for i in ids}
    for step in uow.find(
        TensionStep,
        TensionStep.alliance_id == alliance_id,
        TensionStep.tension_id.in_(ids),
        order_by=TensionStep.seq,
    ):
        steps[step.tension_id].append(step)
    links = links_of(uow, alliance_id, ids)
    return [TensionView(t, sorted(partners[t.id]), steps[t.id], links[t.id]) for t in found]


def tensions(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, request: PageRequest
) -> Page[TensionView]:
    """The alliance's tensions, latest surfaced first, with partners, steps and links."""
    open_alliance(uow, actor, alliance_id)
    statement = sa.select(Tension).where(Tension.alliance_id == alliance_id)
    columns = (Tension.surfaced_at, Tension.id)
    page = keyset(
        uow.session, statement, columns, request, lambda t: (t.surfaced_at, t.id), descending=True
    )
    return Page(_views(uow, alliance_id, page.items), page.next_cursor)


def tension(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, tension_id: str
) -> TensionView:
    open_alliance(uow, actor, alliance_id)
    [view] = _views(uow, alliance_id, [_get(uow, alliance_id, tension_id)])
    return view
