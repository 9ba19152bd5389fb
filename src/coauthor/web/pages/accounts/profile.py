"""The profile page: one's name, time zone and password, sessions and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import TooManyAttempts, ValidationFailed
from coauthor.services.accounts import sessions, tokens
from coauthor.services.accounts.inputs import NewPassword, ProfileInput, time_zones
from coauthor.services.accounts.profile import do_change_password, do_update_profile
from coauthor.services.inputs import parse
from coauthor.web.auth import UowDep, get_runtime, read_session, session_rules, start_session
from coauthor.web.client import client_address
from coauthor.web.pages.accounts.session import client_of, login_limits
from coauthor.web.pages.deps import Posted, PostingPerson, SignedIn
from coauthor.web.pages.flow import write_and_go
from coauthor.web.pages.forms import Form
from coauthor.web.pages.rendering import render, see_other

router = APIRouter()
ACCOUNT_PATH = "/account"
PROFILE_FIELDS = ("name", "time_zone")
PASSWORD_FIELDS = ("current_password", "password", "password_again")


def _account_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    forms: dict[str, Form] | None = None,
    notice: str = "",
    status: int = 200,
) -> Response:
    runtime = get_runtime(request)
    defaults = {
        "profile": Form({"name": actor.name, "time_zone": actor.time_zone}),
        "password": Form(prefix="pw"),
    }
    context = {
        "forms": defaults | (forms or {}),
        "zones": [(zone, zone) for zone in time_zones()],
        "sessions": sessions.my_sessions(uow, actor, session_rules(runtime)),
        "current_session": read_session(request).session_id,
        "tokens": [token for token in tokens.list_tokens(uow, actor) if not token.revoked_at],
        "notice": notice,
        "email": actor.email,
    }
    return render(request, "account.html", context, status=status)


@router.get(ACCOUNT_PATH)
def account(request: Request, actor: SignedIn, uow: UowDep, saved: str = "") -> Response:
    notices = {"profile": "Your profile was saved.", "password": "Your password was changed."}
    return _account_page(request, uow, actor, notice=notices.get(saved, ""))


@router.post(ACCOUNT_PATH + "/profile")
def update_profile(request: Request, actor: SignedIn, values: Posted, uow: UowDep) -> Response:
    form = Form({name: values.get(name, "") for name in PROFILE_FIELDS})
    try:
        uow.write(lambda _: do_update_profile(uow, actor, parse(ProfileInput, form.values)))
    except ValidationFailed as exc:
        failed = form.failed(exc.errors, PROFILE_FIELDS)
        return _account_page(request, uow, actor, {"profile": failed}, status=exc.status)
    return see_other(ACCOUNT_PATH + "?saved=profile")


@router.post(ACCOUNT_PATH + "/password")
def change_password(request: Request, actor: SignedIn, values: Posted, uow: UowDep) -> Response:
    """Every session ends, this browser's too; it gets a new one at once."""
    runtime = get_runtime(request)
    form = Form(prefix="pw")
    current = values.get("current_password", "")
    new = {
        "password": values.get("password", ""),
        "password_again": values.get("password_again", ""),
    }

    def change(_: UnitOfWork) -> tuple[Exception | None, tuple[str, str]]:
        data = parse(NewPassword, new)
        address = client_address(request)
        refusal = do_change_password(uow, actor, current, data, address, login_limits(runtime))
        if refusal is not None:
            return refusal, ("", "")
        session, secret = sessions.start_session(
            uow, actor, client_of(request), session_rules(runtime)
        )
        return None, (session.id, secret)

    try:
        refusal, (session_id, secret) = uow.write(change)
        if refusal is not None:
            raise refusal
    except ValidationFailed as exc:
        failed = form.failed(exc.errors, PASSWORD_FIELDS)
        return _account_page(request, uow, actor, {"password": failed}, status=exc.status)
    except TooManyAttempts as exc:
        failed = form.with_message(exc.detail)
        return _account_page(request, uow, actor, {"password": failed}, status=exc.status)
    response = see_other(ACCOUNT_PATH + "?saved=password")
    start_session(request, response, actor, secret, session_id)
    return response


@router.post(ACCOUNT_PATH + "/sessions/{session_id}/end")
def end_session(request: Request, session_id: str, actor: PostingPerson, uow: UowDep) -> Response:
    return write_and_go(
        request,
        uow,
        lambda: sessions.do_end_session(uow, actor, session_id),
        ACCOUNT_PATH + "#sessions",
        "Signed that session out.",
    )


@router.post(ACCOUNT_PATH + "/sessions/end-others")
def sign_out_everywhere_else(request: Request, actor: PostingPerson, uow: UowDep) -> Response:
    keep = read_session(request).session_id
    return write_and_go(
        request,
        uow,
        lambda: sessions.do_sign_out_everywhere(uow, actor, keep),
        ACCOUNT_PATH + "#sessions",
        "Signed out everywhere else.",
    )
