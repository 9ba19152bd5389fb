"""Importing an alliance archive (``coauthor-archive/1``): all or nothing, and idempotent.

The document is validated through the same input models and reference checks
as the services, and its event chain is checked, before anything is kept; a
problem raises ValidationFailed whose locations are JSON paths into the
document (``("risks", 3, "shares")`` is ``$.risks[3].shares``). The caller
commits, so a refused archive leaves the database as it was.

Ids in the archive are kept; people are matched by email (and created without
a usable password when missing), organizations by name. The alliance's own
chain is copied verbatim, so export → import → export gives the same bytes;
the import itself is recorded in the site chain.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from operator import attrgetter
from typing import Any

from pydantic import ValidationError

from coauthor import permissions
from coauthor.db.pagecache import page_cache_of
from coauthor.db.uow import UnitOfWork, foreign_keys_checked_at_end
from coauthor.domain import model as m
from coauthor.domain import pulse as pulse_model
from coauthor.domain.errors import Conflict, FieldError, Loc, ValidationFailed
from coauthor.services import eventlog
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.accounts.people import do_create_person, person_by_email
from coauthor.services.archive import chainworker, emergence, ledger
from coauthor.services.archive.collector import cyclic_gc_paused
from coauthor.services.archive.document import (
    SECTIONS,
    EventsApart,
    parse_archive,
    parse_events_apart,
    read_commitments,
    read_without_events,
    section_of,
)
from coauthor.services.archive.export import document_of
from coauthor.services.archive.sections import split_sections
from coauthor.services.mechanics import registers
from coauthor.services.mechanics.alliances import find_or_create_organization, partner_in

Progress = Callable[[str, int, int], None]
"""Called as ``report(what, done, total)`` while long work advances."""

logger = logging.getLogger(__name__)

PAGE_CACHE_PER_TEXT_BYTE = 2
"""An archive's text asks for twice its size of page cache: the database it fills is
about one and a half times that (``db/pagecache.py``)."""
PAGE_CACHE_MAX_KIB = 256 * 1024
"""The most SQLite's page cache may take during an import (256 MiB)."""

DELIBERATION_SECTIONS = (
    "deliberations",
    "participants",
    "statements",
    "votes",
    "declarations",
    "charter_clauses",
)
PULSE_SECTIONS = ("pulse_items", "pulse_waves", "pulse_responses", "pulse_comments")
ID_SECTIONS = (
    "partners",
    "members",
    "partner_notes",
    *map(section_of, registers.KINDS),
    *(section for section in DELIBERATION_SECTIONS if section != "votes"),
    *PULSE_SECTIONS,
    "commitments",
    "plot_twists",
    "tensions",
    "experiments",
    "learnings",
)
"""Sections whose items keep an id, unique within the section."""

SITE_WIDE = {"people", "organizations"}
"""Sections matched by email or name, whose details the target site may hold differently."""


def report_step(report: Progress | None, what: str, done: int, total: int) -> None:
    if report is not None:
        report(what, done, total)


def _under(prefix: Loc, errors: Sequence[FieldError]) -> list[FieldError]:
    return [FieldError(prefix + error.loc, error.message) for error in errors]


@contextmanager
def _located(*prefix: str | int) -> Iterator[None]:
    """Re-raise a service's ValidationFailed or Conflict with locations under ``prefix``."""
    try:
        yield
    except ValidationFailed as exc:
        raise ValidationFailed(_under(prefix, exc.errors)) from None
    except Conflict as exc:
        loc = exc.errors[0].loc if exc.errors else ()
        raise ValidationFailed.one(prefix + loc, exc.detail) from None


Key = Callable[[Any], Hashable]


def _duplicates(items: Sequence[Any], section: str, field: str, key: Key) -> list[FieldError]:
    """Items whose ``key`` another item shares (a key of None is never a duplicate)."""
    counts = Counter(key(item) for item in items)
    return [
        FieldError((section, index, field), f"{getattr(item, field)!r} appears more than once")
        for index, item in enumerate(items)
        if key(item) is not None and counts[key(item)] > 1
    ]


