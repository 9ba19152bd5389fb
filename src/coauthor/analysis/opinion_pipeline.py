"""A replay on two cores: one update's power iteration beside the grouping of the last.

Each update of a replay places everyone (PCA, warm-started from the last
update's components; the projection; who is in the conversation) and then
groups them (base k-means and the groups of every k, warm-started from the
last update's). The PCA chain does not depend on the groupings, and an
update's grouping does not depend on the next update's PCA, so
:func:`grouped_pipelined` runs the power iteration (most of an update in
today's era) on a second thread, up to :data:`UPDATES_AHEAD` updates ahead,
while this thread adds the next batch of votes, computes its centre,
covariance and who is in the conversation, and projects and groups the
update before (with few power iterations per update, up to
:data:`PROJECTED_BESIDE_UP_TO_ITERS`, the other thread projects it). The
numba kernels release the GIL (``nogil``), so both threads compute at once.

Every step is the sequential path's (:func:`grouped_in_turn`), on the same
inputs, in the same order within its chain: the result is the same to the
bit. The threads share no array that either writes: the covariance handed
to the power iteration is a fresh array per update, and what the projection
reads of the votes (which the next batch changes in place) is copied before
the next batch is added. An update the split does not cover (the first one,
or one without cross-counts above ``GRAM_MAX_STATEMENTS`` statements) waits
for the updates in flight and is placed here, step by step, as in turn.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from queue import SimpleQueue

import numpy as np
from numpy.typing import NDArray

from coauthor.analysis.opinion_cluster import Clustering, KSmoother, TrackedAssignment
from coauthor.analysis.opinion_era import PolisMath
from coauthor.analysis.opinion_pca import (
    DEFLATE_ONCE_ABOVE_ITERS,
    PcaFit,
    project_votes,
    start_vectors,
)
from coauthor.analysis.opinion_update import (
    MIN_VOTES_IN_CONV,
    BaseTracker,
    GroupSeed,
    PackedGroupSeeds,
    Placement,
    Prior,
    aligned_comps,
    choose_k,
    cluster,
    next_prior,
    packed_group_seeds,
    place,
    topped_up,
)
from coauthor.analysis.opinion_votes import RatingVotes

UPDATES_AHEAD = 4
"""How many updates' power iterations may be asked for before the oldest is grouped."""

PROJECTED_BESIDE_UP_TO_ITERS = 20
"""Up to this many power iterations per update, the PCA thread projects the update too.

With the 10 iterations of the eras before 2022 the power iteration is short
and this thread's share (the votes, the covariance, the grouping) the
longer, so the projection runs beside the power iteration; with today's
100 it runs here.
"""

Updates = Iterable[tuple[PolisMath, RatingVotes]]
PriorOf = Callable[[], Prior]
"""An update's :class:`Prior`, built when asked (a replay asks for the last one only)."""


def grouped_in_turn(updates: Updates, seed: int, tracker: BaseTracker) -> Iterator[PriorOf]:
    """Place and group every update, one after the other: each update's :class:`Prior`."""
    prior: Prior | None = None
    for era, votes in updates:
        placement = place(votes, era, prior, seed)
        grouping = cluster(placement.xy, placement.in_conv, era, prior, tracker)
        prior = next_prior(votes.statement_ids, placement, grouping)
        yield _ready(prior)


def _ready(prior: Prior) -> PriorOf:
    return lambda: prior


def grouped_pipelined(updates: Updates, seed: int, tracker: BaseTracker) -> Iterator[PriorOf]:
    """:func:`grouped_in_turn`'s priors, in order; each update's power iteration on a thread.

    An exception on either thread stops both and is raised here; so does
    closing the iterator.
    """
    grouper = _Grouper(seed, tracker)
    pca = _PcaThread(seed)
    in_flight: deque[_Pending] = deque()
    before: NDArray[np.bool_] | None = None  # who was in the conversation at the last update
    restart: _Components | None = None  # components placed here, for the next power iteration
    try:
        for era, votes in updates:
            if before is None or votes.cross is None:
                while in_flight:
                    yield grouper.group(in_flight.popleft(), pca.result())
                placement, prior_of = grouper.place_and_group(era, votes)
                yield prior_of
                before = placement.in_conv
                restart = (tuple(votes.statement_ids), placement.fit.comps.copy())
                continue
            pending, request = _split_placement(era, votes, before, restart)
            pca.submit(request)
            in_flight.append(pending)
            before, restart = pending.in_conv, None
            if len(in_flight) > UPDATES_AHEAD:
                yield grouper.group(in_flight.popleft(), pca.result())
        while in_flight:
            yield grouper.group(in_flight.popleft(), pca.result())
    finally:
        pca.stop()


