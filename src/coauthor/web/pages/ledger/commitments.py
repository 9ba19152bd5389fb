"""The alliance ledger, asking and offering, and one commitment's conversation with its moves.

Every move is one click, with an optional note; a move that proposes new
terms (a counter-offer, a counter, a renegotiation) or a date (commit to
answer) opens a small form of its own. Only the moves the person may make
now are shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import Conflict, FieldError, ValidationFailed
from coauthor.domain.ledger import Move
from coauthor.reports.ledger import PROPOSING, TAKING_A_DATE
from coauthor.services import inputs
from coauthor.services.ledger import commitments as service
from coauthor.services.ledger import views
from coauthor.services.ledger.inputs import LedgerQuery, MoveInput, OpenInput, ReassignInput
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.services.paging import PageRequest
from coauthor.web.auth import UowDep, get_runtime
from coauthor.web.pages.deps import Posted, SignedIn
from coauthor.web.pages.forms import Form
from coauthor.web.pages.layout import alliance_page
from coauthor.web.pages.rendering import page_url, see_other

router = APIRouter()
SECTION = "ledger"
ROWS_PER_PAGE = 25
OPEN_FIELDS = ("move", "what", "conditions", "due_on", "customer_id", "body_id", "meeting_id")
MOVE_FIELDS = ("text", "conditions", "due_on", "reply_by_on")


def ledger_url(alliance_id: str, *parts: str) -> str:
    return "/".join((f"/a/{alliance_id}/ledger", *parts))


def _at_top(errors: list[FieldError]) -> list[FieldError]:
    """Errors about one row of a list (``performer_ids.1``) belong to the list's field."""
    return [FieldError(e.loc[:1], e.message) for e in errors]


# ------------------------------------------------------------- the ledger


def _query(
    partner: str | None, state: str | None, due: str | None, body: str | None
) -> LedgerQuery:
    raw = {"partner_id": partner, "state": state, "due": due, "body_id": body}
    return inputs.parse(LedgerQuery, {key: value for key, value in raw.items() if value})


def _ledger_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    query: LedgerQuery,
    cursor: str | None = None,
    forms: Mapping[str, Form] | None = None,
    status: int = 200,
) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    page = views.ledger(uow, actor, alliance_id, query, PageRequest.parse(ROWS_PER_PAGE, cursor))
    forms = dict(forms or {})
    context = {
        "ledger": page,
        "next_url": page_url(request, "cursor", page.rows.next_cursor),
        "ask": forms.get("request") or Form({"move": "request"}, prefix="ask"),
        "offer": forms.get("offer") or Form({"move": "offer"}, prefix="offer"),
        "open_form": next(iter(forms), ""),
        "ledger_tab": "commitments",
    }
    return alliance_page(request, access, "ledger.html", SECTION, context, status)


@router.get("/a/{alliance_id}/ledger")
def ledger(
    request: Request,
    alliance_id: str,
    actor: SignedIn,
    uow: UowDep,
    partner: str | None = None,
    state: str | None = None,
    due: str | None = None,
    body: str | None = None,
    cursor: str | None = None,
) -> Response:
    query = _query(partner, state, due, body)
    return _ledger_page(request, uow, actor, alliance_id, query, cursor)


def _open_payload(values: Mapping[str, str]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        name: values[name].strip() for name in OPEN_FIELDS if values.get(name, "").strip()
    }
    payload["performer_ids"] = [
        value for name, value in values.items() if name.startswith("performer_ids.") and value
    ]
    return payload


@router.post("/a/{alliance_id}/ledger")
def open_commitment(
    request: Request, alliance_id: str, actor: SignedIn, values: Posted, uow: UowDep
) -> Response:
    """Ask (a request) or offer: the first act of a new commitment."""
    payload = _open_payload(values)
    try:
        site = get_runtime(request).site
        created = uow.write(service.do_open_commitment, actor, alliance_id, payload, site)
    except (ValidationFailed, Conflict) as exc:
        if not exc.errors:
            raise
        move = values.get("move", "request")
        prefix = "offer" if move == "offer" else "ask"
        form = Form(dict(values), prefix=prefix).failed(_at_top(exc.errors), OpenInput.model_fields)
        key = "offer" if move == "offer" else "request"
        return _ledger_page(
            request, uow, actor, alliance_id, LedgerQuery(), forms={key: form}, status=exc.status
        )
    return see_other(ledger_url(alliance_id, created.id))


