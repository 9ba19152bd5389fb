"""The shared story: what the alliance lived, in chapters, composed from what it recorded.

Chapters run by calendar quarter (UTC) or by the alliance's stages (from the
stage changes in its event log). Each holds, in time order: clauses added to
the charter, declarations with their dissent, plot twists and how they were
met, tensions and their course, experiments and their results, learnings,
commitments kept and broken, deliberations' released consensus, and closed
pulse waves' scores for the whole alliance.

What a reader may see holds here too: the story needs someone who may view
the alliance, never reads a partner's private notes, and takes deliberation
and pulse results only from their services' released and aggregate outputs
(``released_consensus``, the releases' times, ``figures_of`` for the
whole alliance), which obey the anonymity rules — never votes
or answers.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from coauthor.analysis.emergence_metrics import EmergenceMetrics
from coauthor.analysis.pulse_results import ALLIANCE
from coauthor.db.tables import deliberation_releases
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.commitments import Commitment, DeclarationPosition
from coauthor.domain.declarations import DISSENTING
from coauthor.domain.emergence import (
    EmergenceLink,
    Experiment,
    ExperimentState,
    Learning,
    LinkKind,
    PlotTwist,
    Tension,
    TensionPartner,
    TensionState,
    TensionStep,
)
from coauthor.domain.errors import NotFound
from coauthor.domain.ledger import Phase
from coauthor.domain.pulse import DIMENSION_LABELS, SCALE_POINTS, Dimension, Wave
from coauthor.services import eventlog
from coauthor.services.deliberation import results as deliberation_results
from coauthor.services.emergence.facts import alliance_metrics
from coauthor.services.ledger.declarations import DECLARATION_SOURCE
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.services.pulse import results as pulse_results
from coauthor.services.pulse.access import wave_items


class Chaptering(enum.StrEnum):
    QUARTER = "quarter"
    STAGE = "stage"


class EntryKind(enum.StrEnum):
    CHARTER = "charter"
    DECLARATION = "declaration"
    PLOT_TWIST = "plot_twist"
    TENSION = "tension"
    EXPERIMENT = "experiment"
    LEARNING = "learning"
    KEPT = "kept"
    BROKEN = "broken"
    DELIBERATION = "deliberation"
    PULSE = "pulse"


ENTRY_LABELS = {
    EntryKind.CHARTER: "Charter",
    EntryKind.DECLARATION: "Declaration",
    EntryKind.PLOT_TWIST: "Plot twist",
    EntryKind.TENSION: "Tension",
    EntryKind.EXPERIMENT: "Experiment",
    EntryKind.LEARNING: "Learning",
    EntryKind.KEPT: "Commitment kept",
    EntryKind.BROKEN: "Commitment broken",
    EntryKind.DELIBERATION: "Deliberation",
    EntryKind.PULSE: "Pulse",
}
DECLARATION_PREFIX = DECLARATION_SOURCE.split("{")[0]
"""How a charter clause added by a declaration names its source ("declaration de_…")."""
KEPT_PHASES = frozenset({Phase.FULFILLED})
BROKEN_PHASES = frozenset({Phase.RENEGED})
"""A promise broken is a renege; a withdrawal or a decline is part of keeping one's word."""
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: EntryKind
    title: str
    details: list[str] = field(default_factory=list)
    ref: str = ""
    """The id of what it tells about (for links on the timeline page)."""

    @property
    def label(self) -> str:
        return ENTRY_LABELS[self.kind]


@dataclass(frozen=True)
class Chapter:
    title: str
    start: datetime
    entries: list[Entry]

    def count(self, kind: EntryKind) -> int:
        return sum(1 for entry in self.entries if entry.kind is kind)


@dataclass(frozen=True)
class Story:
    alliance: m.Alliance
    chaptering: Chaptering
    chapters: list[Chapter]
    charter: list[str]
    """The clauses in force now."""
    metrics: EmergenceMetrics
    kept: int
    broken: int
    composed_at: datetime

    @property
    def entries(self) -> int:
        return sum(len(chapter.entries) for chapter in self.chapters)