_Components = tuple[tuple[str, ...], NDArray[np.float64]]


@dataclass(frozen=True, eq=False)
class _PcaRequest:
    """One update's power iteration and, with ``projected``, its projection.

    Its arrays are the PCA thread's from now on (``projected``'s are only read).
    """

    statement_ids: tuple[str, ...]
    columns: NDArray[np.float64]
    zeroed: NDArray[np.bool_]
    n_rows: int
    iters: int
    restart: _Components | None
    projected: _Pending | None


@dataclass(frozen=True, eq=False)
class _Pending:
    """An update waiting for its components, to be projected and grouped.

    ``indptr`` and ``codes`` are copies of the votes' (the next batch changes those).
    """

    era: PolisMath
    statement_ids: list[str]
    center: NDArray[np.float64]
    zeroed: NDArray[np.bool_]
    in_conv: NDArray[np.bool_]
    indptr: NDArray[np.int32]
    codes: NDArray[np.int32]
    scale_counts: NDArray[np.int64]


def _split_placement(
    era: PolisMath,
    votes: RatingVotes,
    before: NDArray[np.bool_],
    restart: _Components | None,
) -> tuple[_Pending, _PcaRequest]:
    """``place``'s warm-started steps up to the power iteration, and the request for the rest.

    The zeroed statements, the centre and covariance, who is in the
    conversation, and copies of what the projection reads of the votes
    (which the next batch changes) are computed now, from ``votes``, in one
    compiled call (:func:`~coauthor.analysis.opinion_kernels.pipelined_inputs`:
    ``placement_scaling``, ``placement_covariance`` and ``in_conversation``'s
    expressions).
    """
    from coauthor.analysis.opinion_kernels import pipelined_inputs

    cross = votes.cross
    assert cross is not None
    zeroed, scale_counts, center, columns, in_conv, n_in, counts, indptr, codes = pipelined_inputs(
        cross.vv,
        cross.vm,
        cross.mm,
        votes.column_sums,
        votes.column_counts,
        votes.zeroable,
        votes.row_counts,
        votes.row_zeroable_counts,
        votes.indptr,
        votes.codes,
        votes.n_rows,
        era.zero_moderated,
        era.imputation == "mean",
        era.in_conv_counts_moderated,
        min(MIN_VOTES_IN_CONV, votes.n_cols),
        before,
    )
    pending = _Pending(
        era=era,
        statement_ids=votes.statement_ids,
        center=center,
        zeroed=zeroed,
        in_conv=topped_up(in_conv, n_in, counts),
        indptr=indptr,
        codes=codes,
        scale_counts=scale_counts,
    )
    request = _PcaRequest(
        statement_ids=tuple(votes.statement_ids),
        columns=columns,
        zeroed=zeroed,
        n_rows=votes.n_rows,
        iters=era.pca_iters,
        restart=restart,
        projected=pending if era.pca_iters <= PROJECTED_BESIDE_UP_TO_ITERS else None,
    )
    return pending, request


_Found = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64] | None]
"""An update's components, their eigenvalues and, when projected there, every row's place."""


