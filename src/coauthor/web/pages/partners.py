"""Partners and their members; each partner's private notes."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request, Response

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.services import views
from coauthor.services.alliances import (
    do_add_member,
    do_add_partner,
    do_add_partner_note,
    do_remove_member,
    do_update_member,
    do_update_partner,
    open_alliance,
)
from coauthor.services.inputs import (
    MemberInput,
    MemberUpdate,
    PartnerInput,
    PartnerNoteInput,
    parse,
)
from coauthor.web.auth import UowDep
from coauthor.web.pages.deps import Posted, PostingPerson, SignedIn
from coauthor.web.pages.flow import Submission, commit_and_go, submit
from coauthor.web.pages.forms import Form
from coauthor.web.pages.layout import alliance_page
from coauthor.web.pages.rendering import is_partial, render

router = APIRouter()
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
) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    directory = views.partner_directory(uow, actor, alliance_id)
    forms = {"partner": Form(), "member": Form({"role": m.Role.MEMBER.value})}
    forms |= _partner_forms(directory) | _member_forms(directory) | (failed or {})
    context = {
        "directory": directory,
        "partner_choices": views.choices(uow, actor, alliance_id).partners,
        "roles": list(m.Role),
        "forms": forms,
    }
    return alliance_page(request, access, "partners.html", "partners", context, status)


def _back_to_partners(alliance_id: str, anchor: str = "") -> str:
    return f"/a/{alliance_id}/partners" + (f"#{anchor}" if anchor else "")


@router.get("/a/{alliance_id}/partners")
def partners(request: Request, alliance_id: str, actor: SignedIn, uow: UowDep) -> Response:
    return _partners_page(request, uow, actor, alliance_id)


@router.post("/a/{alliance_id}/partners")
def add_partner(
    request: Request, alliance_id: str, actor: SignedIn, values: Posted, uow: UowDep
) -> Response:
    return submit(
        uow,
        Submission.of(values, PartnerInput),
        lambda payload: do_add_partner(uow, actor, alliance_id, parse(PartnerInput, payload)),
        success=lambda partner: _back_to_partners(alliance_id, partner.id),
        rerender=lambda form, status: _partners_page(
            request, uow, actor, alliance_id, {"partner": form}, status
        ),
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
    def update(payload: dict) -> m.Partner:
        data = parse(PartnerInput, payload)
        return do_update_partner(uow, actor, alliance_id, partner_id, data)

    submission = Submission.of(values, PartnerInput)
    return submit(
        uow,
        replace(submission, form=replace(submission.form, prefix=f"p-{partner_id}")),
        update,
        success=lambda partner: _back_to_partners(alliance_id, partner.id),
        rerender=lambda form, status: _partners_page(
            request, uow, actor, alliance_id, {f"partner-{partner_id}": form}, status
        ),
    )


@router.post("/a/{alliance_id}/members")
def add_member(
    request: Request, alliance_id: str, actor: SignedIn, values: Posted, uow: UowDep
) -> Response:
    return submit(
        uow,
        Submission.of(values, MemberInput),
        lambda payload: do_add_member(uow, actor, alliance_id, parse(MemberInput, payload)),
        success=lambda member: _back_to_partners(alliance_id, member.partner_id),
        rerender=lambda form, status: _partners_page(
            request, uow, actor, alliance_id, {"member": form}, status
        ),
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
    def update(payload: dict) -> m.Member:
        return do_update_member(uow, actor, alliance_id, member_id, parse(MemberUpdate, payload))

    submission = Submission.of(values, MemberUpdate)
    return submit(
        uow,
        replace(submission, form=replace(submission.form, prefix=f"m-{member_id}")),
        update,
        success=lambda member: _back_to_partners(alliance_id, member.partner_id),
        rerender=lambda form, status: _partners_page(
            request, uow, actor, alliance_id, {f"member-{member_id}": form}, status
        ),
    )


@router.post("/a/{alliance_id}/members/{member_id}/remove")
def remove_member(alliance_id: str, member_id: str, actor: PostingPerson, uow: UowDep) -> Response:
    return commit_and_go(
        uow,
        lambda: do_remove_member(uow, actor, alliance_id, member_id),
        _back_to_partners(alliance_id),
    )


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
        uow,
        Submission.of(values, PartnerNoteInput),
        add,
        success=lambda note: f"/a/{alliance_id}/partners/{partner_id}/notes",
        rerender=lambda form, status: _notes_page(
            request, uow, actor, alliance_id, partner_id, form, status
        ),
    )
