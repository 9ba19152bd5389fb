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
from collections.abc import Iterator
from copy import copy
from datetime import date, datetime
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (
    BaseModel,
    Field,
    GetPydanticSchema,
    Strict,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    create_model,
)
from pydantic.dataclasses import dataclass as pydantic_dataclass
from pydantic.fields import FieldInfo
from pydantic_core import core_schema

from coauthor.domain import emergence
from coauthor.domain import model as m
from coauthor.domain import pulse as pulse_model
from coauthor.domain.declarations import Position
from coauthor.domain.errors import ValidationFailed
from coauthor.domain.ledger import MAX_EVIDENCE, Move, Party
from coauthor.services import inputs
from coauthor.services.archive.jsontext import checked_text, decode_json
from coauthor.services.archive.sections import Section, emptied, split_section
from coauthor.services.deliberation.inputs import DeliberationInput, StatementInput, VoteInput
from coauthor.services.inputs import AwareDateTime, Email, Input, Name, PublicId, Ref, Text
from coauthor.services.ledger.inputs import MAX_PARTIES
from coauthor.services.mechanics import registers
from coauthor.services.mechanics.inputs import (
    AllianceInput,
    MemberUpdate,
    OrganizationInput,
    PartnerInput,
    PartnerNoteInput,
)
from coauthor.services.pulse.inputs import Comment, CustomItemInput, ReminderNote

FORMAT = "coauthor-archive/1"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

Hash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
KeyId = Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
MAX_SEQ = 2**31 - 1
"""The largest seq a database column holds."""


class Record(Input):
    """An item as the archive holds it: the id it keeps, then its input fields."""

    id: PublicId


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


class PositionRecord(Input):
    """A seated member's position on a body's declaration; ``reason`` is in their words."""

    member_id: Ref
    position: Position
    reason: Text = ""


class DeclarationRecord(Record):
    """A declaration: a body's (with its right, meeting, quorum and every seat's position) or
    the partners' joint one (no body)."""

    text: Declared
    rationale: Text = ""
    body_id: Ref | None = None
    rule: m.DecisionRule | None = None
    declared_at: AwareDateTime
    declared_by_email: Email | None = None
    dissent: Text = ""
    source: Source = ""
    decision_right_id: Ref | None = None
    meeting_id: Ref | None = None
    quorum_percent: int | None = Field(default=None, ge=1, le=100)
    positions: list[PositionRecord] = Field(default_factory=list, max_length=500)


class CharterClauseRecord(Record):
    text: Declared
    added_at: AwareDateTime
    source: Source = ""
    repealed_by_declaration_id: Ref | None = None


PersonEmail = Annotated[str, Field(min_length=3, max_length=254)]
"""An email that must name an entry of ``people`` (checked there, not again per use)."""


class PartyRecord(Input):
    """A person on one side of a commitment, and the partner they speak for there."""

    email: PersonEmail
    side: Party
    partner_id: Ref


class ActRecord(Input):
    """One speech act, as it was made; ``actor_email`` names an entry of ``people``."""

    move: Move
    party: Party
    actor_email: PersonEmail
    at: AwareDateTime
    text: Text = ""
    conditions: Text | None = None
    due_at: AwareDateTime | None = None
    reply_by: AwareDateTime | None = None
    evidence: list[str] = Field(default_factory=list, max_length=MAX_EVIDENCE)


class CommitmentRecord(Record):
    """A commitment: its parties and its speech acts in order. Its state is not stored:
    import replays the acts through the transition table (docs/ledger.md)."""

    parties: list[PartyRecord] = Field(min_length=2, max_length=MAX_PARTIES + 1)
    acts: list[ActRecord] = Field(min_length=1)
    body_id: Ref | None = None
    meeting_id: Ref | None = None
    obligation_id: Ref | None = None
    period_due_on: date | None = None
    waived_by_declaration_id: Ref | None = None


class AssignmentRecord(Input):
    """Who performs an obligation for the debtor partner, and who receives it."""

    obligation_id: Ref
    performer_email: PersonEmail
    customer_email: PersonEmail
    assigned_at: AwareDateTime


class PulseItemRecord(CustomItemInput, Record):
    """An item the alliance added to its pulse."""

    created_at: AwareDateTime
    retired_at: AwareDateTime | None = None


ItemKey = Annotated[str, Field(min_length=1, max_length=40)]
ItemText = Annotated[str, Field(min_length=1, max_length=500)]


class PulseWaveItemRecord(Input):
    """An item as the wave asked it (frozen when the wave opened)."""

    key: ItemKey
    position: int = Field(ge=1)
    dimension: pulse_model.Dimension | None = None
    text: ItemText
    reverse: bool = False


