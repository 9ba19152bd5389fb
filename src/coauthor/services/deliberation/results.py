"""Deliberation results, published in releases that no one's vote can be read from.

A release is the opinion analysis of the votes as they stood at one moment,
reduced to facts that describe at least ``threshold`` people each (the rules
of ``analysis/anonymity.py``), and stored with the deliberation:

- the first release waits until ``threshold`` people have voted, and each
  later one until ``threshold`` people have voted since the one before, so
  two releases never differ by the votes of fewer than ``threshold`` people
  (comparing results before and after someone's vote tells nothing);
- a statement's counts and shares, a group's reasons, a partner's shares and
  a cell of the groups × partners table are published only where at least
  ``threshold`` people stand behind them; smaller groups are said to exist,
  without their size; no partner is named as left out;
- the analysis state the next release warm-starts from is stored with the
  release, so every server process continues from the same point and shows
  the same groups (there is no per-process cache).

Moderation (accepting, rejecting, marking meta) takes effect at the next
release. ``priorities`` in a release route the voting card, so routing never
runs the math itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import repeat
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlalchemy as sa

from coauthor.analysis.anonymity import merge_small, release_due, reportable, shown_count
from coauthor.analysis.opinion import (
    OpinionResult,
    VoteMatrix,
    analyze,
    analyze_from_state,
    bridging_and_fault_lines,
    partner_alignment,
)
from coauthor.analysis.opinion_codec import state_from_json, state_to_json
from coauthor.db.tables import deliberation_releases, votes
from coauthor.db.tables import participants as participants_table
from coauthor.db.tables import statements as statements_table
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.services.deliberation import documents
from coauthor.services.deliberation.access import open_deliberation, ordered_statements

if TYPE_CHECKING:
    from coauthor.services.deliberation.kept_votes import KeptVotes

OTHER_PARTNERS = "other"
"""The partner id that stands for partners merged because each is smaller than the threshold."""
DIVISIVE_MAX = 5
DIVISIVE_MIN_SPREAD = 0.25
"""A statement is divisive when its agree rate differs by this much between two groups."""
ALIGNED_P = 0.05
"""Below this permutation p-value, opinion groups are said to follow partner lines."""
ALIGNMENT_PERMUTATIONS = 1000
MIN_FAULT_LINE_VOTES = 5


@dataclass(frozen=True)
class Release:
    """One published state of a deliberation's results (see the module docstring)."""

    number: int
    released_at: datetime
    threshold: int
    facts: dict[str, Any]
    """JSON-ready facts: every figure in it describes at least ``threshold`` people."""

    @property
    def version(self) -> str:
        return f"r{self.number}"


def vote_matrix(uow: UnitOfWork, deliberation: m.Deliberation) -> VoteMatrix:
    """Every current vote, for the analysis only (never shown per person).

    One grouped read of the votes (``_read_cells``); the row-by-row read
    (``vote_matrix_from_rows``) builds the same matrix and stands in when the
    grouped one cannot be decoded.
    """
    shown, excluded = matrix_statements(uow, deliberation)
    cells = _read_cells(uow, deliberation, [s.id for s in shown], excluded)
    if cells is None:
        return vote_matrix_from_rows(uow, deliberation)
    participant_ids, rows, cols, values = cells
    return VoteMatrix.from_cells(
        rows,
        cols,
        values,
        participant_ids=participant_ids,
        statement_ids=[s.id for s in shown],
        moderated_out=[s.id for s in shown if s.moderation == m.Moderation.REJECTED or s.is_meta],
        meta=[s.id for s in shown if s.is_meta],
    )


def vote_matrix_from_rows(uow: UnitOfWork, deliberation: m.Deliberation) -> VoteMatrix:
    """The same matrix as ``vote_matrix``, from every vote read row by row in time order."""
    table = votes
    rows = uow.session.execute(
        sa.select(table.c.participant_id, table.c.statement_id, table.c.value)
        .where(
            table.c.alliance_id == deliberation.alliance_id,
            table.c.deliberation_id == deliberation.id,
        )
        .order_by(table.c.at, table.c.participant_id, table.c.statement_id)
    ).all()
    shown, _ = matrix_statements(uow, deliberation)
    shown_ids = {s.id for s in shown}
    return VoteMatrix.from_votes(
        [row for row in rows if row[1] in shown_ids],
        moderated_out=[s.id for s in shown if s.moderation == m.Moderation.REJECTED or s.is_meta],
        statement_ids=[s.id for s in shown],
        meta=[s.id for s in shown if s.is_meta],
    )


