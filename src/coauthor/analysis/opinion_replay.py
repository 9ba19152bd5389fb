"""Replaying a conversation's vote log the way Pol.is computed it: update after update.

Pol.is groups are path-dependent (warm-started PCA and k-means, sticky
inclusion, the k-smoother), so the groups of a finished conversation depend
on its history, not only on its final votes. :func:`replay` recomputes that
history with the math Pol.is ran at the time of each update.

It gives exactly the result of calling
:func:`~coauthor.analysis.opinion.analyze` after every batch with the previous
result, but does not rebuild anything per update: the votes are kept up to
date vote by vote (:class:`~coauthor.analysis.opinion_votes.LiveVotes`, exact
integers), the PCA warm-starts from the last components (as Pol.is's does), the
base k-means carries distance bounds from one update to the next so that
only participants whose nearest cluster may have changed are measured again
(:class:`~coauthor.analysis.opinion_cluster.TrackedAssignment`), and the
statistics are computed once, at the end.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coauthor.analysis.opinion_cluster import Clustering, TrackedAssignment, WarmStart
from coauthor.analysis.opinion_era import PolisMath, known_moderation, polis_math_at
from coauthor.analysis.opinion_matrix import VoteMatrix
from coauthor.analysis.opinion_pipeline import PriorOf, grouped_in_turn, grouped_pipelined
from coauthor.analysis.opinion_result import OpinionResult, analyze, analyze_from_state
from coauthor.analysis.opinion_update import (
    NOTHING_CARRIED,
    CarriedBounds,
    OpinionState,
    state_of,
)
from coauthor.analysis.opinion_votes import LiveVotes, RatingVotes, rating_votes

POLL_SECONDS = 1.0
PIPELINE_FROM_UPDATES = 50
MathRule = PolisMath | Callable[[float], PolisMath] | None


def replay(
    ptpt_idx: ArrayLike,
    stmt_idx: ArrayLike,
    vote: ArrayLike,
    timestamps: ArrayLike,
    *,
    participant_ids: Sequence[str],
    statement_ids: Sequence[str],
    moderated_out: Iterable[str] = (),
    meta: Iterable[str] = (),
    batch_seconds: float = POLL_SECONDS,
    max_updates: int | None = None,
    seed: int = 0,
    math: MathRule = None,
    moderated_at: Mapping[str, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
    pipelined: bool | None = None,
) -> OpinionResult:
    """Replay a timestamped vote log the way Pol.is computed it, update after update.

    Votes closer than ``batch_seconds`` (Pol.is polls for votes every second)
    form one update; each batch is appended in Pol.is's order (statement
    index, then participant index, then time) and analysed with the previous
    update as ``previous``: every batch (the default), or, when
    ``max_updates`` is given and there are more batches, consecutive batches
    merged evenly down to that many updates (an approximation). Moderation
    applies from the first update on, since an export does not say when it
    happened. ``timestamps`` are in seconds (UTC).

    ``math`` says which version of Pol.is's math each update follows: None
    (the default) the one in force at the update's newest vote
    (:func:`~coauthor.analysis.opinion_era.polis_math_at`); a
    :class:`PolisMath` that one throughout; or a function of the update's
    time. ``moderated_at`` (seconds) says when moderated statements were
    moderated, for the eras in which Pol.is's math knew of some moderations
    only. ``progress(done, total)`` is called before each update. Only the
    last update computes the statistics (representative statements, consensus…).

    ``pipelined`` runs each update's power iteration and projection on a
    second thread while this one groups the update before
    (:func:`~coauthor.analysis.opinion_pipeline.grouped_pipelined`, the same
    result to the bit); None (the default) does so from
    :data:`PIPELINE_FROM_UPDATES` updates on, False never.
    """
    era_of = _era_rule(math)
    log = _ordered_log(
        ptpt_idx, stmt_idx, vote, timestamps, participant_ids, batch_seconds, max_updates
    )
    matrix_of = _prefix_matrices(log, statement_ids, moderated_out, meta)
    if not log.ends:
        return analyze(matrix_of(-1), seed=seed, math=era_of(0.0))
    excluded = _excluded(moderated_out, meta)
    last_prior = _last(
        _priors(
            log, statement_ids, excluded, era_of, matrix_of, seed, moderated_at, progress, pipelined
        )
    )
    prior = last_prior() if last_prior is not None else None
    last = log.ends[-1]
    era = era_of(float(log.newest[last]))
    if progress is not None:
        progress(len(log.ends), len(log.ends))
    state = state_of(prior, log.participant_ids[: prior.in_conv.size]) if prior else None
    return analyze_from_state(
        matrix_of(last), seed=seed, state=state, math=era, moderated_at=moderated_at
    )


def replay_states(
    ptpt_idx: ArrayLike,
    stmt_idx: ArrayLike,
    vote: ArrayLike,
    timestamps: ArrayLike,
    *,
    participant_ids: Sequence[str],
    statement_ids: Sequence[str],
    moderated_out: Iterable[str] = (),
    meta: Iterable[str] = (),
    batch_seconds: float = POLL_SECONDS,
    max_updates: int | None = None,
    seed: int = 0,
    math: MathRule = None,
    moderated_at: Mapping[str, float] | None = None,
    pipelined: bool | None = None,
) -> Iterator[OpinionState]:
    """The state each update of :func:`replay` but the last leaves to the next, in order.

    :func:`replay`'s result is the last update analysed from the last of these.
    """
    era_of = _era_rule(math)
    log = _ordered_log(
        ptpt_idx, stmt_idx, vote, timestamps, participant_ids, batch_seconds, max_updates
    )
    if not log.ends:
        return
    matrix_of = _prefix_matrices(log, statement_ids, moderated_out, meta)
    excluded = _excluded(moderated_out, meta)
    priors = _priors(
        log, statement_ids, excluded, era_of, matrix_of, seed, moderated_at, None, pipelined
    )
    for prior_of in priors:
        prior = prior_of()
        yield state_of(prior, log.participant_ids[: prior.in_conv.size])


def _priors(
    log: _OrderedLog,
    statement_ids: Sequence[str],
    excluded: frozenset[str],
    era_of: Callable[[float], PolisMath],
    matrix_of: Callable[[int], VoteMatrix],
    seed: int,
    moderated_at: Mapping[str, float] | None,
    progress: Callable[[int, int], None] | None,
    pipelined: bool | None,
) -> Iterator[PriorOf]:
    """Every update but the last, placed and grouped, on one thread or two (``pipelined``)."""
    live = LiveVotes(list(statement_ids), excluded)
    updates = _update_votes(log, live, excluded, era_of, matrix_of, moderated_at, progress)
    if pipelined is None:
        pipelined = len(log.ends) - 1 >= PIPELINE_FROM_UPDATES
    grouped = grouped_pipelined if pipelined else grouped_in_turn
    return grouped(updates, seed, BaseBounds())


def _excluded(moderated_out: Iterable[str], meta: Iterable[str]) -> frozenset[str]:
    return frozenset(str(s) for s in moderated_out) | frozenset(str(s) for s in meta)


def _last(priors: Iterable[PriorOf]) -> PriorOf | None:
    """The last of ``priors`` (None when there are none), once all have been computed."""
    kept = deque(priors, maxlen=1)
    return kept[0] if kept else None


def _update_votes(
    log: _OrderedLog,
    live: LiveVotes,
    excluded: frozenset[str],
    era_of: Callable[[float], PolisMath],
    matrix_of: Callable[[int], VoteMatrix],
    moderated_at: Mapping[str, float] | None,
    progress: Callable[[int, int], None] | None,
) -> Iterator[tuple[PolisMath, RatingVotes]]:
    """The math and the votes of every update but the last, each batch added as it comes.

    The votes are ``live``'s arrays: valid until the next item is asked for.
    ``progress`` is called before each batch is added.
    """
    known: dict[str | None, frozenset[str]] = {}
    values = np.asarray(log.values, dtype=np.int64)  # as LiveVotes counts them, converted once
    begin = 0
    for position, end in enumerate(log.ends[:-1]):
        era = era_of(float(log.newest[end]))
        if progress is not None:
            progress(position + 1, len(log.ends))
        live.add(log.rows[begin : end + 1], log.cols[begin : end + 1], values[begin : end + 1])
        begin = end + 1
        if era.moderation_known_since not in known:
            known[era.moderation_known_since] = known_moderation(era, excluded, moderated_at)
        live.know(known[era.moderation_known_since])
        if live.within(era):
            yield era, live.snapshot()
        else:  # Pol.is's caps leave votes out: build them from scratch
            yield era, rating_votes(matrix_of(end), era, moderated_at)


def update_matrices(
    ptpt_idx: ArrayLike,
    stmt_idx: ArrayLike,
    vote: ArrayLike,
    timestamps: ArrayLike,
    *,
    participant_ids: Sequence[str],
    statement_ids: Sequence[str],
    moderated_out: Iterable[str] = (),
    meta: Iterable[str] = (),
    batch_seconds: float = POLL_SECONDS,
    max_updates: int | None = None,
) -> Iterator[tuple[VoteMatrix, float]]:
    """The matrix of every update of :func:`replay`, with its newest vote's time.

    ``replay`` gives the result of ``analyze(matrix, previous=...)`` run on
    these in turn, each with the math of its time; this is that definition,
    spelled out (and far slower), for checking.
    """
    log = _ordered_log(
        ptpt_idx, stmt_idx, vote, timestamps, participant_ids, batch_seconds, max_updates
    )
    matrix_of = _prefix_matrices(log, statement_ids, moderated_out, meta)
    for end in log.ends:
        yield matrix_of(end), float(log.newest[end])


@dataclass(frozen=True, eq=False)
class _OrderedLog:
    """A vote log in Pol.is's order: by batch, then statement, participant and time.

    Rows are renumbered by first appearance; ``ends`` is the last vote of
    each update; ``newest`` and ``last_row`` are running maxima.
    """

    rows: NDArray[np.int64]
    cols: NDArray[np.int64]
    values: NDArray
    newest: NDArray[np.float64]
    last_row: NDArray[np.int64]
    ends: list[int]
    participant_ids: list[str]


def _ordered_log(
    ptpt_idx: ArrayLike,
    stmt_idx: ArrayLike,
    vote: ArrayLike,
    timestamps: ArrayLike,
    participant_ids: Sequence[str],
    batch_seconds: float,
    max_updates: int | None,
) -> _OrderedLog:
    rows = np.asarray(ptpt_idx, dtype=np.int64).reshape(-1)
    cols = np.asarray(stmt_idx, dtype=np.int64).reshape(-1)
    values = np.asarray(vote).reshape(-1)
    times = np.asarray(timestamps, dtype=np.float64).reshape(-1)
    if rows.size == 0:
        return _OrderedLog(rows, cols, values, times, rows, [], [])
    batch = _replay_batches(times, batch_seconds, max_updates)
    order = np.lexsort((times, rows, cols, batch))
    rows, cols, values, batch, times = (a[order] for a in (rows, cols, values, batch, times))
    ordered_ids, rows = _rows_by_appearance(rows, participant_ids)
    return _OrderedLog(
        rows=rows,
        cols=cols,
        values=values,
        newest=np.maximum.accumulate(times),
        last_row=np.maximum.accumulate(rows),
        ends=[*np.flatnonzero(np.diff(batch)).tolist(), rows.size - 1],
        participant_ids=ordered_ids,
    )


def _prefix_matrices(
    log: _OrderedLog,
    statement_ids: Sequence[str],
    moderated_out: Iterable[str],
    meta: Iterable[str],
) -> Callable[[int], VoteMatrix]:
    """The matrix of the votes up to the ``end``-th (none for -1)."""
    moderated, metas = list(moderated_out), list(meta)

    def matrix_of(end: int) -> VoteMatrix:
        n_rows = int(log.last_row[end]) + 1 if end >= 0 else 0
        return VoteMatrix.from_arrays(
            log.rows[: end + 1],
            log.cols[: end + 1],
            log.values[: end + 1],
            participant_ids=log.participant_ids[:n_rows],
            statement_ids=statement_ids,
            moderated_out=moderated,
            meta=metas,
        )

    return matrix_of


def _era_rule(math: MathRule) -> Callable[[float], PolisMath]:
    if math is None:
        return polis_math_at
    if isinstance(math, PolisMath):
        return lambda _: math
    return math


def _rows_by_appearance(
    rows: NDArray[np.int64], participant_ids: Sequence[str]
) -> tuple[list[str], NDArray[np.int64]]:
    """Participants renumbered in order of first appearance in the (sorted) log."""
    first_seen = np.full(len(participant_ids), rows.size, dtype=np.int64)
    np.minimum.at(first_seen, rows, np.arange(rows.size))
    appearance = np.argsort(first_seen, kind="stable")
    rank = np.empty_like(appearance)
    rank[appearance] = np.arange(appearance.size)
    return [participant_ids[i] for i in appearance.tolist()], rank[rows]


def _replay_batches(
    times: NDArray[np.float64], batch_seconds: float, max_updates: int | None
) -> NDArray[np.int64]:
    """Batch number of each vote: a new batch after a pause longer than ``batch_seconds``."""
    order = np.argsort(times, kind="stable")
    sorted_batch = np.concatenate([[0], np.cumsum(np.diff(times[order]) > batch_seconds)])
    n_batches = int(sorted_batch[-1]) + 1
    if max_updates is not None and n_batches > max_updates:
        sorted_batch = sorted_batch // int(np.ceil(n_batches / max_updates))
    batch = np.empty_like(sorted_batch)
    batch[order] = sorted_batch
    return batch


class BaseBounds:
    """Carries the base k-means' distance bounds from one update to the next.

    After an update it remembers, for every in-conversation participant, the
    place it was clustered at, its cluster and the bounds (see
    :class:`TrackedAssignment`), and the final centres. At the next update a
    participant who moved by ``Δ`` and whose (warm-started) cluster centre
    moved by ``δ`` keeps an upper bound larger by ``Δ + δ`` and a lower bound
    smaller by ``Δ`` plus the largest move of any centre (triangle
    inequality). New participants, and every participant after a warm start
    that split clusters off, are measured afresh.
    """

    def __init__(self) -> None:
        self._rows: NDArray[np.int64] | None = None
        self._points = np.zeros((0, 2))
        self._tracked: TrackedAssignment | None = None
        self._ids = np.zeros(0, dtype=np.int64)
        self._centers = np.zeros((0, 2))

    def start(
        self, points: NDArray[np.float64], in_rows: NDArray[np.int64], start: WarmStart | None
    ) -> TrackedAssignment:
        unknown = TrackedAssignment.unknown(points.shape[0])
        previous = self._tracked
        if start is None or start.split or self._rows is None or previous is None:
            return unknown
        at = _positions_of(self._rows, in_rows)
        if at is None:
            return unknown
        label = start.label if at.size == in_rows.size else start.label[at]
        if label.size and int(label.min()) < 0:
            return unknown
        id_position = _positions_of(start.ids, self._ids)
        if id_position is None:
            return unknown
        from coauthor.analysis.opinion_kernels import carried_bounds

        upper, lower = carried_bounds(
            self._points,
            points if at.size == in_rows.size else points[at],
            np.ascontiguousarray(label, dtype=np.int64),
            start.centers,
            self._centers,
            id_position,
            previous.position,
            previous.upper,
            previous.lower,
        )
        if at.size == in_rows.size:
            return TrackedAssignment(label.copy(), upper, lower)
        unknown.position[at] = label
        unknown.upper[at] = upper
        unknown.lower[at] = lower
        return unknown

    def carried(self) -> CarriedBounds:
        """The last base clustering's rows, places, ids, centres and bounds (no rows: none)."""
        tracked = self._tracked
        if self._rows is None or tracked is None:
            return NOTHING_CARRIED
        return (
            self._rows,
            np.ascontiguousarray(self._points, dtype=np.float64),
            self._ids,
            np.ascontiguousarray(self._centers, dtype=np.float64),
            tracked.position,
            tracked.upper,
            tracked.lower,
        )

    def finish(
        self,
        points: NDArray[np.float64],
        in_rows: NDArray[np.int64],
        base: Clustering,
        tracked: TrackedAssignment | None,
    ) -> None:
        self._rows = in_rows
        self._points = points
        self._tracked = tracked
        self._ids = base.ids
        self._centers = base.centers


def _positions_of(wanted: NDArray[np.int64], within: NDArray[np.int64]) -> NDArray[np.int64] | None:
    """Where each of ``wanted`` is in the sorted ``within`` (None if one is missing)."""
    if wanted.size == within.size and np.array_equal(wanted, within):
        return np.arange(wanted.size)
    at = np.searchsorted(within, wanted)
    if at.size and (at[-1] >= within.size or not np.array_equal(within[at], wanted)):
        return None
    return at
