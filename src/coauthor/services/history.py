"""An item's history, read from the event log: who changed it, when, and what changed.

Every write of the mechanics appends an event whose payload is the item's
new input (``risk.updated`` carries the whole risk). Replaying an item's
events in order therefore tells, for each one, which fields changed from
what to what. Names stand in for ids (a partner's name, not ``pa_…``) and
labels for codes.

Only kinds whose events say nothing private have a history here: partners'
private notes, statements (whose author is anonymous) and votes never do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from coauthor.db.tables import search_entries
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import NotFound
from coauthor.domain.labels import label
from coauthor.services.deliberation.inputs import DeliberationInput
from coauthor.services.mechanics import inputs, registers
from coauthor.services.mechanics.alliances import open_alliance

HISTORY_KINDS: dict[str, str] = {
    "alliance": "The alliance",
    "partner": "Partner",
    "member": "Member",
    "agreement": "Agreement",
    "obligation": "Obligation",
    "body": "Governance body",
    "decision_right": "Decision right",
    "meeting": "Meeting",
    "risk": "Risk",
    "contribution": "Contribution",
    "deliberation": "Deliberation",
}
"""Kinds with a history page, and what to call one of them."""

ACTIONS = {
    "created": "created",
    "added": "added",
    "updated": "changed",
    "deleted": "deleted",
    "removed": "removed",
    "status_set": "opened or closed",
}
FIELD_NAMES = {
    "organization_name": "Organization",
    "joined_on": "Joined",
    "partner_id": "Partner",
    "debtor_partner_id": "Owed by",
    "creditor_partner_id": "Owed to",
    "agreement_id": "Agreement",
    "body_id": "Body",
    "first_due_on": "First due",
    "last_due_on": "Last due",
    "signed_on": "Signed",
    "effective_on": "In force from",
    "expires_on": "Expires",
    "starts_at": "Starts",
    "quorum_percent": "Quorum",
    "decision_kind": "Decision",
    "strict_moderation": "Statements moderated",
    "on": "Date",
}
HIDDEN_FIELDS = frozenset({"id"})
LONG_TEXT = 280


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str | None
    """None when the item was created with this value."""
    after: str


@dataclass(frozen=True)
class Change:
    seq: int
    at: datetime
    actor: str
    action: str
    fields: list[FieldChange]


@dataclass(frozen=True)
class ItemHistory:
    kind: str
    noun: str
    item_id: str
    title: str
    exists: bool
    changes: list[Change]
    """Newest first."""


def _events(uow: UnitOfWork, alliance_id: str, kind: str, item_id: str) -> list[m.Event]:
    statement = sa.select(m.Event).where(
        m.Event.chain_id == alliance_id, m.Event.kind.like(f"{kind}.%")
    )
    if kind != "alliance":
        statement = statement.where(m.Event.payload["id"].as_string() == item_id)
    return list(uow.session.scalars(statement.order_by(m.Event.seq)))


def _names(uow: UnitOfWork, alliance_id: str) -> dict[str, str]:
    """Id → name of everything an item's fields may point at in this alliance."""
    partners = (
        sa.select(m.Partner.id, m.Organization.name)
        .join(m.Organization, m.Organization.id == m.Partner.organization_id)
        .where(m.Partner.alliance_id == alliance_id)
    )
    members = (
        sa.select(m.Member.id, m.Person.name)
        .join(m.Person, m.Person.id == m.Member.person_id)
        .where(m.Member.alliance_id == alliance_id)
    )
    names: dict[str, str] = {}
    for statement in (partners, members):
        names.update({row[0]: row[1] for row in uow.session.execute(statement)})
    for entity, attribute in ((m.GovernanceBody, "name"), (m.Agreement, "title")):
        for item in uow.find(entity, alliance_id=alliance_id):
            names[item.id] = getattr(item, attribute)
    return names


def field_name(field: str) -> str:
    return FIELD_NAMES.get(field) or label(field.removesuffix("_id"))


