"""Alliances, partners, members and partners' private notes."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.commitments import DeclarationPosition
from coauthor.domain.errors import Conflict, NotFound, ValidationFailed
from coauthor.domain.labels import in_words
from coauthor.domain.model import (
    Alliance,
    Attendance,
    BodySeat,
    Member,
    Organization,
    Partner,
    PartnerNote,
    Person,
    Role,
    first_free_colour,
    organization_key,
)
from coauthor.ids import new_id
from coauthor.services import eventlog
from coauthor.services.accounts.people import UNUSABLE_PASSWORD, person_by_email
from coauthor.services.mechanics.inputs import (
    AllianceCreate,
    AllianceInput,
    MemberInput,
    MemberUpdate,
    PartnerInput,
    PartnerNoteInput,
)


@dataclass(frozen=True)
class Access:
    """An alliance as seen by one person: the alliance and their membership (if any)."""

    alliance: Alliance
    actor: Person | None
    membership: Member | None

    @property
    def can_edit(self) -> bool:
        return permissions.can_edit_mechanics(self.actor, self.membership)


def membership_of(uow: UnitOfWork, person: Person | None, alliance_id: str) -> Member | None:
    if person is None:
        return None
    return uow.find_one(Member, alliance_id=alliance_id, person_id=person.id)


def open_alliance(uow: UnitOfWork, actor: Person | None, alliance_id: str) -> Access:
    """The alliance if ``actor`` may see it; otherwise NotAuthenticated or NotFound."""
    permissions.require_signed_in(actor)
    alliance = uow.get(Alliance, id=alliance_id)
    membership = membership_of(uow, actor, alliance_id) if alliance else None
    if alliance is None:
        raise NotFound("no such alliance")
    permissions.require_view_alliance(actor, membership)
    return Access(alliance, actor, membership)


def open_for_edit(uow: UnitOfWork, actor: Person | None, alliance_id: str) -> Access:
    access = open_alliance(uow, actor, alliance_id)
    permissions.require_edit_mechanics(actor, access.membership)
    return access


def alliances_of(uow: UnitOfWork, actor: Person | None) -> list[Alliance]:
    """Every alliance the person belongs to; a site administrator sees them all."""
    person = permissions.require_signed_in(actor)
    if person.is_admin:
        return uow.find(Alliance, order_by=Alliance.name)
    ids = [member.alliance_id for member in uow.find(Member, person_id=person.id)]
    return uow.find(Alliance, Alliance.id.in_(ids), order_by=Alliance.name) if ids else []


def organization_named(uow: UnitOfWork, name: str) -> Organization | None:
    """The organization of that name, whatever its capitals and spacing."""
    return uow.find_one(Organization, name=name) or uow.find_one(
        Organization, name_key=organization_key(name)
    )


def find_or_create_organization(uow: UnitOfWork, actor: Person | None, name: str) -> Organization:
    """The organization called ``name`` (compared without case), created if there is none."""
    existing = organization_named(uow, name)
    if existing:
        return existing
    organization = Organization(
        id=new_id("or"),
        name=name,
        description="",
        created_at=uow.clock.now(),
        name_key=organization_key(name),
    )
    uow.add(organization)
    eventlog.append(
        uow,
        eventlog.SITE_CHAIN,
        actor,
        "organization.created",
        {"id": organization.id, "name": name},
    )
    return organization


def do_create_alliance(uow: UnitOfWork, actor: Person | None, data: AllianceCreate) -> Alliance:
    """A new alliance whose first partner is the creator's organization, the creator its manager."""
    permissions.require_create_alliance(actor)
    assert actor is not None
    alliance = Alliance(
        id=new_id("al"),
        name=data.name,
        kind=data.kind,
        stage=data.stage,
        purpose=data.purpose,
        created_at=uow.clock.now(),
    )
    uow.add(alliance)
    uow.flush()
    eventlog.append(
        uow,
        alliance.id,
        actor,
        "alliance.created",
        data.model_dump(mode="json") | {"id": alliance.id},
    )
    partner = _add_partner(
        uow, actor, alliance, PartnerInput(organization_name=data.organization_name)
    )
    _add_member(uow, actor, alliance, actor, partner.id, Role.MANAGER, "")
    return alliance


