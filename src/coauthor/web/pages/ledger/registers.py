"""The ledger's alliance-wide pages: its figures, and the obligations with their periods."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import ValidationFailed
from coauthor.services.ledger import figures, obligations
from coauthor.services.ledger.inputs import AssignmentInput
from coauthor.services.ledger.views import partner_refs, takers
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.services.mechanics.views import Choice
from coauthor.web.auth import UowDep
from coauthor.web.pages.deps import Posted, SignedIn
from coauthor.web.pages.forms import Form
from coauthor.web.pages.layout import alliance_page
from coauthor.web.pages.rendering import see_other

router = APIRouter()
SECTION = "ledger"


@router.get("/a/{alliance_id}/ledger/figures")
def ledger_figures(
    request: Request, alliance_id: str, actor: SignedIn, uow: UowDep, period: str = "quarter"
) -> Response:
    """The alliance's figures, each partner's, per quarter (or month), and who asks whom."""
    if period not in ("quarter", "month"):
        raise ValidationFailed.one("period", "must be quarter or month")
    access = open_alliance(uow, actor, alliance_id)
    seen = figures.alliance_figures(uow, actor, alliance_id, period=period)  # type: ignore[arg-type]
    refs = {ref.id: ref for ref in partner_refs(uow, alliance_id)}
    context = {"seen": seen, "refs": refs, "ledger_tab": "figures"}
    return alliance_page(request, access, "ledger_figures.html", SECTION, context)


def _people_of(uow: UnitOfWork, alliance_id: str) -> dict[str, list[Choice]]:
    """Partner id → its members who take part, by name (whom an obligation can name)."""
    by_partner: dict[str, list[Choice]] = {}
    members = uow.find(m.Member, alliance_id=alliance_id)
    partner_of = {x.person_id: x.partner_id for x in members}
    for choice in takers(uow, alliance_id, None):
        by_partner.setdefault(partner_of[choice.id], []).append(choice)
    return by_partner


def _obligations_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    forms: dict[str, Form] | None = None,
    status: int = 200,
) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    context: dict[str, Any] = {
        "obligations": obligations.obligation_ledger(uow, actor, alliance_id),
        "people": _people_of(uow, alliance_id) if access.can_edit else {},
        "forms": forms or {},
        "f_empty": lambda prefix: Form(prefix=prefix),
        "ledger_tab": "obligations",
    }
    return alliance_page(request, access, "ledger_obligations.html", SECTION, context, status)


@router.get("/a/{alliance_id}/ledger/obligations")
def obligation_periods(
    request: Request, alliance_id: str, actor: SignedIn, uow: UowDep
) -> Response:
    return _obligations_page(request, uow, actor, alliance_id)


@router.post("/a/{alliance_id}/ledger/obligations/{obligation_id}/assign")
def assign_obligation(
    request: Request,
    alliance_id: str,
    obligation_id: str,
    actor: SignedIn,
    values: Posted,
    uow: UowDep,
) -> Response:
    """Name who performs an obligation and who receives it: its periods enter the ledger."""
    payload = {name: values.get(name, "") for name in AssignmentInput.model_fields}
    try:
        uow.write(obligations.do_assign_obligation, actor, alliance_id, obligation_id, payload)
    except ValidationFailed as exc:
        form = Form(dict(values), prefix=obligation_id).failed(
            exc.errors, AssignmentInput.model_fields
        )
        return _obligations_page(
            request, uow, actor, alliance_id, {obligation_id: form}, status=exc.status
        )
    return see_other(f"/a/{alliance_id}/ledger/obligations#{obligation_id}")
