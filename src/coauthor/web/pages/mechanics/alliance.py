"""An alliance's overview, and editing its name, kind, stage and purpose."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from coauthor.domain import model as m
from coauthor.services.inputs import parse
from coauthor.services.mechanics.alliances import (
    Access,
    do_update_alliance,
    open_alliance,
    open_for_edit,
)
from coauthor.services.mechanics.inputs import AllianceInput
from coauthor.services.mechanics.overview import overview as overview_of
from coauthor.web.auth import UowDep
from coauthor.web.pages.deps import Posted, SignedIn
from coauthor.web.pages.flow import Submission, submit
from coauthor.web.pages.forms import Form
from coauthor.web.pages.layout import alliance_page

router = APIRouter()


@router.get("/a/{alliance_id}")
def overview(request: Request, alliance_id: str, actor: SignedIn, uow: UowDep) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    context = {"overview": overview_of(uow, actor, alliance_id)}
    return alliance_page(request, access, "overview.html", "overview", context)


def _edit_page(request: Request, access: Access, form: Form, status: int = 200) -> Response:
    context = {"form": form, "kinds": list(m.AllianceKind), "stages": list(m.AllianceStage)}
    return alliance_page(request, access, "alliance_edit.html", "overview", context, status)


@router.get("/a/{alliance_id}/edit")
def edit_form(request: Request, alliance_id: str, actor: SignedIn, uow: UowDep) -> Response:
    access = open_for_edit(uow, actor, alliance_id)
    alliance = access.alliance
    values = {
        "name": alliance.name,
        "kind": alliance.kind.value,
        "stage": alliance.stage.value,
        "purpose": alliance.purpose,
    }
    return _edit_page(request, access, Form(values))


@router.post("/a/{alliance_id}/edit")
def edit(
    request: Request, alliance_id: str, actor: SignedIn, values: Posted, uow: UowDep
) -> Response:
    access = open_for_edit(uow, actor, alliance_id)
    return submit(
        request,
        uow,
        Submission.of(values, AllianceInput),
        lambda payload: do_update_alliance(uow, actor, alliance_id, parse(AllianceInput, payload)),
        success=lambda alliance: f"/a/{alliance.id}",
        rerender=lambda form, status: _edit_page(request, access, form, status),
        notice=lambda alliance: "Saved the alliance's name, kind, stage and purpose.",
    )
