"""Forgotten passwords: ask for a link by email, then choose a new password with it."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import ValidationFailed
from coauthor.services.accounts import resets
from coauthor.services.accounts.inputs import NewPassword
from coauthor.services.inputs import parse
from coauthor.web.auth import UowDep, get_runtime
from coauthor.web.pages.deps import Posted
from coauthor.web.pages.forms import Form
from coauthor.web.pages.rendering import render, see_other

router = APIRouter()
RESET_PATH = "/password-reset"
PASSWORD_FIELDS = ("password", "password_again")


@router.get(RESET_PATH)
def ask_for_link(request: Request) -> Response:
    context = {"form": Form(), "asked": False, "mail": get_runtime(request).site.outbox.enabled}
    return render(request, "reset_request.html", context)


@router.post(RESET_PATH)
def send_link(request: Request, values: Posted, uow: UowDep) -> Response:
    """The same answer whether or not the address has an account."""
    site = get_runtime(request).site
    email = values.get("email", "").strip()[:254]
    uow.write(resets.do_request_reset, email, site)
    context = {"form": Form({"email": email}), "asked": True, "mail": site.outbox.enabled}
    return render(request, "reset_request.html", context)


def _reset_page(
    request: Request, uow: UnitOfWork, token: str, form: Form | None = None, status: int = 200
) -> Response:
    _, person = resets.open_reset(uow, get_runtime(request).site, token)
    context = {"form": form or Form(), "email": person.email, "path": f"{RESET_PATH}/{token}"}
    return render(request, "reset.html", context, status=status)


@router.get(RESET_PATH + "/{token}")
def reset_form(request: Request, token: str, uow: UowDep) -> Response:
    return _reset_page(request, uow, token)


@router.post(RESET_PATH + "/{token}")
def reset_password(request: Request, token: str, values: Posted, uow: UowDep) -> Response:
    site = get_runtime(request).site
    form = Form()
    payload = {name: values.get(name, "") for name in PASSWORD_FIELDS}
    try:
        person = uow.write(
            lambda _: resets.do_reset_password(uow, site, token, parse(NewPassword, payload))
        )
    except ValidationFailed as exc:
        return _reset_page(request, uow, token, form.failed(exc.errors, PASSWORD_FIELDS), 422)
    return see_other(f"/login?notice=password&email={quote(person.email)}")