def matrix_statements(
    uow: UnitOfWork, deliberation: m.Deliberation
) -> tuple[list[m.Statement], list[str]]:
    """The statements of the matrix (every one not pending, in order), and the pending ids."""
    every = ordered_statements(uow, deliberation.alliance_id, deliberation.id)
    shown = [s for s in every if s.moderation != m.Moderation.PENDING]
    return shown, [s.id for s in every if s.moderation == m.Moderation.PENDING]


_VALUE_MARKS = {1: "a", -1: "d", 0: "p"}
"""One letter per vote value, written before the statement id in a grouped read."""
_CELL_SEPARATOR = " "


def _read_cells(
    uow: UnitOfWork, deliberation: m.Deliberation, statement_ids: list[str], excluded: list[str]
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray] | None:
    """Every vote on ``statement_ids`` as (participant ids, rows, columns, values); None when a
    vote cannot be decoded (then the caller reads row by row).

    The database groups the votes by participant, in the order of each one's first vote (the
    earliest ``at``, ties by id: the order in which a read in time order meets them, Pol.is's
    row order), and writes each participant's votes as one string of value letter + statement
    id; ``ix_votes_cells`` covers the read. So 2,000 rows cross into Python instead of one per
    vote, and the decoding is one split and one dictionary lookup per vote, in C.
    """
    found = uow.session.execute(grouped_cells_query(deliberation, excluded)).all()
    decoded = decoded_cells(found, statement_ids)
    if decoded is None:
        return None
    counts, codes = decoded
    cols, values = np.divmod(codes, 3)
    rows = np.repeat(np.arange(len(found), dtype=np.int64), counts)
    return [str(row[0]) for row in found], rows, cols, values - 1


def grouped_cells_query(deliberation: m.Deliberation, excluded: list[str]) -> sa.Select:
    """Per participant who voted on a statement not in ``excluded``, in the order of their
    first vote: (participant id, votes, their votes as one string, the time of the first)."""
    table = votes
    mark = sa.case(
        *((table.c.value == value, letter) for value, letter in _VALUE_MARKS.items() if value),
        else_=_VALUE_MARKS[0],
    )
    query = (
        sa.select(
            table.c.participant_id,
            sa.func.count(),
            sa.func.aggregate_strings(mark.concat(table.c.statement_id), _CELL_SEPARATOR),
            sa.func.min(table.c.at),
        )
        .where(
            table.c.alliance_id == deliberation.alliance_id,
            table.c.deliberation_id == deliberation.id,
        )
        .group_by(table.c.participant_id)
        .order_by(sa.func.min(table.c.at), table.c.participant_id)
    )
    if excluded:
        query = query.where(table.c.statement_id.not_in(excluded))
    return query