# ------------------------------------------------------------ one commitment


def _conversation_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    commitment_id: str,
    form: Form | None = None,
    status: int = 200,
) -> Response:
    seen = views.conversation(uow, actor, alliance_id, commitment_id)
    access = open_alliance(uow, actor, alliance_id)
    quick = [move for move in seen.my_moves if move not in PROPOSING | TAKING_A_DATE]
    context = {
        "seen": seen,
        "quick_moves": quick,
        "term_moves": [move for move in seen.my_moves if move in PROPOSING],
        "date_moves": [move for move in seen.my_moves if move in TAKING_A_DATE],
        "form": form or Form(prefix="quick"),
        "f_quick": Form(prefix="quick"),
        "blank_forms": {move.value: Form(prefix=move.value) for move in PROPOSING | TAKING_A_DATE},
        "url": ledger_url(alliance_id, commitment_id),
        "ledger_tab": "commitments",
        "assertive": {Move.REPORT_COMPLETION, Move.PROGRESS_NOTE},
    }
    return alliance_page(request, access, "commitment.html", SECTION, context, status)


@router.get("/a/{alliance_id}/ledger/{commitment_id}")
def commitment(
    request: Request, alliance_id: str, commitment_id: str, actor: SignedIn, uow: UowDep
) -> Response:
    return _conversation_page(request, uow, actor, alliance_id, commitment_id)


def _move_payload(values: Mapping[str, str]) -> dict[str, Any]:
    payload: dict[str, Any] = {"move": values.get("move", "")}
    payload |= {name: values[name].strip() for name in MOVE_FIELDS if values.get(name, "").strip()}
    links = [line.strip() for line in values.get("evidence", "").splitlines() if line.strip()]
    if links:
        payload["evidence"] = links
    return payload


@router.post("/a/{alliance_id}/ledger/{commitment_id}/moves")
def move(
    request: Request,
    alliance_id: str,
    commitment_id: str,
    actor: SignedIn,
    values: Posted,
    uow: UowDep,
) -> Response:
    """One move by one of the parties; refused moves come back with the reason on the page."""
    payload = _move_payload(values)
    try:
        site = get_runtime(request).site
        uow.write(service.do_move, actor, alliance_id, commitment_id, payload, site)
    except (ValidationFailed, Conflict) as exc:
        if not exc.errors:
            raise
        chosen = values.get("move", "")
        prefix = chosen if chosen in {m.value for m in PROPOSING | TAKING_A_DATE} else "quick"
        known = set(MoveInput.model_fields) - {"move"}
        form = Form(dict(values), prefix=prefix).failed(_at_top(exc.errors), known)
        return _conversation_page(
            request, uow, actor, alliance_id, commitment_id, form, status=exc.status
        )
    return see_other(ledger_url(alliance_id, commitment_id) + "#latest")


@router.post("/a/{alliance_id}/ledger/{commitment_id}/reassign")
def reassign(
    request: Request,
    alliance_id: str,
    commitment_id: str,
    actor: SignedIn,
    values: Posted,
    uow: UowDep,
) -> Response:
    """A manager hands one party's place to a colleague of the same partner."""
    payload = {name: values.get(name, "") for name in ReassignInput.model_fields}
    try:
        uow.write(service.do_reassign, actor, alliance_id, commitment_id, payload)
    except (ValidationFailed, Conflict) as exc:
        form = Form(dict(values), prefix="reassign").with_message(
            "; ".join(e.message for e in exc.errors) if exc.errors else exc.detail
        )
        return _conversation_page(
            request, uow, actor, alliance_id, commitment_id, form, status=exc.status
        )
    return see_other(ledger_url(alliance_id, commitment_id) + "#parties")
