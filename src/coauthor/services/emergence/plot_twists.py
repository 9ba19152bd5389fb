"""Plot twists: raised by anyone in the alliance in a few seconds, answered with
commitments, declarations and experiments (links), and closed with how they were met."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.emergence import RESPONSE_KINDS, EmergenceLink, PlotTwist
from coauthor.domain.errors import Conflict, NotFound, ValidationFailed
from coauthor.ids import new_id
from coauthor.services import eventlog, inputs
from coauthor.services.emergence.inputs import PlotTwistInput, ResolveInput
from coauthor.services.emergence.links import links_of
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.services.paging import Page, PageRequest, keyset


@dataclass(frozen=True)
class PlotTwistView:
    plot_twist: PlotTwist
    raised_by: str
    """The name of the person who raised it ("" when unknown)."""
    links: list[EmergenceLink]

    @property
    def responses(self) -> list[EmergenceLink]:
        return [link for link in self.links if link.target_kind in RESPONSE_KINDS]


def do_raise_plot_twist(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, payload: Any
) -> PlotTwist:
    """Anyone who takes part may raise one; it happened today unless they say otherwise."""
    access = open_alliance(uow, actor, alliance_id)
    permissions.require_take_part(actor, access.membership)
    assert actor is not None and access.membership is not None
    data = inputs.parse(PlotTwistInput, payload)
    today = uow.clock.now().date()
    occurred_on = data.occurred_on or today
    if occurred_on > today:
        raise ValidationFailed.one("occurred_on", "is in the future: raise it once it happens")
    twist = PlotTwist(
        alliance_id=alliance_id,
        id=new_id("pt"),
        title=data.title,
        kind=data.kind,
        severity=data.severity,
        occurred_on=occurred_on,
        raised_at=uow.clock.now(),
        raised_by_person_id=actor.id,
        raised_by_partner_id=access.membership.partner_id,
        description=data.description,
    )
    uow.add(twist)
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "plot_twist.raised",
        data.model_dump(mode="json") | {"id": twist.id, "occurred_on": occurred_on.isoformat()},
    )
    return twist


def _get(uow: UnitOfWork, alliance_id: str, plot_twist_id: str) -> PlotTwist:
    found = uow.get(PlotTwist, alliance_id=alliance_id, id=plot_twist_id)
    if found is None:
        raise NotFound("no such plot twist in this alliance")
    return found


def do_resolve_plot_twist(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, plot_twist_id: str, payload: Any
) -> PlotTwist:
    """Close a plot twist with how the alliance met it."""
    access = open_alliance(uow, actor, alliance_id)
    permissions.require_take_part(actor, access.membership)
    data = inputs.parse(ResolveInput, payload)
    twist = _get(uow, alliance_id, plot_twist_id)
    if twist.resolved:
        raise Conflict("this plot twist is resolved already")
    twist.resolved_at = uow.clock.now()
    twist.resolution = data.resolution
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "plot_twist.resolved",
        {"id": twist.id, "resolution": data.resolution},
    )
    return twist


def _names(uow: UnitOfWork, person_ids: set[str]) -> dict[str, str]:
    if not person_ids:
        return {}
    rows = uow.session.execute(
        sa.select(m.Person.id, m.Person.name).where(m.Person.id.in_(person_ids))
    )
    return {person_id: name for person_id, name in rows}


def _views(uow: UnitOfWork, alliance_id: str, twists: list[PlotTwist]) -> list[PlotTwistView]:
    links = links_of(uow, alliance_id, [t.id for t in twists])
    names = _names(uow, {t.raised_by_person_id for t in twists if t.raised_by_person_id})
    return [
        PlotTwistView(t, names.get(t.raised_by_person_id or "", ""), links[t.id]) for t in twists
    ]


def plot_twists(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, request: PageRequest
) -> Page[PlotTwistView]:
    """The alliance's plot twists, latest raised first, each with its links."""
    open_alliance(uow, actor, alliance_id)
    statement = sa.select(PlotTwist).where(PlotTwist.alliance_id == alliance_id)
    columns = (PlotTwist.raised_at, PlotTwist.id)
    page = keyset(
        uow.session, statement, columns, request, lambda t: (t.raised_at, t.id), descending=True
    )
    return Page(_views(uow, alliance_id, page.items), page.next_cursor)


def plot_twist(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, plot_twist_id: str
) -> PlotTwistView:
    open_alliance(uow, actor, alliance_id)
    [view] = _views(uow, alliance_id, [_get(uow, alliance_id, plot_twist_id)])
    return view
