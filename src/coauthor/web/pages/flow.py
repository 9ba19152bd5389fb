"""The life of a form post: run the service as one write, redirect — or show the form again."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Response
from pydantic import BaseModel

from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import Conflict, ValidationFailed
from coauthor.web.pages.forms import Form, Rows, to_payload
from coauthor.web.pages.rendering import see_other

T = TypeVar("T")


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


def submit(
    uow: UnitOfWork,
    submission: Submission,
    action: Callable[[dict[str, Any]], T],
    *,
    success: Callable[[T], str],
    rerender: Callable[[Form, int], Response],
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
        return rerender(form, exc.status)
    return see_other(success(result))


def write_and_go(uow: UnitOfWork, action: Callable[[], object], path: str) -> Response:
    """Run a write that takes no form (delete, revoke) and redirect."""
    uow.write(lambda _: action())
    return see_other(path)
