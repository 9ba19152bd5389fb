"""Deliberations: the list, voting one statement at a time, moderation, and the results.

Votes are private: no page here shows one person's votes to anyone else.
The participant's own page says how many statements they have voted on;
the results show groups, counts and shares, never who is who.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, Request, Response

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import Conflict, ValidationFailed
from coauthor.reports.deliberation import ResultsDocument
from coauthor.reports.opinion_map import OpinionMap, opinion_map
from coauthor.services.deliberation import acts as service
from coauthor.services.deliberation.inputs import DeliberationInput, PromotionInput, StatementInput
from coauthor.services.mechanics import views
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.web.auth import UowDep
from coauthor.web.deliberation_results import current_results
from coauthor.web.pages.deps import Posted, SignedIn
from coauthor.web.pages.flow import Submission, submit
from coauthor.web.pages.forms import Form
from coauthor.web.pages.layout import alliance_page
from coauthor.web.pages.rendering import is_partial, render, see_other

router = APIRouter()
SECTION = "deliberations"
CARD_TARGET = "vote-card"
RESULTS_TARGET = "results"
POLL_SECONDS = 5
VOTE_VALUES = {"1": 1, "0": 0, "-1": -1}


def _url(alliance_id: str, deliberation_id: str = "", *parts: str) -> str:
    path = f"/a/{alliance_id}/deliberations"
    return "/".join((path, deliberation_id, *parts)) if deliberation_id else path


def _percent(part: int | float, whole: int | float) -> int:
    return round(100 * part / whole) if whole else 0


# The list of deliberations and starting one.


def _list_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    form: Form | None = None,
    status: int = 200,
) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    context = {
        "summaries": service.summaries(uow, actor, alliance_id),
        "form": form or Form({"strict_moderation": "on"}),
    }
    return alliance_page(request, access, "deliberations.html", SECTION, context, status)


@router.get("/a/{alliance_id}/deliberations")
def deliberations(request: Request, alliance_id: str, actor: SignedIn, uow: UowDep) -> Response:
    return _list_page(request, uow, actor, alliance_id)


@router.post("/a/{alliance_id}/deliberations")
def create_deliberation(
    request: Request, alliance_id: str, actor: SignedIn, values: Posted, uow: UowDep
) -> Response:
    submission = Submission.of(values, DeliberationInput)
    # An unticked checkbox is not posted at all: it means "no", not the default.
    payload = submission.payload | {"strict_moderation": bool(values.get("strict_moderation"))}
    return submit(
        request,
        uow,
        replace(submission, payload=payload),
        lambda data: service.do_create_deliberation(uow, actor, alliance_id, data),
        success=lambda created: _url(alliance_id, created.id),
        rerender=lambda form, status: _list_page(request, uow, actor, alliance_id, form, status),
    )


# One deliberation: the participant's flow.


@dataclass(frozen=True)
class Card:
    """What the voting card shows the person looking at it."""

    can_take_part: bool
    is_open: bool
    statement: m.Statement | None
    number: int | None
    remaining: int
    voted: int
    total: int
    message: str = ""


def _card(
    uow: UnitOfWork, actor: m.Person, target: service.DeliberationAccess, message: str = ""
) -> Card:
    deliberation = target.deliberation
    is_open = deliberation.status == m.DeliberationStatus.OPEN
    if not target.can_take_part:
        accepted = service.statements(uow, actor, deliberation.alliance_id, deliberation.id)
        return Card(False, is_open, None, None, 0, 0, len(accepted), message)
    step = service.next_statement(uow, actor, deliberation.alliance_id, deliberation.id)
    numbers = {s.id: number for number, s in enumerate(step.accepted, start=1)}
    statement = step.statement if is_open else None
    number = numbers.get(statement.id) if statement else None
    total = len(step.accepted)
    return Card(True, is_open, statement, number, step.remaining, step.voted, total, message)


NOTICES = {
    "pending": "Thank you. Your statement awaits moderation; once a manager accepts it, "
    "others can vote on it.",
    "accepted": "Thank you. Your statement is in: others can vote on it now.",
}


def _flow_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    deliberation_id: str,
    *,
    form: Form | None = None,
    message: str = "",
    notice: str = "",
    status: int = 200,
) -> Response:
    target = service.open_deliberation(uow, actor, alliance_id, deliberation_id)
    card = _card(uow, actor, target, message)
    context = {
        "deliberation": target.deliberation,
        "card": card,
        "urls": _urls(alliance_id, deliberation_id),
    }
    if is_partial(request, CARD_TARGET):
        return render(request, "_deliberation_card.html", context, status=status)
    pending = 0
    if target.access.can_edit:
        pending = len(
            service.statements(uow, actor, alliance_id, deliberation_id, m.Moderation.PENDING)
        )
    context |= {"form": form or Form(), "notice": NOTICES.get(notice, ""), "pending": pending}
    return alliance_page(request, target.access, "deliberation.html", SECTION, context, status)


def _urls(alliance_id: str, deliberation_id: str) -> dict[str, str]:
    return {
        "list": _url(alliance_id),
        "page": _url(alliance_id, deliberation_id),
        "vote": _url(alliance_id, deliberation_id, "vote"),
        "statements": _url(alliance_id, deliberation_id, "statements"),
        "status": _url(alliance_id, deliberation_id, "status"),
        "moderation": _url(alliance_id, deliberation_id, "moderation"),
        "results": _url(alliance_id, deliberation_id, "results"),
    }


@router.get("/a/{alliance_id}/deliberations/{deliberation_id}")
def deliberation(
    request: Request,
    alliance_id: str,
    deliberation_id: str,
    actor: SignedIn,
    uow: UowDep,
    written: str = "",
) -> Response:
    return _flow_page(request, uow, actor, alliance_id, deliberation_id, notice=written)


def _vote_payload(values: Mapping[str, str]) -> dict[str, Any]:
    """Form text as the vote input: "1", "0" and "-1" become numbers, anything else stays."""
    raw = values.get("value", "")
    return {
        "statement_id": values.get("statement_id", ""),
        "value": VOTE_VALUES.get(raw.strip(), raw),
    }


@router.post("/a/{alliance_id}/deliberations/{deliberation_id}/vote")
def vote(
    request: Request,
    alliance_id: str,
    deliberation_id: str,
    actor: SignedIn,
    values: Posted,
    uow: UowDep,
) -> Response:
    """Agree, disagree or pass; then the next statement (the card alone, for htmx)."""
    try:
        uow.write(service.do_vote, actor, alliance_id, deliberation_id, _vote_payload(values))
    except (ValidationFailed, Conflict) as exc:
        message = "; ".join(e.message for e in exc.errors) if exc.errors else exc.detail
        return _flow_page(
            request, uow, actor, alliance_id, deliberation_id, message=message, status=exc.status
        )
    return see_other(_url(alliance_id, deliberation_id))


@router.post("/a/{alliance_id}/deliberations/{deliberation_id}/statements")
def write_statement(
    request: Request,
    alliance_id: str,
    deliberation_id: str,
    actor: SignedIn,
    values: Posted,
    uow: UowDep,
) -> Response:
    def written(statement: m.Statement) -> str:
        return f"{_url(alliance_id, deliberation_id)}?written={statement.moderation.value}#write"

    return submit(
        request,
        uow,
        Submission.of(values, StatementInput),
        lambda data: service.do_submit_statement(uow, actor, alliance_id, deliberation_id, data),
        success=written,
        rerender=lambda form, status: _flow_page(
            request, uow, actor, alliance_id, deliberation_id, form=form, status=status
        ),
    )


@router.post("/a/{alliance_id}/deliberations/{deliberation_id}/status")
def set_status(
    alliance_id: str, deliberation_id: str, actor: SignedIn, values: Posted, uow: UowDep
) -> Response:
    """Close a deliberation (no more votes or statements) or open it again."""
    uow.write(service.do_set_status, actor, alliance_id, deliberation_id, values.get("status", ""))
    return see_other(_url(alliance_id, deliberation_id))


# Moderation.


@router.get("/a/{alliance_id}/deliberations/{deliberation_id}/moderation")
def moderation(
    request: Request,
    alliance_id: str,
    deliberation_id: str,
    actor: SignedIn,
    uow: UowDep,
    notice: str = "",
) -> Response:
    target = service.open_deliberation(uow, actor, alliance_id, deliberation_id)
    every = service.statements(uow, actor, alliance_id, deliberation_id, moderation=None)
    by_state = {state: [s for s in every if s.moderation == state] for state in m.Moderation}
    notice = "Tick the statements to decide on first." if notice == "none-ticked" else ""
    context = {
        "deliberation": target.deliberation,
        "by_state": by_state,
        "urls": _urls(alliance_id, deliberation_id),
        "notice": notice,
    }
    return alliance_page(request, target.access, "deliberation_moderation.html", SECTION, context)


@router.post(
    "/a/{alliance_id}/deliberations/{deliberation_id}/statements/{statement_id}/moderation"
)
def moderate(
    alliance_id: str,
    deliberation_id: str,
    statement_id: str,
    actor: SignedIn,
    values: Posted,
    uow: UowDep,
) -> Response:
    payload = {"decision": values.get("decision", "")}
    if "meta" in values:
        payload["meta"] = values.get("meta", "")
    uow.write(service.do_moderate, actor, alliance_id, deliberation_id, statement_id, payload)
    return see_other(f"{_url(alliance_id, deliberation_id, 'moderation')}#{statement_id}")


BULK_PREFIX = "s."
"""Checkbox names of the moderation queue's bulk form: ``s.<statement id>``."""


