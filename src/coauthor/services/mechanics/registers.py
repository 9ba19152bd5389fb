"""Agreements, obligations, governance, meetings, risks and contributions.

These kinds share one life cycle — create, update, delete by a manager, each
write logged — so they are described by a ``Kind`` each and handled by the
same three functions. A kind's references to other entities of the alliance
are checked before anything is written, and its nested lists (a risk's
shares, a body's seats, a meeting's attendees) are replaced as a whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.commitments import Commitment
from coauthor.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from coauthor.ids import new_id
from coauthor.services import eventlog, inputs
from coauthor.services.mechanics import inputs as mechanics_inputs
from coauthor.services.mechanics.alliances import open_alliance, open_for_edit
from coauthor.services.paging import Page, PageRequest, keyset


@dataclass(frozen=True)
class Children:
    """A nested list of an input (items of ``item``), stored as rows of ``entity``."""

    field: str
    item: type[BaseModel]
    entity: type
    parent_key: str
    refs: dict[str, type] = field(default_factory=dict)


Check = Callable[[UnitOfWork, str, BaseModel, str | None], list[FieldError]]
"""A rule that needs the alliance's other items: (uow, alliance id, input, item id or None)."""
Prepare = Callable[[UnitOfWork, str, BaseModel], BaseModel]
"""Settles an input against what the alliance holds already (a unit's usual spelling)."""


def _as_given(uow: UnitOfWork, alliance_id: str, data: BaseModel) -> BaseModel:
    return data


@dataclass(frozen=True)
class Kind:
    name: str
    entity: type
    input: type[BaseModel]
    prefix: str
    refs: dict[str, type] = field(default_factory=dict)
    children: tuple[Children, ...] = ()
    blockers: tuple[tuple[type, str, str], ...] = ()
    """(entity, foreign key field, reason): rows that forbid deleting an item."""
    order_by: str = "title"
    checks: tuple[Check, ...] = ()
    prepare: Prepare = _as_given


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def _term(agreement: m.Agreement) -> tuple[date | None, date | None]:
    """When an agreement is in force: from it takes effect (or is signed) until it expires."""
    return agreement.effective_on or agreement.signed_on, agreement.expires_on


def _outside(term: tuple[date | None, date | None], day: date) -> str:
    """Why ``day`` falls outside ``term``, or "" when it falls inside."""
    start, end = term
    if start and day < start:
        return f"falls before the agreement is in force (from {_day(start)})"
    if end and day > end:
        return f"falls after the agreement expires (on {_day(end)})"
    return ""


def obligation_within_term(
    uow: UnitOfWork, alliance_id: str, data: BaseModel, item_id: str | None
) -> list[FieldError]:
    """An obligation falls due while its agreement is in force."""
    agreement = uow.get(m.Agreement, alliance_id=alliance_id, id=data.agreement_id)
    if agreement is None:
        return []
    term = _term(agreement)
    errors = []
    for name in ("first_due_on", "last_due_on"):
        day = getattr(data, name)
        reason = _outside(term, day) if day else ""
        if reason:
            errors.append(FieldError((name,), f"this date {reason}"))
    return errors


def agreement_keeps_its_obligations(
    uow: UnitOfWork, alliance_id: str, data: BaseModel, item_id: str | None
) -> list[FieldError]:
    """Changing an agreement's dates may not leave one of its obligations outside its term."""
    if item_id is None:
        return []
    start, end = data.effective_on or data.signed_on, data.expires_on
    errors = []
    for obligation in uow.find(m.Obligation, alliance_id=alliance_id, agreement_id=item_id):
        last = obligation.last_due_on or obligation.first_due_on
        if start and obligation.first_due_on < start:
            field_name = "effective_on" if data.effective_on else "signed_on"
            when = f"on {_day(obligation.first_due_on)}"
        elif end and last > end:
            field_name, when = "expires_on", f"until {_day(last)}"
        else:
            continue
        errors.append(
            FieldError(
                (field_name,),
                f"the obligation “{obligation.title}” falls due {when}, outside the new term; "
                "change its dates first",
            )
        )
    return errors


