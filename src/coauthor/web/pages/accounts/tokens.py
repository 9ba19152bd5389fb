"""The signed-in person's API tokens: list, create (the secret is shown once), revoke."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import ValidationFailed
from coauthor.services.accounts.tokens import do_create_token, do_revoke_token, list_tokens
from coauthor.web.auth import UowDep
from coauthor.web.pages.deps import Posted, PostingPerson, SignedIn
from coauthor.web.pages.flow import write_and_go
from coauthor.web.pages.forms import Form
from coauthor.web.pages.rendering import render

router = APIRouter()
TOKENS_PATH = "/account/tokens"


def _tokens_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    form: Form | None = None,
    secret: str = "",
    status: int = 200,
) -> Response:
    context = {
        "tokens": list_tokens(uow, actor),
        "form": form or Form(),
        "secret": secret,
    }
    return render(request, "tokens.html", context, status=status)


@router.get(TOKENS_PATH)
def tokens(request: Request, actor: SignedIn, uow: UowDep) -> Response:
    return _tokens_page(request, uow, actor)


@router.post(TOKENS_PATH)
def create_token(request: Request, actor: SignedIn, values: Posted, uow: UowDep) -> Response:
    """Not a redirect: the page that answers this post is the only place the secret appears."""
    form = Form({"name": values.get("name", "")})
    try:
        _, secret = uow.write(do_create_token, actor, form.value("name"))
    except ValidationFailed as exc:
        return _tokens_page(request, uow, actor, form.failed(exc.errors, ["name"]), status=422)
    return _tokens_page(request, uow, actor, secret=secret, status=201)


@router.post(TOKENS_PATH + "/{token_id}/revoke")
def revoke_token(request: Request, token_id: str, actor: PostingPerson, uow: UowDep) -> Response:
    return write_and_go(
        request, uow, lambda: do_revoke_token(uow, actor, token_id), TOKENS_PATH, "Token revoked."
    )