class PulseWaveRecord(Record):
    title: Name
    instrument_version: Annotated[str, Field(min_length=1, max_length=32)]
    source: pulse_model.WaveSource
    opened_at: AwareDateTime
    closes_at: AwareDateTime
    reminded_at: AwareDateTime | None = None
    reminder_note: ReminderNote = ""
    items: list[PulseWaveItemRecord] = Field(min_length=1)


class PulseResponseRecord(Record):
    """One set of answers: partner and role band, never a person (operator's archive only)."""

    wave_id: Ref
    partner_id: Ref
    role_band: pulse_model.RoleBand | None = None
    answers: dict[ItemKey, Annotated[int, Field(ge=1, le=pulse_model.SCALE_POINTS)]]


class PulseCommentRecord(Record):
    """An open comment, linked to no answer (operator's archive only)."""

    wave_id: Ref
    text: Annotated[Comment, Field(min_length=1)]


class PlotTwistRecord(Record):
    """A plot twist; who raised it by email, their partner by id."""

    title: Name
    kind: emergence.PlotTwistKind
    severity: emergence.Severity
    occurred_on: date
    raised_at: AwareDateTime
    raised_by_email: PersonEmail | None = None
    raised_by_partner_id: Ref | None = None
    description: Text = ""
    resolved_at: AwareDateTime | None = None
    resolution: Text = ""


class TensionStepRecord(Input):
    seq: int = Field(ge=1, le=MAX_SEQ)
    state: emergence.TensionState
    at: AwareDateTime
    by_email: PersonEmail | None = None
    note: Text = ""


class TensionRecord(Record):
    """A tension between partners, with every step of its course (the first: surfaced)."""

    about: Name
    state: emergence.TensionState
    surfaced_at: AwareDateTime
    surfaced_by_email: PersonEmail | None = None
    description: Text = ""
    engaged_at: AwareDateTime | None = None
    closed_at: AwareDateTime | None = None
    outcome: Text = ""
    partner_ids: list[Ref] = Field(min_length=1, max_length=50)
    steps: list[TensionStepRecord] = Field(min_length=1)


class ExperimentRecord(Record):
    hypothesis: Text
    action: Text
    signal: Text
    review_on: date
    state: emergence.ExperimentState
    created_at: AwareDateTime
    created_by_email: PersonEmail | None = None
    started_at: AwareDateTime | None = None
    closed_at: AwareDateTime | None = None
    result: Text = ""
    adjustment: Text = ""


class LearningRecord(Record):
    text: Text
    source: emergence.LearningSource
    recorded_at: AwareDateTime
    recorded_by_email: PersonEmail | None = None
    experiment_id: Ref | None = None


class EmergenceLinkRecord(Input):
    """A plot twist or tension (``source_id``) linked to a commitment, declaration,
    experiment or meeting of the archive."""

    source_id: Ref
    target_kind: emergence.LinkKind
    target_id: Ref
    linked_at: AwareDateTime
    linked_by_email: PersonEmail | None = None


class EventRecord(Input):
    """One event of the alliance's chain, verbatim; its hash covers every field but the MAC.

    ``key_id`` and ``mac``: the keyed hash of the server that wrote or last
    imported the event (coauthor.eventkey), or null when it had no key.
    """

    seq: int = Field(ge=1, le=MAX_SEQ)
    at: AwareDateTime
    actor_id: PublicId | None
    kind: Annotated[str, Field(min_length=1, max_length=64)]
    payload: dict[str, Any]
    prev_hash: Hash
    hash: Hash
    key_id: KeyId | None = None
    mac: Hash | None = None


class HeadRecord(Input):
    """The chain's head where it was exported: its last seq and hash, and their MAC."""

    seq: int = Field(ge=0, le=MAX_SEQ)
    hash: Hash
    key_id: KeyId | None = None
    mac: Hash | None = None


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
    obligation_assignments=(list[AssignmentRecord], Field(default_factory=list)),
    commitments=(list[CommitmentRecord], Field(default_factory=list)),
    pulse_items=(list[PulseItemRecord], Field(default_factory=list)),
    pulse_waves=(list[PulseWaveRecord], Field(default_factory=list)),
    pulse_responses=(list[PulseResponseRecord], Field(default_factory=list)),
    pulse_comments=(list[PulseCommentRecord], Field(default_factory=list)),
    plot_twists=(list[PlotTwistRecord], Field(default_factory=list)),
    tensions=(list[TensionRecord], Field(default_factory=list)),
    experiments=(list[ExperimentRecord], Field(default_factory=list)),
    learnings=(list[LearningRecord], Field(default_factory=list)),
    emergence_links=(list[EmergenceLinkRecord], Field(default_factory=list)),
    events=(list[EventRecord], Field(default_factory=list)),
    head=(HeadRecord | None, None),
)


