"""The results worker's copy of a deliberation's votes, kept between releases.

Reading every vote for each release (``results.vote_matrix``: one grouped read of all
120,000 votes at 2,000 × 200) cost the PostgreSQL server most of a round under load: the
worker waited for it 1.2–2.6 s for 0.1–0.3 s of its own CPU. So the worker keeps each
deliberation's votes as it last read them — per participant, the time of their first vote
and their votes — and for the next release reads, with the same grouped query, only the
participants who have a vote written since the last cut (less ``LOOKBACK``), each with all
of their current votes, found through ``ix_votes_recent`` (a vote is an upsert whose time
moves when its value changes, so a changed vote is found as a new one) and read through
``ix_votes_cells``. The matrix is then put together in the order the full read gives
(participants by their first vote, ties by id), so it is the full read's matrix.

A vote's time is when it was written, not when it was committed, so a vote committed more
than ``LOOKBACK`` after it was written — or written with an old time, as an import does —
would not be among the changes. The same read therefore also counts the votes and sums
their values (one statement: one snapshot), and when that does not match the kept copy, the
worker reads everything again. It also reads everything when it starts, when the cut is
unknown, when the deliberation's statements changed (moderation, a new statement), when the
database orders ids otherwise than Python does, when most participants changed
(``MOST_CHANGED``), and every ``FULL_READ_SECONDS`` in any case.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from coauthor.analysis.opinion import VoteMatrix
from coauthor.db.tables import votes
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.services.deliberation import results

LOOKBACK = timedelta(seconds=10)
"""How far before the last cut the changes are read: a vote written that long before it
was committed is still found (longer ones are caught by the totals)."""
MOST_CHANGED = 0.1
"""When more than this share of the participants kept changed since the last cut (right
after an import, which writes every vote at once), every vote is read instead: on
PostgreSQL the changes are read by ``= ANY`` of their participants, which on a votes table
not analysed yet checks every vote against each of them (bench_live's first read of the
changes, every participant changed: 5 s in profile_release.py, and the worker's rounds
stalled under the bench's load)."""
FULL_READ_SECONDS = 60.0
"""Every vote is read again at least this often, whatever the checks said."""


@dataclass(frozen=True)
class _Layout:
    """The statements the matrix has (in order), those left out (pending), and how the
    analysis treats them: a change to any of these reads everything again."""

    statement_ids: tuple[str, ...]
    excluded: tuple[str, ...]
    moderated_out: tuple[str, ...]
    meta: tuple[str, ...]


def _layout(uow: UnitOfWork, deliberation: m.Deliberation) -> _Layout:
    shown, excluded = results.matrix_statements(uow, deliberation)
    return _Layout(
        statement_ids=tuple(s.id for s in shown),
        excluded=tuple(excluded),
        moderated_out=tuple(
            s.id for s in shown if s.moderation == m.Moderation.REJECTED or s.is_meta
        ),
        meta=tuple(s.id for s in shown if s.is_meta),
    )


class KeptVotes:
    """One deliberation's votes as the worker last read them (see the module docstring)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._layout: _Layout | None = None
        self._rows: dict[str, tuple[datetime, np.ndarray]] = {}
        """Participant id → (time of their first vote, their votes as cell codes)."""
        self._totals = (0, 0)
        """Votes kept, and the sum of their values."""
        self._cut: datetime | None = None
        self._read_everything_at: float | None = None
        self.full_reads = 0
        self.change_reads = 0

    def forget(self) -> None:
        self._layout, self._rows, self._totals, self._cut = None, {}, (0, 0), None
        self._read_everything_at = None

    def matrix(
        self, uow: UnitOfWork, deliberation: m.Deliberation, cut_at: datetime | None
    ) -> VoteMatrix:
        """The matrix ``results.vote_matrix`` reads now; ``cut_at`` is the time of the last
        vote, read before this (the next call reads the changes since)."""
        layout = _layout(uow, deliberation)
        if self._may_read_changes(layout) and self._read_changes(uow, deliberation, layout):
            self.change_reads += 1
            self._cut = cut_at
            return self._matrix(layout, self._order())
        self.full_reads += 1
        order = self._read_everything(uow, deliberation, layout)
        if order is None:
            self.forget()
            return results.vote_matrix(uow, deliberation)
        matrix = self._matrix(layout, order)
        if order == self._order():
            self._layout, self._cut = layout, cut_at
            self._read_everything_at = self._monotonic()
        else:
            self.forget()
        return matrix

    def _may_read_changes(self, layout: _Layout) -> bool:
        return (
            self._layout == layout
            and self._cut is not None
            and self._read_everything_at is not None
            and self._monotonic() - self._read_everything_at < FULL_READ_SECONDS
        )

    def _read_everything(
        self, uow: UnitOfWork, deliberation: m.Deliberation, layout: _Layout
    ) -> list[str] | None:
        """Read every vote into the copy; the participants in the database's order (None when
        a vote cannot be decoded)."""
        query = results.grouped_cells_query(deliberation, list(layout.excluded))
        found = uow.session.execute(query).all()
        self._rows, self._totals = {}, (0, 0)
        if not self._keep(found, layout):
            return None
        return [str(row[0]) for row in found]

    def _read_changes(self, uow: UnitOfWork, deliberation: m.Deliberation, layout: _Layout) -> bool:
        """Read the participants with a vote since the last cut into the copy; False when the
        copy does not add up to the database's totals (then everything is read)."""
        assert self._cut is not None
        excluded = list(layout.excluded)
        since = self._cut - LOOKBACK
        if self._changed_count(uow, deliberation, since) > len(self._rows) * MOST_CHANGED:
            return False
        changed = _changed_participants(deliberation, since, uow.session.get_bind().dialect.name)
        query = (
            results.grouped_cells_query(deliberation, excluded)
            .where(changed)
            .add_columns(_totals(deliberation, excluded))
        )
        found = uow.session.execute(query).all()
        if not found or not self._keep(found, layout):
            return False
        votes_now, value_sum_now = str(found[0][4]).split()
        return self._totals == (int(votes_now), int(value_sum_now))

    @staticmethod
    def _changed_count(uow: UnitOfWork, deliberation: m.Deliberation, since: datetime) -> int:
        """How many participants have a vote written after ``since`` (``ix_votes_recent``)."""
        voters = sa.func.count(sa.distinct(votes.c.participant_id))
        return (
            uow.session.scalar(
                sa.select(voters).where(
                    votes.c.alliance_id == deliberation.alliance_id,
                    votes.c.deliberation_id == deliberation.id,
                    votes.c.at > since,
                )
            )
            or 0
        )

    def _keep(self, found: Sequence[Any], layout: _Layout) -> bool:
        """Put the participants of grouped rows into the copy, replacing what it had of them."""
        if not found:
            return True
        decoded = results.decoded_cells(found, list(layout.statement_ids))
        if decoded is None:
            return False
        counts, codes = decoded
        votes_kept, value_sum = self._totals
        for row, cells in zip(found, np.split(codes, np.cumsum(counts)[:-1]), strict=True):
            participant_id = str(row[0])
            before = self._rows.get(participant_id)
            if before is not None:
                votes_kept -= before[1].size
                value_sum -= _value_sum(before[1])
            self._rows[participant_id] = (row[3], cells)
            votes_kept += cells.size
            value_sum += _value_sum(cells)
        self._totals = (votes_kept, value_sum)
        return True

    def _order(self) -> list[str]:
        """Participants by their first vote, ties by id: the full read's order."""
        return sorted(self._rows, key=lambda pid: (self._rows[pid][0], pid))

    def _matrix(self, layout: _Layout, order: list[str]) -> VoteMatrix:
        cells = [self._rows[pid][1] for pid in order]
        codes = np.concatenate(cells) if cells else np.zeros(0, dtype=np.int64)
        counts = np.fromiter((c.size for c in cells), dtype=np.int64, count=len(cells))
        cols, values = np.divmod(codes, 3)
        return VoteMatrix.from_cells(
            np.repeat(np.arange(len(order), dtype=np.int64), counts),
            cols,
            values - 1,
            participant_ids=order,
            statement_ids=list(layout.statement_ids),
            moderated_out=list(layout.moderated_out),
            meta=list(layout.meta),
        )