class _Grouper:
    """This thread's side: each update's grouping, carrying to the next only what it reads.

    An update grouped in the compiled call (:func:`_Grouper.group`, the usual
    case) keeps that call's arrays; its :class:`Prior` is built only when
    asked (:class:`_Grouped`). Any other update is grouped step by step from
    the last update's :class:`Prior`, as :func:`grouped_in_turn` does.
    """

    def __init__(self, seed: int, tracker: BaseTracker) -> None:
        self._seed = seed
        self._tracker = tracker
        self._last: _Grouped | None = None

    def place_and_group(self, era: PolisMath, votes: RatingVotes) -> tuple[Placement, PriorOf]:
        """An update placed step by step here, as :func:`grouped_in_turn` does."""
        prior = self._last.prior() if self._last is not None else None
        placement = place(votes, era, prior, self._seed)
        return placement, self._in_turn(era, votes.statement_ids, placement, prior)

    def group(self, update: _Pending, found: _Found) -> PriorOf:
        """Project and group an update whose components the PCA thread found."""
        comps, eigenvalues, xy = found
        fit = PcaFit(center=update.center, comps=comps, eigenvalues=eigenvalues)
        if xy is None:
            xy = _projected(update, fit)
        last = self._last
        if last is not None and last.base_ids is not None:
            grouped = self._compiled(update, comps, xy, last)
            if grouped is not None:
                self._last = grouped
                return grouped.prior
        placement = Placement(fit=fit, xy=xy, in_conv=update.in_conv, zeroed=update.zeroed)
        prior = last.prior() if last is not None else None
        return self._in_turn(update.era, update.statement_ids, placement, prior)

    def _in_turn(
        self, era: PolisMath, statement_ids: list[str], placement: Placement, prior: Prior | None
    ) -> PriorOf:
        grouping = cluster(placement.xy, placement.in_conv, era, prior, self._tracker)
        self._last = _Grouped.of(next_prior(statement_ids, placement, grouping))
        return self._last.prior

    def _compiled(
        self,
        update: _Pending,
        comps: NDArray[np.float64],
        xy: NDArray[np.float64],
        last: _Grouped,
    ) -> _Grouped | None:
        """``cluster`` and ``next_prior`` in one compiled call; None when it left a step to them.

        :func:`~coauthor.analysis.opinion_kernels.grouping_by_row` selects
        the in-conversation rows and runs ``warm_grouping`` as ``cluster``
        does, from the last update's arrays; the k-smoother is ``cluster``'s.
        Whatever that call leaves to NumPy, the caller redoes step by step
        (nothing here has changed yet).
        """
        from coauthor.analysis import opinion_kernels as kernel

        era = update.era
        assert last.base_ids is not None
        in_rows, points, result, row_labels, seeds = kernel.grouping_by_row(
            xy,
            update.in_conv,
            last.row_labels,
            last.base_ids,
            era.base_k,
            era.base_iters,
            *self._tracker.carried(),
            era.weighted_groups,
            era.k_offset,
            era.base_clusters_per_k,
            era.max_k,
            era.group_iters,
            *last.seeds_for(era.max_k),
        )
        status, base_ids, base_centers, base_labels, position, upper, lower = result[:7]
        if status != kernel.DONE:
            return None
        base = Clustering(ids=base_ids, centers=base_centers, labels=base_labels)
        self._tracker.finish(points, in_rows, base, TrackedAssignment(position, upper, lower))
        group_ids, group_centers, group_widths, group_labels, scores = result[7:]
        by_k = dict(zip(range(2, 2 + group_widths.size), scores.tolist(), strict=True))
        _, smoother = choose_k(by_k, last.smoother, era.k_buffer)
        statement_ids, in_conv = update.statement_ids, update.in_conv  # not the copied cells
        return _Grouped(
            row_labels=row_labels,
            base_ids=base_ids,
            smoother=smoother,
            seeds=(era.max_k, seeds),
            build=lambda: Prior(
                pca_statement_ids=tuple(statement_ids),
                pca_comps=comps.copy(),
                in_conv=in_conv,
                base_ids=base_ids,
                base_centers=base_centers,
                base_labels=row_labels,
                groups={
                    g + 2: GroupSeed(
                        ids=group_ids[g, :width],
                        centers=group_centers[g, :width],
                        base_ids=base_ids,
                        base_group=group_labels[g],
                    )
                    for g, width in enumerate(group_widths.tolist())
                },
                smoother=smoother,
            ),
        )


def _projected(update: _Pending, fit: PcaFit) -> NDArray[np.float64]:
    """Everyone's place, as ``place``'s warm-started path computes it."""
    from coauthor.analysis.opinion_kernels import sparse_projection

    if update.era.sparse_projection:
        return sparse_projection(
            update.indptr, update.codes, fit.center, fit.comps, update.zeroed, update.scale_counts
        )
    return project_votes(
        update.indptr, update.codes, fit, update.zeroed, update.scale_counts, sparse=False
    )