def _names(uow: UnitOfWork, alliance_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """person id → name, and member id → name, of the alliance's members."""
    rows = uow.session.execute(
        sa.select(m.Member.id, m.Person.id, m.Person.name)
        .join(m.Person, m.Person.id == m.Member.person_id)
        .where(m.Member.alliance_id == alliance_id)
    ).all()
    return {p: name for _, p, name in rows}, {member: name for member, _, name in rows}


def partner_labels(uow: UnitOfWork, alliance_id: str) -> dict[str, str]:
    rows = uow.session.execute(
        sa.select(m.Partner.id, m.Organization.name)
        .join(m.Organization, m.Organization.id == m.Partner.organization_id)
        .where(m.Partner.alliance_id == alliance_id)
    ).all()
    return {partner_id: name for partner_id, name in rows}


def _charter_entries(uow: UnitOfWork, alliance_id: str) -> list[Entry]:
    """Clauses written into the charter directly or from a deliberation; a declaration's
    clause is told with the declaration."""
    return [
        Entry(c.added_at, EntryKind.CHARTER, c.text, ref=c.id)
        for c in uow.find(m.CharterClause, alliance_id=alliance_id)
        if not c.source.startswith(DECLARATION_PREFIX)
    ]


def _declaration_entries(uow: UnitOfWork, alliance_id: str, members: dict[str, str]) -> list[Entry]:
    dissent: dict[str, list[str]] = {}
    for p in uow.find(DeclarationPosition, alliance_id=alliance_id):
        if p.position in DISSENTING:
            said = f": “{p.reason}”" if p.reason else ""
            name = members.get(p.member_id, "A member")
            dissent.setdefault(p.declaration_id, []).append(f"{name} ({p.position.value}){said}")
    chartered = {
        c.source.removeprefix(DECLARATION_PREFIX)
        for c in uow.find(m.CharterClause, alliance_id=alliance_id)
    }
    entries = []
    for d in uow.find(m.Declaration, alliance_id=alliance_id):
        details = [d.rationale] if d.rationale else []
        if d.id in chartered:
            details.append("Written into the charter.")
        details += [f"Dissent — {line}" for line in sorted(dissent.get(d.id, []))]
        if d.dissent:
            details.append(f"Dissent — {d.dissent}")
        entries.append(Entry(d.declared_at, EntryKind.DECLARATION, d.text, details, d.id))
    return entries


def _link_words(uow: UnitOfWork, alliance_id: str) -> dict[tuple[LinkKind, str], str]:
    words: dict[tuple[LinkKind, str], str] = {}
    for kind, cls, text in (
        (LinkKind.COMMITMENT, Commitment, Commitment.what),
        (LinkKind.DECLARATION, m.Declaration, m.Declaration.text),
        (LinkKind.EXPERIMENT, Experiment, Experiment.hypothesis),
        (LinkKind.MEETING, m.Meeting, m.Meeting.title),
    ):
        query = sa.select(cls.id, text).where(cls.alliance_id == alliance_id)
        words |= {(kind, item_id): said for item_id, said in uow.session.execute(query)}
    return words


def _links(uow: UnitOfWork, alliance_id: str) -> dict[str, list[EmergenceLink]]:
    grouped: dict[str, list[EmergenceLink]] = {}
    for link in uow.find(EmergenceLink, alliance_id=alliance_id, order_by=EmergenceLink.linked_at):
        grouped.setdefault(link.source_id, []).append(link)
    return grouped


def _twist_entries(
    uow: UnitOfWork,
    alliance_id: str,
    people: dict[str, str],
    partners: dict[str, str],
    links: dict[str, list[EmergenceLink]],
    words: dict[tuple[LinkKind, str], str],
) -> list[Entry]:
    entries = []
    for t in uow.find(PlotTwist, alliance_id=alliance_id):
        who = people.get(t.raised_by_person_id or "", "someone")
        partner = partners.get(t.raised_by_partner_id or "", "")
        details = [f"{t.kind.value.capitalize()}, {t.severity.value} — raised by {who}"
                   + (f" ({partner})" if partner else "")]  # fmt: skip
        if t.description:
            details.append(t.description)
        for link in links.get(t.id, []):
            said = words.get((link.target_kind, link.target_id), "")
            verb = "Discussed at" if link.target_kind is LinkKind.MEETING else "Answered by"
            details.append(f"{verb} the {link.target_kind.value}: {said}")
        if t.resolved:
            details.append(f"How it was met: {t.resolution}")
        elif not links.get(t.id):
            details.append("No response recorded yet.")
        entries.append(Entry(t.raised_at, EntryKind.PLOT_TWIST, t.title, details, t.id))
    return entries


def _tension_entries(
    uow: UnitOfWork,
    alliance_id: str,
    partners: dict[str, str],
    links: dict[str, list[EmergenceLink]],
    words: dict[tuple[LinkKind, str], str],
    now: datetime,
) -> list[Entry]:
    sides: dict[str, list[str]] = {}
    for row in uow.find(TensionPartner, alliance_id=alliance_id):
        sides.setdefault(row.tension_id, []).append(partners.get(row.partner_id, "?"))
    course: dict[str, list[str]] = {}
    for step in uow.find(TensionStep, alliance_id=alliance_id, order_by=TensionStep.seq):
        course.setdefault(step.tension_id, []).append(step.state.value)
    entries = []
    for t in uow.find(Tension, alliance_id=alliance_id):
        details = [
            f"Between {', '.join(sorted(sides.get(t.id, [])))}",
            "Course: " + " → ".join(course.get(t.id, [t.state.value])),
        ]
        meetings = [
            words.get((link.target_kind, link.target_id), "")
            for link in links.get(t.id, [])
            if link.target_kind is LinkKind.MEETING
        ]
        if meetings:
            details.append("Engaged at: " + "; ".join(meetings))
        if t.state is TensionState.RESOLVED:
            details.append(f"Resolved after {t.age_days(now)} days: {t.outcome}")
        elif t.state is TensionState.ABANDONED:
            details.append(f"Left after {t.age_days(now)} days: {t.outcome}")
        else:
            details.append(f"Still open, {t.age_days(now)} days on.")
        entries.append(Entry(t.surfaced_at, EntryKind.TENSION, t.about, details, t.id))
    return entries


def _experiment_entries(uow: UnitOfWork, alliance_id: str) -> list[Entry]:
    entries = []
    for e in uow.find(Experiment, alliance_id=alliance_id):
        details = [f"We tried: {e.action}", f"Signal: {e.signal}"]
        if e.state is ExperimentState.CONCLUDED:
            details.append(f"Result: {e.result}")
        elif e.state is ExperimentState.ABANDONED:
            details.append(f"Stopped: {e.result}")
        else:
            details.append(f"{e.state.value.capitalize()}; the signal is read by {e.review_on}")
        if e.adjustment:
            details.append(f"We adjust: {e.adjustment}")
        entries.append(Entry(e.created_at, EntryKind.EXPERIMENT, e.hypothesis, details, e.id))
    return entries


def _learning_entries(uow: UnitOfWork, alliance_id: str) -> list[Entry]:
    return [
        Entry(x.recorded_at, EntryKind.LEARNING, x.text, ref=x.id)
        for x in uow.find(Learning, alliance_id=alliance_id)
    ]


def _commitment_entries(uow: UnitOfWork, alliance_id: str) -> list[Entry]:
    ended = uow.find(
        Commitment,
        Commitment.phase.in_(sorted(KEPT_PHASES | BROKEN_PHASES)),
        alliance_id=alliance_id,
    )
    return [
        Entry(
            c.last_move_at,
            EntryKind.KEPT if c.phase in KEPT_PHASES else EntryKind.BROKEN,
            c.what,
            ref=c.id,
        )
        for c in ended
    ]


def _latest_release_times(uow: UnitOfWork, alliance_id: str) -> dict[str, datetime]:
    table = deliberation_releases
    query = (
        sa.select(table.c.deliberation_id, sa.func.max(table.c.released_at))
        .where(table.c.alliance_id == alliance_id)
        .group_by(table.c.deliberation_id)
    )
    return {deliberation_id: at for deliberation_id, at in uow.session.execute(query)}


def _deliberation_entries(uow: UnitOfWork, alliance_id: str) -> list[Entry]:
    """Each released deliberation: its consensus as the latest release shows it (never votes)."""
    released = _latest_release_times(uow, alliance_id)
    entries = []
    for d in uow.find(m.Deliberation, alliance_id=alliance_id):
        if d.id not in released:
            continue
        agreed = deliberation_results.released_consensus(uow, d)
        statements = uow.find(
            m.Statement, m.Statement.id.in_(sorted(agreed)), alliance_id=alliance_id
        )
        details = [f"Agreed: {s.text}" for s in sorted(statements, key=lambda s: s.created_at)]
        if not details:
            details = ["No statement reached a consensus the release may show."]
        entries.append(Entry(released[d.id], EntryKind.DELIBERATION, d.question, details, d.id))
    return entries


def _pulse_entries(uow: UnitOfWork, alliance_id: str, threshold: int) -> list[Entry]:
    """Closed waves' scores for the whole alliance, where the wave may report them."""
    now = uow.clock.now()
    entries = []
    for wave in uow.find(Wave, alliance_id=alliance_id, order_by=Wave.closes_at):
        if wave.is_open(now):
            continue
        figures = pulse_results.figures_of(uow, wave, wave_items(uow, wave), threshold)
        whole = figures.group(ALLIANCE)
        details = [
            f"{DIMENSION_LABELS[d]}: {whole.scores[d.value].mean:.1f} of {SCALE_POINTS} "
            f"(n = {whole.scores[d.value].n})"
            for d in Dimension
            if whole is not None and d.value in whole.scores
        ]
        entries.append(
            Entry(
                wave.closes_at,
                EntryKind.PULSE,
                wave.title,
                details or ["Too few answers to report the alliance's scores."],
                wave.id,
            )
        )
    return entries


def quarter_of(moment: datetime) -> tuple[int, int]:
    return moment.year, (moment.month - 1) // 3 + 1


def _quarter_title(year: int, quarter: int) -> str:
    first = MONTHS[(quarter - 1) * 3]
    last = MONTHS[(quarter - 1) * 3 + 2]
    return f"{year}, Q{quarter}: {first} to {last}"


def by_quarter(entries: Sequence[Entry]) -> list[Chapter]:
    chapters: dict[tuple[int, int], list[Entry]] = {}
    for entry in sorted(entries, key=lambda e: (e.at, e.kind.value, e.title)):
        chapters.setdefault(quarter_of(entry.at), []).append(entry)
    return [
        Chapter(_quarter_title(*key), datetime(key[0], (key[1] - 1) * 3 + 1, 1, tzinfo=UTC), items)
        for key, items in chapters.items()
    ]


def stage_changes(uow: UnitOfWork, alliance: m.Alliance) -> list[tuple[datetime, str]]:
    """(from when, stage) in order: the stage at creation, then each change in the event log."""
    changes: list[tuple[datetime, str]] = []
    for event in eventlog.chain_events(uow, alliance.id):
        stage = event.payload.get("stage") if event.kind.startswith("alliance.") else None
        if stage and (not changes or changes[-1][1] != stage):
            changes.append((event.at, stage))
    if not changes:
        changes.append((alliance.created_at, alliance.stage.value))
    return changes


def by_stage(entries: Sequence[Entry], changes: Sequence[tuple[datetime, str]]) -> list[Chapter]:
    """One chapter per stage the alliance went through; what came before the first stage
    change belongs to the first stage."""
    ordered = sorted(entries, key=lambda e: (e.at, e.kind.value, e.title))
    chapters = []
    for index, (start, stage) in enumerate(changes):
        end = changes[index + 1][0] if index + 1 < len(changes) else None
        items = [
            e for e in ordered if (index == 0 or e.at >= start) and (end is None or e.at < end)
        ]
        title = stage.replace("_", " ").capitalize()
        chapters.append(Chapter(f"{title} (from {start:%-d %B %Y})", start, items))
    return [chapter for chapter in chapters if chapter.entries]


def _every_entry(uow: UnitOfWork, alliance_id: str, pulse_threshold: int) -> list[Entry]:
    people, members = _names(uow, alliance_id)
    partners = partner_labels(uow, alliance_id)
    links = _links(uow, alliance_id)
    words = _link_words(uow, alliance_id)
    now = uow.clock.now()
    groups: Iterable[list[Entry]] = (
        _charter_entries(uow, alliance_id),
        _declaration_entries(uow, alliance_id, members),
        _twist_entries(uow, alliance_id, people, partners, links, words),
        _tension_entries(uow, alliance_id, partners, links, words, now),
        _experiment_entries(uow, alliance_id),
        _learning_entries(uow, alliance_id),
        _commitment_entries(uow, alliance_id),
        _deliberation_entries(uow, alliance_id),
        _pulse_entries(uow, alliance_id, pulse_threshold),
    )
    return [entry for group in groups for entry in group]


def compose_story(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    pulse_threshold: int,
    chaptering: Chaptering = Chaptering.QUARTER,
) -> Story:
    """The alliance's story for a reader who may view the alliance."""
    access = open_alliance(uow, actor, alliance_id)
    return _compose(uow, access.alliance, pulse_threshold, chaptering)


def operator_story(
    uow: UnitOfWork,
    alliance_id: str,
    pulse_threshold: int,
    chaptering: Chaptering = Chaptering.QUARTER,
) -> Story:
    """The story for the server's operator (the CLI), who holds the database already.

    It holds exactly what every member reads: no private notes, anonymity kept.
    """
    alliance = uow.get(m.Alliance, id=alliance_id)
    if alliance is None:
        raise NotFound("no such alliance")
    return _compose(uow, alliance, pulse_threshold, chaptering)


def _compose(
    uow: UnitOfWork, alliance: m.Alliance, pulse_threshold: int, chaptering: Chaptering
) -> Story:
    entries = _every_entry(uow, alliance.id, pulse_threshold)
    if chaptering is Chaptering.STAGE:
        chapters = by_stage(entries, stage_changes(uow, alliance))
    else:
        chapters = by_quarter(entries)
    clauses = uow.find(m.CharterClause, alliance_id=alliance.id, order_by=m.CharterClause.added_at)
    return Story(
        alliance=alliance,
        chaptering=chaptering,
        chapters=chapters,
        charter=[c.text for c in clauses if c.repealed_by_declaration_id is None],
        metrics=alliance_metrics(uow, alliance.id),
        kept=sum(1 for e in entries if e.kind is EntryKind.KEPT),
        broken=sum(1 for e in entries if e.kind is EntryKind.BROKEN),
        composed_at=uow.clock.now(),
    )
