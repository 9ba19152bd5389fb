"""Declarations: the log, recording one (a body, a meeting, each seat's position), the charter.

Recording works without JavaScript in two steps: choose the body and the
meeting (a plain GET form), then the decision right, the text and every
seated member's position.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import Conflict, NotFound, ValidationFailed
from coauthor.reports.formatting import format_date, label
from coauthor.services.deliberation import acts as deliberation_service
from coauthor.services.deliberation.inputs import PromotionInput
from coauthor.services.ledger import declarations as service
from coauthor.services.ledger.inputs import DeclarationInput
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.services.paging import PageRequest
from coauthor.web.auth import UowDep
from coauthor.web.pages.deps import Posted, SignedIn
from coauthor.web.pages.forms import Form, to_payload
from coauthor.web.pages.layout import alliance_page
from coauthor.web.pages.rendering import page_url, see_other

router = APIRouter()
SECTION = "ledger"
PER_PAGE = 20


@router.get("/a/{alliance_id}/declarations")
def declarations_log(
    request: Request, alliance_id: str, actor: SignedIn, uow: UowDep, cursor: str | None = None
) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    page = service.declarations(uow, actor, alliance_id, PageRequest.parse(PER_PAGE, cursor))
    context = {
        "page": page,
        "next_url": page_url(request, "cursor", page.next_cursor),
        "ledger_tab": "declarations",
    }
    return alliance_page(request, access, "declarations.html", SECTION, context)


@dataclass(frozen=True)
class Promoting:
    """A deliberation's consensus statement that the declaration will declare."""

    deliberation_id: str
    statement: m.Statement


def _promoting(
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    deliberation_id: str | None,
    statement_id: str | None,
) -> Promoting | None:
    if not deliberation_id or not statement_id:
        return None
    deliberation_service.open_deliberation(uow, actor, alliance_id, deliberation_id)
    statement = uow.get(m.Statement, alliance_id=alliance_id, id=statement_id)
    if statement is None or statement.deliberation_id != deliberation_id:
        raise NotFound("no such statement in this deliberation")
    return Promoting(deliberation_id, statement)


def _form_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    body_id: str | None,
    meeting_id: str | None,
    form: Form | None = None,
    status: int = 200,
    promoting: Promoting | None = None,
) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    ready = service.setup(uow, actor, alliance_id, body_id, meeting_id)
    values = {"body_id": body_id or "", "meeting_id": meeting_id or ""}
    for index, seat in enumerate(ready.seats):
        values[f"positions.{index}.member_id"] = seat.member_id
        if seat.attended is False:
            values[f"positions.{index}.position"] = "absent"
    context = {
        "ready": ready,
        "form": form or Form(values),
        "promoting": promoting,
        "meeting_choices": [
            (x.id, f"{x.title} ({format_date(x.starts_at.date())})") for x in ready.meetings
        ],
        "right_choices": [
            (r.id, f"{r.decision_kind} — {label(r.rule).lower()}, quorum {r.quorum_percent}%")
            for r in ready.rights
        ],
        "ledger_tab": "declarations",
    }
    return alliance_page(request, access, "declaration_form.html", SECTION, context, status)


@router.get("/a/{alliance_id}/declarations/new")
def new_declaration(
    request: Request,
    alliance_id: str,
    actor: SignedIn,
    uow: UowDep,
    body_id: str | None = None,
    meeting_id: str | None = None,
    deliberation_id: str | None = None,
    statement_id: str | None = None,
) -> Response:
    """Step by step: the body and meeting, then the right, the text and the positions. With
    ``deliberation_id`` and ``statement_id`` it declares that consensus statement."""
    promoting = _promoting(uow, actor, alliance_id, deliberation_id, statement_id)
    return _form_page(
        request, uow, actor, alliance_id, body_id or None, meeting_id or None, promoting=promoting
    )


def _declaration_payload(values: Mapping[str, str]) -> dict[str, Any]:
    lists = ("repeals.", "waives.")
    fields = {k: v for k, v in values.items() if not k.startswith(lists)}
    payload, _ = to_payload(fields, DeclarationInput)
    payload["charter"] = bool(values.get("charter"))
    for name in lists:
        payload[name.rstrip(".")] = [v for k, v in values.items() if k.startswith(name) and v]
    return payload


def _record(
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    payload: dict[str, Any],
    promoting: Promoting | None,
) -> m.Declaration:
    """A body's declaration; a deliberation's statement is promoted through the same path."""
    if promoting is None:
        return uow.write(service.do_declare, actor, alliance_id, payload)
    promotion = {k: v for k, v in payload.items() if k in PromotionInput.model_fields}
    made = uow.write(
        deliberation_service.do_promote,
        actor,
        alliance_id,
        promoting.deliberation_id,
        promoting.statement.id,
        promotion | {"target": "declaration"},
    )
    assert isinstance(made, m.Declaration)
    return made


@router.post("/a/{alliance_id}/declarations")
def declare(
    request: Request, alliance_id: str, actor: SignedIn, values: Posted, uow: UowDep
) -> Response:
    promoting = _promoting(
        uow, actor, alliance_id, values.get("deliberation_id"), values.get("statement_id")
    )
    fields = {k: v for k, v in values.items() if k not in ("deliberation_id", "statement_id")}
    if promoting is not None:
        fields["text"] = promoting.statement.text
    payload = _declaration_payload(fields)
    try:
        made = _record(uow, actor, alliance_id, payload, promoting)
    except (ValidationFailed, Conflict) as exc:
        if not exc.errors:
            raise
        form = Form(dict(values)).failed(exc.errors, DeclarationInput.model_fields)
        return _form_page(
            request,
            uow,
            actor,
            alliance_id,
            values.get("body_id") or None,
            values.get("meeting_id") or None,
            form,
            status=exc.status,
            promoting=promoting,
        )
    return see_other(f"/a/{alliance_id}/declarations/{made.id}")


@router.get("/a/{alliance_id}/declarations/{declaration_id}")
def one_declaration(
    request: Request, alliance_id: str, declaration_id: str, actor: SignedIn, uow: UowDep
) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    view = service.declaration(uow, actor, alliance_id, declaration_id)
    context = {"view": view, "ledger_tab": "declarations"}
    return alliance_page(request, access, "declaration.html", SECTION, context)


@router.get("/a/{alliance_id}/charter")
def charter(request: Request, alliance_id: str, actor: SignedIn, uow: UowDep) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    context = {"charter": service.charter(uow, actor, alliance_id), "ledger_tab": "charter"}
    return alliance_page(request, access, "charter.html", SECTION, context)