class _Grouped:
    """An update grouped: what the next update's compiled grouping reads, and its :class:`Prior`.

    ``build`` makes the :class:`Prior` (``next_prior``'s), once, when it is
    asked for; ``seeds`` are its groups packed for a ``max_k``
    (:func:`~coauthor.analysis.opinion_update.packed_group_seeds`).
    """

    def __init__(
        self,
        row_labels: NDArray[np.int64],
        base_ids: NDArray[np.int64] | None,
        smoother: KSmoother | None,
        seeds: tuple[int, PackedGroupSeeds] | None,
        build: Callable[[], Prior],
    ) -> None:
        self.row_labels = row_labels
        self.base_ids = base_ids
        self.smoother = smoother
        self._seeds = seeds
        self._build = build
        self._prior: Prior | None = None

    @staticmethod
    def of(prior: Prior) -> _Grouped:
        """An update grouped step by step."""
        base_ids = prior.base_ids
        if base_ids is not None:
            base_ids = np.ascontiguousarray(base_ids, dtype=np.int64)
        return _Grouped(prior.base_labels, base_ids, prior.smoother, None, lambda: prior)

    def prior(self) -> Prior:
        if self._prior is None:
            self._prior = self._build()
        return self._prior

    def seeds_for(self, max_k: int) -> PackedGroupSeeds:
        if self._seeds is None or self._seeds[0] != max_k:
            self._seeds = (max_k, packed_group_seeds(self.prior(), max_k))
        return self._seeds[1]


class _PcaThread:
    """The power iteration (and projection) of every submitted update, in order, on its own thread.

    It keeps the last components it found to start the next update from
    (or a request's ``restart``, when the update before was placed on the
    other thread). Results come back in the order asked; an exception ends
    the thread and is raised by :meth:`result`.
    """

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._requests: SimpleQueue[_PcaRequest | None] = SimpleQueue()
        self._results: SimpleQueue[_Found | BaseException] = SimpleQueue()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="replay-pca", daemon=True)
        self._thread.start()

    def submit(self, request: _PcaRequest) -> None:
        self._requests.put(request)

    def result(self) -> _Found:
        """The components, eigenvalues (and places) of the oldest update not yet returned."""
        outcome = self._results.get()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def stop(self) -> None:
        """End the thread (after the update it is on) and wait for it."""
        self._stopping.set()
        self._requests.put(None)
        self._thread.join()

    def _run(self) -> None:
        last: _Components | None = None
        while (request := self._requests.get()) is not None and not self._stopping.is_set():
            try:
                found = self._placed(request, request.restart or last)
            except BaseException as error:  # handed to the grouping thread, which raises it
                self._results.put(error)
                return
            last = (request.statement_ids, found[0])
            self._results.put(found)

    def _placed(self, request: _PcaRequest, previous: _Components | None) -> _Found:
        """``place``'s power iteration (and projection), as its warm-started path runs them.

        Each in one compiled call
        (:func:`~coauthor.analysis.opinion_kernels.power_projection` does both),
        so that this thread takes the interpreter lock once per update.
        """
        from coauthor.analysis.opinion_kernels import power_components, power_projection

        assert previous is not None
        n_cols = len(request.statement_ids)
        previous_comps = aligned_comps(request.statement_ids, *previous)
        starts = start_vectors(n_cols, self._seed, previous_comps)
        power = (
            request.columns,
            np.ascontiguousarray(starts, dtype=np.float64),
            request.iters,
            request.iters > DEFLATE_ONCE_ABOVE_ITERS,
            request.n_rows,
            request.zeroed,
        )
        update = request.projected
        if update is None:
            comps, eigenvalues = power_components(*power)
            return comps, eigenvalues, None
        sparse = update.era.sparse_projection
        comps, eigenvalues, xy = power_projection(
            *power, sparse, update.indptr, update.codes, update.center, update.scale_counts
        )
        if not sparse:
            fit = PcaFit(center=update.center, comps=comps, eigenvalues=eigenvalues)
            xy = _projected(update, fit)
        return comps, eigenvalues, xy
