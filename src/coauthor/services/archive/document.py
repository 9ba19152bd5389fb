"""The ``coauthor-archive/1`` document: its models, validation and JSON Schema.

An archive is one JSON document per alliance holding all of its entities and
its hash-chained history (docs/archive.md). Each item is its service input
model plus the id it keeps, so the archive validates exactly what the web
forms, the API and the CLI validate. People are referred to by email and
organizations by name, which lets an archive move between databases whose
site-wide ids differ.

Export is in export.py, import in importer.py; reading and writing the JSON
text is interop's (``coauthor.interop.archive``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, create_model

from coauthor.domain import model as m
from coauthor.domain.errors import ValidationFailed
from coauthor.services import inputs
from coauthor.services.deliberation.inputs import DeliberationInput, StatementInput, VoteInput
from coauthor.services.inputs import AwareDateTime, Email, Input, Name, Ref, Text
from coauthor.services.mechanics import registers
from coauthor.services.mechanics.inputs import (
    AllianceInput,
    MemberUpdate,
    OrganizationInput,
    PartnerInput,
    PartnerNoteInput,
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
    """A partner; ``organization_name`` names an entry of ``organizations``.

    ``colour`` is its colour in charts; archives written before colours were
    kept leave it out, and the partners then get theirs in archive order.
    """

    colour: int | None = Field(default=None, ge=0, lt=m.PARTNER_COLOURS)


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


def _record_model(kind: registers.Kind) -> type[Record]:
    name = kind.input.__name__.removesuffix("Input") + "Record"
    return create_model(name, __base__=(kind.input, Record), __module__=__name__)


KIND_RECORDS: dict[str, type[Record]] = {
    name: _record_model(kind) for name, kind in registers.KINDS.items()
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


def parse_archive(data: Any) -> Any:
    """Validate a decoded archive through the input models; errors carry JSON paths."""
    if not isinstance(data, dict):
        raise ValidationFailed.one((), "an archive is a JSON object")
    if data.get("format") != FORMAT:
        found = data.get("format")
        raise ValidationFailed.one(("format",), f"expected {FORMAT!r}, not {found!r}")
    return inputs.parse(ArchiveDocument, data)


def archive_schema() -> dict[str, Any]:
    """The JSON Schema of ``coauthor-archive/1``, generated from the document models."""
    return {"$schema": SCHEMA_DIALECT, **ArchiveDocument.model_json_schema()}


def archive_schema_json() -> str:
    return json.dumps(archive_schema(), indent=2, ensure_ascii=False) + "\n"
