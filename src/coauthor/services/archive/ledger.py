"""The commitment ledger in ``coauthor-archive/1``: exporting it, checking it, importing it.

Export writes each commitment with its parties and its speech acts in order
(people by email); nothing derived is written. Import replays every
commitment's acts through the same transition table as the services
(``coauthor.domain.ledger``), so an archive holding a move the table does
not allow is refused whole, the error naming that act's JSON path; the
cache and the figures' facts are then derived from the replayed acts and
written in bulk, one statement per table.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from itertools import chain
from operator import attrgetter
from typing import Any, NamedTuple

import sqlalchemy as sa

from coauthor.analysis.ledger_metrics import summarize_steps
from coauthor.db.bulk import indexes_built_after, insert_converted, insert_rows
from coauthor.db.tables import (
    commitment_parties,
    commitments,
    declaration_positions,
    ledger_facts,
    obligation_assignments,
    speech_acts,
)
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import FieldError, ValidationFailed
from coauthor.domain.ledger import MoveNotAllowed, Party, Replay
from coauthor.services.ledger.facts import STORED_COLUMNS, fact_values
from coauthor.services.search import index as search_index

COMMITMENT_COLUMNS = (
    "id",
    "body_id",
    "meeting_id",
    "obligation_id",
    "period_due_on",
    "waived_by_declaration_id",
)
ACT_COLUMNS = ("move", "party", "at", "text", "conditions", "due_at", "reply_by", "evidence")


# ------------------------------------------------------------------- export


def person_ids(uow: UnitOfWork, alliance_id: str) -> set[str]:
    """Everyone the ledger of an alliance names: parties, speakers, obligations' people."""
    queries = (
        sa.select(commitment_parties.c.person_id).where(
            commitment_parties.c.alliance_id == alliance_id
        ),
        sa.select(speech_acts.c.actor_person_id).where(speech_acts.c.alliance_id == alliance_id),
        sa.select(obligation_assignments.c.performer_person_id).where(
            obligation_assignments.c.alliance_id == alliance_id
        ),
        sa.select(obligation_assignments.c.customer_person_id).where(
            obligation_assignments.c.alliance_id == alliance_id
        ),
    )
    return {row[0] for query in queries for row in uow.session.execute(query.distinct())}


def _positions(uow: UnitOfWork, alliance_id: str) -> dict[str, list[dict[str, Any]]]:
    rows = uow.session.execute(
        sa.select(
            declaration_positions.c.declaration_id,
            declaration_positions.c.member_id,
            declaration_positions.c.position,
            declaration_positions.c.reason,
        ).where(declaration_positions.c.alliance_id == alliance_id)
    )
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for declaration_id, member_id, position, reason in rows:
        found[declaration_id].append(
            {"member_id": member_id, "position": position, "reason": reason}
        )
    for positions in found.values():
        positions.sort(key=lambda p: p["member_id"])
    return found


def declaration_extras(uow: UnitOfWork, alliance_id: str) -> dict[str, dict[str, Any]]:
    """Declaration id → its positions, for the declarations section."""
    return {key: {"positions": value} for key, value in _positions(uow, alliance_id).items()}


def assignment_records(
    uow: UnitOfWork, alliance_id: str, emails: dict[str, str]
) -> list[dict[str, Any]]:
    rows = uow.session.execute(
        sa.select(obligation_assignments)
        .where(obligation_assignments.c.alliance_id == alliance_id)
        .order_by(obligation_assignments.c.obligation_id)
    )
    return [
        {
            "obligation_id": row.obligation_id,
            "performer_email": emails[row.performer_person_id],
            "customer_email": emails[row.customer_person_id],
            "assigned_at": row.assigned_at,
        }
        for row in rows
    ]


def commitment_records(
    uow: UnitOfWork, alliance_id: str, emails: dict[str, str]
) -> list[dict[str, Any]]:
    """Every commitment by id, its parties (customer first, then by email) and acts by seq."""
    session = uow.session
    parties: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in session.execute(
        sa.select(commitment_parties).where(commitment_parties.c.alliance_id == alliance_id)
    ):
        parties[row.commitment_id].append(
            {"email": emails[row.person_id], "side": row.side, "partner_id": row.partner_id}
        )
    acts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    act_query = (
        sa.select(speech_acts)
        .where(speech_acts.c.alliance_id == alliance_id)
        .order_by(speech_acts.c.commitment_id, speech_acts.c.seq)
    )
    for row in session.execute(act_query):
        act = {name: getattr(row, name) for name in ACT_COLUMNS}
        act["evidence"] = act["evidence"] or []
        act["actor_email"] = emails[row.actor_person_id]
        acts[row.commitment_id].append(act)
    records = []
    query = sa.select(*(commitments.c[name] for name in COMMITMENT_COLUMNS)).where(
        commitments.c.alliance_id == alliance_id
    )
    for row in sorted(session.execute(query), key=lambda r: r.id):
        record = {name: getattr(row, name) for name in COMMITMENT_COLUMNS}
        record["parties"] = sorted(
            parties[row.id], key=lambda p: (p["side"] != Party.CUSTOMER, p["email"])
        )
        record["acts"] = acts[row.id]
        records.append(record)
    return records


