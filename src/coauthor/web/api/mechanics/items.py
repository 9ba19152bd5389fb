"""Agreements, obligations, bodies, decision rights, meetings, risks and contributions.

Every kind in ``registers.KINDS`` gets the same five routes, made here in one
place: list and create on ``/alliances/{alliance_id}/<collection>``, read,
replace and delete on ``.../<collection>/{item_id}``. Each route still has the
kind's own request model and response model, so OpenAPI documents them.

This module does not use ``from __future__ import annotations``: the route
functions are made per kind, and FastAPI reads their annotations (the kind's
input model) as real classes when the routes are added.
"""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from coauthor.db.uow import UnitOfWork
from coauthor.services.mechanics import registers
from coauthor.services.mechanics.registers import KINDS, Kind
from coauthor.web.api.deps import PersonDep, set_location
from coauthor.web.api.pagination import Paged, PageDep, paged
from coauthor.web.api.schemas import ITEM_MODELS
from coauthor.web.auth import UowDep

IRREGULAR_PLURALS = {"body": "bodies"}
ROUTES = (  # action, method, on one item (not the collection), status on success
    ("list", "GET", False, 200),
    ("create", "POST", False, 201),
    ("read", "GET", True, 200),
    ("replace", "PUT", True, 200),
    ("delete", "DELETE", True, 204),
)

router = APIRouter()


def collection_of(kind_name: str) -> str:
    """The URL segment of a kind's collection: ``decision_right`` -> ``decision-rights``."""
    plural = IRREGULAR_PLURALS.get(kind_name, f"{kind_name}s")
    return plural.replace("_", "-")


def route_name(action: str, kind_name: str) -> str:
    """``list_decision_rights`` for the collection, ``read_decision_right`` for one item."""
    if action == "list":
        return f"list_{collection_of(kind_name).replace('-', '_')}"
    return f"{action}_{kind_name}"


def _as_output(uow: UnitOfWork, alliance_id: str, kind: Kind, item: Any) -> dict[str, Any]:
    return {"id": item.id, **registers.as_input(uow, alliance_id, kind.name, item)}


def _endpoints(kind: Kind) -> dict[str, Callable[..., Any]]:
    """The five route functions of one kind, by action."""
    item_input = kind.input

    def list_items(
        alliance_id: str, request: Request, uow: UowDep, person: PersonDep, page: PageDep
    ) -> Paged[dict[str, Any]]:
        found = registers.page_items(uow, person, alliance_id, kind.name, page)
        return paged(request, found, lambda item: _as_output(uow, alliance_id, kind, item))

    def create_item(
        alliance_id: str,
        data: item_input,  # type: ignore[valid-type]
        request: Request,
        response: Response,
        uow: UowDep,
        person: PersonDep,
    ) -> dict[str, Any]:
        item = uow.write(registers.do_create_item, person, alliance_id, kind.name, data)
        read = route_name("read", kind.name)
        set_location(request, response, read, alliance_id=alliance_id, item_id=item.id)
        return _as_output(uow, alliance_id, kind, item)

    def read_item(alliance_id: str, item_id: str, uow: UowDep, person: PersonDep) -> dict[str, Any]:
        item = registers.read_item(uow, person, alliance_id, kind.name, item_id)
        return _as_output(uow, alliance_id, kind, item)

    def replace_item(
        alliance_id: str,
        item_id: str,
        data: item_input,  # type: ignore[valid-type]
        uow: UowDep,
        person: PersonDep,
    ) -> dict[str, Any]:
        item = uow.write(registers.do_update_item, person, alliance_id, kind.name, item_id, data)
        return _as_output(uow, alliance_id, kind, item)

    def delete_item(alliance_id: str, item_id: str, uow: UowDep, person: PersonDep) -> None:
        uow.write(registers.do_delete_item, person, alliance_id, kind.name, item_id)

    return {
        "list": list_items,
        "create": create_item,
        "read": read_item,
        "replace": replace_item,
        "delete": delete_item,
    }


def _response_model(action: str, kind: Kind) -> Any:
    output = ITEM_MODELS[kind.name]
    return {"list": Paged[output], "delete": None}.get(action, output)  # type: ignore[valid-type]


def _summary(action: str, kind_name: str) -> str:
    """E.g. "List the decision rights" or "Create an agreement"."""
    if action == "list":
        return f"List the {collection_of(kind_name).replace('-', ' ')}"
    label = kind_name.replace("_", " ")
    article = "an" if label[0] in "aeiou" else "a"
    return f"{action.capitalize()} {article} {label}"


def add_kind_routes(router: APIRouter, kind: Kind) -> None:
    """Register the five routes of one kind of mechanics item."""
    collection = f"/alliances/{{alliance_id}}/{collection_of(kind.name)}"
    endpoints = _endpoints(kind)
    for action, method, on_item, status_code in ROUTES:
        router.add_api_route(
            f"{collection}/{{item_id}}" if on_item else collection,
            endpoints[action],
            methods=[method],
            name=route_name(action, kind.name),
            response_model=_response_model(action, kind),
            status_code=status_code,
            summary=_summary(action, kind.name),
            tags=[collection_of(kind.name)],
        )


for _kind in KINDS.values():
    add_kind_routes(router, _kind)
