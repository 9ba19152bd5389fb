"""The portfolio: my alliances, and a form to start a new one."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from coauthor.domain import model as m
from coauthor.services.inputs import parse
from coauthor.services.mechanics import views
from coauthor.services.mechanics.alliances import do_create_alliance
from coauthor.services.mechanics.inputs import AllianceCreate
from coauthor.web.auth import UowDep
from coauthor.web.pages.deps import Posted, SignedIn
from coauthor.web.pages.flow import Submission, submit
from coauthor.web.pages.forms import Form
from coauthor.web.pages.rendering import render

router = APIRouter()
NEW_ALLIANCE = Form({"stage": m.AllianceStage.FORMING.value})


def _home(
    request: Request, uow: UowDep, actor: m.Person, form: Form = NEW_ALLIANCE, status: int = 200
) -> Response:
    context = {
        "rows": views.portfolio(uow, actor),
        "form": form,
        "kinds": list(m.AllianceKind),
        "stages": list(m.AllianceStage),
    }
    return render(request, "home.html", context, status=status)


@router.get("/")
def home(request: Request, actor: SignedIn, uow: UowDep) -> Response:
    return _home(request, uow, actor)


@router.post("/alliances")
def create_alliance(request: Request, actor: SignedIn, values: Posted, uow: UowDep) -> Response:
    return submit(
        request,
        uow,
        Submission.of(values, AllianceCreate),
        lambda payload: do_create_alliance(uow, actor, parse(AllianceCreate, payload)),
        success=lambda alliance: f"/a/{alliance.id}",
        rerender=lambda form, status: _home(request, uow, actor, form, status),
        notice=lambda alliance: f"{alliance.name} is started, with you as its alliance manager.",
    )