def _unique(items: Sequence[Any], section: str, field: str) -> list[FieldError]:
    return _duplicates(items, section, field, attrgetter(field))


def _listed(
    items: Sequence[Any],
    section: str,
    field: str,
    known: set[Any],
    where: str,
    *,
    per_deliberation: bool = False,
) -> list[FieldError]:
    """Items whose ``field`` (when set) is not among ``known``, optionally per deliberation."""
    errors = []
    for index, item in enumerate(items):
        value = getattr(item, field)
        key = (item.deliberation_id, value) if per_deliberation else value
        if value is not None and key not in known:
            errors.append(FieldError((section, index, field), f"{value!r} is not in {where}"))
    return errors


def _ids(items: Sequence[Any]) -> set[str]:
    return {item.id for item in items}


def _in_deliberation(items: Sequence[Any]) -> set[tuple[str, str]]:
    return {(item.deliberation_id, item.id) for item in items}


def _mechanics_link_errors(archive: Any, emails: set[str]) -> list[FieldError]:
    organizations = {org.name for org in archive.organizations}
    errors = [
        *_unique(archive.organizations, "organizations", "name"),
        *_unique(archive.people, "people", "email"),
        *_unique(archive.partners, "partners", "organization_name"),
        *_unique(archive.members, "members", "email"),
        *_listed(archive.partners, "partners", "organization_name", organizations, "organizations"),
        *_listed(archive.members, "members", "email", emails, "people"),
        *_listed(archive.partner_notes, "partner_notes", "author_email", emails, "people"),
    ]
    if archive.members and all(member.role != m.Role.MANAGER for member in archive.members):
        errors.append(FieldError(("members",), "the alliance needs at least one manager"))
    return errors


def _deliberation_link_errors(archive: Any, emails: set[str]) -> list[FieldError]:
    deliberations = _ids(archive.deliberations)
    participants = _in_deliberation(archive.participants)
    statements = _in_deliberation(archive.statements)
    their_participants = "its deliberation's participants"
    # (section, field, the values it may take, where they are listed, per deliberation)
    rules = (
        ("participants", "deliberation_id", deliberations, "deliberations", False),
        ("participants", "email", emails, "people", False),
        ("participants", "partner_id", _ids(archive.partners), "partners", False),
        ("statements", "deliberation_id", deliberations, "deliberations", False),
        ("statements", "author_participant_id", participants, their_participants, True),
        ("votes", "participant_id", participants, their_participants, True),
        ("votes", "statement_id", statements, "its deliberation's statements", True),
        ("declarations", "body_id", _ids(archive.bodies), "bodies", False),
        ("declarations", "declared_by_email", emails, "people", False),
    )
    errors = [
        error
        for section, field, known, where, scoped in rules
        for error in _listed(
            getattr(archive, section), section, field, known, where, per_deliberation=scoped
        )
    ]
    return [
        *errors,
        *_duplicates(archive.participants, "participants", "email", _seat),
        *_duplicates(archive.votes, "votes", "statement_id", _ballot),
    ]


def _seat(participant: Any) -> Hashable:
    """A person takes part in a deliberation once."""
    return (participant.deliberation_id, participant.email) if participant.email else None


def _ballot(vote: Any) -> Hashable:
    """A participant has one current vote per statement."""
    return (vote.participant_id, vote.statement_id)


def _pulse_link_errors(archive: Any) -> list[FieldError]:
    """Answers and comments belong to a wave of the archive; answers only to its items."""
    waves = _ids(archive.pulse_waves)
    errors = [
        *_listed(archive.pulse_responses, "pulse_responses", "wave_id", waves, "pulse_waves"),
        *_listed(archive.pulse_comments, "pulse_comments", "wave_id", waves, "pulse_waves"),
        *_listed(
            archive.pulse_responses,
            "pulse_responses",
            "partner_id",
            _ids(archive.partners),
            "partners",
        ),
    ]
    asked = {wave.id: {item.key for item in wave.items} for wave in archive.pulse_waves}
    for index, wave in enumerate(archive.pulse_waves):
        errors += _under(("pulse_waves", index), _unique(wave.items, "items", "key"))
    for index, response in enumerate(archive.pulse_responses):
        for key in response.answers:
            if response.wave_id in asked and key not in asked[response.wave_id]:
                loc = ("pulse_responses", index, "answers", key)
                errors.append(FieldError(loc, "is not an item of its wave"))
    return errors


