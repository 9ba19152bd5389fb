"""Inviting members: adding a member by email creates an invitation, not a member.

``POST /alliances/{id}/members`` answers 202 Accepted with the invitation and
its link (shown this once): the person becomes a member when they accept.
Nothing about the person behind the address (name, id, whether they have an
account) is in the answer.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response, status

from coauthor.domain import accounts as acc
from coauthor.domain import model as m
from coauthor.services.accounts import invitations
from coauthor.services.mechanics.inputs import MemberInput
from coauthor.web.api.deps import PersonDep, set_location
from coauthor.web.api.pagination import Paged, PageDep, paged_list
from coauthor.web.api.schemas import Output
from coauthor.web.auth import UowDep, get_runtime

router = APIRouter()
INVITATIONS = "/alliances/{alliance_id}/invitations"
INVITATION = f"{INVITATIONS}/{{invitation_id}}"


class Invitation(Output):
    id: str
    email: str
    partner_id: str
    role: m.Role
    title: str
    status: str
    """pending, expired, declined, accepted or cancelled."""
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None

    @classmethod
    def of(cls, invitation: acc.Invitation, now: datetime) -> Invitation:
        expired = invitation.status == acc.InvitationStatus.PENDING and not invitation.is_open(now)
        return cls(
            id=invitation.id,
            email=invitation.email,
            partner_id=invitation.partner_id,
            role=invitation.role,
            title=invitation.title,
            status="expired" if expired else str(invitation.status),
            created_at=invitation.created_at,
            expires_at=invitation.expires_at,
            answered_at=invitation.answered_at,
        )


class SentInvitation(Invitation):
    link: str
    """The link to send to the invitee; shown this once (only a digest of it is stored)."""
    emailed: bool
    """Whether the server is emailing the link too (COAUTHOR_SMTP_URL is set)."""


@router.post(
    "/alliances/{alliance_id}/members",
    response_model=SentInvitation,
    status_code=status.HTTP_202_ACCEPTED,
    tags=["members"],
    summary="Invite a member by email",
)
def invite_member(
    alliance_id: str,
    data: MemberInput,
    request: Request,
    response: Response,
    uow: UowDep,
    person: PersonDep,
) -> SentInvitation:
    """The person becomes a member when they accept the invitation (202: not yet a member)."""
    sent = uow.write(invitations.do_invite, person, alliance_id, data, get_runtime(request).site)
    set_location(
        request,
        response,
        "read_invitation",
        alliance_id=alliance_id,
        invitation_id=sent.invitation.id,
    )
    shown = Invitation.of(sent.invitation, uow.clock.now()).model_dump()
    return SentInvitation(**shown, link=sent.link, emailed=sent.emailed)


@router.get(INVITATIONS, response_model=Paged[Invitation], tags=["members"])
def list_invitations(
    alliance_id: str, request: Request, uow: UowDep, person: PersonDep, page: PageDep
) -> Paged[Invitation]:
    """Invitations waiting for an answer or declined, oldest first (managers only)."""
    found = invitations.invitations_of(uow, person, alliance_id)
    now = uow.clock.now()
    key = lambda item: (item.created_at.isoformat(), item.id)  # noqa: E731
    ordered = sorted(found, key=key)
    return paged_list(request, ordered, key, page, lambda item: Invitation.of(item, now))


@router.get(INVITATION, response_model=Invitation, tags=["members"])
def read_invitation(
    alliance_id: str, invitation_id: str, uow: UowDep, person: PersonDep
) -> Invitation:
    found = invitations.invitation_for_manager(uow, person, alliance_id, invitation_id)
    return Invitation.of(found, uow.clock.now())


@router.delete(INVITATION, status_code=status.HTTP_204_NO_CONTENT, tags=["members"])
def cancel_invitation(alliance_id: str, invitation_id: str, uow: UowDep, person: PersonDep) -> None:
    """Withdraw an invitation that has not been answered; its link stops working."""
    uow.write(invitations.do_cancel_invitation, person, alliance_id, invitation_id)
