"""Links from a plot twist or tension to what answered it, always within one alliance.

A plot twist's responses are the commitments, declarations and experiments
linked to it; a tension is linked to the meetings where it was engaged (and to
its responses too). A target is looked up by the alliance's id and its own, so
a thing of another alliance is simply "not in this alliance".
"""

from __future__ import annotations

from typing import Any

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.commitments import Commitment
from coauthor.domain.emergence import EmergenceLink, Experiment, LinkKind, PlotTwist, Tension
from coauthor.domain.errors import Conflict, NotFound, ValidationFailed
from coauthor.services import eventlog, inputs
from coauthor.services.emergence.inputs import LinkInput
from coauthor.services.mechanics.alliances import open_alliance

TARGETS: dict[LinkKind, type] = {
    LinkKind.COMMITMENT: Commitment,
    LinkKind.DECLARATION: m.Declaration,
    LinkKind.EXPERIMENT: Experiment,
    LinkKind.MEETING: m.Meeting,
}


def source_of(uow: UnitOfWork, alliance_id: str, source_id: str) -> PlotTwist | Tension:
    """The plot twist or tension ``source_id`` of this alliance."""
    found = uow.get(PlotTwist, alliance_id=alliance_id, id=source_id) or uow.get(
        Tension, alliance_id=alliance_id, id=source_id
    )
    if found is None:
        raise NotFound("no such plot twist or tension in this alliance")
    return found


def check_target(
    uow: UnitOfWork, alliance_id: str, kind: LinkKind, target_id: str, loc: str = "target_id"
) -> None:
    """Refuse a target that is not a ``kind`` of this alliance."""
    if uow.get(TARGETS[kind], alliance_id=alliance_id, id=target_id) is None:
        raise ValidationFailed.one(loc, f"no such {kind.value} in this alliance")


def add_link(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    source_id: str,
    kind: LinkKind,
    target_id: str,
) -> EmergenceLink:
    """Store a link already checked; a second identical link is refused."""
    key = {"source_id": source_id, "target_kind": kind, "target_id": target_id}
    if uow.get(EmergenceLink, alliance_id=alliance_id, **key) is not None:
        raise Conflict(f"this {kind.value} is linked already", ("target_id",))
    link = EmergenceLink(
        alliance_id=alliance_id,
        linked_at=uow.clock.now(),
        linked_by_person_id=actor.id if actor else None,
        **key,
    )
    uow.add(link)
    return link


def do_link(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, source_id: str, payload: Any
) -> EmergenceLink:
    """Link a commitment, declaration, experiment or meeting to a plot twist or tension."""
    access = open_alliance(uow, actor, alliance_id)
    permissions.require_take_part(actor, access.membership)
    data = inputs.parse(LinkInput, payload)
    source_of(uow, alliance_id, source_id)
    check_target(uow, alliance_id, data.target_kind, data.target_id)
    link = add_link(uow, actor, alliance_id, source_id, data.target_kind, data.target_id)
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "emergence.linked",
        {"source_id": source_id} | data.model_dump(mode="json"),
    )
    return link


def links_of(uow: UnitOfWork, alliance_id: str, source_ids: list[str]) -> dict[str, list]:
    """Each source's links, oldest first."""
    if not source_ids:
        return {}
    found = uow.find(
        EmergenceLink,
        EmergenceLink.alliance_id == alliance_id,
        EmergenceLink.source_id.in_(source_ids),
        order_by=EmergenceLink.linked_at,
    )
    grouped: dict[str, list] = {source_id: [] for source_id in source_ids}
    for link in found:
        grouped[link.source_id].append(link)
    return grouped
