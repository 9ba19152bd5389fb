"""Properties of the deliberation math, checked on generated conversations (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from coauthor.analysis import opinion_stats as ost
from coauthor.analysis.opinion import VoteMatrix, adjusted_rand_index, analyze
from coauthor.analysis.opinion_cluster import silhouette

# No example database: unit tests write no files.
FAST = settings(max_examples=25, deadline=None, database=None)


@st.composite
def vote_matrices(draw: st.DrawFn, max_participants: int = 40, max_statements: int = 12) -> dict:
    """Arbitrary small conversations: votes in {-1, 0, 1}, about half the cells blank."""
    n_p = draw(st.integers(2, max_participants))
    n_s = draw(st.integers(2, max_statements))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    dense = rng.choice([-1, 0, 1], size=(n_p, n_s)).astype(float)
    dense[rng.random((n_p, n_s)) < draw(st.floats(0.0, 0.7))] = np.nan
    dense[:, 0] = np.where(np.isnan(dense[:, 0]), 1.0, dense[:, 0])  # everyone voted once
    return {"dense": dense, "seed": seed}


@st.composite
def planted_conversations(draw: st.DrawFn) -> dict:
    """Two opinion groups of any sizes; everyone in a group votes alike.

    Pol.is k-means starts from the first distinct rows, so with noisy groups a
    different participant order can legitimately reach another local optimum;
    with uniform groups the grouping must not depend on the order.
    """
    sizes = [draw(st.integers(1, 40)), draw(st.integers(1, 40))]
    n_s = draw(st.integers(2, 16))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    first = rng.choice([-1.0, 0.0, 1.0], size=n_s)
    second = first.copy()
    second[0] = 1.0 if first[0] != 1.0 else -1.0
    labels = np.repeat([0, 1], sizes)
    return {"dense": np.where(labels[:, None] == 0, first, second), "labels": labels}


def matrix_of(dense: np.ndarray, order: np.ndarray | None = None) -> VoteMatrix:
    order = np.arange(dense.shape[0]) if order is None else order
    rows, cols = np.nonzero(~np.isnan(dense[order]))
    return VoteMatrix.from_arrays(
        rows,
        cols,
        dense[order][rows, cols].astype(int),
        participant_ids=[f"p{i}" for i in order.tolist()],
        statement_ids=[f"s{j}" for j in range(dense.shape[1])],
    )


@FAST
@given(vote_matrices(), st.randoms(use_true_random=False))
def test_participant_order_does_not_move_anyone(case: dict, random: object) -> None:
    dense = case["dense"]
    order = np.arange(dense.shape[0])
    random.shuffle(order)  # type: ignore[attr-defined]
    base = analyze(matrix_of(dense))
    shuffled = analyze(matrix_of(dense, order))
    position = {p: i for i, p in enumerate(shuffled.participant_ids)}
    index = [position[p] for p in base.participant_ids]
    np.testing.assert_allclose(base.x, shuffled.x[index], atol=1e-8)
    np.testing.assert_allclose(base.y, shuffled.y[index], atol=1e-8)
    # Who gets in is order-free, except ties among the top voters topping up to 15.
    assert base.in_conv.sum() == shuffled.in_conv.sum()
    qualified = (~np.isnan(dense)).sum(axis=1) >= min(7, dense.shape[1])
    assert base.in_conv[qualified].all() and shuffled.in_conv[index][qualified].all()
    assert base.consensus == shuffled.consensus


@FAST
@given(planted_conversations(), st.randoms(use_true_random=False))
def test_participant_order_does_not_change_planted_groups(case: dict, random: object) -> None:
    dense, labels = case["dense"], case["labels"]
    order = np.arange(dense.shape[0])
    random.shuffle(order)  # type: ignore[attr-defined]
    base = analyze(matrix_of(dense))
    shuffled = analyze(matrix_of(dense, order)).group_of()
    assert adjusted_rand_index(labels, base.participant_groups) == 1.0
    regrouped = [shuffled[p] for p in base.participant_ids]
    assert adjusted_rand_index(base.participant_groups, regrouped) == 1.0


@FAST
@given(vote_matrices())
def test_flipping_every_vote_mirrors_the_map_and_keeps_groups(case: dict) -> None:
    dense = case["dense"]
    base, flipped = analyze(matrix_of(dense)), analyze(matrix_of(-dense))
    for ours, theirs in ((base.x, flipped.x), (base.y, flipped.y)):
        sign = 1.0 if float(ours @ theirs) >= 0 else -1.0
        np.testing.assert_allclose(np.abs(ours), np.abs(theirs), atol=1e-8)
        np.testing.assert_allclose(ours, sign * theirs, atol=1e-6)
    assert adjusted_rand_index(base.participant_groups, flipped.participant_groups) == 1.0


@FAST
@given(vote_matrices())
def test_group_and_statement_outputs_are_consistent(case: dict) -> None:
    matrix = matrix_of(case["dense"])
    result = analyze(matrix)
    clustered = [g for g in result.participant_groups if g is not None]
    assert sum(g.size for g in result.groups) == len(clustered)
    assert {g.id for g in result.groups} == set(clustered)
    assert result.in_conv.sum() >= min(15, matrix.shape[0])
    assert all(len(g.representative) <= ost.REPRESENTATIVE_MAX for g in result.groups)
    assert set(result.priorities) == set(matrix.statement_ids)
    for value in result.group_informed_consensus.values():
        assert 0.0 < value < 1.0
    assert all(p > 0 for p in result.priorities.values())


VOTE_RECORDS = st.lists(
    st.tuples(st.sampled_from("abcd"), st.sampled_from("xyz"), st.sampled_from([-1, 0, 1])),
    max_size=40,
)


@FAST
@given(VOTE_RECORDS)
def test_last_vote_wins(records: list[tuple[str, str, int]]) -> None:
    expected: dict[tuple[str, str], int] = {}
    for participant, statement, vote in records:
        expected[(participant, statement)] = vote
    matrix = VoteMatrix.from_votes(records)
    assert {(p, s): v for p, s, v in matrix.as_records()} == expected
    assert matrix.n_votes == len(expected)


@FAST
@given(VOTE_RECORDS, VOTE_RECORDS)
def test_adding_votes_equals_building_from_the_whole_log(
    first: list[tuple[str, str, int]], then: list[tuple[str, str, int]]
) -> None:
    updated = VoteMatrix.from_votes(first).with_votes(then)
    rebuilt = VoteMatrix.from_votes(first + then)
    assert sorted(updated.as_records()) == sorted(rebuilt.as_records())
    assert set(updated.participant_ids) == set(rebuilt.participant_ids)
    assert updated.voted.nnz == updated.votes.nnz == rebuilt.n_votes


@FAST
@given(
    st.lists(st.integers(0, 4), min_size=2, max_size=60).flatmap(
        lambda a: st.tuples(
            st.just(a), st.lists(st.integers(0, 3), min_size=len(a), max_size=len(a))
        )
    )
)
def test_adjusted_rand_index_matches_sklearn_and_ignores_label_names(pair: tuple) -> None:
    a, b = pair
    assert adjusted_rand_index(a, b) == adjusted_rand_index(b, a)
    assert adjusted_rand_index(a, b) == pytest.approx(adjusted_rand_score(a, b))
    renamed = [f"label-{x * 7}" for x in a]
    assert adjusted_rand_index(renamed, b) == pytest.approx(adjusted_rand_index(a, b))


@FAST
@given(st.integers(0, 50), st.integers(0, 50))
def test_prop_test_increases_with_successes(successes: int, extra: int) -> None:
    trials = successes + extra + 1
    assert float(ost.prop_test(successes, trials)) < float(ost.prop_test(successes + 1, trials))


@FAST
@given(
    st.lists(
        st.tuples(st.floats(-10, 10), st.floats(-10, 10)), min_size=3, max_size=30, unique=True
    ),
    st.integers(0, 2**32 - 1),
)
def test_silhouette_is_bounded(points: list, seed: int) -> None:
    labels = np.random.default_rng(seed).integers(0, 3, len(points))
    labels = np.unique(labels, return_inverse=True)[1]
    value = silhouette(np.asarray(points), labels)
    assert -1.0 <= value <= 1.0