def do_update_alliance(
    uow: UnitOfWork, actor: Person | None, alliance_id: str, data: AllianceInput
) -> Alliance:
    alliance = open_for_edit(uow, actor, alliance_id).alliance
    alliance.name, alliance.kind, alliance.stage, alliance.purpose = (
        data.name,
        data.kind,
        data.stage,
        data.purpose,
    )
    eventlog.append(uow, alliance.id, actor, "alliance.updated", data.model_dump(mode="json"))
    return alliance


def partner_in(
    uow: UnitOfWork, alliance_id: str, partner_id: str, loc: str = "partner_id"
) -> Partner:
    partner = uow.get(Partner, alliance_id=alliance_id, id=partner_id)
    if partner is None:
        raise ValidationFailed.one(loc, "no such partner in this alliance")
    return partner


def _add_partner(
    uow: UnitOfWork, actor: Person | None, alliance: Alliance, data: PartnerInput
) -> Partner:
    organization = find_or_create_organization(uow, actor, data.organization_name)
    if uow.find_one(Partner, alliance_id=alliance.id, organization_id=organization.id):
        raise Conflict(f"{organization.name} is already a partner", ("organization_name",))
    taken = [p.colour for p in uow.find(Partner, alliance_id=alliance.id)]
    partner = Partner(
        alliance_id=alliance.id,
        id=new_id("pa"),
        organization_id=organization.id,
        joined_on=data.joined_on,
        description=data.description,
        colour=first_free_colour(taken),
    )
    uow.add(partner)
    uow.flush()
    eventlog.append(
        uow, alliance.id, actor, "partner.added", data.model_dump(mode="json") | {"id": partner.id}
    )
    return partner


def do_add_partner(
    uow: UnitOfWork, actor: Person | None, alliance_id: str, data: PartnerInput
) -> Partner:
    alliance = open_for_edit(uow, actor, alliance_id).alliance
    return _add_partner(uow, actor, alliance, data)


def do_update_partner(
    uow: UnitOfWork, actor: Person | None, alliance_id: str, partner_id: str, data: PartnerInput
) -> Partner:
    open_for_edit(uow, actor, alliance_id)
    partner = _partner(uow, alliance_id, partner_id)
    organization = find_or_create_organization(uow, actor, data.organization_name)
    clash = uow.find_one(Partner, alliance_id=alliance_id, organization_id=organization.id)
    if clash and clash.id != partner.id:
        raise Conflict(f"{organization.name} is already a partner", ("organization_name",))
    if organization.id == partner.organization_id and organization.name != data.organization_name:
        _respell(uow, actor, organization, data.organization_name)
    partner.organization_id = organization.id
    partner.joined_on = data.joined_on
    partner.description = data.description
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "partner.updated",
        data.model_dump(mode="json") | {"id": partner.id},
    )
    return partner


def _partner(uow: UnitOfWork, alliance_id: str, partner_id: str) -> Partner:
    partner = uow.get(Partner, alliance_id=alliance_id, id=partner_id)
    if partner is None:
        raise NotFound("no such partner")
    return partner


def _respell(uow: UnitOfWork, actor: Person | None, organization: Organization, name: str) -> None:
    """Correct the capitals or spacing of a name, unless other alliances know it as it is."""
    partners = uow.session.scalar(
        sa.select(sa.func.count())
        .select_from(Partner)
        .where(Partner.organization_id == organization.id)
    )
    if partners and partners > 1:
        raise ValidationFailed.one(
            "organization_name",
            f"{organization.name} is a partner in other alliances too, so its spelling "
            "is kept as it is",
        )
    organization.name = name
    eventlog.append(
        uow,
        eventlog.SITE_CHAIN,
        actor,
        "organization.renamed",
        {"id": organization.id, "name": name},
    )


