"""Invitations: how a person joins an alliance, by saying yes.

A manager invites an email address to a partner with a role. Nothing about
the person behind the address is looked up for the manager — whether they
have an account, their name, their id — so inviting a stranger's address
tells the manager nothing the manager did not type. The invitation's link is
shown to the manager (to send themselves) and emailed when a mail server is
configured. The link is signed, single use and expires; only the digest of
its nonce is stored.

Whoever holds the link may accept or decline. Accepting creates the member
(and, for an address new to the site, the account with the name and password
the invitee chooses); an address that already has an account must be signed
in as that account to accept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain.accounts import Invitation, InvitationStatus
from coauthor.domain.errors import Conflict, NotFound, PermissionDenied
from coauthor.domain.model import Alliance, Member, Organization, Partner, Person
from coauthor.ids import new_id
from coauthor.services import eventlog
from coauthor.services.accounts.inputs import AccountSetup
from coauthor.services.accounts.links import Site, digest, matches, new_secret
from coauthor.services.accounts.people import (
    check_password_strength,
    has_usable_password,
    hash_password,
    person_by_email,
)
from coauthor.services.mail import Message
from coauthor.services.mechanics.alliances import admit_member, open_for_edit, partner_in
from coauthor.services.mechanics.inputs import MemberInput

PURPOSE = "invitation"
LINK_NOT_VALID = "this invitation link is not valid; ask for a new one"


@dataclass(frozen=True)
class Sent:
    """A new (or renewed) invitation, its link (shown once), and whether it was emailed."""

    invitation: Invitation
    link: str
    emailed: bool


@dataclass(frozen=True)
class Offer:
    """What the holder of a link is shown: the invitation and what it is about."""

    invitation: Invitation
    alliance_name: str
    partner_name: str
    invited_by: str
    has_account: bool
    """Whether the address already has an account with a password (the holder owns it)."""

    def state(self, now: datetime) -> str:
        """pending, expired, accepted, declined or cancelled."""
        if self.invitation.status == InvitationStatus.PENDING and not self.invitation.is_open(now):
            return "expired"
        return str(self.invitation.status)


def _issue(uow: UnitOfWork, site: Site, invitation: Invitation, inviter: Person) -> Sent:
    """Give ``invitation`` a fresh nonce and lifetime, and send its link."""
    nonce = new_secret()
    invitation.nonce_hash = digest(nonce)
    invitation.expires_at = uow.clock.now() + site.invitation_lifetime
    token = site.sign(PURPOSE, invitation.alliance_id, invitation.id, nonce)
    link = site.link(f"/invitations/{token}")
    alliance = uow.get(Alliance, id=invitation.alliance_id)
    assert alliance is not None
    message = Message(
        to=invitation.email,
        subject=f"{inviter.name} invites you to {alliance.name} on Coauthor",
        body=_invitation_text(inviter.name, alliance.name, link, invitation.expires_at),
    )
    return Sent(invitation, link, site.outbox.send_after_commit(uow, message))


def _invitation_text(inviter: str, alliance: str, link: str, until: datetime) -> str:
    return (
        f"{inviter} invites you to join the alliance “{alliance}” on Coauthor.\n\n"
        f"To accept or decline, open this link:\n\n{link}\n\n"
        f"It works once, until {until:%d %b %Y, %H:%M} UTC. If you did not expect this "
        "invitation, you can ignore this email: nothing happens unless you accept.\n"
    )


def do_invite(
    uow: UnitOfWork, actor: Person | None, alliance_id: str, data: MemberInput, site: Site
) -> Sent:
    """Invite ``data.email`` to the alliance; the manager gets the link to send."""
    alliance = open_for_edit(uow, actor, alliance_id).alliance
    assert actor is not None
    partner_in(uow, alliance.id, data.partner_id)
    _refuse_duplicate(uow, alliance.id, data.email)
    invitation = Invitation(
        alliance_id=alliance.id,
        id=new_id("in"),
        email=data.email,
        partner_id=data.partner_id,
        role=data.role,
        invited_by_person_id=actor.id,
        nonce_hash="",
        created_at=uow.clock.now(),
        expires_at=uow.clock.now(),
        name=data.name.strip(),
        title=data.title,
    )
    sent = _issue(uow, site, invitation, actor)
    uow.add(invitation)
    eventlog.append(
        uow,
        alliance.id,
        actor,
        "invitation.created",
        {
            "id": invitation.id,
            "email": invitation.email,
            "partner_id": invitation.partner_id,
            "role": invitation.role.value,
            "title": invitation.title,
        },
    )
    return sent


def _refuse_duplicate(uow: UnitOfWork, alliance_id: str, email: str) -> None:
    now = uow.clock.now()
    waiting = uow.find(Invitation, alliance_id=alliance_id, email=email)
    if any(invitation.is_open(now) for invitation in waiting):
        raise Conflict(f"an invitation to {email} is already waiting for an answer", ("email",))
    person = person_by_email(uow, email)
    if person is not None and uow.find_one(Member, alliance_id=alliance_id, person_id=person.id):
        raise Conflict(f"{email} is already a member of this alliance", ("email",))


def invitation_for_manager(
    uow: UnitOfWork, actor: Person | None, alliance_id: str, inv_id: str
) -> Invitation:
    open_for_edit(uow, actor, alliance_id)
    invitation = uow.get(Invitation, alliance_id=alliance_id, id=inv_id)
    if invitation is None:
        raise NotFound("no such invitation")
    return invitation


def do_cancel_invitation(
    uow: UnitOfWork, actor: Person | None, alliance_id: str, invitation_id: str
) -> Invitation:
    """Withdraw an unanswered invitation; its link stops working."""
    invitation = invitation_for_manager(uow, actor, alliance_id, invitation_id)
    if invitation.status != InvitationStatus.PENDING:
        raise Conflict(f"this invitation was already {invitation.status}")
    invitation.status, invitation.answered_at = InvitationStatus.CANCELLED, uow.clock.now()
    eventlog.append(uow, alliance_id, actor, "invitation.cancelled", {"id": invitation.id})
    return invitation


def do_renew_invitation(
    uow: UnitOfWork, actor: Person | None, alliance_id: str, invitation_id: str, site: Site
) -> Sent:
    """A new link (the old one stops working) with a new lifetime, sent again."""
    invitation = invitation_for_manager(uow, actor, alliance_id, invitation_id)
    assert actor is not None
    if invitation.status not in (InvitationStatus.PENDING, InvitationStatus.DECLINED):
        raise Conflict(f"this invitation was already {invitation.status}")
    if invitation.status == InvitationStatus.DECLINED:
        _refuse_duplicate(uow, alliance_id, invitation.email)
    invitation.status, invitation.answered_at = InvitationStatus.PENDING, None
    sent = _issue(uow, site, invitation, actor)
    eventlog.append(uow, alliance_id, actor, "invitation.renewed", {"id": invitation.id})
    return sent


def invitations_of(uow: UnitOfWork, actor: Person | None, alliance_id: str) -> list[Invitation]:
    """The alliance's invitations not yet accepted or cancelled, newest first (managers only)."""
    open_for_edit(uow, actor, alliance_id)
    shown = (InvitationStatus.PENDING, InvitationStatus.DECLINED)
    found = uow.find(Invitation, Invitation.status.in_(shown), alliance_id=alliance_id)
    return sorted(
        found, key=lambda invitation: (invitation.created_at, invitation.id), reverse=True
    )