_UTC_TEXT = Annotated[
    datetime,
    GetPydanticSchema(lambda _source, _handler: core_schema.datetime_schema(tz_constraint=0)),
    Strict(),
]
"""A time written in UTC (``Z`` or ``+00:00``), read and checked by pydantic's core alone: an
``AwareDateTime`` there, without its Python validator's call and conversion per time (a
million events and a million speech acts). A time with another offset is refused, and the
original models take the archive and convert it."""


def _utc_twin(annotation: Any, field: FieldInfo) -> tuple[Any, FieldInfo] | None:
    """An ``AwareDateTime`` field (also optional) as ``_UTC_TEXT``; None for any other.
    pydantic keeps a required field's ``Annotated`` apart, as ``datetime`` and its
    validator in the field's metadata, which the twin's field must then not carry."""
    if annotation == AwareDateTime | None:
        return _UTC_TEXT | None, field
    if annotation is datetime and field.metadata == list(AwareDateTime.__metadata__):
        bare = copy(field)
        bare.metadata = []
        return _UTC_TEXT, bare
    return None


def _twin_fields(model: type[BaseModel], items: dict[str, type]) -> dict[str, Any]:
    """``model``'s fields as its twin reads them: ``items`` names fields whose items take
    a twin too, times that are ``AwareDateTime`` are in UTC (``_UTC_TEXT``), and dates
    and times are strict (text only)."""
    decorators = model.__pydantic_decorators__
    if set(decorators.model_validators) - {"_storable"} or decorators.field_validators:
        raise TypeError(f"{model.__name__} has validators its twin would not run")
    fields: dict[str, Any] = {}
    for field_name, field in model.model_fields.items():
        annotation = field.annotation
        if field_name in items:
            annotation = list[items[field_name]]  # type: ignore[valid-type]
        elif utc := _utc_twin(annotation, field):
            annotation, field = utc
        elif inputs.is_time_field(annotation):
            annotation = Annotated[annotation, Strict()]
        fields[field_name] = (annotation, field)
    return fields


def _of_checked_text(
    model: type[BaseModel], name: str, **items: type[BaseModel]
) -> type[BaseModel]:
    """``model`` for text already searched for unstorable characters: the same fields
    (``items`` names fields whose items take such a model too), without ``Input``'s check
    before them, which finds nothing there but would first copy the item's part of the
    text into Python objects, and with its dates and times strict: taking text only,
    since that check is what refuses numbers there. A refusal is then reported by the
    original models (``parse_archive``), so only what they accept passes."""
    fields = _twin_fields(model, items)
    return create_model(name, __config__=model.model_config, __module__=__name__, **fields)


def _compact_of_checked_text(model: type[BaseModel], name: str, **items: type) -> type:
    """A twin of ``model`` as ``_of_checked_text`` makes one, as a slotted dataclass: the
    same fields, validation and attributes, without a dict and a set of the fields given
    per item, which halves what the largest sections (a million speech acts, a million
    events) hold in memory."""
    fields = _twin_fields(model, items)
    namespace: dict[str, Any] = {
        "__annotations__": {
            field_name: annotation for field_name, (annotation, _) in fields.items()
        },
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": model.__doc__,
        **{field_name: field for field_name, (_, field) in fields.items()},
    }
    return pydantic_dataclass(
        type(name, (), namespace), config=model.model_config, slots=True, kw_only=True
    )


_CheckedActRecord = _compact_of_checked_text(ActRecord, "ActRecord")
_CheckedPartyRecord = _compact_of_checked_text(PartyRecord, "PartyRecord")
_CheckedCommitmentRecord = _compact_of_checked_text(
    CommitmentRecord, "CommitmentRecord", acts=_CheckedActRecord, parties=_CheckedPartyRecord
)
_CheckedEventRecord = _compact_of_checked_text(EventRecord, "EventRecord")
_DocumentOfCheckedText = _of_checked_text(
    ArchiveDocument,
    "ArchiveDocument",
    commitments=_CheckedCommitmentRecord,
    events=_CheckedEventRecord,
)
"""The document for text with no unstorable character: its own level (which has no date
or time field) and its largest sections — commitments with their parties and acts, and
events, as compact records (slotted dataclasses) — read without copying their text into
Python objects first."""

