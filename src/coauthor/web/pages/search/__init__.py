"""Search pages: one alliance's items, or every alliance a person can see."""

from __future__ import annotations

from coauthor.web.pages.search.pages import router

__all__ = ["router"]
