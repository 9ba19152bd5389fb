"""Opening a deliberation: the alliance as the actor may see it, and the deliberation.

Shared by the deliberation's acts (deliberation.py) and its results
(deliberation_results.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import NotFound
from coauthor.services.mechanics.alliances import Access, open_alliance, open_for_edit


@dataclass(frozen=True)
class DeliberationAccess:
    access: Access
    deliberation: m.Deliberation

    @property
    def can_take_part(self) -> bool:
        """Whether the actor may vote and write statements (members, not observers)."""
        return permissions.can_take_part(self.access.actor, self.access.membership)


def open_deliberation(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    *,
    for_edit: bool = False,
) -> DeliberationAccess:
    """The deliberation as ``actor`` may see it; ``for_edit`` also requires a manager."""
    opener = open_for_edit if for_edit else open_alliance
    access = opener(uow, actor, alliance_id)
    deliberation = uow.get(m.Deliberation, alliance_id=alliance_id, id=deliberation_id)
    if deliberation is None:
        raise NotFound("no such deliberation")
    return DeliberationAccess(access, deliberation)


def ordered_statements(
    uow: UnitOfWork, alliance_id: str, deliberation_id: str, **criteria: Any
) -> list[m.Statement]:
    """Statements in the order they were written (as stored, when written at once)."""
    return uow.find(
        m.Statement,
        order_by=m.Statement.created_at,
        alliance_id=alliance_id,
        deliberation_id=deliberation_id,
        **criteria,
    )