@router.post("/a/{alliance_id}/deliberations/{deliberation_id}/moderation")
def moderate_many(
    alliance_id: str, deliberation_id: str, actor: SignedIn, values: Posted, uow: UowDep
) -> Response:
    """Accept (or reject) the ticked statements, or every waiting one with ``all``."""
    if values.get("all") == "pending":
        waiting = service.statements(
            uow, actor, alliance_id, deliberation_id, moderation=m.Moderation.PENDING
        )
        ids = [statement.id for statement in waiting]
    else:
        ids = [name.removeprefix(BULK_PREFIX) for name in values if name.startswith(BULK_PREFIX)]
    back = f"{_url(alliance_id, deliberation_id, 'moderation')}"
    if not ids:
        return see_other(f"{back}?notice=none-ticked#pending")
    payload = {"decision": values.get("decision", ""), "statement_ids": ids}
    uow.write(service.do_moderate_many, actor, alliance_id, deliberation_id, payload)
    return see_other(f"{back}#pending")


# Results.


@dataclass(frozen=True)
class ResultsView:
    """The results document, its map, and what was promoted from the deliberation."""

    document: ResultsDocument
    map: OpinionMap | None
    promoted: list[service.Promotion]
    numbers: dict[str, int]

    @property
    def version(self) -> str:
        return self.document.version

    @property
    def released(self) -> bool:
        return self.document.release is not None


