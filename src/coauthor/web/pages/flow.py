"""The life of a form post: run the service as one write, redirect — or show the form again.

After a write the person lands where the item lives (``…/agreements#ag_…``),
scrolled to it, with a notice saying what was done (notices.py). A form
with errors comes back with its errors next to their fields and the page
scrolled to them: the summary above the form has ``autofocus``, which the
browser honours on a full page; for htmx, ``HX-Reswap`` scrolls to it too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request, Response
from pydantic import BaseModel

from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import Conflict, ValidationFailed
from coauthor.web.pages.forms import Form, Rows, to_payload
from coauthor.web.pages.notices import Notice, leave_notice
from coauthor.web.pages.rendering import see_other

T = TypeVar("T")
SCROLL_TO_ERRORS = "innerHTML show:.alert[autofocus]:top"
"""For a boosted (htmx) form post answered with its errors: swap the page and show them."""


@dataclass(frozen=True)
class Submission:
    """A posted form, as the values to show again and the payload for an input model."""

    form: Form
    payload: dict[str, Any]
    index_maps: dict[str, list[int]]
    known: frozenset[str]

    @classmethod
    def of(
        cls, values: Mapping[str, str], model: type[BaseModel], rows: Sequence[Rows] = ()
    ) -> Submission:
        payload, index_maps = to_payload(values, model, rows)
        return cls(Form(dict(values)), payload, index_maps, frozenset(model.model_fields))


def go(request: Request, path: str, notice: str | Notice = "") -> Response:
    """Redirect to ``path`` (its #anchor kept, for htmx too), leaving a notice for that page."""
    response = see_other(path)
    if notice:
        leave_notice(request, response, notice if isinstance(notice, Notice) else Notice(notice))
    return response


def with_errors(request: Request, response: Response) -> Response:
    """A page answering a form post with errors, scrolled to them when htmx swaps it in."""
    if request.headers.get("hx-boosted") == "true":
        response.headers["HX-Reswap"] = SCROLL_TO_ERRORS
    return response


def submit(
    request: Request,
    uow: UnitOfWork,
    submission: Submission,
    action: Callable[[dict[str, Any]], T],
    *,
    success: Callable[[T], str],
    rerender: Callable[[Form, int], Response],
    notice: Callable[[T], str] | None = None,
) -> Response:
    """Run ``action`` on the payload as one write and redirect, or show the errors by their fields.

    Errors that belong to no field (a conflict such as "it still has
    obligations") propagate and become an error page.
    """
    try:
        result = uow.write(lambda _: action(submission.payload))
    except (ValidationFailed, Conflict) as exc:
        if not exc.errors:
            raise
        form = submission.form.failed(exc.errors, submission.known, submission.index_maps)
        return with_errors(request, rerender(form, exc.status))
    return go(request, success(result), notice(result) if notice else "")


def write_and_go(
    request: Request, uow: UnitOfWork, action: Callable[[], object], path: str, notice: str = ""
) -> Response:
    """Run a write that takes no form (delete, revoke) and redirect."""
    uow.write(lambda _: action())
    return go(request, path, notice)