def _by_token(uow: UnitOfWork, site: Site, token: str) -> Invitation:
    parts = site.unsign(PURPOSE, token, 3)
    if parts is None:
        raise NotFound(LINK_NOT_VALID)
    alliance_id, invitation_id, nonce = parts
    invitation = uow.get(Invitation, alliance_id=alliance_id, id=invitation_id)
    if invitation is None or not matches(nonce, invitation.nonce_hash):
        raise NotFound(LINK_NOT_VALID)
    return invitation


def offer(uow: UnitOfWork, site: Site, token: str) -> Offer:
    """What the link's holder may see: the alliance, the partner, who invited them."""
    invitation = _by_token(uow, site, token)
    alliance = uow.get(Alliance, id=invitation.alliance_id)
    partner = uow.get(Partner, alliance_id=invitation.alliance_id, id=invitation.partner_id)
    organization = uow.get(Organization, id=partner.organization_id) if partner else None
    inviter = uow.get(Person, id=invitation.invited_by_person_id or "")
    person = person_by_email(uow, invitation.email)
    return Offer(
        invitation,
        alliance.name if alliance else "",
        organization.name if organization else "",
        inviter.name if inviter else "a site administrator",
        person is not None and has_usable_password(person),
    )


def _open(uow: UnitOfWork, site: Site, token: str) -> Invitation:
    invitation = _by_token(uow, site, token)
    if not invitation.is_open(uow.clock.now()):
        state = "has expired" if invitation.status == InvitationStatus.PENDING else "was answered"
        raise Conflict(f"this invitation {state}; ask the alliance's manager for a new one")
    return invitation