# ------------------------------------------------------------- link checks


def _unknown(value: Any, known: set[Any], loc: tuple, where: str) -> list[FieldError]:
    if value is None or value in known:
        return []
    return [FieldError(loc, f"{value!r} is not in {where}")]


def link_errors(archive: Any, emails: set[str]) -> list[FieldError]:
    """The ledger's links to the rest of the archive, and its own rules about parties."""
    ids = {
        name: {item.id for item in getattr(archive, name)}
        for name in ("partners", "members", "bodies", "meetings", "obligations", "declarations")
    }
    rights = {item.id for item in archive.decision_rights}
    errors: list[FieldError] = []
    for i, d in enumerate(archive.declarations):
        errors += _unknown(
            d.decision_right_id, rights, ("declarations", i, "decision_right_id"), "decision_rights"
        )
        errors += _unknown(
            d.meeting_id, ids["meetings"], ("declarations", i, "meeting_id"), "meetings"
        )
        for j, p in enumerate(d.positions):
            loc = ("declarations", i, "positions", j, "member_id")
            errors += _unknown(p.member_id, ids["members"], loc, "members")
    for i, c in enumerate(archive.charter_clauses):
        loc = ("charter_clauses", i, "repealed_by_declaration_id")
        errors += _unknown(c.repealed_by_declaration_id, ids["declarations"], loc, "declarations")
    assigned = Counter(a.obligation_id for a in archive.obligation_assignments)
    for i, a in enumerate(archive.obligation_assignments):
        where = ("obligation_assignments", i)
        errors += _unknown(
            a.obligation_id, ids["obligations"], (*where, "obligation_id"), "obligations"
        )
        if assigned[a.obligation_id] > 1:
            errors.append(FieldError((*where, "obligation_id"), "is assigned more than once"))
        errors += _unknown(a.performer_email, emails, (*where, "performer_email"), "people")
        errors += _unknown(a.customer_email, emails, (*where, "customer_email"), "people")
    periods = Counter(
        (c.obligation_id, c.period_due_on) for c in archive.commitments if c.obligation_id
    )
    if _all_linked(archive.commitments, ids, emails, periods):
        return errors
    for i, c in enumerate(archive.commitments):
        errors += _commitment_links(i, c, ids, emails, periods)
    return errors


_LINKS = (
    ("body_id", "bodies"),
    ("meeting_id", "meetings"),
    ("obligation_id", "obligations"),
    ("waived_by_declaration_id", "declarations"),
)
"""A commitment's fields that name another item of the archive, and the items' section."""


def _all_linked(
    commitments: Sequence[Any], ids: dict[str, set[str]], emails: set[str], periods: Counter
) -> bool:
    """Whether ``_commitment_links`` finds nothing wrong with any of ``commitments``, asked
    of all of them at once: each field's values (and the parties' and actors') as one set,
    and per commitment only its parties' sides and emails. A quarter of a million
    commitments are checked in a fraction of the time ``_commitment_links`` takes, which
    then runs only when something is wrong, for its errors and their paths."""
    for field, section in _LINKS:
        named = set(map(attrgetter(field), commitments))
        named.discard(None)
        if not named <= ids[section]:
            return False
    if any(count > 1 for count in periods.values()):
        return False
    parties = list(chain.from_iterable(map(attrgetter("parties"), commitments)))
    acts = chain.from_iterable(map(attrgetter("acts"), commitments))
    if not set(map(attrgetter("actor_email"), acts)) <= emails:
        return False
    for field, known in (("email", emails), ("partner_id", ids["partners"])):
        named = set(map(attrgetter(field), parties))
        named.discard(None)
        if not named <= known:
            return False
    return all(map(_plain_parties, commitments))


def _plain_parties(commitment: Any) -> bool:
    """One customer, a performer, and no one twice among the commitment's parties."""
    sides = [party.side for party in commitment.parties]
    emails = {party.email for party in commitment.parties}
    return (
        sides.count(Party.CUSTOMER) == 1
        and Party.PERFORMER in sides
        and len(emails) == len(commitment.parties)
    )


