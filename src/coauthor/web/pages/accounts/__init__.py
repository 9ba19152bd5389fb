"""Pages for one's account: signing in and out, API tokens."""

from __future__ import annotations

from fastapi import APIRouter

from coauthor.web.pages.accounts import session, tokens

router = APIRouter()
for _module in (session, tokens):
    router.include_router(_module.router)
