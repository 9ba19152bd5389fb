"""The signed-in person and their API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from coauthor.services.accounts import tokens
from coauthor.web.api.deps import PersonDep
from coauthor.web.api.pagination import Paged, PageDep, paged_list
from coauthor.web.api.schemas import Me, NewToken, Token, TokenCreate
from coauthor.web.auth import UowDep

router = APIRouter()


@router.get("/me", response_model=Me, tags=["me"], summary="Who is signed in")
def read_me(person: PersonDep) -> Me:
    return Me.model_validate(person)


@router.get("/tokens", response_model=Paged[Token], tags=["tokens"], summary="My API tokens")
def list_my_tokens(request: Request, uow: UowDep, person: PersonDep, page: PageDep) -> Paged[Token]:
    """Oldest first."""
    mine = tokens.list_tokens(uow, person)
    key = lambda token: (token.created_at.isoformat(), token.id)  # noqa: E731
    return paged_list(request, mine, key, page, Token.model_validate)


@router.post(
    "/tokens",
    response_model=NewToken,
    status_code=status.HTTP_201_CREATED,
    tags=["tokens"],
    summary="Create an API token (its secret is returned this once)",
)
def create_token(data: TokenCreate, uow: UowDep, person: PersonDep) -> NewToken:
    token, secret = uow.write(tokens.do_create_token, person, data.name)
    return NewToken.model_validate({**Token.model_validate(token).model_dump(), "secret": secret})


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["tokens"],
    summary="Revoke an API token",
)
def revoke_token(token_id: str, uow: UowDep, person: PersonDep) -> None:
    uow.write(tokens.do_revoke_token, person, token_id)
