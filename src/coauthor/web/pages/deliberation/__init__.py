"""Pages for deliberations: the list, voting, moderation and results."""

from __future__ import annotations

from coauthor.web.pages.deliberation.pages import router

__all__ = ["router"]
