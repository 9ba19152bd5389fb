"""Partners and their members; each partner's private notes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import Conflict, ValidationFailed
from coauthor.services.accounts import invitations
from coauthor.services.inputs import parse
from coauthor.services.mechanics import views
from coauthor.services.mechanics.alliances import (
    do_add_partner,
    do_add_partner_note,
    do_remove_member,
    do_remove_partner,
    do_update_member,
    do_update_partner,
    open_alliance,
)
from coauthor.services.mechanics.inputs import (
    MemberInput,
    MemberUpdate,
    PartnerInput,
    PartnerNoteInput,
)
from coauthor.web.auth import UowDep, get_runtime
from coauthor.web.pages.deps import Posted, PostingPerson, SignedIn
from coauthor.web.pages.flow import Submission, go, submit, with_errors, write_and_go
from coauthor.web.pages.forms import Form
from coauthor.web.pages.layout import alliance_page
from coauthor.web.pages.notices import Notice
from coauthor.web.pages.rendering import is_partial, render

router = APIRouter()
T = TypeVar("T")
NOTES_TARGET = "notes"


def _member_forms(directory: list[views.PartnerView]) -> dict[str, Form]:
    return {
        f"member-{member.id}": Form(
            {"partner_id": member.partner_id, "role": member.role.value, "title": member.title},
            prefix=f"m-{member.id}",
        )
        for partner in directory
        for member in partner.members
    }


def _partner_forms(directory: list[views.PartnerView]) -> dict[str, Form]:
    return {
        f"partner-{entry.ref.id}": Form(
            {
                "organization_name": entry.ref.name,
                "joined_on": entry.partner.joined_on.isoformat() if entry.partner.joined_on else "",
                "description": entry.partner.description,
            },
            prefix=f"p-{entry.ref.id}",
        )
        for entry in directory
    }


def _partners_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    failed: dict[str, Form] | None = None,
    status: int = 200,
    sent: invitations.Sent | None = None,
) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    directory = views.partner_directory(uow, actor, alliance_id)
    forms = {"partner": Form(), "member": Form({"role": m.Role.MEMBER.value})}
    forms |= _partner_forms(directory) | _member_forms(directory) | (failed or {})
    context = {
        "directory": directory,
        "partner_choices": [views.Choice(entry.ref.id, entry.ref.name) for entry in directory],
        "partner_names": {entry.ref.id: entry.ref.name for entry in directory},
        "roles": list(m.Role),
        "forms": forms,
        "invitations": invitations.invitations_of(uow, actor, alliance_id)
        if access.can_edit
        else [],
        "sent": sent,
        "now": uow.clock.now(),
    }
    return alliance_page(request, access, "partners.html", "partners", context, status)


def _back_to_partners(alliance_id: str, anchor: str = "") -> str:
    return f"/a/{alliance_id}/partners" + (f"#{anchor}" if anchor else "")


@router.get("/a/{alliance_id}/partners")
def partners(request: Request, alliance_id: str, actor: SignedIn, uow: UowDep) -> Response:
    return _partners_page(request, uow, actor, alliance_id)


@dataclass(frozen=True)
class _PartnersForm:
    """A form on the partners page: its input model, its key among the page's forms."""

    model: type[BaseModel]
    key: str
    prefix: str = ""


def _submit_on_partners_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    values: dict[str, str],
    posted: _PartnersForm,
    action: Callable[[Any], T],
    anchor: Callable[[T], str],
    notice: Callable[[T], str],
) -> Response:
    """Run ``action`` on the parsed form; back to the partners page, or the form with errors."""
    submission = Submission.of(values, posted.model)
    if posted.prefix:
        submission = replace(submission, form=replace(submission.form, prefix=posted.prefix))
    return submit(
        request,
        uow,
        submission,
        lambda payload: action(parse(posted.model, payload)),
        success=lambda done: _back_to_partners(alliance_id, anchor(done)),
        rerender=lambda form, status: _partners_page(
            request, uow, actor, alliance_id, {posted.key: form}, status
        ),
        notice=notice,
    )


def _partner_name(uow: UnitOfWork, partner: m.Partner) -> str:
    organization = uow.get(m.Organization, id=partner.organization_id)
    return organization.name if organization else "the partner"


def _person_name(uow: UnitOfWork, member: m.Member) -> str:
    person = uow.get(m.Person, id=member.person_id)
    return person.name if person else "the member"


@router.post("/a/{alliance_id}/partners")
def add_partner(
    request: Request, alliance_id: str, actor: SignedIn, values: Posted, uow: UowDep
) -> Response:
    return _submit_on_partners_page(
        request,
        uow,
        actor,
        alliance_id,
        values,
        _PartnersForm(PartnerInput, "partner"),
        lambda data: do_add_partner(uow, actor, alliance_id, data),
        lambda partner: partner.id,
        lambda partner: f"Added {_partner_name(uow, partner)} as a partner.",
    )


@router.post("/a/{alliance_id}/partners/{partner_id}")
def update_partner(
    request: Request,
    alliance_id: str,
    partner_id: str,
    actor: SignedIn,
    values: Posted,
    uow: UowDep,
) -> Response:
    return _submit_on_partners_page(
        request,
        uow,
        actor,
        alliance_id,
        values,
        _PartnersForm(PartnerInput, f"partner-{partner_id}", prefix=f"p-{partner_id}"),
        lambda data: do_update_partner(uow, actor, alliance_id, partner_id, data),
        lambda partner: partner.id,
        lambda partner: f"Saved {_partner_name(uow, partner)}.",
    )