def _link_errors(archive: Any) -> list[FieldError]:
    """What the input models cannot see: duplicates and links between sections."""
    emails = {person.email for person in archive.people}
    errors = _mechanics_link_errors(archive, emails) + _deliberation_link_errors(archive, emails)
    errors += _pulse_link_errors(archive)
    errors += ledger.link_errors(archive, emails)
    errors += emergence.link_errors(archive, emails)
    for section in ID_SECTIONS:
        errors += _unique(getattr(archive, section), section, "id")
    return errors


def _stated_head(archive: Any) -> eventlog.Head:
    if archive.head is not None:
        return eventlog.Head(**archive.head.model_dump())
    if archive.events:
        raise ValidationFailed.one(
            ("head",), "an archive with events states its chain's head (last seq and hash)"
        )
    return eventlog.EMPTY_HEAD


def _chain(uow: UnitOfWork, archive: Any) -> eventlog.Head:
    """The archive's events checked as a chain, as they are (no copy of each); a break is
    reported at its JSON path; the head it states.

    The chain must end where its head says, so events cut off the end are
    found. MACs under this server's key (an archive it exported) are checked;
    others cannot be.
    """
    head = _stated_head(archive)
    report = eventlog.check_records(archive.alliance.id, archive.events, head, key=uow.event_key)
    if not report.ok:
        loc: Loc = ("head",) if report.at_head else ("events", report.events - 1)
        raise ValidationFailed.one(loc, f"{report.where}: {report.reason}")
    return head


KEYED_FIELDS = ("key_id", "mac")


def _comparable(document: Any) -> dict[str, Any]:
    """What must match for an archive to be the alliance already here: not MACs (each
    server keys with its own secret), nor the site-wide details of people and organizations."""
    data = document.model_dump(mode="json", exclude=SITE_WIDE)
    for keyed in (*data["events"], data["head"] or {}):
        for name in KEYED_FIELDS:
            keyed.pop(name, None)
    return data


def _refuse_if_different(uow: UnitOfWork, existing: m.Alliance, archive: Any) -> None:
    if _comparable(document_of(uow, existing)) != _comparable(archive):
        raise Conflict(
            f"alliance {existing.id} already exists here with different content; "
            "nothing was imported",
            ("alliance", "id"),
        )


def _people(uow: UnitOfWork, actor: m.Person | None, archive: Any) -> dict[str, m.Person]:
    people: dict[str, m.Person] = {}
    for index, record in enumerate(archive.people):
        person = person_by_email(uow, record.email)
        if person is None:
            with _located("people", index):
                data = PersonInput(email=record.email, name=record.name)
                person = do_create_person(uow, actor, data, None, bootstrap=True)
        people[record.email] = person
    return people


def _organizations(uow: UnitOfWork, actor: m.Person | None, archive: Any) -> dict[str, str]:
    ids: dict[str, str] = {}
    for record in archive.organizations:
        is_new = uow.find_one(m.Organization, name=record.name) is None
        organization = find_or_create_organization(uow, actor, record.name)
        if is_new:
            organization.description = record.description
        ids[record.name] = organization.id
    return ids


def _write_alliance(uow: UnitOfWork, archive: Any) -> str:
    uow.add(m.Alliance(**archive.alliance.model_dump()))
    uow.flush()
    return archive.alliance.id


def _write_partners(uow: UnitOfWork, alliance_id: str, archive: Any, orgs: dict[str, str]) -> None:
    colours: list[int] = []
    for record in archive.partners:
        values = record.model_dump(exclude={"organization_name", "colour"})
        organization_id = orgs[record.organization_name]
        colour = m.first_free_colour(colours) if record.colour is None else record.colour
        colours.append(colour)
        uow.add(
            m.Partner(
                alliance_id=alliance_id, organization_id=organization_id, colour=colour, **values
            )
        )
    uow.flush()


