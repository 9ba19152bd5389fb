"""Opening a wave as the actor may see it; the thresholds every pulse figure obeys."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from coauthor.analysis.anonymity import DEFAULT_THRESHOLD
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import NotFound
from coauthor.domain.pulse import Wave, WaveItem
from coauthor.services.mechanics.alliances import Access, open_alliance, open_for_edit

DEFAULT_COMMENT_THRESHOLD = 10


@dataclass(frozen=True)
class Thresholds:
    """The anonymity threshold (settings) and the higher one for open comments."""

    anonymity: int = DEFAULT_THRESHOLD
    comments: int = DEFAULT_COMMENT_THRESHOLD


@dataclass(frozen=True)
class WaveAccess:
    access: Access
    wave: Wave


def open_wave(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    wave_id: str,
    *,
    for_edit: bool = False,
) -> WaveAccess:
    """The wave as ``actor`` may see it; ``for_edit`` also requires a manager."""
    access = (open_for_edit if for_edit else open_alliance)(uow, actor, alliance_id)
    wave = uow.get(Wave, alliance_id=alliance_id, id=wave_id)
    if wave is None:
        raise NotFound("no such pulse wave")
    return WaveAccess(access, wave)


def wave_items(uow: UnitOfWork, wave: Wave) -> list[WaveItem]:
    """The items the wave asked, in the order it asked them."""
    return uow.find(
        WaveItem, order_by=WaveItem.position, alliance_id=wave.alliance_id, wave_id=wave.id
    )


def partner_names(uow: UnitOfWork, alliance_id: str) -> dict[str, str]:
    rows = uow.session.execute(
        sa.select(m.Partner.id, m.Organization.name)
        .join(m.Organization, m.Organization.id == m.Partner.organization_id)
        .where(m.Partner.alliance_id == alliance_id)
    ).all()
    return dict(rows)
