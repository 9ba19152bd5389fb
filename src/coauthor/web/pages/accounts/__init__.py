"""Pages for accounts: signing in and out, the profile, tokens, invitations, resets, admin."""

from __future__ import annotations

from fastapi import APIRouter

from coauthor.web.pages.accounts import admin, invitations, profile, reset, session, tokens

router = APIRouter()
for _module in (session, profile, tokens, invitations, reset, admin):
    router.include_router(_module.router)