PARTNER_BLOCKERS: tuple[tuple[type, tuple[str, ...], str, str], ...] = (
    (Member, ("partner_id",), "member", "members"),
    (m.Obligation, ("debtor_partner_id", "creditor_partner_id"), "obligation", "obligations"),
    (m.RiskShare, ("partner_id",), "share of a risk", "shares of risks"),
    (m.Contribution, ("partner_id",), "contribution", "contributions"),
    (PartnerNote, ("partner_id",), "private note", "private notes"),
    (m.Participant, ("partner_id",), "deliberation participant", "deliberation participants"),
)
"""(entity, fields that name the partner, one, many): what keeps a partner from being removed.
A feature whose rows name a partner adds its own line here."""


def partner_blockers(uow: UnitOfWork, alliance_id: str, partner_id: str) -> list[str]:
    """What still names the partner, in words: ["4 members", "1 contribution"]."""
    found = []
    for entity, fields, one, many in PARTNER_BLOCKERS:
        naming = sa.or_(*(getattr(entity, name) == partner_id for name in fields))
        count = uow.session.scalar(
            sa.select(sa.func.count())
            .select_from(entity)
            .where(entity.alliance_id == alliance_id, naming)
        )
        if count:
            found.append(f"{count} {one if count == 1 else many}")
    return found


def do_remove_partner(
    uow: UnitOfWork, actor: Person | None, alliance_id: str, partner_id: str
) -> Partner:
    """Remove a partner added by mistake; refused while anything still names it."""
    open_for_edit(uow, actor, alliance_id)
    partner = _partner(uow, alliance_id, partner_id)
    organization = uow.get(Organization, id=partner.organization_id)
    name = organization.name if organization else "this partner"
    blockers = partner_blockers(uow, alliance_id, partner_id)
    if blockers:
        raise Conflict(
            f"{name} cannot be removed while it has {in_words(blockers, 'and')}; "
            "move or remove those first"
        )
    uow.delete(partner)
    eventlog.append(uow, alliance_id, actor, "partner.removed", {"id": partner_id, "name": name})
    return partner


def _add_member(
    uow: UnitOfWork,
    actor: Person | None,
    alliance: Alliance,
    person: Person,
    partner_id: str,
    role: Role,
    title: str,
) -> Member:
    partner_in(uow, alliance.id, partner_id)
    if uow.find_one(Member, alliance_id=alliance.id, person_id=person.id):
        raise Conflict(f"{person.email} is already a member of this alliance", ("email",))
    member = Member(
        alliance_id=alliance.id,
        id=new_id("me"),
        person_id=person.id,
        partner_id=partner_id,
        role=role,
        title=title,
    )
    uow.add(member)
    uow.flush()
    eventlog.append(
        uow,
        alliance.id,
        actor,
        "member.added",
        {
            "id": member.id,
            "email": person.email,
            "partner_id": partner_id,
            "role": role.value,
            "title": title,
        },
    )
    return member


def do_add_member(
    uow: UnitOfWork, actor: Person | None, alliance_id: str, data: MemberInput
) -> Member:
    """Add a person by email at once, without asking them: for the demo seed and test worlds.

    No page or API route calls this: people join an alliance by accepting an
    invitation (``services/accounts/invitations.py``), which ends in
    ``admit_member``. A person new to the site gets an account without a password.
    """
    alliance = open_for_edit(uow, actor, alliance_id).alliance
    person = person_by_email(uow, data.email)
    if person is None:
        person = Person(
            id=new_id("pe"),
            email=data.email,
            name=data.name.strip() or data.email.split("@")[0],
            password_hash=UNUSABLE_PASSWORD,
            is_admin=False,
            created_at=uow.clock.now(),
        )
        uow.add(person)
        eventlog.append(
            uow,
            eventlog.SITE_CHAIN,
            actor,
            "person.invited",
            {"id": person.id, "email": person.email},
        )
    return _add_member(uow, actor, alliance, person, data.partner_id, data.role, data.title)


