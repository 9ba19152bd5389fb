"""The vote matrix the deliberation math works on.

Votes are kept in the Pol.is *export* convention: agree = +1, disagree = -1,
pass = 0. A pass is a vote, a blank cell is not: the ``voted`` mask says which
cells hold a vote, so a pass (voted, value 0) and a missing vote differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

VALID_VOTES = (-1, 0, 1)


def _first_appearance_codes(ids: Sequence[object]) -> tuple[list[str], NDArray[np.int64]]:
    """Factorise ids into (distinct ids as strings, in order of first appearance; codes).

    Hash-based: ``dict.fromkeys`` and ``map`` run in C, so there is no Python
    loop per vote and no sorting of strings.
    """
    first = dict.fromkeys(ids)
    names = [str(key) for key in first]
    if len(set(names)) < len(names):  # e.g. 7 and "7": the same id once written out
        return _first_appearance_codes(list(map(str, ids)))
    index = dict(zip(first, range(len(first)), strict=True))
    return names, np.fromiter(map(index.__getitem__, ids), dtype=np.int64, count=len(ids))


def _checked_cells(
    ptpt_idx: ArrayLike, stmt_idx: ArrayLike, vote: ArrayLike, n_rows: int, n_cols: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray]:
    """Parallel arrays of votes as flat arrays, refused unless every index and vote is valid."""
    rows = np.asarray(ptpt_idx, dtype=np.int64).reshape(-1)
    cols = np.asarray(stmt_idx, dtype=np.int64).reshape(-1)
    values = np.asarray(vote).reshape(-1)
    if not (rows.size == cols.size == values.size):
        raise ValueError("ptpt_idx, stmt_idx and vote must have the same length")
    if rows.size and (rows.min() < 0 or rows.max() >= n_rows):
        raise ValueError("participant index out of range")
    if cols.size and (cols.min() < 0 or cols.max() >= n_cols):
        raise ValueError("statement index out of range")
    if values.size and not np.isin(values, VALID_VOTES).all():
        raise ValueError("votes must be -1, 0 or 1")
    return rows, cols, values


def _last_vote_wins(
    ptpt_idx: NDArray[np.int64], stmt_idx: NDArray[np.int64], n_statements: int
) -> NDArray[np.int64]:
    """Indices (into the time-ordered arrays) of the last vote per (participant, statement).

    They come sorted by (participant, statement), the order of the matrix cells.
    """
    keys = ptpt_idx * max(n_statements, 1) + stmt_idx
    reversed_keys = keys[::-1]
    _, first_in_reversed = np.unique(reversed_keys, return_index=True)
    return (keys.size - 1 - first_in_reversed).astype(np.int64)


@dataclass(frozen=True, eq=False)
class VoteMatrix:
    """Participants × statements votes, in the Pol.is export convention.

    ``votes`` and ``voted`` are CSR matrices with the same sparsity structure:
    one stored entry per cell that holds a vote. ``votes`` stores the value
    (a pass is stored as an explicit 0, so never call ``eliminate_zeros`` on
    it); ``voted`` is the boolean mask, the one to use to tell pass from
    missing. ``moderated_out`` statements keep their votes here; the analysis
    treats them as Pol.is does. ``meta`` statements are Pol.is "meta"
    comments (routed with a fixed priority, and moderated out of the math).
    """

    participant_ids: list[str]
    statement_ids: list[str]
    votes: sp.csr_matrix
    voted: sp.csr_matrix
    moderated_out: frozenset[str] = field(default_factory=frozenset)
    meta: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        shape = (len(self.participant_ids), len(self.statement_ids))
        if self.votes.shape != shape or self.voted.shape != shape:
            raise ValueError(f"vote matrix shape {self.votes.shape} does not match ids {shape}")
        if len(set(self.participant_ids)) != shape[0]:
            raise ValueError("participant ids must be distinct")
        if len(set(self.statement_ids)) != shape[1]:
            raise ValueError("statement ids must be distinct")

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.participant_ids), len(self.statement_ids)

    @property
    def n_votes(self) -> int:
        return int(self.voted.nnz)

    @classmethod
    def from_arrays(
        cls,
        ptpt_idx: ArrayLike,
        stmt_idx: ArrayLike,
        vote: ArrayLike,
        *,
        participant_ids: Sequence[str],
        statement_ids: Sequence[str],
        moderated_out: Iterable[str] = (),
        meta: Iterable[str] = (),
    ) -> VoteMatrix:
        """Build from parallel arrays of votes given in time order (the last vote wins).

        ``ptpt_idx``/``stmt_idx`` index into ``participant_ids``/``statement_ids``.
        """
        rows, cols, values = _checked_cells(
            ptpt_idx, stmt_idx, vote, len(participant_ids), len(statement_ids)
        )
        n_cols = len(statement_ids)
        keep = _last_vote_wins(rows, cols, n_cols)
        return cls._from_unique_cells(
            rows[keep],
            cols[keep],
            values[keep].astype(np.int8),
            participant_ids=list(participant_ids),
            statement_ids=list(statement_ids),
            moderated_out=moderated_out,
            meta=meta,
            presorted=True,
        )

    @classmethod
    def from_votes(
        cls,
        records: Iterable[tuple[object, object, int]],
        *,
        moderated_out: Iterable[str] = (),
        statement_ids: Sequence[str] | None = None,
        meta: Iterable[str] = (),
    ) -> VoteMatrix:
        """Build from ``(participant_id, statement_id, vote)`` records in time order.

        The last vote of a participant on a statement wins. Participants are
        ordered by their first vote (Pol.is's row order). ``statement_ids``
        fixes the statement order and keeps statements nobody voted on; a vote
        on a statement outside it is refused.
        """
        columns = list(zip(*records, strict=True)) or [(), (), ()]
        values = np.asarray(columns[2], dtype=np.int64)
        participant_ids, rows = _first_appearance_codes(columns[0])
        if statement_ids is None:
            known_statements, cols = _first_appearance_codes(columns[1])
        else:
            known_statements = [str(s) for s in statement_ids]
            cols = _codes_in(columns[1], known_statements)
        return cls.from_arrays(
            rows,
            cols,
            values,
            participant_ids=participant_ids,
            statement_ids=known_statements,
            moderated_out=moderated_out,
            meta=meta,
        )

    @classmethod
    def from_cells(
        cls,
        ptpt_idx: ArrayLike,
        stmt_idx: ArrayLike,
        vote: ArrayLike,
        *,
        participant_ids: Sequence[str],
        statement_ids: Sequence[str],
        moderated_out: Iterable[str] = (),
        meta: Iterable[str] = (),
    ) -> VoteMatrix:
        """Build from the current vote of each cell, in any order (one vote per cell).

        For votes read as they stand (a vote table keyed by participant and
        statement), where there is no history for the last vote to win over:
        one sort of the cells, no ``np.unique``. Two votes on one cell are refused.
        """
        rows, cols, values = _checked_cells(
            ptpt_idx, stmt_idx, vote, len(participant_ids), len(statement_ids)
        )
        n_cols = len(statement_ids)
        keys = rows * max(n_cols, 1) + cols
        order = np.argsort(keys, kind="stable")
        if keys.size > 1 and not np.all(np.diff(keys[order]) > 0):
            raise ValueError("two votes on one cell")
        return cls._from_unique_cells(
            rows[order],
            cols[order],
            values[order].astype(np.int8),
            participant_ids=list(participant_ids),
            statement_ids=list(statement_ids),
            moderated_out=moderated_out,
            meta=meta,
            presorted=True,
        )

    @classmethod
    def _from_unique_cells(
        cls,
        rows: NDArray[np.int64],
        cols: NDArray[np.int64],
        values: NDArray[np.int8],
        *,
        participant_ids: list[str],
        statement_ids: list[str],
        moderated_out: Iterable[str],
        meta: Iterable[str],
        presorted: bool = False,
    ) -> VoteMatrix:
        shape = (len(participant_ids), len(statement_ids))
        if not presorted:
            order = np.lexsort((cols, rows))
            rows, cols, values = rows[order], cols[order], values[order]
        indptr = np.zeros(shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
        indices = cols.astype(np.int32)
        votes = sp.csr_matrix((values, indices, indptr), shape=shape)
        voted = sp.csr_matrix((np.ones(values.size, dtype=bool), indices, indptr), shape=shape)
        known = set(statement_ids)
        return cls(
            participant_ids=participant_ids,
            statement_ids=statement_ids,
            votes=votes,
            voted=voted,
            moderated_out=frozenset(str(s) for s in moderated_out) & known,
            meta=frozenset(str(s) for s in meta) & known,
        )

    def cells(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int8]]:
        """(row, column, value) of every vote, sorted by row then column."""
        rows = np.repeat(np.arange(self.shape[0], dtype=np.int64), np.diff(self.votes.indptr))
        return rows, self.votes.indices.astype(np.int64), self.votes.data.astype(np.int8)

    def with_votes(self, records: Iterable[tuple[object, object, int]]) -> VoteMatrix:
        """A new matrix with ``records`` applied after the current votes (last vote wins).

        Unknown participants and statements are appended at the end. The new
        votes are merged into the sorted cells (linear time, no full rebuild),
        which keeps an incremental update cheap.
        """
        participant_ids = list(self.participant_ids)
        statement_ids = list(self.statement_ids)
        row_of = {p: i for i, p in enumerate(participant_ids)}
        col_of = {s: i for i, s in enumerate(statement_ids)}
        new_rows, new_cols, new_values = [], [], []
        for ptpt, stmt, vote in records:
            new_rows.append(row_of.setdefault(str(ptpt), len(row_of)))
            new_cols.append(col_of.setdefault(str(stmt), len(col_of)))
            new_values.append(vote)
        participant_ids.extend(list(row_of)[len(participant_ids) :])
        statement_ids.extend(list(col_of)[len(statement_ids) :])
        added = np.asarray(new_values, dtype=np.int64)
        if not np.isin(added, VALID_VOTES).all():
            raise ValueError("votes must be -1, 0 or 1")
        rows, cols, values = _merge_cells(
            self.cells(),
            (np.asarray(new_rows, dtype=np.int64), np.asarray(new_cols, dtype=np.int64), added),
            len(statement_ids),
        )
        return VoteMatrix._from_unique_cells(
            rows,
            cols,
            values,
            participant_ids=participant_ids,
            statement_ids=statement_ids,
            moderated_out=self.moderated_out,
            meta=self.meta,
            presorted=True,
        )

    def with_vote(self, participant_id: str, statement_id: str, vote: int) -> VoteMatrix:
        """A new matrix with one more vote (see :meth:`with_votes`)."""
        return self.with_votes([(participant_id, statement_id, vote)])

    def to_dense(self) -> NDArray[np.float64]:
        """Dense float matrix with NaN where nobody voted (for small matrices and tests)."""
        dense = np.full(self.shape, np.nan)
        rows, cols, values = self.cells()
        dense[rows, cols] = values
        return dense

    def as_records(self) -> list[tuple[str, str, int]]:
        """Every vote as ``(participant_id, statement_id, vote)``, row by row."""
        rows, cols, values = self.cells()
        return [
            (self.participant_ids[r], self.statement_ids[c], int(v))
            for r, c, v in zip(rows.tolist(), cols.tolist(), values.tolist(), strict=True)
        ]


def _merge_cells(
    old: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int8]],
    new: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]],
    n_statements: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int8]]:
    """Sorted unique cells ``old`` overridden/extended by time-ordered votes ``new``."""
    new_rows, new_cols, new_values = new
    last = _last_vote_wins(new_rows, new_cols, n_statements)
    new_rows, new_cols, new_values = new_rows[last], new_cols[last], new_values[last]
    old_rows, old_cols, old_values = old
    old_keys = old_rows * n_statements + old_cols
    new_keys = new_rows * n_statements + new_cols
    at = np.searchsorted(old_keys, new_keys)
    hit = np.zeros(at.size, dtype=bool)
    inside = at < old_keys.size
    hit[inside] = old_keys[at[inside]] == new_keys[inside]
    values = old_values.copy()
    values[at[hit]] = new_values[hit]
    fresh = ~hit
    return (
        np.insert(old_rows, at[fresh], new_rows[fresh]),
        np.insert(old_cols, at[fresh], new_cols[fresh]),
        np.insert(values, at[fresh], new_values[fresh].astype(np.int8)),
    )


def _codes_in(ids: Sequence[object], known: list[str]) -> NDArray[np.int64]:
    """Index of each id (as a string) in ``known``; raises on an id that is not there."""
    index = {name: i for i, name in enumerate(known)}
    codes = np.fromiter(map(index.get, map(str, ids), repeat(-1)), dtype=np.int64, count=len(ids))
    unknown = codes < 0
    if unknown.any():
        missing = sorted({str(ids[i]) for i in np.flatnonzero(unknown).tolist()})
        raise ValueError(f"votes on unknown statements: {', '.join(missing[:5])}")
    return codes