def _accept(uow: UnitOfWork, invitation: Invitation, person: Person) -> Member:
    member = admit_member(
        uow,
        person,
        invitation.alliance_id,
        invitation.partner_id,
        invitation.role,
        invitation.title,
    )
    invitation.status, invitation.answered_at = InvitationStatus.ACCEPTED, uow.clock.now()
    invitation.person_id = person.id
    eventlog.append(
        uow,
        invitation.alliance_id,
        person,
        "invitation.accepted",
        {"id": invitation.id, "member_id": member.id},
    )
    return member


def do_accept_as_new(uow: UnitOfWork, site: Site, token: str, data: AccountSetup) -> Person:
    """Accept for an address without an account: it gets one, with the chosen name and password.

    An account made earlier without a password (added by the operator before
    invitations existed) is completed the same way.
    """
    invitation = _open(uow, site, token)
    check_password_strength(data.password)
    person = person_by_email(uow, invitation.email)
    if person is not None and has_usable_password(person):
        raise PermissionDenied("this address already has an account: sign in to accept")
    if person is None:
        person = Person(
            id=new_id("pe"),
            email=invitation.email,
            name=data.name,
            password_hash=hash_password(data.password),
            is_admin=False,
            created_at=uow.clock.now(),
        )
        uow.add(person)
        uow.flush()
        payload = {"id": person.id, "email": person.email, "name": person.name, "admin": False}
        eventlog.append(uow, eventlog.SITE_CHAIN, person, "person.created", payload)
    else:
        person.name, person.password_hash = data.name, hash_password(data.password)
        eventlog.append(uow, eventlog.SITE_CHAIN, person, "person.activated", {"id": person.id})
    _accept(uow, invitation, person)
    return person


def do_accept_signed_in(uow: UnitOfWork, actor: Person | None, site: Site, token: str) -> Member:
    """Accept as the signed-in person, whose email must be the one invited."""
    person = permissions.require_signed_in(actor)
    invitation = _open(uow, site, token)
    if person.email != invitation.email:
        raise PermissionDenied(
            "this invitation was sent to another email address; sign out and open the link again"
        )
    return _accept(uow, invitation, person)


def do_decline(uow: UnitOfWork, site: Site, token: str) -> Invitation:
    """Say no; the manager sees that the invitation was declined, and nothing else happens."""
    invitation = _open(uow, site, token)
    invitation.status, invitation.answered_at = InvitationStatus.DECLINED, uow.clock.now()
    eventlog.append(uow, invitation.alliance_id, None, "invitation.declined", {"id": invitation.id})
    return invitation
