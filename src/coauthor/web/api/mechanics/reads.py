"""Partners and members as the API shows them, read through ``services.views``.

The partner directory checks that the actor may see the alliance; a partner or
member that is not in it is answered with 404.
"""

from __future__ import annotations

from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import NotFound
from coauthor.domain.model import Person
from coauthor.services.mechanics import views
from coauthor.web.api.schemas import Member, Partner


def _partner(view: views.PartnerView) -> Partner:
    return Partner(
        id=view.partner.id,
        organization_id=view.partner.organization_id,
        organization_name=view.ref.name,
        joined_on=view.partner.joined_on,
        description=view.partner.description,
    )


def partners(uow: UnitOfWork, actor: Person, alliance_id: str) -> list[Partner]:
    """Every partner, by organization name."""
    return [_partner(view) for view in views.partner_directory(uow, actor, alliance_id)]


def partner(uow: UnitOfWork, actor: Person, alliance_id: str, partner_id: str) -> Partner:
    found = [p for p in partners(uow, actor, alliance_id) if p.id == partner_id]
    if not found:
        raise NotFound("no such partner")
    return found[0]


def members(uow: UnitOfWork, actor: Person, alliance_id: str) -> list[Member]:
    """Every member of every partner, by name."""
    directory = views.partner_directory(uow, actor, alliance_id)
    rows = [Member.model_validate(member) for view in directory for member in view.members]
    return sorted(rows, key=member_order)


def member_order(member: Member) -> tuple[str, str, str]:
    return (member.name.casefold(), member.email, member.id)


def member(uow: UnitOfWork, actor: Person, alliance_id: str, member_id: str) -> Member:
    found = [m for m in members(uow, actor, alliance_id) if m.id == member_id]
    if not found:
        raise NotFound("no such member")
    return found[0]
