"""The pages an invitation link opens: see the offer, accept it (setting up an account), or decline.

The link itself is the credential, so these pages are open to anyone who
holds it; what they may do then depends on whether the invited address
already has an account (then they sign in as it first).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import ValidationFailed
from coauthor.domain.model import Person
from coauthor.services.accounts import invitations
from coauthor.services.accounts.inputs import AccountSetup
from coauthor.services.inputs import parse
from coauthor.web.auth import ActorDep, UowDep, get_runtime
from coauthor.web.pages.deps import Posted, Viewer
from coauthor.web.pages.forms import Form
from coauthor.web.pages.rendering import render, see_other

router = APIRouter()
SETUP_FIELDS = ("name", "password", "password_again")


def _path(token: str) -> str:
    return f"/invitations/{token}"


def _offer_page(
    request: Request,
    uow: UnitOfWork,
    actor: Person | None,
    token: str,
    form: Form | None = None,
    status: int = 200,
) -> Response:
    offer = invitations.offer(uow, get_runtime(request).site, token)
    if actor is not None:
        request.state.viewer = Viewer.of(actor)
    context = {
        "offer": offer,
        "state": offer.state(uow.clock.now()),
        "path": _path(token),
        "login_url": f"/login?next={quote(_path(token), safe='/')}"
        f"&email={quote(offer.invitation.email)}",
        "signed_in_as_invitee": actor is not None and actor.email == offer.invitation.email,
        "form": form or Form({"name": offer.invitation.name}),
    }
    return render(request, "invitation.html", context, status=status)


@router.get("/invitations/{token}")
def invitation(request: Request, token: str, actor: ActorDep, uow: UowDep) -> Response:
    return _offer_page(request, uow, actor, token)


@router.post("/invitations/{token}/accept")
def accept(request: Request, token: str, actor: ActorDep, values: Posted, uow: UowDep) -> Response:
    site = get_runtime(request).site
    if actor is not None:
        member = uow.write(invitations.do_accept_signed_in, actor, site, token)
        return see_other(f"/a/{member.alliance_id}")
    form = Form({name: values.get(name, "") for name in SETUP_FIELDS})
    try:
        person = uow.write(
            lambda _: invitations.do_accept_as_new(
                uow, site, token, parse(AccountSetup, form.values)
            )
        )
    except ValidationFailed as exc:
        failed = Form({"name": form.value("name")}).failed(exc.errors, SETUP_FIELDS)
        return _offer_page(request, uow, actor, token, failed, exc.status)
    offer = invitations.offer(uow, site, token)
    next_path = quote(f"/a/{offer.invitation.alliance_id}", safe="/")
    return see_other(f"/login?notice=welcome&email={quote(person.email)}&next={next_path}")


@router.post("/invitations/{token}/decline")
def decline(request: Request, token: str, values: Posted, uow: UowDep) -> Response:
    uow.write(invitations.do_decline, get_runtime(request).site, token)
    return see_other(_path(token))
