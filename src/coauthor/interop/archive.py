"""The alliance archive, ``coauthor-archive/1``: its document models, export and JSON Schema.

An archive is one JSON document per alliance holding all of its entities and
its hash-chained history (docs/archive.md). Each item is its service input
model plus the id it keeps, so the archive validates exactly what the web
forms, the API and the CLI validate. People are referred to by email and
organizations by name, which lets an archive move between databases whose
site-wide ids differ. Lists are sorted by id (events by seq; people by email;
organizations by name), so the same alliance always gives the same bytes.

Importing is the write side and lives in services/archive.py.
``python -m coauthor.interop.archive`` prints the JSON Schema that
docs/archive.schema.json holds.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, create_model

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import Loc, NotFound, ValidationFailed
from coauthor.services import eventlog, inputs, mechanics
from coauthor.services.inputs import (
    AllianceInput,
    AwareDateTime,
    DeliberationInput,
    Email,
    Input,
    MemberUpdate,
    Name,
    OrganizationInput,
    PartnerInput,
    PartnerNoteInput,
    Ref,
    StatementInput,
    Text,
    VoteInput,
)

FORMAT = "coauthor-archive/1"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

Hash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Record(Input):
    """An item as the archive holds it: the id it keeps, then its input fields."""

    id: Ref


class AllianceRecord(AllianceInput, Record):
    created_at: AwareDateTime


class PersonRecord(Input):
    """A person the alliance refers to; never a password or an admin flag."""

    email: Email
    name: Name


class PartnerRecord(PartnerInput, Record):
    """A partner; ``organization_name`` names an entry of ``organizations``."""


class MemberRecord(MemberUpdate, Record):
    """A member; ``email`` names an entry of ``people``."""

    email: Email


class PartnerNoteRecord(PartnerNoteInput, Record):
    """A partner's private note (an operator's archive only)."""

    partner_id: Ref
    author_email: Email
    created_at: AwareDateTime


ExternalId = Annotated[str, Field(min_length=1, max_length=64)]
Source = Annotated[str, Field(max_length=200)]
Declared = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]


class DeliberationRecord(DeliberationInput, Record):
    status: m.DeliberationStatus
    created_at: AwareDateTime


class ParticipantRecord(Record):
    """A voter: a person of ``people`` (operator's archive only), or an imported voter."""

    deliberation_id: Ref
    email: Email | None = None
    partner_id: Ref | None = None
    external_id: ExternalId | None = None
    joined_at: AwareDateTime


class StatementRecord(StatementInput, Record):
    deliberation_id: Ref
    moderation: m.Moderation
    is_meta: bool = False
    author_participant_id: Ref | None = None
    external_id: ExternalId | None = None
    created_at: AwareDateTime


class VoteRecord(VoteInput):
    """A participant's current vote on a statement (operator's archive only)."""

    deliberation_id: Ref
    participant_id: Ref
    at: AwareDateTime


class DeclarationRecord(Record):
    text: Declared
    rationale: Text = ""
    body_id: Ref | None = None
    rule: m.DecisionRule | None = None
    declared_at: AwareDateTime
    declared_by_email: Email | None = None
    dissent: Text = ""
    source: Source = ""


class CharterClauseRecord(Record):
    text: Declared
    added_at: AwareDateTime
    source: Source = ""


class EventRecord(Input):
    """One event of the alliance's chain, verbatim; its hash covers every field."""

    seq: int = Field(ge=1)
    at: AwareDateTime
    actor_id: Ref | None
    kind: Annotated[str, Field(min_length=1, max_length=64)]
    payload: dict[str, Any]
    prev_hash: Hash
    hash: Hash


def section_of(kind_name: str) -> str:
    """The archive's list for a kind of item: ``risk`` → ``risks``, ``body`` → ``bodies``."""
    return kind_name[:-1] + "ies" if kind_name.endswith("y") else kind_name + "s"


def _record_model(kind: mechanics.Kind) -> type[Record]:
    name = kind.input.__name__.removesuffix("Input") + "Record"
    return create_model(name, __base__=(kind.input, Record), __module__=__name__)


KIND_RECORDS: dict[str, type[Record]] = {
    name: _record_model(kind) for name, kind in mechanics.KINDS.items()
}

ArchiveDocument: type[BaseModel] = create_model(
    "ArchiveDocument",
    __base__=Input,
    __module__=__name__,
    __doc__=f"One alliance with its history, as {FORMAT}.",
    format=(Literal[FORMAT], ...),
    alliance=(AllianceRecord, ...),
    organizations=(list[OrganizationInput], Field(default_factory=list)),
    people=(list[PersonRecord], Field(default_factory=list)),
    partners=(list[PartnerRecord], Field(default_factory=list)),
    members=(list[MemberRecord], Field(default_factory=list)),
    partner_notes=(list[PartnerNoteRecord], Field(default_factory=list)),
    **{
        section_of(name): (list[record], Field(default_factory=list))  # type: ignore[valid-type]
        for name, record in KIND_RECORDS.items()
    },
    deliberations=(list[DeliberationRecord], Field(default_factory=list)),
    participants=(list[ParticipantRecord], Field(default_factory=list)),
    statements=(list[StatementRecord], Field(default_factory=list)),
    votes=(list[VoteRecord], Field(default_factory=list)),
    declarations=(list[DeclarationRecord], Field(default_factory=list)),
    charter_clauses=(list[CharterClauseRecord], Field(default_factory=list)),
    events=(list[EventRecord], Field(default_factory=list)),
)

SECTIONS: tuple[str, ...] = tuple(name for name in ArchiveDocument.model_fields if name != "format")


def json_path(loc: Loc) -> str:
    """``("risks", 3, "shares")`` → ``$.risks[3].shares``."""
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def loads_archive(raw: str | bytes) -> dict[str, Any]:
    """The JSON object in ``raw``, or ValidationFailed saying where the JSON breaks."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ValidationFailed.one((), f"not valid JSON at {where}: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise ValidationFailed.one((), f"not UTF-8 text (byte {exc.start})") from None
    if not isinstance(data, dict):
        raise ValidationFailed.one((), "an archive is a JSON object")
    return data


def parse_archive(data: Any) -> Any:
    """Validate a decoded archive through the input models; errors carry JSON paths."""
    if not isinstance(data, dict):
        raise ValidationFailed.one((), "an archive is a JSON object")
    if data.get("format") != FORMAT:
        found = data.get("format")
        raise ValidationFailed.one(("format",), f"expected {FORMAT!r}, not {found!r}")
    return inputs.parse(ArchiveDocument, data)


def dumps_archive(document: BaseModel) -> str:
    """The archive's canonical text: the same alliance always gives the same bytes."""
    return json.dumps(document.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def _fields(entity: object, model: type[BaseModel], **extra: Any) -> dict[str, Any]:
    """The fields of ``model`` read from ``entity``, with ``extra`` ones given."""
    names = (name for name in model.model_fields if name not in extra)
    return {name: getattr(entity, name) for name in names} | extra


def _by_id(uow: UnitOfWork, entity: type, alliance_id: str) -> list[Any]:
    """Sorted here, not by the database: collations differ between servers."""
    return sorted(uow.find(entity, alliance_id=alliance_id), key=lambda item: item.id)


def _kind_items(uow: UnitOfWork, alliance_id: str, kind: mechanics.Kind) -> list[dict[str, Any]]:
    records = []
    for item in _by_id(uow, kind.entity, alliance_id):
        values = mechanics.as_input(uow, alliance_id, kind.name, item)
        for children in kind.children:
            values[children.field].sort(key=lambda row, c=children: [row[ref] for ref in c.refs])
        records.append({"id": item.id, **values})
    return records


def _by_ids(uow: UnitOfWork, entity: Any, ids: set[str | None]) -> dict[str, Any]:
    """Site-wide rows (people, organizations) with these ids, by id."""
    ids.discard(None)
    return {row.id: row for row in uow.find(entity, entity.id.in_(ids))} if ids else {}


def _sorted(rows: Any, model: type[BaseModel], key: str) -> list[dict[str, Any]]:
    return sorted((_fields(row, model) for row in rows), key=lambda record: record[key])


def _votes(uow: UnitOfWork, alliance_id: str) -> list[m.Vote]:
    votes = uow.find(m.Vote, alliance_id=alliance_id)
    return sorted(votes, key=lambda v: (v.deliberation_id, v.participant_id, v.statement_id))


class _Rows:
    """The stored rows of one alliance that an archive holds."""

    def __init__(self, uow: UnitOfWork, alliance_id: str, private: bool) -> None:
        self.partners = _by_id(uow, m.Partner, alliance_id)
        self.members = _by_id(uow, m.Member, alliance_id)
        self.notes = _by_id(uow, m.PartnerNote, alliance_id) if private else []
        self.deliberations = _by_id(uow, m.Deliberation, alliance_id)
        self.participants = _by_id(uow, m.Participant, alliance_id)
        self.statements = _by_id(uow, m.Statement, alliance_id)
        self.votes = _votes(uow, alliance_id) if private else []
        self.declarations = _by_id(uow, m.Declaration, alliance_id)
        self.charter_clauses = _by_id(uow, m.CharterClause, alliance_id)
        self.private = private

    def person_ids(self) -> set[str | None]:
        voters = {p.person_id for p in self.participants} if self.private else set()
        return {
            *(x.person_id for x in self.members),
            *(n.author_person_id for n in self.notes),
            *(d.declared_by_person_id for d in self.declarations),
            *voters,
        }


def _deliberation_sections(rows: _Rows, people: dict[str, m.Person]) -> dict[str, list]:
    def email(person_id: str | None) -> str | None:
        return people[person_id].email if person_id in people else None

    voter = email if rows.private else lambda _: None
    return {
        "deliberations": [_fields(d, DeliberationRecord) for d in rows.deliberations],
        "participants": [
            _fields(p, ParticipantRecord, email=voter(p.person_id)) for p in rows.participants
        ],
        "statements": [_fields(s, StatementRecord) for s in rows.statements],
        "votes": [_fields(v, VoteRecord) for v in rows.votes],
        "declarations": [
            _fields(d, DeclarationRecord, declared_by_email=email(d.declared_by_person_id))
            for d in rows.declarations
        ],
        "charter_clauses": [_fields(c, CharterClauseRecord) for c in rows.charter_clauses],
    }


def document_of(uow: UnitOfWork, alliance: m.Alliance, *, private: bool = True) -> Any:
    """The archive of ``alliance`` as it is stored now (no permission check).

    ``private`` adds what only the operator's archive holds: partners' private
    notes, deliberation votes and who took part.
    """
    alliance_id = alliance.id
    rows = _Rows(uow, alliance_id, private)
    orgs = _by_ids(uow, m.Organization, {p.organization_id for p in rows.partners})
    people = _by_ids(uow, m.Person, rows.person_ids())
    kinds = {
        section_of(name): _kind_items(uow, alliance_id, kind)
        for name, kind in mechanics.KINDS.items()
    }
    return ArchiveDocument.model_validate(
        {
            "format": FORMAT,
            "alliance": _fields(alliance, AllianceRecord),
            "organizations": _sorted(orgs.values(), OrganizationInput, "name"),
            "people": _sorted(people.values(), PersonRecord, "email"),
            "partners": [
                _fields(p, PartnerRecord, organization_name=orgs[p.organization_id].name)
                for p in rows.partners
            ],
            "members": [
                _fields(x, MemberRecord, email=people[x.person_id].email) for x in rows.members
            ],
            "partner_notes": [
                _fields(n, PartnerNoteRecord, author_email=people[n.author_person_id].email)
                for n in rows.notes
            ],
            **kinds,
            **_deliberation_sections(rows, people),
            "events": [_fields(e, EventRecord) for e in eventlog.chain_events(uow, alliance_id)],
        }
    )


def export_alliance(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    *,
    bootstrap: bool = False,
) -> Any:
    """The archive of one alliance, for the operator (``bootstrap``) or a site administrator.

    Partners' private notes, deliberation votes and who took part are in the
    operator's archive only: a site administrator never reads them
    (docs/permissions.md).
    """
    if not bootstrap:
        permissions.require_admin(actor)
    alliance = uow.get(m.Alliance, id=alliance_id)
    if alliance is None:
        raise NotFound(f"no alliance with id {alliance_id}")
    return document_of(uow, alliance, private=bootstrap)


def archive_schema() -> dict[str, Any]:
    """The JSON Schema of ``coauthor-archive/1``, generated from the document models."""
    return {"$schema": SCHEMA_DIALECT, **ArchiveDocument.model_json_schema()}


def archive_schema_json() -> str:
    return json.dumps(archive_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(archive_schema_json())
