"""Signing in and out."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from coauthor.domain.errors import PermissionDenied, TooManyAttempts, ValidationFailed
from coauthor.runtime import Runtime
from coauthor.services.accounts import sessions
from coauthor.services.accounts.login import LoginLimits, check_before_write, do_sign_in
from coauthor.web.auth import (
    ActorDep,
    UowDep,
    end_session,
    get_runtime,
    read_session,
    session_expired,
    session_rules,
    start_session,
)
from coauthor.web.client import client_address, user_agent
from coauthor.web.pages.deps import CsrfChecked, Posted
from coauthor.web.pages.forms import Form
from coauthor.web.pages.rendering import render, safe_next, see_other

router = APIRouter()
LOGIN_FIELDS = ("email", "password")
NOTICES = {
    "expired": "Your session expired.",
    "welcome": "Welcome! Your account is ready: sign in with your new password.",
    "password": "Your password was changed.",
}


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


def login_limits(runtime: Runtime) -> LoginLimits:
    settings = runtime.settings
    return LoginLimits(
        settings.login_max_attempts,
        settings.login_max_attempts_per_address,
        settings.login_window_seconds,
    )


def client_of(request: Request) -> sessions.Client:
    return sessions.Client(client_address(request), user_agent(request))


@router.get("/login")
def login_form(
    request: Request, actor: ActorDep, next: str = "/", notice: str = "", email: str = ""
) -> Response:
    if actor is not None:
        return see_other(safe_next(next))
    text = NOTICES["expired"] + " Please sign in again." if session_expired(request) else ""
    text = NOTICES.get(notice, text)
    form = Form({"next": safe_next(next), "email": email[:254]})
    return login_page(request, form, notice=text)


@router.post("/login")
def login(request: Request, values: Posted, uow: UowDep) -> Response:
    runtime = get_runtime(request)
    email, password = values.get("email", ""), values.get("password", "")
    next_path = safe_next(values.get("next"))
    form = Form({"email": email, "next": next_path})
    client, limits = client_of(request), login_limits(runtime)
    verdict = check_before_write(uow, email, password, client.address, limits)
    attempt = uow.write(
        do_sign_in, email, password, client, limits, session_rules(runtime), verdict
    )
    try:
        person = attempt.person_or_refusal()
    except ValidationFailed as exc:
        return login_page(request, form.failed(exc.errors, LOGIN_FIELDS), status=exc.status)
    except (TooManyAttempts, PermissionDenied) as exc:
        return login_page(request, form.with_message(exc.detail), status=exc.status)
    response = see_other(next_path)
    start_session(request, response, person, attempt.session_secret, attempt.session_id)
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, actor: ActorDep, uow: UowDep) -> Response:
    """End this session on the server, then forget it in the browser."""
    session_id = read_session(request).session_id
    if actor is not None and session_id is not None:
        uow.write(sessions.do_end_session, actor, session_id)
    response = see_other("/login")
    end_session(request, response)
    return response
