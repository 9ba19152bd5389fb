"""Signing in and out."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from coauthor.domain.errors import TooManyAttempts, ValidationFailed
from coauthor.services.accounts.login import LoginLimits, do_sign_in
from coauthor.web.auth import (
    ActorDep,
    UowDep,
    end_session,
    get_runtime,
    session_expired,
    start_session,
)
from coauthor.web.pages.deps import CsrfChecked, Posted
from coauthor.web.pages.forms import Form
from coauthor.web.pages.rendering import render, safe_next, see_other

router = APIRouter()
LOGIN_FIELDS = ("email", "password")


def login_page(
    request: Request,
    form: Form | None = None,
    *,
    next_path: str = "/",
    notice: str = "",
    status: int = 200,
) -> Response:
    form = form or Form({"next": next_path})
    return render(request, "login.html", {"form": form, "notice": notice}, status=status)


@router.get("/login")
def login_form(request: Request, actor: ActorDep, next: str = "/") -> Response:
    if actor is not None:
        return see_other(safe_next(next))
    notice = "Your session expired." if session_expired(request) else ""
    return login_page(request, next_path=safe_next(next), notice=notice)


@router.post("/login")
def login(request: Request, values: Posted, uow: UowDep) -> Response:
    settings = get_runtime(request).settings
    limits = LoginLimits(settings.login_max_attempts, settings.login_window_seconds)
    email, password = values.get("email", ""), values.get("password", "")
    next_path = safe_next(values.get("next"))
    form = Form({"email": email, "next": next_path})
    client = request.client.host if request.client else "unknown"
    attempt = uow.write(do_sign_in, email, password, client, limits)
    try:
        person = attempt.person_or_refusal()
    except ValidationFailed as exc:
        return login_page(request, form.failed(exc.errors, LOGIN_FIELDS), status=exc.status)
    except TooManyAttempts as exc:
        return login_page(request, form.with_message(exc.detail), status=exc.status)
    response = see_other(next_path)
    start_session(request, response, person)
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request) -> Response:
    response = see_other("/login")
    end_session(request, response)
    return response