def _write_members(
    uow: UnitOfWork, alliance_id: str, archive: Any, people: dict[str, m.Person]
) -> None:
    for index, record in enumerate(archive.members):
        with _located("members", index):
            partner_in(uow, alliance_id, record.partner_id)
        values = record.model_dump(exclude={"email"})
        uow.add(m.Member(alliance_id=alliance_id, person_id=people[record.email].id, **values))
    uow.flush()


def _write_notes(
    uow: UnitOfWork, alliance_id: str, archive: Any, people: dict[str, m.Person]
) -> None:
    for index, note in enumerate(archive.partner_notes):
        with _located("partner_notes", index):
            partner_in(uow, alliance_id, note.partner_id)
        values = note.model_dump(exclude={"author_email"})
        author_id = people[note.author_email].id
        uow.add(m.PartnerNote(alliance_id=alliance_id, author_person_id=author_id, **values))
    uow.flush()


def _write_items(uow: UnitOfWork, alliance_id: str, kind: registers.Kind, records: list) -> None:
    nested = {children.field for children in kind.children}
    for index, record in enumerate(records):
        errors = registers.reference_errors(uow, alliance_id, kind, record)
        if errors:
            raise ValidationFailed(_under((section_of(kind.name), index), errors))
        uow.add(kind.entity(alliance_id=alliance_id, **record.model_dump(exclude=nested)))
        uow.flush()
        registers.replace_children(uow, alliance_id, kind, record.id, record)
    uow.flush()


def _person_id(people: dict[str, m.Person], email: str | None) -> str | None:
    return people[email].id if email else None


def _write_deliberations(
    uow: UnitOfWork, alliance_id: str, archive: Any, people: dict[str, m.Person]
) -> None:
    """Deliberations and what hangs on them; their links were checked in the document."""
    scope = {"alliance_id": alliance_id}
    uow.add_all(m.Deliberation(**scope, **d.model_dump()) for d in archive.deliberations)
    uow.flush()
    uow.add_all(
        m.Participant(
            **scope, person_id=_person_id(people, p.email), **p.model_dump(exclude={"email"})
        )
        for p in archive.participants
    )
    uow.flush()
    uow.add_all(m.Statement(**scope, **s.model_dump()) for s in archive.statements)
    uow.flush()
    uow.add_all(m.Vote(**scope, **v.model_dump()) for v in archive.votes)
    uow.add_all(
        m.Declaration(
            **scope,
            declared_by_person_id=_person_id(people, d.declared_by_email),
            **d.model_dump(exclude={"declared_by_email", "positions"}),
        )
        for d in archive.declarations
    )
    uow.flush()
    uow.add_all(m.CharterClause(**scope, **c.model_dump()) for c in archive.charter_clauses)
    uow.flush()


def _write_pulse(uow: UnitOfWork, alliance_id: str, archive: Any) -> None:
    """The pulse as archived; there are no invitations to write (they are never exported)."""
    scope = {"alliance_id": alliance_id}
    uow.add_all(pulse_model.CustomItem(**scope, **i.model_dump()) for i in archive.pulse_items)
    for wave in archive.pulse_waves:
        uow.add(pulse_model.Wave(**scope, **wave.model_dump(exclude={"items"})))
        uow.flush()
        uow.add_all(
            pulse_model.WaveItem(**scope, wave_id=wave.id, **item.model_dump())
            for item in wave.items
        )
    uow.flush()
    uow.add_all(pulse_model.Response(**scope, **r.model_dump()) for r in archive.pulse_responses)
    uow.add_all(pulse_model.Comment(**scope, **c.model_dump()) for c in archive.pulse_comments)
    uow.flush()


class _Steps:
    """Reports each finished section of the archive to ``report``, and runs ``between``
    (the event chain's worker's rows written as they come) after each. ``_write`` sets it
    once the organizations and people the import creates are written, with their events
    in the site chain: the events table then holds its rows in the same order whenever
    the worker's arrive."""

    def __init__(self, report: Progress | None, between: Callable[[], None] | None) -> None:
        self.report = report
        self.between = between
        self.done = 0

    def __call__(self, section: str) -> None:
        self.done += 1
        report_step(self.report, f"imported {section}", self.done, len(SECTIONS))
        if self.between is not None:
            self.between()


