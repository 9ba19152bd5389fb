"""The site administrator's list of people: deactivate and reactivate accounts."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from coauthor.services.accounts import admin
from coauthor.web.auth import UowDep
from coauthor.web.pages.deps import PostingPerson, SignedIn
from coauthor.web.pages.flow import write_and_go
from coauthor.web.pages.rendering import render

router = APIRouter()
PEOPLE_PATH = "/admin/people"


@router.get(PEOPLE_PATH)
def people(request: Request, actor: SignedIn, uow: UowDep) -> Response:
    return render(request, "admin_people.html", {"people": admin.everyone(uow, actor)})


@router.post(PEOPLE_PATH + "/{person_id}/deactivate")
def deactivate(request: Request, person_id: str, actor: PostingPerson, uow: UowDep) -> Response:
    return write_and_go(
        request,
        uow,
        lambda: admin.do_deactivate(uow, actor, person_id),
        f"{PEOPLE_PATH}#{person_id}",
        "Deactivated the account.",
    )


@router.post(PEOPLE_PATH + "/{person_id}/reactivate")
def reactivate(request: Request, person_id: str, actor: PostingPerson, uow: UowDep) -> Response:
    return write_and_go(
        request,
        uow,
        lambda: admin.do_reactivate(uow, actor, person_id),
        f"{PEOPLE_PATH}#{person_id}",
        "Reactivated the account.",
    )
