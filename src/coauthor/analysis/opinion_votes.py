"""The rating matrix as one update of the math sees it, built at once or vote by vote.

:class:`RatingVotes` holds only exact data (integers): the one-hot cells,
vote counts per participant and per statement, column sums and, up to
:data:`~coauthor.analysis.opinion_pca.GRAM_MAX_STATEMENTS` statements, the
cross-counts the covariance is computed from. :func:`rating_votes` builds it
from a :class:`VoteMatrix`; :class:`LiveVotes` keeps one up to date as votes
arrive, in time linear in a participant's votes per new vote (plus a copy of
the cell index), and gives an identical :class:`RatingVotes` at every update:
integers do not depend on the order they were added in. So a replay computes
exactly what :func:`~coauthor.analysis.opinion.analyze` computes from scratch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from coauthor.analysis.opinion_era import PolisMath, known_moderation
from coauthor.analysis.opinion_matrix import VoteMatrix
from coauthor.analysis.opinion_pca import (
    GRAM_MAX_STATEMENTS,
    VOTE_CODES,
    CrossCounts,
    cross_counts,
)


@dataclass(frozen=True, eq=False)
class RatingVotes:
    """The votes of one update: participants (rows) × statements with a vote (columns).

    ``codes`` (CSR with ``indptr``) holds ``3·column + vote + 1`` for every
    vote, sorted by row then column. ``excluded`` marks moderated-out and meta
    statements; ``zeroable`` those of them the math knew of (see
    :func:`~coauthor.analysis.opinion_era.known_moderation`), with each row's
    votes on them in ``row_zeroable_counts``. ``cross`` is None above
    ``GRAM_MAX_STATEMENTS`` columns.
    """

    n_rows: int
    statement_ids: list[str]
    excluded: NDArray[np.bool_]
    zeroable: NDArray[np.bool_]
    indptr: NDArray[np.int32]
    codes: NDArray[np.int32]
    row_counts: NDArray[np.int64]
    row_zeroable_counts: NDArray[np.int64]
    column_counts: NDArray[np.int64]
    column_sums: NDArray[np.int64]
    cross: CrossCounts | None

    @property
    def n_cols(self) -> int:
        return len(self.statement_ids)

    def cells(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int8]]:
        """(row, column, vote) of every vote, sorted by row then column."""
        rows = np.repeat(np.arange(self.n_rows, dtype=np.int64), np.diff(self.indptr))
        cols, vote_code = np.divmod(self.codes.astype(np.int64), VOTE_CODES)
        return rows, cols, (vote_code - 1).astype(np.int8)


def rating_votes(
    matrix: VoteMatrix, math: PolisMath, moderated_at: Mapping[str, float] | None = None
) -> RatingVotes:
    """The votes Pol.is's math of ``math``'s era counts: statements with a vote, caps applied.

    Pol.is builds its matrix from votes, so statements nobody voted on are
    not in it. Its conversation caps keep the first ``max_participants``
    participants and the first ``max_statements`` statements (here in matrix
    order; Pol.is took them in the order votes arrived). ``moderated_at``
    (seconds) says when each moderated statement was moderated, for the eras
    in which the math knew of some moderations only.
    """
    rows, all_cols, values = matrix.cells()
    n_rows = (
        matrix.shape[0]
        if not math.max_participants
        else min(matrix.shape[0], math.max_participants)
    )
    inside = rows < n_rows
    rows, all_cols, values = rows[inside], all_cols[inside], values[inside]
    columns = np.flatnonzero(np.bincount(all_cols, minlength=matrix.shape[1]) > 0)
    if math.max_statements:
        columns = columns[: math.max_statements]
    remap = np.full(matrix.shape[1], -1, dtype=np.int64)
    remap[columns] = np.arange(columns.size)
    cols = remap[all_cols]
    kept = cols >= 0
    rows, cols, values = rows[kept], cols[kept], values[kept]
    statement_ids = [matrix.statement_ids[c] for c in columns.tolist()]
    excluded_ids = matrix.moderated_out | matrix.meta
    known = known_moderation(math, excluded_ids, moderated_at)
    excluded = np.array([sid in excluded_ids for sid in statement_ids], dtype=bool)
    zeroable = np.array([sid in known for sid in statement_ids], dtype=bool)
    n_cols = columns.size
    indptr = np.zeros(n_rows + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    cross = (
        cross_counts(rows, cols, values, (n_rows, n_cols))
        if n_cols <= GRAM_MAX_STATEMENTS
        else None
    )
    return RatingVotes(
        n_rows=n_rows,
        statement_ids=statement_ids,
        excluded=excluded,
        zeroable=zeroable,
        indptr=indptr,
        codes=(VOTE_CODES * cols + values.astype(np.int64) + 1).astype(np.int32),
        row_counts=np.bincount(rows, minlength=n_rows),
        row_zeroable_counts=np.bincount(rows[zeroable[cols]], minlength=n_rows),
        column_counts=np.bincount(cols, minlength=n_cols),
        column_sums=np.bincount(cols, weights=values, minlength=n_cols).astype(np.int64),
        cross=cross,
    )


class LiveVotes:
    """A :class:`RatingVotes` kept up to date vote by vote (no caps: check :meth:`within`).

    Rows are participants in order of appearance; a vote's row is at most the
    current number of rows (a new participant is the next row). Columns are
    the statements with a vote, in ``statement_ids`` order.
    """

    def __init__(self, statement_ids: list[str], excluded_ids: frozenset[str]) -> None:
        self._all_ids = statement_ids
        self._all_excluded = np.array([sid in excluded_ids for sid in statement_ids], dtype=bool)
        self._all_zeroable = self._all_excluded.copy()
        self._zeroable_ids: frozenset[str] = excluded_ids
        self._column_of = np.full(len(statement_ids), -1, dtype=np.int64)
        self._columns = np.zeros(0, dtype=np.int64)
        self._column_ids: list[str] = []
        self._indptr = np.zeros(1, dtype=np.int32)
        self._codes_buffer = np.zeros(1024, dtype=np.int32)
        self._n_votes = 0
        self._row_counts = np.zeros(0, dtype=np.int64)
        self._row_zeroable = np.zeros(0, dtype=np.int64)
        self._column_counts = np.zeros(0, dtype=np.int64)
        self._column_sums = np.zeros(0, dtype=np.int64)
        self._cross_stack: NDArray[np.float64] | None = np.zeros((3, 0, 0))
        self._cross: CrossCounts | None = _cross_views(self._cross_stack)
        self._column_flags: tuple[NDArray[np.bool_], NDArray[np.bool_]] | None = None

    @property
    def n_rows(self) -> int:
        return int(self._row_counts.size)

    @property
    def n_cols(self) -> int:
        return int(self._columns.size)

    def know(self, zeroable_ids: frozenset[str]) -> None:
        """The moderated statements the math knows of from now on (a recount when they change)."""
        if zeroable_ids == self._zeroable_ids:
            return
        self._zeroable_ids = zeroable_ids
        self._all_zeroable = np.array([sid in zeroable_ids for sid in self._all_ids], dtype=bool)
        self._column_flags = None
        rows = np.repeat(np.arange(self.n_rows), np.diff(self._indptr))
        on_zeroable = self._all_zeroable[self._columns][self._codes // VOTE_CODES]
        self._row_zeroable = np.bincount(rows[on_zeroable], minlength=self.n_rows)

    def within(self, math: PolisMath) -> bool:
        """Whether ``math``'s conversation caps leave every row and column in."""
        rows_fit = not math.max_participants or self.n_rows <= math.max_participants
        cols_fit = not math.max_statements or self.n_cols <= math.max_statements
        return rows_fit and cols_fit

    def add(self, rows: NDArray[np.int64], statements: NDArray[np.int64], votes: NDArray) -> None:
        """Apply votes in order (the last vote on a cell wins).

        New rows and columns are made first (empty), then the votes are
        applied in one compiled call: the counts are integers, so the result
        is the one of applying each vote in turn.
        """
        from coauthor.analysis.opinion_kernels import add_votes

        if rows.size == 0:
            return
        rows = np.asarray(rows, dtype=np.int64)
        statements = np.asarray(statements, dtype=np.int64)
        if int(rows.max()) >= self.n_rows:
            self._add_rows(int(rows.max()) + 1 - self.n_rows)
        unseen = statements[self._column_of[statements] < 0]
        if unseen.size:
            for statement in np.unique(unseen).tolist():
                self._insert_column(statement)
        while self._n_votes + rows.size > self._codes_buffer.size:
            self._codes_buffer = np.concatenate(
                [self._codes_buffer, np.zeros_like(self._codes_buffer)]
            )
        cross = self._cross_stack
        self._n_votes = add_votes(
            rows,
            statements,
            np.asarray(votes, dtype=np.int64),
            self._column_of,
            self._all_zeroable,
            self._codes_buffer,
            self._n_votes,
            self._indptr,
            self._row_counts,
            self._row_zeroable,
            self._column_counts,
            self._column_sums,
            cross if cross is not None else _NO_CROSS,
            cross is not None,
        )

    @property
    def _codes(self) -> NDArray[np.int32]:
        return self._codes_buffer[: self._n_votes]

    def _add_rows(self, added: int) -> None:
        self._indptr = np.append(self._indptr, np.repeat(self._indptr[-1], added))
        self._row_counts = np.append(self._row_counts, np.zeros(added, dtype=np.int64))
        self._row_zeroable = np.append(self._row_zeroable, np.zeros(added, dtype=np.int64))

    def _insert_column(self, statement: int) -> int:
        column = int(np.searchsorted(self._columns, statement))
        self._columns = np.insert(self._columns, column, statement)
        self._column_ids = [self._all_ids[c] for c in self._columns.tolist()]
        self._column_flags = None
        self._column_of[self._columns[column:]] = np.arange(column, self._columns.size)
        codes = self._codes
        codes[codes >= VOTE_CODES * column] += VOTE_CODES
        self._column_counts = np.insert(self._column_counts, column, 0)
        self._column_sums = np.insert(self._column_sums, column, 0)
        if self._cross_stack is not None and self._columns.size > GRAM_MAX_STATEMENTS:
            self._cross_stack = self._cross = None
        if self._cross_stack is not None:
            stack = np.insert(self._cross_stack, column, 0.0, axis=1)
            stack = np.insert(stack, column, 0.0, axis=2)
            self._cross_stack, self._cross = stack, _cross_views(stack)
        return column

    def snapshot(self) -> RatingVotes:
        """The current votes (arrays shared with this object: use before the next :meth:`add`)."""
        if self._column_flags is None:  # until a column is added or the moderations known change
            self._column_flags = (
                self._all_excluded[self._columns],
                self._all_zeroable[self._columns],
            )
        excluded, zeroable = self._column_flags
        return RatingVotes(
            n_rows=self.n_rows,
            statement_ids=self._column_ids,
            excluded=excluded,
            zeroable=zeroable,
            indptr=self._indptr,
            codes=self._codes,
            row_counts=self._row_counts,
            row_zeroable_counts=self._row_zeroable,
            column_counts=self._column_counts,
            column_sums=self._column_sums,
            cross=self._cross,
        )


_NO_CROSS = np.zeros((3, 0, 0))


def _cross_views(stack: NDArray[np.float64]) -> CrossCounts:
    """Cross-counts kept as one ``(3, n, n)`` array: a vote updates all three at once."""
    return CrossCounts(vv=stack[0], vm=stack[1], mm=stack[2])