def _write(
    uow: UnitOfWork,
    actor: m.Person | None,
    archive: Any,
    head: eventlog.Head,
    report: Progress | None,
    between: Callable[[], None] | None = None,
    derived_by: ledger.DeriveChunk | None = None,
) -> None:
    step = _Steps(report, None)
    alliance_id = _write_alliance(uow, archive)
    step("alliance")
    organizations = _organizations(uow, actor, archive)
    step("organizations")
    people = _people(uow, actor, archive)
    step.between = between  # the worker's events after the site chain's, at any pace
    step("people")
    _write_partners(uow, alliance_id, archive, organizations)
    step("partners")
    _write_members(uow, alliance_id, archive, people)
    step("members")
    _write_notes(uow, alliance_id, archive, people)
    step("partner_notes")
    for name, kind in registers.KINDS.items():
        _write_items(uow, alliance_id, kind, getattr(archive, section_of(name)))
        step(section_of(name))
    _write_deliberations(uow, alliance_id, archive, people)
    for section in DELIBERATION_SECTIONS:
        step(section)
    _write_pulse(uow, alliance_id, archive)
    for section in PULSE_SECTIONS:
        step(section)
    ledger.write_ledger(uow, alliance_id, archive, people, between, derived_by)
    step("obligation_assignments")
    step("commitments")
    emergence.write(uow, alliance_id, archive, people)
    for section in emergence.SECTIONS:
        step(section)
    eventlog.write_chain(uow, alliance_id, archive.events, head)
    step("events")


@foreign_keys_checked_at_end
def do_import_archive(
    uow: UnitOfWork,
    actor: m.Person | None,
    document: dict[str, Any] | str | bytes,
    *,
    bootstrap: bool = False,
    report: Progress | None = None,
) -> tuple[str, bool]:
    """Import an archive: ``(alliance id, True)``, or ``(id, False)`` when already here.

    ``document`` is the decoded archive or its JSON text (see ``parse_archive``).

    Only the operator (``bootstrap``, the CLI) or a site administrator may import.
    The cyclic garbage collector is paused meanwhile (``collector.py``), and on
    SQLite the connection's page cache is twice as large as the archive's text, up
    to ``PAGE_CACHE_MAX_KIB`` (``db/pagecache.py``). Run by ``uow.write`` on SQLite,
    its foreign keys are checked once before the commit, not per row
    (``db/foreignkeys.py``): the link checks above refuse what they know first.
    """
    if not bootstrap:
        permissions.require_admin(actor)
    with cyclic_gc_paused(), page_cache_of(uow.session, _page_cache_kib(document)):
        return _import(uow, actor, document, report)


