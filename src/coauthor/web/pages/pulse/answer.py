"""Answering a pulse through its link: no sign-in, every question on one page, once.

The page never says who the link belongs to, and after answering it only
says thank you: there is nothing to go back to, not even one's own answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response

from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import Conflict, ValidationFailed
from coauthor.domain.pulse import SCALE_LABELS
from coauthor.services.pulse import answering
from coauthor.web.auth import UowDep, get_runtime
from coauthor.web.pages.deps import Posted
from coauthor.web.pages.forms import Form
from coauthor.web.pages.pulse.home import thresholds
from coauthor.web.pages.rendering import render, see_other

router = APIRouter()
KNOWN_FIELDS = ("answers", "comment")


def _page(
    request: Request,
    uow: UnitOfWork,
    token: str,
    *,
    form: Form | None = None,
    notice: str = "",
    status: int = 200,
) -> Response:
    view = answering.open_link(uow, get_runtime(request).secret_key, token)
    context = {
        "view": view,
        "form": form or Form(),
        "scale": list(enumerate(SCALE_LABELS, start=1)),
        "notice": notice,
        "threshold": thresholds(request).anonymity,
        "comment_threshold": thresholds(request).comments,
        "action": str(request.url_for("pulse_answer_page", token=token)),
    }
    return render(request, "pulse_answer.html", context, status=status)


@router.get("/pulse/{token}", name="pulse_answer_page")
def answer_page(request: Request, token: str, uow: UowDep) -> Response:
    return _page(request, uow, token)


def _payload(values: Mapping[str, str]) -> dict[str, Any]:
    """Form fields ``answers.<key>`` as the answers; a blank one is not an answer, and text
    that is not a number stays text (so the error says so)."""
    answers: dict[str, Any] = {}
    for name, value in values.items():
        root, _, key = name.partition(".")
        if root == "answers" and key and value.strip():
            answers[key] = int(value) if value.strip().isdigit() else value
    return {"answers": answers, "comment": values.get("comment", "")}


@router.post("/pulse/{token}")
def answer(request: Request, token: str, values: Posted, uow: UowDep) -> Response:
    """Store the answers (one write, nothing that names the person) and say thank you."""
    secret = get_runtime(request).secret_key
    try:
        uow.write(answering.do_answer, secret, token, _payload(values))
    except ValidationFailed as exc:
        form = Form(dict(values)).failed(exc.errors, KNOWN_FIELDS)
        return _page(request, uow, token, form=form, status=exc.status)
    except Conflict as exc:
        return _page(request, uow, token, notice=exc.detail, status=exc.status)
    return see_other(str(request.url_for("pulse_answer_page", token=token)) + "?answered=1")