def usual_unit(uow: UnitOfWork, alliance_id: str, data: BaseModel) -> BaseModel:
    """A unit the alliance already uses, whatever its capitals, keeps its first spelling."""
    wanted = data.unit.casefold()
    for unit in uow.session.scalars(
        sa.select(m.Contribution.unit)
        .where(m.Contribution.alliance_id == alliance_id)
        .distinct()
        .order_by(m.Contribution.unit)
    ):
        if unit.casefold() == wanted:
            return data.model_copy(update={"unit": unit})
    return data


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "agreement",
            m.Agreement,
            mechanics_inputs.AgreementInput,
            "ag",
            blockers=((m.Obligation, "agreement_id", "it still has obligations"),),
            checks=(agreement_keeps_its_obligations,),
        ),
        Kind(
            "obligation",
            m.Obligation,
            mechanics_inputs.ObligationInput,
            "ob",
            refs={
                "agreement_id": m.Agreement,
                "debtor_partner_id": m.Partner,
                "creditor_partner_id": m.Partner,
            },
            checks=(obligation_within_term,),
            blockers=((Commitment, "obligation_id", "it has commitments in the ledger"),),
        ),
        Kind(
            "body",
            m.GovernanceBody,
            mechanics_inputs.BodyInput,
            "gb",
            order_by="name",
            children=(
                Children(
                    "seats",
                    mechanics_inputs.SeatInput,
                    m.BodySeat,
                    "body_id",
                    {"member_id": m.Member},
                ),
            ),
            blockers=(
                (m.Meeting, "body_id", "it has meetings"),
                (m.DecisionRight, "body_id", "it holds decision rights"),
                (m.Declaration, "body_id", "it has made declarations"),
                (Commitment, "body_id", "commitments in the ledger were made in it"),
            ),
        ),
        Kind(
            "decision_right",
            m.DecisionRight,
            mechanics_inputs.DecisionRightInput,
            "dr",
            order_by="decision_kind",
            refs={"body_id": m.GovernanceBody},
            blockers=((m.Declaration, "decision_right_id", "declarations were made under it"),),
        ),
        Kind(
            "meeting",
            m.Meeting,
            mechanics_inputs.MeetingInput,
            "mt",
            order_by="starts_at",
            refs={"body_id": m.GovernanceBody},
            blockers=(
                (m.Declaration, "meeting_id", "declarations were made at it"),
                (Commitment, "meeting_id", "commitments in the ledger were made at it"),
            ),
            children=(
                Children(
                    "attendees",
                    mechanics_inputs.AttendeeInput,
                    m.Attendance,
                    "meeting_id",
                    {"member_id": m.Member},
                ),
            ),
        ),
        Kind(
            "risk",
            m.Risk,
            mechanics_inputs.RiskInput,
            "rk",
            children=(
                Children(
                    "shares",
                    mechanics_inputs.ShareInput,
                    m.RiskShare,
                    "risk_id",
                    {"partner_id": m.Partner},
                ),
            ),
        ),
        Kind(
            "contribution",
            m.Contribution,
            mechanics_inputs.ContributionInput,
            "co",
            order_by="on",
            refs={"partner_id": m.Partner},
            prepare=usual_unit,
        ),
    )
}