def _changed_participants(
    deliberation: m.Deliberation, since: datetime, dialect_name: str
) -> sa.ColumnElement[bool]:
    """Whether a vote's participant has a vote written after ``since`` (``ix_votes_recent``).

    On PostgreSQL the participants are gathered into one array first (``= ANY`` of a scalar
    subquery, run once), so their votes are read by ``ix_votes_cells`` whatever the
    planner believes: written as ``IN (SELECT …)``, on a votes table not analysed yet
    (right after bench_live loaded it) it checked every vote against every participant
    changed, and one read took 25 s. SQLite runs ``IN (SELECT …)`` once by itself."""
    recent = [
        votes.c.alliance_id == deliberation.alliance_id,
        votes.c.deliberation_id == deliberation.id,
        votes.c.at > since,
    ]
    if dialect_name != "postgresql":
        return votes.c.participant_id.in_(sa.select(votes.c.participant_id).where(*recent))
    gathered = (
        sa.select(sa.func.array_agg(sa.distinct(votes.c.participant_id)))
        .where(*recent)
        .scalar_subquery()
    )
    none = sa.cast(sa.literal_column("'{}'"), postgresql.ARRAY(votes.c.participant_id.type))
    return votes.c.participant_id == sa.any_(sa.func.coalesce(gathered, none))


def _value_sum(codes: np.ndarray) -> int:
    """The sum of the vote values of cell codes (column × 3 + value + 1)."""
    return int((codes % 3).sum()) - codes.size


def _totals(deliberation: m.Deliberation, excluded: list[str]) -> sa.ScalarSelect:
    """The deliberation's votes counted and their values summed (left-out statements aside),
    as one text ("count sum"): one pass over the votes, in a scalar subquery of the read of
    the changes, so that it describes the same moment as its rows (one statement, one
    snapshot) and is run once whatever the planner believes (joined to the read as a table
    instead, one read took 101 s on PostgreSQL on a votes table not analysed yet)."""
    where = [
        votes.c.alliance_id == deliberation.alliance_id,
        votes.c.deliberation_id == deliberation.id,
    ]
    if excluded:
        where.append(votes.c.statement_id.not_in(excluded))
    counted = sa.cast(sa.func.count(), sa.String)
    summed = sa.cast(sa.func.coalesce(sa.func.sum(votes.c.value), 0), sa.String)
    return sa.select(counted.concat(" ").concat(summed)).where(*where).scalar_subquery()