def _commitment_links(
    index: int, c: Any, ids: dict[str, set[str]], emails: set[str], periods: Counter
) -> list[FieldError]:
    where = ("commitments", index)
    errors = []
    for field, section in _LINKS:
        errors += _unknown(getattr(c, field), ids[section], (*where, field), section)
    if c.obligation_id and periods[(c.obligation_id, c.period_due_on)] > 1:
        errors.append(FieldError((*where, "period_due_on"), "this period appears more than once"))
    sides = Counter(p.side for p in c.parties)
    if sides[Party.CUSTOMER] != 1:
        errors.append(FieldError((*where, "parties"), "a commitment has exactly one customer"))
    if not sides[Party.PERFORMER]:
        errors.append(FieldError((*where, "parties"), "a commitment needs a performer"))
    seen: set[str] = set()
    for j, p in enumerate(c.parties):
        errors += _unknown(p.email, emails, (*where, "parties", j, "email"), "people")
        errors += _unknown(
            p.partner_id, ids["partners"], (*where, "parties", j, "partner_id"), "partners"
        )
        if p.email in seen:
            errors.append(FieldError((*where, "parties", j, "email"), "is a party twice"))
        seen.add(p.email)
    for j, act in enumerate(c.acts):
        if act.actor_email not in emails:
            loc = (*where, "acts", j, "actor_email")
            errors.append(FieldError(loc, f"{act.actor_email!r} is not in people"))
    return errors


# ------------------------------------------------------------------ import


def _replayed(index: int, record: Any, people: Mapping[str, str]) -> Replay:
    """The commitment's acts through the transition table (``Replay``); a refusal names
    the act's JSON path."""
    replay = Replay()
    advance = replay.advance
    for j, act in enumerate(record.acts):
        try:
            advance(
                act.move,
                act.party,
                people[act.actor_email],
                act.at,
                act.text,
                act.conditions,
                act.due_at,
                act.reply_by,
                act.evidence,
            )
        except MoveNotAllowed as exc:
            loc = ("commitments", index, "acts", j, "move")
            raise ValidationFailed.one(loc, exc.detail) from None
        except ValidationFailed as exc:
            where = ("commitments", index, "acts", j)
            raise ValidationFailed(
                [FieldError((*where, *_archive_loc(e.loc)), e.message) for e in exc.errors]
            ) from None
    return replay


def _archive_loc(loc: tuple) -> tuple:
    return ("actor_email",) if loc == ("actor_id",) else loc


COMMITMENT_ROW = (
    "alliance_id",
    *COMMITMENT_COLUMNS,
    "what",
    "customer_partner_id",
    "opened_at",
    "phase",
    "state",
    "awaits",
    "conditions",
    "due_at",
    "reply_by",
    "last_move_at",
    "moves",
)
PARTY_ROW = ("alliance_id", "commitment_id", "person_id", "side", "partner_id")
ACT_ROW = (
    "alliance_id",
    "commitment_id",
    "seq",
    "move",
    "party",
    "actor_person_id",
    "at",
    "text",
    "conditions",
    "due_at",
    "reply_by",
    "evidence",
)
ASSIGNMENT_ROW = (
    "alliance_id",
    "obligation_id",
    "performer_person_id",
    "customer_person_id",
    "assigned_at",
)
POSITION_ROW = ("alliance_id", "declaration_id", "member_id", "position", "reason")


class _Indexed(NamedTuple):
    """What the search index reads of a commitment (``search/kinds.py``)."""

    alliance_id: str
    id: str
    what: str
    conditions: str


class Derived(NamedTuple):
    """What a chunk of commitments' acts derive, which names no person: each commitment's
    row (phase, terms, …), its facts' row and its search entry (``search_index.entries_apart``,
    so made by the chain's worker for the chunks it replays). ``converted``: the
    commitments' rows are as ``db/bulk.py`` converts them (made by the chain's worker,
    ``chainworker``), else as ``insert_rows`` takes them."""

    commitments: list[tuple]
    facts: list[tuple]
    entries: list[tuple]
    converted: bool = False


class _SameEmail(dict):
    """People by email for a replay made without their ids (in the chain's worker): each
    email stands for its person. A replay reads an actor only to refuse an empty one,
    and every email of the archive is a person's (the link checks say so)."""

    def __missing__(self, email: str) -> str:
        return email


SAME_EMAIL: Mapping[str, str] = _SameEmail()


def derive(alliance_id: str, first: int, records: Sequence[Any]) -> Derived:
    """Replay each of ``records`` (the archive's commitments from index ``first`` on) and
    derive its rows; a refused act raises ValidationFailed at its JSON path."""
    derived = Derived([], [], [])
    indexed: list[_Indexed] = []
    for offset, record in enumerate(records):
        replay = _replayed(first + offset, record, SAME_EMAIL)
        indexed.append(_derive_one(derived, alliance_id, record, replay))
    derived.entries.extend(search_index.entries_apart("commitment", indexed))
    return derived


