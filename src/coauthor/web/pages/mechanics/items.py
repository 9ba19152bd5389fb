"""Create, edit and delete the mechanics' items, one set of pages per kind.

Agreements, obligations, governance bodies, decision rights, meetings, risks
and contributions share one life cycle in the service layer
(``services.mechanics``), so they share these handlers too; an ``ItemPage``
says where a kind lives and how its form is laid out
(``templates/forms/_<kind>.html``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.services.mechanics import registers, views
from coauthor.services.mechanics.alliances import open_for_edit
from coauthor.web.auth import UowDep
from coauthor.web.pages.deps import Posted, PostingPerson, SignedIn
from coauthor.web.pages.flow import Submission, go, submit
from coauthor.web.pages.forms import (
    Form,
    Rows,
    has,
    has_amount,
    local_from_utc,
    to_values,
    utc_from_local,
)
from coauthor.web.pages.layout import alliance_page
from coauthor.web.pages.mechanics.registers import preview_context

router = APIRouter()
Extra = Callable[[UnitOfWork, m.Person, str, Form], dict[str, Any]]


NAME_FIELDS = ("title", "name", "decision_kind", "description")


def item_name(item: Any) -> str:
    """What an item is called: its title, name, decision or description."""
    return next((str(getattr(item, field)) for field in NAME_FIELDS if hasattr(item, field)), "")


def _no_defaults(today: date) -> dict[str, str]:
    return {}


def _no_extra(uow: UnitOfWork, actor: m.Person, alliance_id: str, form: Form) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class ItemPage:
    kind: str
    slug: str
    noun: str
    section: str
    rows: tuple[Rows, ...] = ()
    defaults: Callable[[date], dict[str, str]] = _no_defaults
    from_query: tuple[str, ...] = ()
    datetimes: tuple[str, ...] = ()
    extra: Extra = field(default=_no_extra)

    @property
    def template(self) -> str:
        return f"forms/_{self.kind}.html"

    def list_path(self, alliance_id: str, anchor: str = "") -> str:
        return f"/a/{alliance_id}/{self.section}" + (f"#{anchor}" if anchor else "")


ITEM_PAGES = (
    ItemPage("agreement", "agreements", "agreement", "agreements"),
    ItemPage(
        "obligation",
        "obligations",
        "obligation",
        "agreements",
        defaults=lambda today: {"recurrence": m.Recurrence.ONCE.value},
        from_query=("agreement_id",),
    ),
    ItemPage(
        "body",
        "bodies",
        "governance body",
        "governance",
        rows=(Rows("seats", "member_id", "members", has("seated", "is_chair"), "seated"),),
        defaults=lambda today: {"cadence": m.Cadence.MONTHLY.value},
    ),
    ItemPage(
        "decision_right",
        "decision-rights",
        "decision right",
        "governance",
        defaults=lambda today: {"rule": m.DecisionRule.CONSENT.value, "quorum_percent": "50"},
        from_query=("body_id",),
    ),
    ItemPage(
        "meeting",
        "meetings",
        "meeting",
        "governance",
        rows=(Rows("attendees", "member_id", "members", has("member_id")),),
        from_query=("body_id",),
        datetimes=("starts_at",),
    ),
    ItemPage(
        "risk",
        "risks",
        "risk",
        "risks",
        rows=(Rows("shares", "partner_id", "partners", has_amount("percent")),),
        defaults=lambda today: {"likelihood": "3", "impact": "3", "status": "open"},
        extra=lambda uow, actor, alliance_id, form: preview_context(
            uow, actor, alliance_id, form.values
        ),
    ),
    ItemPage(
        "contribution",
        "contributions",
        "contribution",
        "contributions",
        defaults=lambda today: {"direction": "in", "on": today.isoformat()},
        from_query=("partner_id", "direction"),
    ),
)


def _form_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    page: ItemPage,
    form: Form,
    item_id: str | None = None,
    status: int = 200,
    choices: views.Choices | None = None,
) -> Response:
    access = open_for_edit(uow, actor, alliance_id)
    base = f"/a/{alliance_id}/{page.slug}"
    context = {
        "page": page,
        "form": form,
        "item_id": item_id,
        "action": f"{base}/{item_id}/edit" if item_id else f"{base}/new",
        "delete_action": f"{base}/{item_id}/delete" if item_id else "",
        "back": page.list_path(alliance_id, item_id or ""),
        "choices": choices or views.choices(uow, actor, alliance_id),
        "enums": m,
    }
    context |= page.extra(uow, actor, alliance_id, form)
    return alliance_page(request, access, "item_form.html", page.section, context, status)


def _stored_values(
    uow: UnitOfWork, alliance_id: str, page: ItemPage, item: Any, options: views.Choices
) -> dict[str, str]:
    data = registers.as_input(uow, alliance_id, page.kind, item)
    spread = {
        rows.field: (rows, [choice.id for choice in getattr(options, rows.choices)])
        for rows in page.rows
    }
    values = to_values(data, spread)
    for name in page.datetimes:
        values[name] = local_from_utc(values.get(name, ""))
    return values


def _submission(page: ItemPage, values: dict[str, str]) -> Submission:
    submission = Submission.of(values, registers.KINDS[page.kind].input, page.rows)
    payload = dict(submission.payload)
    for name in page.datetimes:
        if isinstance(payload.get(name), str):
            payload[name] = utc_from_local(payload[name])
    return replace(submission, payload=payload)


def _register(page: ItemPage) -> None:
    base = f"/a/{{alliance_id}}/{page.slug}"

    def rerender(
        request: Request,
        uow: UnitOfWork,
        actor: m.Person,
        alliance_id: str,
        item_id: str | None = None,
    ) -> Callable[[Form, int], Response]:
        return lambda form, status: _form_page(
            request, uow, actor, alliance_id, page, form, item_id, status
        )

    @router.get(f"{base}/new", name=f"new_{page.kind}")
    def new_form(request: Request, alliance_id: str, actor: SignedIn, uow: UowDep) -> Response:
        values = page.defaults(uow.clock.now().date())
        values |= {
            name: request.query_params[name]
            for name in page.from_query
            if name in request.query_params
        }
        return _form_page(request, uow, actor, alliance_id, page, Form(values))

    @router.post(f"{base}/new", name=f"create_{page.kind}")
    def create(
        request: Request, alliance_id: str, actor: SignedIn, values: Posted, uow: UowDep
    ) -> Response:
        return submit(
            request,
            uow,
            _submission(page, values),
            lambda payload: registers.do_create_item(uow, actor, alliance_id, page.kind, payload),
            success=lambda item: page.list_path(alliance_id, item.id),
            rerender=rerender(request, uow, actor, alliance_id),
            notice=lambda item: f"Added the {page.noun} “{item_name(item)}”.",
        )

    @router.get(f"{base}/{{item_id}}/edit", name=f"edit_{page.kind}_form")
    def edit_form(
        request: Request, alliance_id: str, item_id: str, actor: SignedIn, uow: UowDep
    ) -> Response:
        open_for_edit(uow, actor, alliance_id)
        item = registers.read_item(uow, actor, alliance_id, page.kind, item_id)
        options = views.choices(uow, actor, alliance_id)
        values = _stored_values(uow, alliance_id, page, item, options)
        return _form_page(
            request, uow, actor, alliance_id, page, Form(values), item_id, choices=options
        )

    @router.post(f"{base}/{{item_id}}/edit", name=f"edit_{page.kind}")
    def edit(
        request: Request,
        alliance_id: str,
        item_id: str,
        actor: SignedIn,
        values: Posted,
        uow: UowDep,
    ) -> Response:
        def update(payload: dict[str, Any]) -> Any:
            return registers.do_update_item(uow, actor, alliance_id, page.kind, item_id, payload)

        return submit(
            request,
            uow,
            _submission(page, values),
            update,
            success=lambda item: page.list_path(alliance_id, item.id),
            rerender=rerender(request, uow, actor, alliance_id, item_id),
            notice=lambda item: f"Saved the {page.noun} “{item_name(item)}”.",
        )

    @router.post(f"{base}/{{item_id}}/delete", name=f"delete_{page.kind}")
    def delete(
        request: Request, alliance_id: str, item_id: str, actor: PostingPerson, uow: UowDep
    ) -> Response:
        def remove() -> str:
            item = registers.read_item(uow, actor, alliance_id, page.kind, item_id)
            name = item_name(item)
            registers.do_delete_item(uow, actor, alliance_id, page.kind, item_id)
            return name

        name = uow.write(lambda _: remove())
        return go(request, page.list_path(alliance_id), f"Deleted the {page.noun} “{name}”.")


for _page in ITEM_PAGES:
    _register(_page)
