"""A stored analysis state warm-starts the next analysis exactly as the live one does."""

from __future__ import annotations

import json

import numpy as np

from coauthor.analysis.opinion import (
    OpinionResult,
    VoteMatrix,
    analyze,
    analyze_from_state,
    polis_math_at,
)
from coauthor.analysis.opinion_codec import state_from_json, state_to_json


def planted_votes(n_participants: int, seed: int) -> list[tuple[str, str, int]]:
    """Three planted groups voting on 24 statements, each participant on about 70% of them."""
    rng = np.random.default_rng(seed)
    leanings = rng.choice([-1, 1], size=(3, 24))
    votes = []
    for p in range(n_participants):
        lean = leanings[p % 3]
        for s in np.flatnonzero(rng.random(24) < 0.7).tolist():
            vote = int(lean[s]) if rng.random() < 0.85 else int(rng.choice([-1, 0, 1]))
            votes.append((f"p{p}", f"s{s}", vote))
    return votes


def stored(result: OpinionResult) -> dict:
    """The state as the results service keeps it: JSON text, read back."""
    assert result.state is not None
    return json.loads(json.dumps(state_to_json(result.state)))


def assert_same_analysis(a: OpinionResult, b: OpinionResult) -> None:
    assert a.k == b.k
    assert a.participant_groups == b.participant_groups
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)


def test_state_round_trips_through_json() -> None:
    first = analyze(VoteMatrix.from_votes(planted_votes(60, seed=1)))
    data = stored(first)
    assert data["group_seeds"] and data["base_seed"] and data["smoother"]
    assert state_to_json(state_from_json(data)) == data


def test_stored_state_continues_like_the_live_result() -> None:
    votes = planted_votes(90, seed=2)
    earlier = VoteMatrix.from_votes(votes[: len(votes) // 2])
    later = VoteMatrix.from_votes(votes)
    first = analyze(earlier)
    live = analyze(later, previous=first)
    restored = analyze_from_state(later, state=state_from_json(stored(first)))
    assert_same_analysis(live, restored)


def test_stored_state_continues_an_older_eras_math() -> None:
    math = polis_math_at("2016-01-01")
    votes = planted_votes(90, seed=3)
    earlier = VoteMatrix.from_votes(votes[: len(votes) // 2])
    later = VoteMatrix.from_votes(votes)
    first = analyze(earlier, math=math)
    live = analyze(later, previous=first, math=math)
    restored = analyze_from_state(later, state=state_from_json(stored(first)), math=math)
    assert_same_analysis(live, restored)
