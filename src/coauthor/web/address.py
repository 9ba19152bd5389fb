"""The request's address as input: its path and query may not hold text no database stores.

Path parameters (an alliance id) and query parameters (a cursor, a filter)
reach the database as text, and PostgreSQL answers a NUL in text with an
error, not a miss. Every route depends on ``refuse_unstorable_address``: a
path holding a NUL or a lone surrogate names nothing that could exist (404),
and such a query parameter is invalid input (422, naming it), on every backend.
"""

from __future__ import annotations

from fastapi import Request

from coauthor.domain.errors import FieldError, NotFound, ValidationFailed
from coauthor.services.inputs import unstorable_text


async def refuse_unstorable_address(request: Request) -> None:
    """Checks text only (no I/O), so on the event loop rather than in a thread."""
    if unstorable_text(request.url.path):
        raise NotFound("nothing can exist at an address holding that character")
    problems = unstorable_text(dict(request.query_params.multi_items()))
    if problems:
        raise ValidationFailed([FieldError(loc, reason) for loc, reason in problems])