def _results_view(
    request: Request, uow: UnitOfWork, actor: m.Person, alliance_id: str, deliberation_id: str
) -> ResultsView:
    promoted = service.promoted_from(uow, actor, alliance_id, deliberation_id)
    document = current_results(
        request, uow, actor, alliance_id, deliberation_id, extra_version=f"-p{len(promoted)}"
    )
    numbers = {statement.id: statement.number for statement in document.statements}
    return ResultsView(document, opinion_map(document), promoted, numbers)


def _promote_forms(view: ResultsView, failed: Mapping[str, Form]) -> dict[str, Form]:
    return {
        item.statement_id: failed.get(item.statement_id)
        or Form({"target": "declaration"}, prefix=f"p-{item.statement_id}")
        for item in view.document.consensus_agree
    }


def _results_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    deliberation_id: str,
    failed: Mapping[str, Form] | None = None,
    status: int = 200,
) -> Response:
    target = service.open_deliberation(uow, actor, alliance_id, deliberation_id)
    view = _results_view(request, uow, actor, alliance_id, deliberation_id)
    partial = is_partial(request, RESULTS_TARGET)
    if partial and request.query_params.get("v") == view.version:
        return Response(status_code=204)
    context: dict[str, Any] = {
        "deliberation": target.deliberation,
        "view": view,
        "urls": _urls(alliance_id, deliberation_id),
        "poll_seconds": POLL_SECONDS,
        "promote_forms": _promote_forms(view, failed or {}),
        "rules": list(m.DecisionRule),
        "threshold": view.document.anonymity_threshold,
    }
    context["bodies"] = (
        views.body_choices(uow, actor, alliance_id) if target.access.can_edit else []
    )
    if partial:
        context["access"] = target.access
        context["base"] = f"/a/{alliance_id}"
        return render(request, "_deliberation_results.html", context, status=status)
    return alliance_page(
        request, target.access, "deliberation_results.html", SECTION, context, status
    )


@router.get("/a/{alliance_id}/deliberations/{deliberation_id}/results")
def results(
    request: Request, alliance_id: str, deliberation_id: str, actor: SignedIn, uow: UowDep
) -> Response:
    """The results; an htmx poll that already has the current version gets 204 (no swap)."""
    return _results_page(request, uow, actor, alliance_id, deliberation_id)


@router.post("/a/{alliance_id}/deliberations/{deliberation_id}/statements/{statement_id}/promote")
def promote(
    request: Request,
    alliance_id: str,
    deliberation_id: str,
    statement_id: str,
    actor: SignedIn,
    values: Posted,
    uow: UowDep,
) -> Response:
    submission = Submission.of(values, PromotionInput)
    submission = replace(submission, form=replace(submission.form, prefix=f"p-{statement_id}"))
    current_results(request, uow, actor, alliance_id, deliberation_id)
    return submit(
        request,
        uow,
        submission,
        lambda data: service.do_promote(
            uow, actor, alliance_id, deliberation_id, statement_id, data
        ),
        success=lambda item: f"{_url(alliance_id, deliberation_id, 'results')}#promoted",
        rerender=lambda form, status: _results_page(
            request, uow, actor, alliance_id, deliberation_id, {statement_id: form}, status
        ),
    )
