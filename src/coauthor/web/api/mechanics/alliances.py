"""Alliances, their partners and members, and partners' private notes."""

from __future__ import annotations

from typing import TypeVar

from fastapi import APIRouter, Request, Response, status

from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import (
    AllianceCreate,
    AllianceInput,
    MemberUpdate,
    PartnerInput,
    PartnerNoteInput,
)
from coauthor.web.api.deps import PersonDep, set_location
from coauthor.web.api.mechanics import reads
from coauthor.web.api.pagination import Paged, PageDep, paged_list
from coauthor.web.api.schemas import Alliance, Member, Partner, PartnerNote
from coauthor.web.auth import UowDep

router = APIRouter()
T = TypeVar("T")

ALLIANCE = "/alliances/{alliance_id}"
PARTNERS = f"{ALLIANCE}/partners"
PARTNER = f"{PARTNERS}/{{partner_id}}"
MEMBERS = f"{ALLIANCE}/members"
MEMBER = f"{MEMBERS}/{{member_id}}"
CREATED = status.HTTP_201_CREATED


@router.get("/alliances", response_model=Paged[Alliance], tags=["alliances"])
def list_alliances(
    request: Request, uow: UowDep, person: PersonDep, page: PageDep
) -> Paged[Alliance]:
    """The alliances I belong to (a site administrator sees all), by name."""
    found = sorted(alliances.alliances_of(uow, person), key=lambda a: (a.name, a.id))
    return paged_list(request, found, lambda a: (a.name, a.id), page, Alliance.model_validate)


@router.post("/alliances", response_model=Alliance, status_code=CREATED, tags=["alliances"])
def create_alliance(
    data: AllianceCreate, request: Request, response: Response, uow: UowDep, person: PersonDep
) -> Alliance:
    """A new alliance; my organization becomes its first partner and I its manager."""
    alliance = uow.write(alliances.do_create_alliance, person, data)
    set_location(request, response, "read_alliance", alliance_id=alliance.id)
    return Alliance.model_validate(alliance)


@router.get(ALLIANCE, response_model=Alliance, tags=["alliances"])
def read_alliance(alliance_id: str, uow: UowDep, person: PersonDep) -> Alliance:
    return Alliance.model_validate(alliances.open_alliance(uow, person, alliance_id).alliance)


@router.put(ALLIANCE, response_model=Alliance, tags=["alliances"])
def update_alliance(
    alliance_id: str, data: AllianceInput, uow: UowDep, person: PersonDep
) -> Alliance:
    """Replace the alliance's name, kind, stage and purpose."""
    alliance = uow.write(alliances.do_update_alliance, person, alliance_id, data)
    return Alliance.model_validate(alliance)


@router.get(PARTNERS, response_model=Paged[Partner], tags=["partners"])
def list_partners(
    alliance_id: str, request: Request, uow: UowDep, person: PersonDep, page: PageDep
) -> Paged[Partner]:
    """The partners, by organization name."""
    found = reads.partners(uow, person, alliance_id)
    return paged_list(request, found, lambda p: (p.organization_name, p.id), page, _same)


@router.post(PARTNERS, response_model=Partner, status_code=CREATED, tags=["partners"])
def add_partner(
    alliance_id: str,
    data: PartnerInput,
    request: Request,
    response: Response,
    uow: UowDep,
    person: PersonDep,
) -> Partner:
    """Add an organization (found or created by name) as a partner."""
    partner = uow.write(alliances.do_add_partner, person, alliance_id, data)
    set_location(request, response, "read_partner", alliance_id=alliance_id, partner_id=partner.id)
    return reads.partner(uow, person, alliance_id, partner.id)


@router.get(PARTNER, response_model=Partner, tags=["partners"])
def read_partner(alliance_id: str, partner_id: str, uow: UowDep, person: PersonDep) -> Partner:
    return reads.partner(uow, person, alliance_id, partner_id)


@router.put(PARTNER, response_model=Partner, tags=["partners"])
def update_partner(
    alliance_id: str, partner_id: str, data: PartnerInput, uow: UowDep, person: PersonDep
) -> Partner:
    partner = uow.write(alliances.do_update_partner, person, alliance_id, partner_id, data)
    return reads.partner(uow, person, alliance_id, partner.id)


@router.delete(PARTNER, status_code=status.HTTP_204_NO_CONTENT, tags=["partners"])
def remove_partner(alliance_id: str, partner_id: str, uow: UowDep, person: PersonDep) -> None:
    """Remove a partner entered by mistake: 409, naming what still refers to it, while
    it has members, obligations, risk shares, contributions, notes or participants."""
    uow.write(alliances.do_remove_partner, person, alliance_id, partner_id)


@router.get(MEMBERS, response_model=Paged[Member], tags=["members"])
def list_members(
    alliance_id: str, request: Request, uow: UowDep, person: PersonDep, page: PageDep
) -> Paged[Member]:
    """Every member of every partner, by name."""
    found = reads.members(uow, person, alliance_id)
    return paged_list(request, found, reads.member_order, page, _same)


@router.get(MEMBER, response_model=Member, tags=["members"])
def read_member(alliance_id: str, member_id: str, uow: UowDep, person: PersonDep) -> Member:
    return reads.member(uow, person, alliance_id, member_id)


@router.put(MEMBER, response_model=Member, tags=["members"])
def update_member(
    alliance_id: str, member_id: str, data: MemberUpdate, uow: UowDep, person: PersonDep
) -> Member:
    member = uow.write(alliances.do_update_member, person, alliance_id, member_id, data)
    return reads.member(uow, person, alliance_id, member.id)


@router.delete(MEMBER, status_code=status.HTTP_204_NO_CONTENT, tags=["members"])
def remove_member(alliance_id: str, member_id: str, uow: UowDep, person: PersonDep) -> None:
    uow.write(alliances.do_remove_member, person, alliance_id, member_id)


@router.get(f"{PARTNER}/notes", response_model=Paged[PartnerNote], tags=["partner notes"])
def list_partner_notes(
    alliance_id: str,
    partner_id: str,
    request: Request,
    uow: UowDep,
    person: PersonDep,
    page: PageDep,
) -> Paged[PartnerNote]:
    """A partner's private notes, oldest first: only that partner's own members may read them."""
    notes = alliances.partner_notes(uow, person, alliance_id, partner_id)
    key = lambda note: (note.created_at.isoformat(), note.id)  # noqa: E731
    return paged_list(request, notes, key, page, PartnerNote.model_validate)


def _same(item: T) -> T:
    return item


@router.post(
    f"{PARTNER}/notes", response_model=PartnerNote, status_code=CREATED, tags=["partner notes"]
)
def add_partner_note(
    alliance_id: str, partner_id: str, data: PartnerNoteInput, uow: UowDep, person: PersonDep
) -> PartnerNote:
    note = uow.write(alliances.do_add_partner_note, person, alliance_id, partner_id, data)
    return PartnerNote.model_validate(note)
