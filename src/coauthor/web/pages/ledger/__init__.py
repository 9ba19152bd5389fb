"""The commitment ledger's pages: my commitments, the alliance ledger, a commitment's
conversation, obligations, declarations, the charter, the figures, the calendar feed.

The ledger's own pages (figures, obligations) are routed before a commitment's
page, whose path takes any name after ``/ledger/``.
"""

from __future__ import annotations

from fastapi import APIRouter

from coauthor.web.pages.ledger import commitments, declarations, mine, registers

router = APIRouter()
for _module in (mine, registers, declarations, commitments):
    router.include_router(_module.router)

__all__ = ["router"]