SECTIONS: tuple[str, ...] = tuple(name for name in ArchiveDocument.model_fields if name != "format")


def storable_text(raw: str | bytes) -> bool:
    """Whether ``raw`` holds no text a database cannot store, once its size, encoding,
    nesting and numbers pass (``checked_text``, which raises otherwise). The decoded text
    is dropped here: pydantic reads the bytes themselves, so a large archive is not held
    twice while it is read."""
    return not inputs.text_may_be_unstorable(checked_text(raw))


def parse_archive(data: Any) -> Any:
    """Validate an archive through the input models; errors carry JSON paths.

    ``data`` is the decoded document, or its JSON text: then pydantic reads the
    text straight into the models, without building the document as Python
    objects first (a million-act archive would take gigabytes twice), and when
    the text holds no NUL or surrogate at all (one search) the models do not
    walk their strings for them again. Only when that fails is the text
    decoded, to report each problem as the dict path does.
    """
    if isinstance(data, str | bytes):
        checked = storable_text(data)
        model = _DocumentOfCheckedText if checked else ArchiveDocument
        try:
            return model.model_validate_json(data, context={inputs.STORABLE_TEXT: checked})
        except ValidationError:
            data = decode_json(data)
    if not isinstance(data, dict):
        raise ValidationFailed.one((), "an archive is a JSON object")
    if data.get("format") != FORMAT:
        found = data.get("format")
        raise ValidationFailed.one(("format",), f"expected {FORMAT!r}, not {found!r}")
    return inputs.parse(ArchiveDocument, data)


EVENTS_READ_AT_ONCE = 20_000
"""Events of an archive read into records at a time when they are read in chunks."""

_EVENT_LIST = TypeAdapter(list[_CheckedEventRecord])
_COMMITMENT_LIST = TypeAdapter(list[_CheckedCommitmentRecord])


def read_commitments(chunk: bytes) -> list[Any]:
    """A JSON array of commitments (``Section.chunks``) as the compact records the document
    reads them into; raises ``ValidationError`` where the models would refuse it."""
    return _COMMITMENT_LIST.validate_json(chunk)


class EventsApart(NamedTuple):
    """An archive read without its events (``archive.events`` is empty), and its events'
    section of the text, read a chunk at a time by ``chunks``."""

    archive: Any
    raw: bytes
    events: Section

    def chunks(self) -> Iterator[list[Any]]:
        """The events as compact records, ``EVENTS_READ_AT_ONCE`` at a time; raises
        ``ValidationError`` at the first chunk the models would refuse."""
        for chunk in self.events.chunks(self.raw, EVENTS_READ_AT_ONCE):
            yield _EVENT_LIST.validate_json(chunk)


def parse_events_apart(raw: bytes) -> EventsApart | None:
    """The archive ``raw`` read as ``parse_archive`` reads it, but its events left in the
    text, to be read a chunk at a time (a million events are half of what a large
    archive holds once read). Refused text (size, encoding, nesting, numbers) raises as
    in ``parse_archive``; None whenever this way cannot read it exactly as that one
    would — text that may hold unstorable characters, an events section it cannot
    find once, the rest refused by the models — and ``parse_archive`` is the way, with
    its errors."""
    if not storable_text(raw):
        return None
    events = split_section(raw, "events")
    if events is None:
        return None
    return read_without_events(raw, events)


def read_without_events(
    raw: bytes, events: Section, commitments: Section | None = None
) -> EventsApart | None:
    """``raw`` read without its ``events`` section, as ``parse_events_apart`` reads it once
    its scan passed; None when the models refuse it. Read before the scan has passed (the
    scan running in another process, ``chainworker``), whatever it gives counts only if
    the scan then passes. Given the ``commitments`` section, the document is read without
    it too (its commitments empty: ``read_commitments`` reads them, from
    ``commitments.whole(raw)``)."""
    apart = (events,) if commitments is None else (events, commitments)
    try:
        archive = _DocumentOfCheckedText.model_validate_json(emptied(raw, apart))
    except ValidationError:
        return None
    if archive.events or (commitments is not None and archive.commitments):
        return None  # the key given twice, once spelled with escapes
    return EventsApart(archive, raw, events)


def archive_schema() -> dict[str, Any]:
    """The JSON Schema of ``coauthor-archive/1``, generated from the document models."""
    return {"$schema": SCHEMA_DIALECT, **ArchiveDocument.model_json_schema()}


def archive_schema_json() -> str:
    return json.dumps(archive_schema(), indent=2, ensure_ascii=False) + "\n"
