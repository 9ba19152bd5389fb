"""The compiled kernels made ready before a results worker's first round.

The opinion math's kernels (:mod:`coauthor.analysis.opinion_kernels`) are compiled by
numba on their first call and cached on disk. On a fresh install nothing is cached: the
results worker's first releases compiled them — about 24 s of CPU on a two-core machine
with an empty cache, longer under a live deliberation's load — and no release came out
meanwhile (bench_live's first run on a fresh checkout: a vote visible after 36 to 52 s
instead of about 1 s). ``warm_up`` runs the analysis the worker runs (a first analysis,
then two updates, each from the state the last one left) on a small made-up
conversation, so that every kernel the worker calls is compiled, or loaded from the
cache, before it starts on real votes.
"""

from __future__ import annotations

import numpy as np

from coauthor.analysis.opinion_matrix import VoteMatrix
from coauthor.analysis.opinion_result import analyze_from_state

PARTICIPANTS = 300
STATEMENTS = 40
"""Large enough for every step of the analysis to run as it does at Pol.is scale (base
clusters, groups chosen among several sizes, representative statements)."""


def warm_up() -> None:
    """Compile (or load from numba's cache) every kernel of a first analysis and of the
    warm-started updates after it: a first analysis, an update with new participants and
    changed votes, then one with the same votes again, each from the last one's state
    (``tests/integration/test_analysis_warm_up.py`` checks that a real conversation's
    analysis compiles nothing after it)."""
    first = _conversation(PARTICIPANTS, seed=1)
    grown = _conversation(PARTICIPANTS + 5, seed=2)
    opinion = analyze_from_state(first)
    opinion = analyze_from_state(grown, state=opinion.state)
    analyze_from_state(grown, state=opinion.state)


def _conversation(participants: int, seed: int) -> VoteMatrix:
    """Two sides that mostly agree with their own statements and disagree with the
    other's, six votes in ten cast, one in five against one's side; made with a fixed
    seed, so the same each time."""
    generator = np.random.default_rng(seed)
    side = generator.integers(0, 2, participants)
    rows, columns = np.nonzero(generator.random((participants, STATEMENTS)) < 0.6)
    leaning = np.where(columns % 2 == side[rows], 1, -1)
    votes = np.where(generator.random(rows.size) < 0.8, leaning, -leaning)
    return VoteMatrix.from_cells(
        rows,
        columns,
        votes,
        participant_ids=[f"participant-{n:04d}" for n in range(participants)],
        statement_ids=[f"statement-{n:03d}" for n in range(STATEMENTS)],
    )