def _page_cache_kib(document: dict[str, Any] | str | bytes) -> int:
    """The page cache an import of ``document`` asks for, in KiB: by its text's size,
    bounded (a decoded document, a test's or an API's, is small: none asked)."""
    if isinstance(document, dict):
        return 0
    return min(PAGE_CACHE_PER_TEXT_BYTE * len(document) // 1024, PAGE_CACHE_MAX_KIB)


class _NotThisWay(Exception):
    """The archive cannot be imported with its events read in chunks; read it whole."""


def _chain_in_chunks(uow: UnitOfWork, apart: EventsApart, head: eventlog.Head) -> int:
    """Read, check and write the archive's events a chunk at a time; how many there were.

    Each chunk is written once its events are checked (``check_records`` asks
    for the next event only after checking the one before), so no more than a
    chunk of records is held. Any refusal raises ``_NotThisWay``: the caller
    rolls the events back and reads the archive whole, for its errors.
    """
    chain_id = apart.archive.alliance.id

    def records() -> Iterator[Any]:
        chunks = apart.chunks()
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            except ValidationError:
                raise _NotThisWay from None
            yield from chunk
            eventlog.write_events(uow, chain_id, chunk)

    checked = eventlog.check_records(chain_id, records(), head, key=uow.event_key)
    if not checked.ok:
        raise _NotThisWay
    return checked.events


def _import_in_chunks(
    uow: UnitOfWork, actor: m.Person | None, raw: bytes, report: Progress | None
) -> tuple[str, bool] | None:
    """Import ``raw`` with its events apart: by a worker process beside this one when the
    chain is long enough (``chainworker``), else in this process; None as
    ``_import_in_one_process`` says."""
    if _may_need_a_worker(uow, raw):
        try:
            return _import_with_worker(uow, actor, raw, report)
        except chainworker.WorkerLost as lost:
            logger.warning("%s; importing the archive without it", lost)
        except _NoChainForAWorker:
            pass
    return _import_in_one_process(uow, actor, raw, report)


def _may_need_a_worker(uow: UnitOfWork, raw: bytes) -> bool:
    """Whether a worker may take the chain of ``raw``: on SQLite, with at least
    ``EVENTS_FOR_A_WORKER`` events (each has one ``prev_hash``: a quick count)."""
    if uow.session.get_bind().dialect.name != "sqlite":
        return False
    return _holds_at_least(raw, b'"prev_hash"', chainworker.EVENTS_FOR_A_WORKER)


_COUNTED_AT_ONCE = 1 << 24


def _holds_at_least(raw: bytes, word: bytes, count: int) -> bool:
    """Whether ``word`` is found ``count`` times in ``raw``, counted a piece at a time up to
    the ``count``-th: the events of a large archive come first, and counting a whole
    700 MB text took half a second on the import's own path. Each piece counts the words
    that start in it (its end reaches past by one word less a byte)."""
    found = 0
    for start in range(0, len(raw), _COUNTED_AT_ONCE):
        if found >= count:
            break
        found += raw.count(word, start, start + _COUNTED_AT_ONCE + len(word) - 1)
    return found >= count


class _NoChainForAWorker(Exception):
    """The events are not found in the text, or fewer than a worker is for: import in
    this process (nothing written)."""


def _sections_for_a_worker(raw: bytes) -> chainworker.Sections:
    """The events' and commitments' sections of ``raw`` when a worker should take the
    chain (at least ``EVENTS_FOR_A_WORKER`` events), else ``_NoChainForAWorker``. Found
    while the worker scans the text: what is found here counts only if the scan passes."""
    try:
        found = split_sections(raw, ("events", "commitments"))
    except ValueError:
        raise _NoChainForAWorker from None
    events = found["events"]
    if events is None or events.items < chainworker.EVENTS_FOR_A_WORKER:
        raise _NoChainForAWorker
    return chainworker.Sections(events, found["commitments"])


def _import_with_worker(
    uow: UnitOfWork, actor: m.Person | None, raw: bytes, report: Progress | None
) -> tuple[str, bool] | None:
    """``_import_in_one_process`` with the scan, the commitments' replay and the chain in
    a worker: the rest is read and written meanwhile, the chain's rows and the
    commitments' derived rows written as they come, all under a savepoint rolled back
    when the worker refuses (the caller then reads the archive whole, for its errors).
    The worker is started first, its scan running while the sections are found here.
    Raises ``WorkerLost`` (rolled back) when the worker fails, ``_NoChainForAWorker``
    (nothing written) when the chain is not one for a worker."""
    dialect = uow.session.get_bind().dialect
    worker = chainworker.ChainWorker(raw, uow.event_key, dialect)
    try:
        sections = _sections_for_a_worker(raw)
        worker.read(sections)
        archive = _read_beside(raw, sections, worker)
        if archive is None:
            return None
        if uow.get(m.Alliance, id=archive.alliance.id) is not None or _link_errors(archive):
            return None
        if archive.head is None:
            return None
        head = _stated_head(archive)
        try:
            with uow.session.begin_nested():
                count = _write_beside(uow, actor, archive, head, report, worker)
        except _NotThisWay:
            return None
    finally:
        worker.stop()
    _record_import(uow, actor, archive.alliance.id, count, head.hash)
    return archive.alliance.id, True


def _read_beside(
    raw: bytes, sections: chainworker.Sections, worker: chainworker.ChainWorker
) -> Any:
    """The archive but its events, as ``read_without_events`` reads it; None when the
    models refuse it. The worker is told the alliance's id as soon as it is read: when
    the commitments' section was found, the rest of the document is read first, without
    them, and the commitments after it, while the worker replays them."""
    commitments = sections.commitments
    apart = read_without_events(raw, sections.events, commitments)
    if apart is None:
        return None
    archive = apart.archive
    worker.begin(archive.alliance.id)
    if commitments is not None:
        try:
            archive.commitments = read_commitments(commitments.whole(raw))
        except ValidationError:
            return None
        if commitments.items != len(archive.commitments):
            return None
    return archive


def _write_beside(
    uow: UnitOfWork,
    actor: m.Person | None,
    archive: Any,
    head: eventlog.Head,
    report: Progress | None,
    worker: chainworker.ChainWorker,
) -> int:
    """Write the archive but its events while the worker checks them, then its events'
    rows; how many events. A refusal of the worker's raises ``_NotThisWay``; an error
    of the rest is raised when the worker finds the chain intact (as when the chain is
    checked first), else ``_NotThisWay`` too: the whole document's error is the chain's.
    The commitments' acts are replayed by the worker when it was given their section, each
    chunk by whichever process claims it first (``chainworker.Claims``)."""
    derived_by = (
        worker.derived_by(uow, archive.alliance.id, archive.commitments) if worker.derives else None
    )
    try:
        _write(uow, actor, archive, head, report, lambda: worker.write_arrived(uow), derived_by)
    except chainworker.Refused:
        raise _NotThisWay from None
    except Exception:
        if worker.verdict(None).refused:
            raise _NotThisWay from None
        raise
    verdict = worker.verdict(uow)
    if verdict.refused:
        raise _NotThisWay
    chain_id = archive.alliance.id
    end = eventlog.check_records_end(
        chain_id, verdict.events, verdict.last_hash, head, key=uow.event_key
    )
    if not end.ok:
        raise _NotThisWay
    return verdict.events


def _import_in_one_process(
    uow: UnitOfWork, actor: m.Person | None, raw: bytes, report: Progress | None
) -> tuple[str, bool] | None:
    """Import ``raw`` with its events read, checked and written a chunk at a time, first;
    None (nothing written) when the archive must be read whole: it is refused somewhere,
    or its alliance is here already, so its errors or its comparison are the whole
    document's, exactly as before."""
    apart = parse_events_apart(raw)
    if apart is None:
        return None
    archive = apart.archive
    if uow.get(m.Alliance, id=archive.alliance.id) is not None or _link_errors(archive):
        return None
    if archive.head is None and apart.events.items:
        return None
    head = _stated_head(archive)
    try:
        with uow.session.begin_nested():
            count = _chain_in_chunks(uow, apart, head)
    except _NotThisWay:
        return None
    _write(uow, actor, archive, head, report)
    _record_import(uow, actor, archive.alliance.id, count, head.hash)
    return archive.alliance.id, True


def _record_import(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, events: int, last_hash: str
) -> None:
    eventlog.append(
        uow,
        eventlog.SITE_CHAIN,
        actor,
        "alliance.imported",
        {
            "id": alliance_id,
            "events": events,
            "last_hash": last_hash if events else eventlog.GENESIS,
        },
    )


def _import(
    uow: UnitOfWork,
    actor: m.Person | None,
    document: dict[str, Any] | str | bytes,
    report: Progress | None,
) -> tuple[str, bool]:
    if isinstance(document, str | bytes):
        raw = document.encode() if isinstance(document, str) else document
        imported = _import_in_chunks(uow, actor, raw, report)
        if imported is not None:
            return imported
    archive = parse_archive(document)
    existing = uow.get(m.Alliance, id=archive.alliance.id)
    if existing is not None:
        _refuse_if_different(uow, existing, archive)
        return existing.id, False
    errors = _link_errors(archive)
    if errors:
        raise ValidationFailed(errors)
    head = _chain(uow, archive)
    _write(uow, actor, archive, head, report)
    last_hash = archive.events[-1].hash if archive.events else eventlog.GENESIS
    _record_import(uow, actor, archive.alliance.id, len(archive.events), last_hash)
    return archive.alliance.id, True