def _shorten(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= LONG_TEXT else flat[: LONG_TEXT - 1].rsplit(" ", 1)[0] + "…"


def _scalar(field: str, value: Any, names: Mapping[str, str]) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text in names:
        return names[text]
    if field.endswith("_on"):
        return _day(text)
    if field.endswith("_at"):
        return _moment(text)
    if field in ("percent", "quorum_percent"):
        return f"{_number(text)}%"
    if field == "amount":
        return _number(text)
    if field in ("kind", "stage", "role", "rule", "recurrence", "cadence", "status", "direction"):
        return label(text)
    return _shorten(text)


def _day(text: str) -> str:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return text
    return f"{day.day} {day:%b %Y}"


def _moment(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def _number(text: str) -> str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    return f"{number:,.2f}".removesuffix(".00").replace(",", "\u202f")


def _row(row: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """One row of a nested list: a risk share, a seat, an attendee."""
    parts = [
        _scalar(field, value, names)
        for field, value in row.items()
        if not isinstance(value, bool) and field not in HIDDEN_FIELDS
    ]
    chair = " (chair)" if row.get("is_chair") else ""
    return " ".join(parts) + chair


def describe(field: str, value: Any, names: Mapping[str, str]) -> str:
    """A payload value as a person reads it."""
    if isinstance(value, list):
        return ", ".join(_row(row, names) for row in value if isinstance(row, Mapping)) or "none"
    return _scalar(field, value, names)


def _same(field: str, before: Any, after: Any, names: Mapping[str, str]) -> bool:
    """Equal as a person reads them ("50" and "50.00"); lists (shares, seats) in any order."""
    if before == after:
        return True
    if isinstance(before, list) and isinstance(after, list):
        rows = [sorted(_row(row, names) for row in value) for value in (before, after)]
        return rows[0] == rows[1]
    return describe(field, before, names) == describe(field, after, names)


def _field_order(kind: str) -> list[str]:
    """The fields of a kind in its form's order (title first), for listing what changed."""
    models = {
        "alliance": inputs.AllianceCreate,
        "partner": inputs.PartnerInput,
        "member": inputs.MemberInput,
        "deliberation": DeliberationInput,
    }
    model = models.get(kind) or registers.KINDS[kind].input
    return list(model.model_fields)


def _changes(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
    names: Mapping[str, str],
    order: list[str],
) -> list[FieldChange]:
    found = []
    ranked = sorted(after, key=lambda field: order.index(field) if field in order else len(order))
    for field in ranked:
        value = after[field]
        if field in HIDDEN_FIELDS or (
            before is not None and field in before and _same(field, before[field], value, names)
        ):
            continue
        if before is None and value in (None, "", []):
            continue
        old = describe(field, before[field], names) if before and field in before else None
        found.append(FieldChange(field_name(field), old, describe(field, value, names)))
    return found


def _actors(uow: UnitOfWork, events: Iterable[m.Event]) -> dict[str, str]:
    ids = {event.actor_id for event in events if event.actor_id}
    if not ids:
        return {}
    return {person.id: person.name for person in uow.find(m.Person, m.Person.id.in_(ids))}


def _title(uow: UnitOfWork, alliance_id: str, kind: str, item_id: str) -> str | None:
    statement = sa.select(search_entries.c.title).where(
        search_entries.c.alliance_id == alliance_id,
        search_entries.c.kind == kind,
        search_entries.c.item_id == item_id,
    )
    return uow.session.scalar(statement)


def item_history(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, kind: str, item_id: str
) -> ItemHistory:
    """Who changed the item, when and what, newest first; for anyone who may see the alliance."""
    open_alliance(uow, actor, alliance_id)
    if kind not in HISTORY_KINDS:
        raise NotFound("there is no history of that kind of item")
    events = _events(uow, alliance_id, kind, item_id)
    if not events:
        raise NotFound(f"no history of this {HISTORY_KINDS[kind].lower()}")
    names = _names(uow, alliance_id)
    actors = _actors(uow, events)
    state: dict[str, Any] | None = None
    order = _field_order(kind)
    changes = []
    for event in events:
        action = event.kind.partition(".")[2]
        removed = action in ("deleted", "removed")
        fields = [] if removed else _changes(state, event.payload, names, order)
        state = {**(state or {}), **event.payload}
        who = actors.get(event.actor_id or "", "the operator" if not event.actor_id else "someone")
        changes.append(Change(event.seq, event.at, who, ACTIONS.get(action, label(action)), fields))
    title = _title(uow, alliance_id, kind, item_id)
    fallback = next(
        (str(state[key]) for key in ("title", "name", "decision_kind", "description", "question",
                                     "organization_name", "email") if state and state.get(key)),
        item_id,
    )  # fmt: skip
    return ItemHistory(
        kind=kind,
        noun=HISTORY_KINDS[kind],
        item_id=item_id,
        title=title or fallback,
        exists=title is not None,
        changes=list(reversed(changes)),
    )
