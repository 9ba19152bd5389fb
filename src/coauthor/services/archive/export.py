"""Export: an alliance as it is stored now, as a ``coauthor-archive/1`` document.

Lists are sorted by id (events by seq; people by email; organizations by
name), so the same alliance always gives the same bytes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain import pulse as pulse_model
from coauthor.domain.errors import NotFound
from coauthor.services import eventlog
from coauthor.services.archive import ledger
from coauthor.services.archive.document import (
    FORMAT,
    AllianceRecord,
    ArchiveDocument,
    CharterClauseRecord,
    DeclarationRecord,
    DeliberationRecord,
    EventRecord,
    HeadRecord,
    MemberRecord,
    ParticipantRecord,
    PartnerNoteRecord,
    PartnerRecord,
    PersonRecord,
    PulseCommentRecord,
    PulseItemRecord,
    PulseResponseRecord,
    PulseWaveItemRecord,
    PulseWaveRecord,
    StatementRecord,
    VoteRecord,
    section_of,
)
from coauthor.services.mechanics import registers
from coauthor.services.mechanics.inputs import OrganizationInput


def _fields(entity: object, model: type[BaseModel], **extra: Any) -> dict[str, Any]:
    """The fields of ``model`` read from ``entity``, with ``extra`` ones given."""
    names = (name for name in model.model_fields if name not in extra)
    return {name: getattr(entity, name) for name in names} | extra


def _by_id(uow: UnitOfWork, entity: type, alliance_id: str) -> list[Any]:
    """Sorted here, not by the database: collations differ between servers."""
    return sorted(uow.find(entity, alliance_id=alliance_id), key=lambda item: item.id)


def _kind_items(uow: UnitOfWork, alliance_id: str, kind: registers.Kind) -> list[dict[str, Any]]:
    records = []
    for item in _by_id(uow, kind.entity, alliance_id):
        values = registers.as_input(uow, alliance_id, kind.name, item)
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


def _deliberation_sections(
    rows: _Rows, people: dict[str, m.Person], extras: dict[str, dict[str, Any]]
) -> dict[str, list]:
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
            _fields(
                d,
                DeclarationRecord,
                declared_by_email=email(d.declared_by_person_id),
                positions=extras.get(d.id, {}).get("positions", []),
            )
            for d in rows.declarations
        ],
        "charter_clauses": [_fields(c, CharterClauseRecord) for c in rows.charter_clauses],
    }


def _pulse_sections(uow: UnitOfWork, alliance_id: str, private: bool) -> dict[str, list]:
    """The pulse: own items and waves always; answers and comments in the operator's archive.

    No invitation is ever exported: who was asked and who answered stays in
    the database it was recorded in (docs/pulse.md, "Archive").
    """
    items: dict[str, list[pulse_model.WaveItem]] = {}
    for item in uow.find(pulse_model.WaveItem, alliance_id=alliance_id):
        items.setdefault(item.wave_id, []).append(item)

    def wave(w: pulse_model.Wave) -> dict[str, Any]:
        asked = sorted(items.get(w.id, []), key=lambda item: item.position)
        return _fields(w, PulseWaveRecord, items=[_fields(i, PulseWaveItemRecord) for i in asked])

    responses = _by_id(uow, pulse_model.Response, alliance_id) if private else []
    comments = _by_id(uow, pulse_model.Comment, alliance_id) if private else []
    return {
        "pulse_items": [
            _fields(i, PulseItemRecord) for i in _by_id(uow, pulse_model.CustomItem, alliance_id)
        ],
        "pulse_waves": [wave(w) for w in _by_id(uow, pulse_model.Wave, alliance_id)],
        "pulse_responses": [
            _fields(r, PulseResponseRecord, answers=dict(sorted(r.answers.items())))
            for r in responses
        ],
        "pulse_comments": [_fields(c, PulseCommentRecord) for c in comments],
    }


def document_of(uow: UnitOfWork, alliance: m.Alliance, *, private: bool = True) -> Any:
    """The archive of ``alliance`` as it is stored now (no permission check).

    ``private`` adds what only the operator's archive holds: partners' private
    notes, deliberation votes and who took part, pulse answers and comments.
    """
    alliance_id = alliance.id
    rows = _Rows(uow, alliance_id, private)
    events = eventlog.chain_events(uow, alliance_id)
    orgs = _by_ids(uow, m.Organization, {p.organization_id for p in rows.partners})
    people = _by_ids(uow, m.Person, rows.person_ids() | ledger.person_ids(uow, alliance_id))
    emails = {person_id: person.email for person_id, person in people.items()}
    kinds = {
        section_of(name): _kind_items(uow, alliance_id, kind)
        for name, kind in registers.KINDS.items()
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
            **_deliberation_sections(rows, people, ledger.declaration_extras(uow, alliance_id)),
            "obligation_assignments": ledger.assignment_records(uow, alliance_id, emails),
            "commitments": ledger.commitment_records(uow, alliance_id, emails),
            **_pulse_sections(uow, alliance_id, private),
            "events": [_fields(e, EventRecord) for e in events],
            "head": _fields(_head(uow, alliance_id, events), HeadRecord),
        }
    )


def _head(uow: UnitOfWork, alliance_id: str, events: list[m.Event]) -> eventlog.Head:
    """The stored head; a chain that has none yet ends at its last event."""
    stored = eventlog.head_of(uow, alliance_id)
    if stored is not None:
        return stored
    return eventlog.Head(events[-1].seq, events[-1].hash) if events else eventlog.EMPTY_HEAD


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