def kind_named(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise NotFound(f"no such kind of item: {name}") from None


def reference_errors(
    uow: UnitOfWork, alliance_id: str, kind: Kind, data: BaseModel
) -> list[FieldError]:
    errors = [
        FieldError((name,), "no such item in this alliance")
        for name, target in kind.refs.items()
        if uow.get(target, alliance_id=alliance_id, id=getattr(data, name)) is None
    ]
    for children in kind.children:
        seen: set[tuple] = set()
        for index, item in enumerate(getattr(data, children.field)):
            for name, target in children.refs.items():
                if uow.get(target, alliance_id=alliance_id, id=getattr(item, name)) is None:
                    errors.append(
                        FieldError((children.field, index, name), "no such item in this alliance")
                    )
            key = tuple(getattr(item, name) for name in children.refs)
            if key in seen:
                errors.append(FieldError((children.field, index), "listed twice"))
            seen.add(key)
    return errors


def _scalar_fields(kind: Kind, data: BaseModel) -> dict[str, Any]:
    nested = {children.field for children in kind.children}
    return {name: getattr(data, name) for name in type(data).model_fields if name not in nested}


def replace_children(
    uow: UnitOfWork, alliance_id: str, kind: Kind, item_id: str, data: BaseModel
) -> None:
    for children in kind.children:
        for row in uow.find(
            children.entity, alliance_id=alliance_id, **{children.parent_key: item_id}
        ):
            uow.delete(row)
        uow.flush()
        for item in getattr(data, children.field):
            values = item.model_dump()
            uow.add(
                children.entity(alliance_id=alliance_id, **{children.parent_key: item_id}, **values)
            )


def _validated(
    uow: UnitOfWork, alliance_id: str, kind: Kind, payload: Any, item_id: str | None = None
) -> BaseModel:
    """The input parsed, its references found, and the kind's rules about other items kept."""
    data = inputs.parse(kind.input, payload)
    errors = reference_errors(uow, alliance_id, kind, data)
    if not errors:
        errors = [e for check in kind.checks for e in check(uow, alliance_id, data, item_id)]
    if errors:
        raise ValidationFailed(errors)
    return kind.prepare(uow, alliance_id, data)


def do_create_item(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, kind_name: str, payload: Any
) -> Any:
    kind = kind_named(kind_name)
    open_for_edit(uow, actor, alliance_id)
    data = _validated(uow, alliance_id, kind, payload)
    item = kind.entity(
        alliance_id=alliance_id, id=new_id(kind.prefix), **_scalar_fields(kind, data)
    )
    uow.add(item)
    uow.flush()
    replace_children(uow, alliance_id, kind, item.id, data)
    eventlog.append(
        uow,
        alliance_id,
        actor,
        f"{kind.name}.created",
        data.model_dump(mode="json") | {"id": item.id},
    )
    return item


def get_item(uow: UnitOfWork, alliance_id: str, kind_name: str, item_id: str) -> Any:
    kind = kind_named(kind_name)
    item = uow.get(kind.entity, alliance_id=alliance_id, id=item_id)
    if item is None:
        raise NotFound(f"no such {kind.name.replace('_', ' ')}")
    return item


def do_update_item(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    kind_name: str,
    item_id: str,
    payload: Any,
) -> Any:
    kind = kind_named(kind_name)
    open_for_edit(uow, actor, alliance_id)
    item = get_item(uow, alliance_id, kind_name, item_id)
    data = _validated(uow, alliance_id, kind, payload, item_id)
    for name, value in _scalar_fields(kind, data).items():
        setattr(item, name, value)
    replace_children(uow, alliance_id, kind, item.id, data)
    eventlog.append(
        uow,
        alliance_id,
        actor,
        f"{kind.name}.updated",
        data.model_dump(mode="json") | {"id": item.id},
    )
    return item


def do_delete_item(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, kind_name: str, item_id: str
) -> None:
    kind = kind_named(kind_name)
    open_for_edit(uow, actor, alliance_id)
    item = get_item(uow, alliance_id, kind_name, item_id)
    for entity, key, reason in kind.blockers:
        if uow.find_one(entity, alliance_id=alliance_id, **{key: item_id}):
            raise Conflict(f"cannot delete this {kind.name.replace('_', ' ')}: {reason}")
    for children in kind.children:
        for row in uow.find(
            children.entity, alliance_id=alliance_id, **{children.parent_key: item_id}
        ):
            uow.delete(row)
    uow.flush()
    uow.delete(item)
    eventlog.append(uow, alliance_id, actor, f"{kind.name}.deleted", {"id": item_id})


def children_of(uow: UnitOfWork, alliance_id: str, kind_name: str, item_id: str) -> dict[str, list]:
    kind = kind_named(kind_name)
    return {
        children.field: uow.find(
            children.entity, alliance_id=alliance_id, **{children.parent_key: item_id}
        )
        for children in kind.children
    }


def as_input(uow: UnitOfWork, alliance_id: str, kind_name: str, item: Any) -> dict[str, Any]:
    """An item as the JSON its input model accepts: what edit forms and the archive use."""
    kind = kind_named(kind_name)
    values = {name: getattr(item, name) for name in kind.input.model_fields if hasattr(item, name)}
    for children, rows in zip(
        kind.children, children_of(uow, alliance_id, kind_name, item.id).values(), strict=True
    ):
        values[children.field] = [
            {name: getattr(row, name) for name in children.item.model_fields} for row in rows
        ]
    return kind.input.model_validate(values).model_dump(mode="json")


def list_items(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, kind_name: str
) -> list[Any]:
    """Every item of a kind in an alliance the actor may see, in the kind's natural order."""
    kind = kind_named(kind_name)
    open_alliance(uow, actor, alliance_id)
    return uow.find(
        kind.entity, order_by=getattr(kind.entity, kind.order_by), alliance_id=alliance_id
    )


def page_items(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    kind_name: str,
    request: PageRequest,
) -> Page[Any]:
    """A page of a kind's items, in its natural order (then by id)."""
    kind = kind_named(kind_name)
    open_alliance(uow, actor, alliance_id)
    entity = kind.entity
    columns = (getattr(entity, kind.order_by), entity.id)
    statement = sa.select(entity).where(entity.alliance_id == alliance_id)
    return keyset(
        uow.session,
        statement,
        columns,
        request,
        lambda item: (getattr(item, kind.order_by), item.id),
    )


def read_item(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, kind_name: str, item_id: str
) -> Any:
    open_alliance(uow, actor, alliance_id)
    return get_item(uow, alliance_id, kind_name, item_id)