def admit_member(
    uow: UnitOfWork, person: Person, alliance_id: str, partner_id: str, role: Role, title: str
) -> Member:
    """Make ``person`` a member on their own say-so: they accepted an invitation."""
    alliance = uow.get(Alliance, id=alliance_id)
    if alliance is None:
        raise NotFound("no such alliance")
    return _add_member(uow, person, alliance, person, partner_id, role, title)


def _member(uow: UnitOfWork, alliance_id: str, member_id: str) -> Member:
    member = uow.get(Member, alliance_id=alliance_id, id=member_id)
    if member is None:
        raise NotFound("no such member")
    return member


def _would_leave_no_manager(uow: UnitOfWork, alliance_id: str, member: Member) -> bool:
    managers = uow.find(Member, alliance_id=alliance_id, role=Role.MANAGER)
    return [m.id for m in managers] == [member.id]


def do_update_member(
    uow: UnitOfWork, actor: Person | None, alliance_id: str, member_id: str, data: MemberUpdate
) -> Member:
    open_for_edit(uow, actor, alliance_id)
    member = _member(uow, alliance_id, member_id)
    partner_in(uow, alliance_id, data.partner_id)
    if data.role != Role.MANAGER and _would_leave_no_manager(uow, alliance_id, member):
        raise ValidationFailed.one("role", "the alliance needs at least one manager")
    member.partner_id, member.role, member.title = data.partner_id, data.role, data.title
    eventlog.append(
        uow, alliance_id, actor, "member.updated", data.model_dump(mode="json") | {"id": member.id}
    )
    return member


def do_remove_member(
    uow: UnitOfWork, actor: Person | None, alliance_id: str, member_id: str
) -> None:
    open_for_edit(uow, actor, alliance_id)
    member = _member(uow, alliance_id, member_id)
    if _would_leave_no_manager(uow, alliance_id, member):
        raise Conflict("the alliance needs at least one manager")
    if uow.find(Attendance, alliance_id=alliance_id, member_id=member_id):
        raise Conflict("this member attended meetings; change their role to observer instead")
    if uow.find(DeclarationPosition, alliance_id=alliance_id, member_id=member_id):
        raise Conflict(
            "this member's position is recorded on a declaration; "
            "change their role to observer instead"
        )
    for seat in uow.find(BodySeat, alliance_id=alliance_id, member_id=member_id):
        uow.delete(seat)
    uow.delete(member)
    eventlog.append(uow, alliance_id, actor, "member.removed", {"id": member_id})


def do_add_partner_note(
    uow: UnitOfWork, actor: Person | None, alliance_id: str, partner_id: str, data: PartnerNoteInput
) -> PartnerNote:
    access = open_alliance(uow, actor, alliance_id)
    permissions.require_write_partner_notes(actor, access.membership, partner_id)
    assert actor is not None
    note = PartnerNote(
        alliance_id=alliance_id,
        id=new_id("pn"),
        partner_id=partner_id,
        author_person_id=actor.id,
        body=data.body,
        created_at=uow.clock.now(),
    )
    uow.add(note)
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "partner_note.added",
        {"id": note.id, "partner_id": partner_id, "private": True},
    )
    return note


def partner_notes(
    uow: UnitOfWork, actor: Person | None, alliance_id: str, partner_id: str
) -> list[PartnerNote]:
    access = open_alliance(uow, actor, alliance_id)
    permissions.require_read_partner_notes(actor, access.membership, partner_id)
    return uow.find(
        PartnerNote, order_by=PartnerNote.created_at, alliance_id=alliance_id, partner_id=partner_id
    )
