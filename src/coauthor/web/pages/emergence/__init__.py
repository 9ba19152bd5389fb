"""Emergence's pages: the log (plot twists, tensions, experiments, learnings), each thing's
own page with its course and links, and the shared story's timeline."""

from __future__ import annotations

from fastapi import APIRouter

from coauthor.web.pages.emergence import log, story, things

router = APIRouter()
for _module in (log, things, story):
    router.include_router(_module.router)

__all__ = ["router"]
