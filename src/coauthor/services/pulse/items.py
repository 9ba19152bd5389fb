"""The alliance's own pulse items: statements it adds to the standard instrument.

An own item is asked by every wave opened after it was added and before it
was retired; each wave keeps the wording it asked. Own items are reported
one by one, never mixed into a dimension, so the standard scales keep the
meaning docs/pulse.md gives them.
"""

from __future__ import annotations

from typing import Any

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import Conflict, NotFound
from coauthor.domain.pulse import STANDARD_ITEMS, CustomItem
from coauthor.ids import new_id
from coauthor.services import eventlog, inputs
from coauthor.services.mechanics.alliances import open_alliance, open_for_edit
from coauthor.services.pulse.inputs import CustomItemInput

MAX_OWN_ITEMS = 5
"""Kept short on purpose: the pulse is asked again and again."""


def own_items(uow: UnitOfWork, actor: m.Person | None, alliance_id: str) -> list[CustomItem]:
    """The alliance's own items, oldest first, retired ones included."""
    open_alliance(uow, actor, alliance_id)
    return uow.find(CustomItem, order_by=CustomItem.created_at, alliance_id=alliance_id)


def active_items(uow: UnitOfWork, alliance_id: str) -> list[CustomItem]:
    return uow.find(
        CustomItem,
        CustomItem.retired_at.is_(None),
        order_by=CustomItem.created_at,
        alliance_id=alliance_id,
    )


def do_add_item(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, payload: Any
) -> CustomItem:
    open_for_edit(uow, actor, alliance_id)
    data = inputs.parse(CustomItemInput, payload)
    active = active_items(uow, alliance_id)
    if len(active) >= MAX_OWN_ITEMS:
        raise Conflict(
            f"an alliance asks at most {MAX_OWN_ITEMS} questions of its own; retire one first"
        )
    taken = {item.text.casefold() for item in active} | {
        item.text.casefold() for item in STANDARD_ITEMS
    }
    if data.text.casefold() in taken:
        raise Conflict("the pulse already asks this", ("text",))
    item = CustomItem(
        alliance_id=alliance_id,
        id=new_id("pq"),
        text=data.text,
        reverse=data.reverse,
        created_at=uow.clock.now(),
    )
    uow.add(item)
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "pulse_item.added",
        {"id": item.id, "text": item.text, "reverse": item.reverse},
    )
    return item


def do_retire_item(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, item_id: str
) -> CustomItem:
    """Stop asking an own item in new waves; waves that asked it keep it."""
    open_for_edit(uow, actor, alliance_id)
    item = uow.get(CustomItem, alliance_id=alliance_id, id=item_id)
    if item is None:
        raise NotFound("no such pulse question in this alliance")
    if item.retired_at is not None:
        raise Conflict("this question is retired already")
    item.retired_at = uow.clock.now()
    eventlog.append(uow, alliance_id, actor, "pulse_item.retired", {"id": item_id})
    return item