@router.post("/a/{alliance_id}/members")
def invite_member(
    request: Request, alliance_id: str, actor: SignedIn, values: Posted, uow: UowDep
) -> Response:
    """Not a redirect: the page that answers this post is the only place the link appears."""
    site = get_runtime(request).site
    submission = Submission.of(values, MemberInput)
    try:
        sent = uow.write(
            lambda _: invitations.do_invite(
                uow, actor, alliance_id, parse(MemberInput, submission.payload), site
            )
        )
    except (ValidationFailed, Conflict) as exc:
        if not exc.errors:
            raise
        form = submission.form.failed(exc.errors, submission.known)
        failed = _partners_page(request, uow, actor, alliance_id, {"member": form}, exc.status)
        return with_errors(request, failed)
    return _partners_page(request, uow, actor, alliance_id, sent=sent, status=201)


@router.post("/a/{alliance_id}/invitations/{invitation_id}/renew")
def renew_invitation(
    request: Request, alliance_id: str, invitation_id: str, actor: PostingPerson, uow: UowDep
) -> Response:
    site = get_runtime(request).site
    sent = uow.write(invitations.do_renew_invitation, actor, alliance_id, invitation_id, site)
    return _partners_page(request, uow, actor, alliance_id, sent=sent)


@router.post("/a/{alliance_id}/invitations/{invitation_id}/cancel")
def cancel_invitation(
    request: Request, alliance_id: str, invitation_id: str, actor: PostingPerson, uow: UowDep
) -> Response:
    return write_and_go(
        request,
        uow,
        lambda: invitations.do_cancel_invitation(uow, actor, alliance_id, invitation_id),
        _back_to_partners(alliance_id, "invitations"),
        "Withdrew the invitation.",
    )


@router.post("/a/{alliance_id}/members/{member_id}")
def update_member(
    request: Request,
    alliance_id: str,
    member_id: str,
    actor: SignedIn,
    values: Posted,
    uow: UowDep,
) -> Response:
    return _submit_on_partners_page(
        request,
        uow,
        actor,
        alliance_id,
        values,
        _PartnersForm(MemberUpdate, f"member-{member_id}", prefix=f"m-{member_id}"),
        lambda data: do_update_member(uow, actor, alliance_id, member_id, data),
        lambda member: member.id,
        lambda member: f"Saved {_person_name(uow, member)}'s place in the alliance.",
    )


@router.post("/a/{alliance_id}/members/{member_id}/remove")
def remove_member(
    request: Request, alliance_id: str, member_id: str, actor: PostingPerson, uow: UowDep
) -> Response:
    def remove(_: UnitOfWork) -> str:
        member = uow.get(m.Member, alliance_id=alliance_id, id=member_id)
        name = _person_name(uow, member) if member else "the member"
        do_remove_member(uow, actor, alliance_id, member_id)
        return name

    name = uow.write(remove)
    return go(request, _back_to_partners(alliance_id), f"Removed {name} from the alliance.")


@router.post("/a/{alliance_id}/partners/{partner_id}/remove")
def remove_partner(
    request: Request, alliance_id: str, partner_id: str, actor: PostingPerson, uow: UowDep
) -> Response:
    """Remove a partner entered by mistake; what still names it is said, and nothing changes."""
    try:
        removed = uow.write(do_remove_partner, actor, alliance_id, partner_id)
    except Conflict as exc:
        refused = Notice(exc.detail, "error")
        return go(request, _back_to_partners(alliance_id, partner_id), refused)
    name = _partner_name(uow, removed)
    return go(request, _back_to_partners(alliance_id), f"Removed {name} from the alliance.")


def _notes_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    partner_id: str,
    form: Form | None = None,
    status: int = 200,
) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    context = {
        "notes": views.notes_of_partner(uow, actor, alliance_id, partner_id),
        "form": form or Form(),
        "notes_url": f"/a/{alliance_id}/partners/{partner_id}/notes",
    }
    if is_partial(request, NOTES_TARGET):
        return render(request, "_notes.html", context | {"access": access}, status=status)
    return alliance_page(request, access, "notes.html", "partners", context, status)


@router.get("/a/{alliance_id}/partners/{partner_id}/notes")
def notes(
    request: Request, alliance_id: str, partner_id: str, actor: SignedIn, uow: UowDep
) -> Response:
    return _notes_page(request, uow, actor, alliance_id, partner_id)


@router.post("/a/{alliance_id}/partners/{partner_id}/notes")
def add_note(
    request: Request,
    alliance_id: str,
    partner_id: str,
    actor: SignedIn,
    values: Posted,
    uow: UowDep,
) -> Response:
    def add(payload: dict) -> m.PartnerNote:
        data = parse(PartnerNoteInput, payload)
        return do_add_partner_note(uow, actor, alliance_id, partner_id, data)

    return submit(
        request,
        uow,
        Submission.of(values, PartnerNoteInput),
        add,
        success=lambda note: f"/a/{alliance_id}/partners/{partner_id}/notes",
        rerender=lambda form, status: _notes_page(
            request, uow, actor, alliance_id, partner_id, form, status
        ),
    )