def decoded_cells(
    found: Sequence[Any], statement_ids: list[str]
) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows of ``grouped_cells_query`` as (votes per row, one code per vote: column × 3 +
    value + 1, row after row); None when a vote cannot be decoded."""
    counts = np.fromiter((row[1] for row in found), dtype=np.int64, count=len(found))
    tokens = _CELL_SEPARATOR.join(row[2] for row in found).split(_CELL_SEPARATOR) if found else []
    if len(tokens) != int(counts.sum()):
        return None
    code_of = {
        letter + sid: column * 3 + value + 1
        for column, sid in enumerate(statement_ids)
        for value, letter in _VALUE_MARKS.items()
    }
    codes = np.fromiter(map(code_of.get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
    if codes.size and codes.min() < 0:
        return None
    return counts, codes


def opinion_of(uow: UnitOfWork, deliberation: m.Deliberation) -> OpinionResult | None:
    """A fresh analysis of the current votes (for exports); None while there are none."""
    matrix = vote_matrix(uow, deliberation)
    return analyze(matrix) if matrix.n_votes else None


# Releases: when one is due, making one, reading the latest.


def _release_row(uow: UnitOfWork, deliberation: m.Deliberation, *columns: str) -> Any:
    """The latest release's row (only ``columns``, when named: the worker's checks need
    neither the facts nor the state, each about 100 kB of JSON at 2,000 participants)."""
    table = deliberation_releases
    chosen = [table.c[name] for name in columns] if columns else [table]
    return uow.session.execute(
        sa.select(*chosen)
        .where(
            table.c.alliance_id == deliberation.alliance_id,
            table.c.deliberation_id == deliberation.id,
        )
        .order_by(table.c.number.desc())
        .limit(1)
    ).first()


def _release_of(row: Any) -> Release | None:
    if row is None:
        return None
    return Release(row.number, row.released_at, row.threshold, row.facts)


def _voters_since(uow: UnitOfWork, deliberation: m.Deliberation, since: datetime | None) -> int:
    """People who voted after ``since`` (everyone who has voted, when ``since`` is None).

    One count through ``ix_votes_recent``: after a release only the votes since its cut
    are read, not all of them.
    """
    where = [
        m.Vote.alliance_id == deliberation.alliance_id,
        m.Vote.deliberation_id == deliberation.id,
    ]
    if since is not None:
        where.append(m.Vote.at > since)
    voters = sa.func.count(sa.distinct(m.Vote.participant_id))
    return uow.session.scalar(sa.select(voters).where(*where)) or 0


def _due_after(uow: UnitOfWork, deliberation: m.Deliberation, row: Any, threshold: int) -> bool:
    """Whether a release is due after the latest one (``row``, None before the first).

    Before the first release everyone who voted counts as having acted since, so the count
    of voters since is also the total that ``release_due`` compares with the threshold;
    after one, the total does not matter.
    """
    acted = _voters_since(uow, deliberation, row.cut_at if row is not None else None)
    return release_due(acted, row is not None, acted, threshold)


def _due(uow: UnitOfWork, deliberation: m.Deliberation, threshold: int) -> bool:
    latest = _release_row(uow, deliberation, "number", "cut_at")
    return _due_after(uow, deliberation, latest, threshold)


def release_is_due(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, deliberation_id: str, threshold: int
) -> bool:
    """Whether enough people have voted since the last release for a new one (a cheap read)."""
    target = open_deliberation(uow, actor, alliance_id, deliberation_id)
    return _due(uow, target.deliberation, threshold)


@dataclass(frozen=True)
class PreparedRelease:
    """A release computed from one read of the votes, ready to be stored."""

    alliance_id: str
    deliberation_id: str
    number: int
    cut_at: datetime | None
    threshold: int
    state: str | None
    facts: dict[str, Any]


def prepare_release(
    uow: UnitOfWork,
    deliberation: m.Deliberation,
    threshold: int,
    *,
    kept: KeptVotes | None = None,
) -> PreparedRelease | None:
    """The next release if one is due, computed from the votes as read now; None otherwise.

    Only reads: the results worker runs it outside any write transaction, so
    the analysis never holds SQLite's write lock while votes arrive, and
    stores the result with ``do_store_release``. The cut is read before the
    votes: a vote committed between the two reads (PostgreSQL reads each
    statement afresh) is then in the release and, at worst, counted again
    towards the next one, never left out of both. The worker passes the votes it
    ``kept`` from its last read (``kept_votes.py``), which reads only what changed since.
    """
    row = _release_row(uow, deliberation, "number", "cut_at", "state")
    if not _due_after(uow, deliberation, row, threshold):
        return None
    cut_at = _last_vote_at(uow, deliberation)
    if kept is not None:
        matrix = kept.matrix(uow, deliberation, cut_at)
    else:
        matrix = vote_matrix(uow, deliberation)
    state = state_from_json(row.state) if row is not None and row.state else None
    opinion = analyze_from_state(matrix, state=state) if matrix.n_votes else None
    return PreparedRelease(
        alliance_id=deliberation.alliance_id,
        deliberation_id=deliberation.id,
        number=row.number + 1 if row is not None else 1,
        cut_at=cut_at,
        threshold=threshold,
        state=state_to_json(opinion.state) if opinion and opinion.state else None,
        facts=_facts(uow, deliberation, matrix, opinion, threshold),
    )


def do_store_release(uow: UnitOfWork, prepared: PreparedRelease) -> Release | None:
    """Store a prepared release and its readers' document (``documents``), unless another
    release was stored since it was read (None then).

    Votes that arrived after the read are after its cut, so they count
    towards the next release.
    """
    deliberation = uow.get(
        m.Deliberation, alliance_id=prepared.alliance_id, id=prepared.deliberation_id
    )
    if deliberation is None:
        return None
    row = _release_row(uow, deliberation, "number")
    if (row.number if row is not None else 0) != prepared.number - 1:
        return None
    now = uow.clock.now()
    uow.session.execute(
        sa.insert(deliberation_releases).values(
            alliance_id=prepared.alliance_id,
            deliberation_id=prepared.deliberation_id,
            number=prepared.number,
            released_at=now,
            cut_at=prepared.cut_at or now,
            threshold=prepared.threshold,
            state=prepared.state,
            facts=prepared.facts,
        )
    )
    release = Release(prepared.number, now, prepared.threshold, prepared.facts)
    body = documents.encoded_document(uow, deliberation, release, prepared.threshold)
    documents.store_document(uow, deliberation, release.number, deliberation.status.value, body)
    return release


def do_release(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    threshold: int,
    *,
    system: bool = False,
) -> Release | None:
    """Publish a new release if one is due (checked again inside the write); the latest either way.

    Anyone who may see the results may cause the release (it publishes what
    the rules allow, whoever asks), and so may the results worker (``system``).
    It is derived data, so it is not an event of the log; the votes it is made
    from are. This computes inside the caller's transaction (the demo, tests,
    the inline mode); the worker prepares outside it instead.
    """
    if system:
        deliberation = uow.get(m.Deliberation, alliance_id=alliance_id, id=deliberation_id)
        if deliberation is None:
            return None
    else:
        deliberation = open_deliberation(uow, actor, alliance_id, deliberation_id).deliberation
    prepared = prepare_release(uow, deliberation, threshold)
    if prepared is None:
        return _release_of(_release_row(uow, deliberation))
    return do_store_release(uow, prepared)


def _last_vote_at(uow: UnitOfWork, deliberation: m.Deliberation) -> datetime | None:
    return uow.session.scalar(
        sa.select(sa.func.max(m.Vote.at)).where(
            m.Vote.alliance_id == deliberation.alliance_id,
            m.Vote.deliberation_id == deliberation.id,
        )
    )


def due_in_alliances(uow: UnitOfWork, alliance_ids: list[str], threshold: int) -> list[str]:
    """Ids of the deliberations of these alliances whose next release is due.

    For the results worker: it asks only about alliances whose event chain
    moved, and each check reads the votes since the last release through
    ``ix_votes_recent``.
    """
    if not alliance_ids:
        return []
    deliberations = uow.session.execute(
        sa.select(m.Deliberation.alliance_id, m.Deliberation.id).where(
            m.Deliberation.alliance_id.in_(alliance_ids)
        )
    ).all()
    due = []
    for alliance_id, deliberation_id in deliberations:
        deliberation = uow.get(m.Deliberation, alliance_id=alliance_id, id=deliberation_id)
        assert deliberation is not None
        if _due(uow, deliberation, threshold):
            due.append(deliberation_id)
    return due


def released_version(number: int, status: str) -> str:
    """``results_version`` of a deliberation with a release: its number and the status."""
    return f"r{number}-{status}"


def released_number_and_status(version: str) -> tuple[int, str] | None:
    """(release number, status) of a ``released_version``; None for any other version (the
    results before the first release)."""
    number, _, status = version.partition("-")
    if not (number[:1] == "r" and number[1:].isdigit() and int(number[1:]) > 0):
        return None
    if status not in {s.value for s in m.DeliberationStatus}:
        return None
    return int(number[1:]), status


def results_json_key(
    alliance_id: str, deliberation_id: str, version: str, threshold: int
) -> tuple[str, str, str, str, int]:
    """Where a process keeps the encoded results of ``version`` (``Runtime.results_json``)."""
    return ("json", alliance_id, deliberation_id, version, threshold)


def results_version(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, deliberation_id: str
) -> str:
    """What the results shown now depend on, cheaply: the release, the status (and, before
    the first release, how many statements are listed). Equal versions, equal results."""
    deliberation = open_deliberation(uow, actor, alliance_id, deliberation_id).deliberation
    key = {"alliance_id": alliance_id, "deliberation_id": deliberation_id}
    number = uow.session.scalar(_latest_number(), key)
    version = released_version(number or 0, deliberation.status.value)
    if number:
        return version
    listed = uow.session.scalar(_listed_count(), key)
    return f"{version}-s{listed}"


@cache
def _latest_number() -> sa.Select:
    """The number of the latest release (one step down ``deliberation_releases``' key); built
    once, as every results poll runs it."""
    table = deliberation_releases
    return sa.select(sa.func.max(table.c.number)).where(
        table.c.alliance_id == sa.bindparam("alliance_id"),
        table.c.deliberation_id == sa.bindparam("deliberation_id"),
    )


@cache
def _listed_count() -> sa.Select:
    table = statements_table
    return sa.select(sa.func.count()).where(
        table.c.alliance_id == sa.bindparam("alliance_id"),
        table.c.deliberation_id == sa.bindparam("deliberation_id"),
        table.c.moderation == m.Moderation.ACCEPTED,
    )


def latest_release(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, deliberation_id: str
) -> Release | None:
    """The newest release the actor may see; None before the first."""
    target = open_deliberation(uow, actor, alliance_id, deliberation_id)
    return _release_of(_release_row(uow, target.deliberation))


def released_priorities(uow: UnitOfWork, deliberation: m.Deliberation) -> dict[str, float]:
    """Routing priorities of the latest release (empty before the first)."""
    release = _release_of(_release_row(uow, deliberation))
    return dict(release.facts.get("priorities", {})) if release else {}


def partner_names(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, deliberation_id: str
) -> dict[str, str]:
    """Partner id → organization name, to name the partners of the results."""
    open_deliberation(uow, actor, alliance_id, deliberation_id)
    rows = uow.session.execute(
        sa.select(m.Partner.id, m.Organization.name)
        .join(m.Organization, m.Organization.id == m.Partner.organization_id)
        .where(m.Partner.alliance_id == alliance_id)
    ).all()
    return dict(rows)


def released_consensus(uow: UnitOfWork, deliberation: m.Deliberation) -> set[str]:
    """Statements in the agreed consensus of the latest release (what people were shown)."""
    release = _release_of(_release_row(uow, deliberation))
    if release is None:
        return set()
    return {item["statement_id"] for item in release.facts["consensus"]["agree"]}


# The facts of a release: everything below describes at least ``threshold`` people.


def _statement_facts(matrix: VoteMatrix, opinion: OpinionResult | None, threshold: int) -> dict:
    _, cols, values = matrix.cells()
    n_statements = matrix.shape[1]
    voters = np.bincount(cols, minlength=n_statements)
    agree = np.bincount(cols[values == 1], minlength=n_statements)
    disagree = np.bincount(cols[values == -1], minlength=n_statements)
    excluded = matrix.moderated_out | matrix.meta
    facts = {}
    for index, sid in enumerate(matrix.statement_ids):
        count = int(voters[index])
        if not reportable(count, threshold):
            facts[sid] = {"voters": shown_count(count, threshold)}
            continue
        entry: dict[str, Any] = {
            "voters": count,
            "agree": int(agree[index]),
            "disagree": int(disagree[index]),
            "pass": count - int(agree[index]) - int(disagree[index]),
        }
        if opinion is not None and sid in opinion.statement_projections and sid not in excluded:
            x, y = opinion.statement_projections[sid]
            entry["position"] = [float(x), float(y)]
            if sid in opinion.group_informed_consensus:
                entry["group_informed_consensus"] = float(opinion.group_informed_consensus[sid])
        facts[sid] = entry
    return facts


def _group_facts(
    opinion: OpinionResult, statements: dict[str, dict], threshold: int
) -> list[dict[str, Any]]:
    """Groups of at least ``threshold`` people with their reasons; smaller ones only exist."""
    groups = []
    for group in sorted(opinion.groups, key=lambda g: g.id):
        if not reportable(group.size, threshold):
            groups.append({"id": group.id, "size": None, "center": None, "representative": []})
            continue
        reasons = []
        for reason in group.representative:
            stated = statements.get(reason.statement_id, {})
            others = (stated.get("voters") or 0) - reason.n_trials
            if reason.n_success == 0 or not reportable(reason.n_trials, threshold):
                continue
            other_success = (stated.get(reason.direction) or 0) - reason.n_success
            reasons.append(
                {
                    "statement_id": reason.statement_id,
                    "direction": reason.direction,
                    "n_success": reason.n_success,
                    "n_trials": reason.n_trials,
                    "others_success": other_success if reportable(others, threshold) else None,
                    "others_trials": others if reportable(others, threshold) else None,
                }
            )
        center = [float(group.center[0]), float(group.center[1])]
        groups.append(
            {"id": group.id, "size": group.size, "center": center, "representative": reasons}
        )
    return groups


def _consensus_facts(opinion: OpinionResult, threshold: int) -> dict[str, list[dict]]:
    def listed(items: Any) -> list[dict]:
        return [
            {"statement_id": c.statement_id, "n_success": c.n_success, "n_trials": c.n_trials}
            for c in items
            if reportable(c.n_trials, threshold)
        ]

    consensus = opinion.consensus
    return {"agree": listed(consensus.agree), "disagree": listed(consensus.disagree)}


def _points(opinion: OpinionResult, shown_groups: set[int]) -> list[list[Any]]:
    """Everyone's place on the map: a position and a group, sorted so order tells nothing."""
    points = [
        [round(float(x), 6), round(float(y), 6), g if g in shown_groups else None]
        for x, y, g in zip(
            opinion.x.tolist(), opinion.y.tolist(), opinion.participant_groups, strict=True
        )
    ]
    return sorted(points, key=lambda p: (p[2] is None, p[2] or 0, p[0], p[1]))


def _group_votes(
    matrix: VoteMatrix, opinion: OpinionResult
) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Group ids, and per group × statement: how many voted, how many agreed."""
    group_of = opinion.group_of()
    group_ids = sorted({g for g in group_of.values() if g is not None})
    position = {gid: i for i, gid in enumerate(group_ids)}
    row_group = np.array(
        [position.get(group_of.get(p), -1) for p in matrix.participant_ids], dtype=np.int64
    )
    rows, cols, values = matrix.cells()
    group = row_group[rows] if rows.size else np.zeros(0, dtype=np.int64)
    keep = group >= 0
    n_s = matrix.shape[1]
    cell = group[keep] * n_s + cols[keep]
    size = len(group_ids) * n_s
    seen = np.bincount(cell, minlength=size).reshape(len(group_ids), n_s)
    agree = np.bincount(cell[values[keep] == 1], minlength=size).reshape(len(group_ids), n_s)
    return group_ids, seen, agree


def divisive_facts(
    matrix: VoteMatrix, opinion: OpinionResult, threshold: int, limit: int = DIVISIVE_MAX
) -> list[dict[str, Any]]:
    """Statements whose agree rate varies most between opinion groups.

    Only groups with at least ``threshold`` votes on a statement count (and at
    least two of them); a statement is divisive when two of those groups
    differ by at least ``DIVISIVE_MIN_SPREAD``. Moderated-out and meta
    statements are ignored.
    """
    group_ids, seen, agree = _group_votes(matrix, opinion)
    excluded = matrix.moderated_out | matrix.meta
    found = []
    for s, sid in enumerate(matrix.statement_ids):
        counted = np.flatnonzero(seen[:, s] >= threshold)
        if sid in excluded or counted.size < 2:
            continue
        rates = agree[counted, s] / seen[counted, s]
        spread = float(rates.max() - rates.min())
        if spread < DIVISIVE_MIN_SPREAD:
            continue
        found.append(
            {
                "statement_id": sid,
                "variance": float(rates.var()),
                "agree": {
                    str(group_ids[g]): [int(agree[g, s]), int(seen[g, s])] for g in counted.tolist()
                },
            }
        )
    found.sort(key=lambda d: (-d["variance"], d["statement_id"]))
    return found[:limit]


def _partner_facts(
    uow: UnitOfWork,
    deliberation: m.Deliberation,
    matrix: VoteMatrix,
    opinion: OpinionResult | None,
    threshold: int,
) -> dict[str, Any]:
    """Whether groups follow partner lines, and statements partners share or split on.

    Partners are counted by the participants placed in an opinion group;
    partners with fewer than ``threshold`` of them are merged into "other", or
    left out when even the merged bucket is small. Cells of the groups ×
    partners table below the threshold are not published; a partner's share
    on a statement is published only with ``threshold`` of its votes behind it.
    """
    empty: dict[str, Any] = {"alignment": None, "bridging": [], "fault_lines": []}
    if opinion is None:
        return empty
    table = participants_table
    partner_of = uow.session.execute(
        sa.select(table.c.id, table.c.partner_id).where(
            table.c.alliance_id == deliberation.alliance_id,
            table.c.deliberation_id == deliberation.id,
        )
    ).all()
    placed = opinion.group_of()
    counted = {pid: partner for pid, partner in partner_of if placed.get(pid) is not None}
    reported, _ = merge_small(counted, threshold, OTHER_PARTNERS)
    if len(set(reported.values())) < 2:
        return empty
    alignment = partner_alignment(placed, reported, permutations=ALIGNMENT_PERMUTATIONS)
    table = [
        [count if reportable(count, threshold) or count == 0 else None for count in row]
        for row in alignment.table.tolist()
    ]
    lines = bridging_and_fault_lines(
        matrix, reported, min_votes_per_partner=max(MIN_FAULT_LINE_VOTES, threshold)
    )
    counts = _partner_counts(matrix, reported)
    partners = sorted(set(reported.values()))

    def shares(statement_id: str) -> dict[str, list[int]] | None:
        found = {p: counts.get((statement_id, p), (0, 0)) for p in partners}
        if not all(reportable(votes, threshold) for votes, _ in found.values()):
            return None
        return {p: [agrees, votes] for p, (votes, agrees) in found.items()}

    return {
        "alignment": {
            "groups": [int(g) for g in alignment.groups],  # type: ignore[call-overload]
            "partners": [str(p) for p in alignment.partners],
            "table": table,
            "cramers_v": float(alignment.cramers_v),
            "p_value": float(alignment.p_value),
            "permutations": alignment.permutations,
            "n": alignment.n,
            "follows_partner_lines": bool(alignment.p_value < ALIGNED_P),
        },
        "bridging": [
            {"statement_id": b.statement_id, "agree": found}
            for b in lines.bridging
            if (found := shares(b.statement_id)) is not None
        ],
        "fault_lines": [
            {
                "statement_id": f.statement_id,
                "cramers_v": float(f.cramers_v),
                "p_adjusted": float(f.p_adjusted),
                "agree": found,
            }
            for f in lines.fault_lines
            if (found := shares(f.statement_id)) is not None
        ],
    }


def _partner_counts(
    matrix: VoteMatrix, reported: dict[str, str]
) -> dict[tuple[str, str], tuple[int, int]]:
    """(statement, partner) → (votes, agrees) over the reported participants, for every pair
    with a vote: two bincounts over the cells."""
    partners = sorted(set(reported.values()))
    code_of = {partner: code for code, partner in enumerate(partners)}
    row_partner = np.fromiter(
        (code_of.get(reported.get(pid), -1) for pid in matrix.participant_ids),  # type: ignore[arg-type]
        dtype=np.int64,
        count=len(matrix.participant_ids),
    )
    rows, cols, values = matrix.cells()
    partner = row_partner[rows]
    keep = partner >= 0
    n_partners = max(len(partners), 1)
    pair = cols[keep] * n_partners + partner[keep]
    size = matrix.shape[1] * n_partners
    votes = np.bincount(pair, minlength=size)
    agrees = np.bincount(pair[values[keep] == 1], minlength=size)
    return {
        (matrix.statement_ids[p // n_partners], partners[p % n_partners]): (
            int(votes[p]),
            int(agrees[p]),
        )
        for p in np.flatnonzero(votes).tolist()
    }


def _facts(
    uow: UnitOfWork,
    deliberation: m.Deliberation,
    matrix: VoteMatrix,
    opinion: OpinionResult | None,
    threshold: int,
) -> dict[str, Any]:
    statements = _statement_facts(matrix, opinion, threshold)
    participants = uow.session.scalar(
        sa.select(sa.func.count()).where(
            m.Participant.alliance_id == deliberation.alliance_id,
            m.Participant.deliberation_id == deliberation.id,
        )
    )
    accepted = ordered_statements(
        uow, deliberation.alliance_id, deliberation.id, moderation=m.Moderation.ACCEPTED
    )
    facts: dict[str, Any] = {
        "shown": [[statement.id, statement.text] for statement in accepted],
        "participants": shown_count(participants or 0, threshold),
        "votes": int(matrix.n_votes) if reportable(int(matrix.shape[0]), threshold) else None,
        "statements": statements,
        "k": None,
        "groups": [],
        "points": [],
        "consensus": {"agree": [], "disagree": []},
        "divisive": [],
        "partners": _partner_facts(uow, deliberation, matrix, opinion, threshold),
        "priorities": {},
    }
    if opinion is None:
        return facts
    groups = _group_facts(opinion, statements, threshold)
    shown_groups = {g["id"] for g in groups if g["size"] is not None}
    facts |= {
        "k": opinion.k,
        "groups": groups,
        "points": _points(opinion, shown_groups),
        "consensus": _consensus_facts(opinion, threshold),
        "divisive": divisive_facts(matrix, opinion, threshold),
        "priorities": {sid: float(p) for sid, p in opinion.priorities.items()},
    }
    return facts