def _derive_one(derived: Derived, alliance_id: str, record: Any, replay: Replay) -> _Indexed:
    """Append the commitment's rows to ``derived``; what the search index reads of it."""
    commitment_id = record.id
    customer = next(p for p in record.parties if p.side == Party.CUSTOMER)
    phase, terms, steps = replay.phase, replay.terms, replay.steps
    conditions = terms.conditions if terms else ""
    first = record.acts[0]
    derived.commitments.append(
        (
            alliance_id,
            *(getattr(record, name) for name in COMMITMENT_COLUMNS),
            first.text,
            customer.partner_id,
            first.at,
            phase,
            int(phase.state),
            phase.awaits,
            conditions,
            terms.due_at if terms else None,
            replay.reply_by,
            replay.last_move_at,
            len(steps),
        )
    )
    performers = sorted({p.partner_id for p in record.parties if p.side == Party.PERFORMER})
    facts = summarize_steps(
        steps,
        alliance_id=alliance_id,
        commitment_id=commitment_id,
        customer_partner_id=customer.partner_id,
        performer_partner_ids=performers,
    )
    assert facts is not None
    derived.facts.append(tuple(fact_values(facts).values()))
    return _Indexed(alliance_id, commitment_id, first.text, conditions)


def _copied(
    alliance_id: str, records: Sequence[Any], people: dict[str, str]
) -> tuple[list[tuple], list[tuple]]:
    """The parties' and the acts' rows of ``records``, as the archive gives them, with
    each person's id."""
    parties = [
        (alliance_id, record.id, people[p.email], p.side, p.partner_id)
        for record in records
        for p in record.parties
    ]
    acts = [
        (
            alliance_id,
            record.id,
            seq,
            a.move,
            a.party,
            people[a.actor_email],
            a.at,
            a.text,
            a.conditions,
            a.due_at,
            a.reply_by,
            list(a.evidence) or None,
        )
        for record in records
        for seq, a in enumerate(record.acts, start=1)
    ]
    return parties, acts


DeriveChunk = Callable[[int, Sequence[Any]], Derived]
"""``(first, records)``: what ``derive`` gives for them, however it is made."""


CHUNK = 20_000
"""Commitments replayed and written per round: bounds the rows held in memory at once."""


def write_ledger(
    uow: UnitOfWork,
    alliance_id: str,
    archive: Any,
    people: dict[str, m.Person],
    between: Callable[[], None] | None = None,
    derived_by: DeriveChunk | None = None,
) -> None:
    """Assignments, positions and commitments, after the rest of the alliance is written.

    Commitments are replayed and written a chunk at a time, each table in one
    bulk insert per chunk (``db/bulk.py``), and indexed for search from the
    same values; the own indexes of the commitments and of their parties are made
    once all are written (``indexes_built_after``; a commitment has two parties at
    least, so its parties outnumber the commitments). A refused act anywhere rolls the
    whole import back, indexes and all, since it is one transaction. ``between`` runs
    after each chunk (see ``importer._Steps``).
    ``derived_by`` gives each chunk's derived rows when another process replays the
    acts (``chainworker``); else they are derived here (``derive``), the reference.
    """
    ids = {email: person.id for email, person in people.items()}
    uow.flush()
    session = uow.session
    assignments = [
        (alliance_id, a.obligation_id, ids[a.performer_email], ids[a.customer_email], a.assigned_at)
        for a in archive.obligation_assignments
    ]
    positions = [
        (alliance_id, d.id, p.member_id, p.position, p.reason)
        for d in archive.declarations
        for p in d.positions
    ]
    insert_rows(session, obligation_assignments, ASSIGNMENT_ROW, assignments)
    insert_rows(session, declaration_positions, POSITION_ROW, positions)
    records = archive.commitments
    with (
        indexes_built_after(session, commitments, len(records)),
        indexes_built_after(session, commitment_parties, len(records)),
    ):
        for start in range(0, len(records), CHUNK):
            chunk = records[start : start + CHUNK]
            derived = (derived_by or partial(derive, alliance_id))(start, chunk)
            parties, acts = _copied(alliance_id, chunk, ids)
            write = insert_converted if derived.converted else insert_rows
            write(session, commitments, COMMITMENT_ROW, derived.commitments)
            insert_rows(session, commitment_parties, PARTY_ROW, parties)
            insert_rows(session, speech_acts, ACT_ROW, acts)
            insert_rows(session, ledger_facts, STORED_COLUMNS, derived.facts)
            search_index.insert_entries(session, derived.entries)
            if between is not None:
                between()
