"""Hand-worked cases for the deliberation math (coauthor.analysis.opinion)."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.stats import chi2_contingency
from sklearn.metrics import adjusted_rand_score, silhouette_score

from coauthor.analysis import opinion_cluster as oc
from coauthor.analysis import opinion_stats as ost
from coauthor.analysis.opinion import (
    VoteMatrix,
    adjusted_rand_index,
    analyze,
    bridging_and_fault_lines,
    partner_alignment,
    polis_math_at,
    replay,
)
from coauthor.analysis.opinion_era import CURRENT
from coauthor.analysis.opinion_pca import (
    dense_covariance,
    exact_pca,
    one_hot_cells,
    operator_covariance,
    power_iteration_pca,
    start_vectors,
)
from coauthor.analysis.opinion_votes import rating_votes

ZERO_IMPUTED = replace(CURRENT, imputation="zero")

# ---------------------------------------------------------------- helpers


def planted_matrix(
    n_per_group: tuple[int, ...] = (30, 20),
    n_statements: int = 24,
    *,
    noise: float = 0.1,
    missing: float = 0.2,
    seed: int = 1,
) -> tuple[VoteMatrix, np.ndarray]:
    """Groups with opposite opinions on random statements, a little noise, some blanks."""
    rng = np.random.default_rng(seed)
    opinions = rng.choice([-1, 1], size=(len(n_per_group), n_statements))
    labels = np.repeat(np.arange(len(n_per_group)), n_per_group)
    votes = opinions[labels].copy()
    flip = rng.random(votes.shape) < noise
    votes[flip] = rng.choice([-1, 0, 1], size=int(flip.sum()))
    rows, cols = np.nonzero(rng.random(votes.shape) >= missing)
    matrix = VoteMatrix.from_arrays(
        rows,
        cols,
        votes[rows, cols],
        participant_ids=[f"p{i}" for i in range(labels.size)],
        statement_ids=[f"s{j}" for j in range(n_statements)],
    )
    return matrix, labels


def dense_matrix(rows: list[list[float]], **kwargs: object) -> VoteMatrix:
    """A matrix from a dense list of rows, NaN = no vote."""
    dense = np.asarray(rows, dtype=float)
    r, c = np.nonzero(~np.isnan(dense))
    return VoteMatrix.from_arrays(
        r,
        c,
        dense[r, c].astype(int),
        participant_ids=[f"p{i}" for i in range(dense.shape[0])],
        statement_ids=[f"s{j}" for j in range(dense.shape[1])],
        **kwargs,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------- vote matrix


def test_last_vote_wins_in_time_order() -> None:
    matrix = VoteMatrix.from_votes(
        [("a", "s1", 1), ("b", "s1", -1), ("a", "s1", -1), ("a", "s2", 0), ("a", "s1", 0)]
    )
    assert matrix.participant_ids == ["a", "b"]
    assert matrix.statement_ids == ["s1", "s2"]
    assert sorted(matrix.as_records()) == [("a", "s1", 0), ("a", "s2", 0), ("b", "s1", -1)]


def test_pass_differs_from_missing() -> None:
    matrix = VoteMatrix.from_votes([("a", "s1", 0), ("b", "s2", 1)])
    assert matrix.voted.toarray().tolist() == [[True, False], [False, True]]
    dense = matrix.to_dense()
    assert dense[0, 0] == 0 and math.isnan(dense[0, 1])


def test_statement_ids_keep_unvoted_statements_and_refuse_unknown_ones() -> None:
    matrix = VoteMatrix.from_votes([("a", "s2", 1)], statement_ids=["s1", "s2", "s3"])
    assert matrix.shape == (1, 3)
    assert matrix.as_records() == [("a", "s2", 1)]
    with pytest.raises(ValueError, match="unknown statements: s9"):
        VoteMatrix.from_votes([("a", "s9", 1)], statement_ids=["s1"])


def test_votes_outside_the_three_values_are_refused() -> None:
    with pytest.raises(ValueError, match="-1, 0 or 1"):
        VoteMatrix.from_votes([("a", "s1", 2)])


def test_with_vote_appends_and_overrides() -> None:
    matrix = VoteMatrix.from_votes([("a", "s1", 1)])
    updated = matrix.with_vote("a", "s1", -1).with_vote("b", "s2", 0)
    assert updated.participant_ids == ["a", "b"]
    assert sorted(updated.as_records()) == [("a", "s1", -1), ("b", "s2", 0)]
    assert matrix.as_records() == [("a", "s1", 1)]


# ---------------------------------------------------------------- statistics


def test_prop_test_by_hand() -> None:
    # 3 agrees out of 5 votes: (3+1)/(5+1) = 2/3; 2·sqrt(6)·(2/3 - 1/2) = sqrt(6)/3
    assert float(ost.prop_test(3, 5)) == pytest.approx(math.sqrt(6) / 3)


def test_two_prop_test_by_hand() -> None:
    # in: 5/8, out: 2/10 → smoothed 6/9 and 3/11, pooled 9/20
    pi1, pi2, pooled = 6 / 9, 3 / 11, 9 / 20
    expected = (pi1 - pi2) / math.sqrt(pooled * (1 - pooled) * (1 / 9 + 1 / 11))
    assert float(ost.two_prop_test(5, 2, 8, 10)) == pytest.approx(expected)
    assert float(ost.two_prop_test(4, 6, 4, 6)) == 0.0  # pooled rate 1 → 0, as Pol.is


def test_repness_stats_against_hand_computation() -> None:
    counts = ost.VoteCounts(
        agree=np.array([[8.0], [1.0]]),
        disagree=np.array([[1.0], [7.0]]),
        seen=np.array([[10.0], [9.0]]),
    )
    stats = ost.repness_stats(counts)
    pa0 = (8 + 1) / (10 + 2)
    assert stats.pa[0, 0] == pytest.approx(pa0)
    assert stats.ra[0, 0] == pytest.approx(pa0 / ((1 + 1) / (2 + 9)))
    assert stats.rat[0, 0] == pytest.approx(float(ost.two_prop_test(8, 1, 10, 9)))
    assert stats.rdt[1, 0] == pytest.approx(float(ost.two_prop_test(7, 1, 9, 10)))
    assert stats.pdt[1, 0] == pytest.approx(2 * math.sqrt(10) * (8 / 10 - 0.5))


def _single_group_stats(
    na: list[float], nd: list[float], ns: list[float], rest: tuple[list, list, list]
) -> ost.RepnessStats:
    counts = ost.VoteCounts(
        agree=np.array([na, rest[0]], dtype=float),
        disagree=np.array([nd, rest[1]], dtype=float),
        seen=np.array([ns, rest[2]], dtype=float),
    )
    return ost.repness_stats(counts)


def test_representative_selection_rules() -> None:
    # Group 0 strongly agrees with s0..s3, disagrees with s4..s6; the rest of people oppose.
    na = [20, 19, 18, 17, 1, 0, 1, 5]
    nd = [0, 1, 1, 2, 18, 19, 17, 5]
    ns = [20, 20, 20, 20, 20, 20, 20, 12]
    rest_na = [2, 3, 1, 4, 20, 18, 19, 6]
    rest_nd = [18, 17, 19, 16, 0, 2, 1, 5]
    rest_ns = [20, 20, 20, 20, 20, 20, 20, 12]
    stats = _single_group_stats(na, nd, ns, (rest_na, rest_nd, rest_ns))
    ids = [f"s{i}" for i in range(8)]
    chosen = ost.select_representative(stats, 0, ids, np.ones(8, dtype=bool))
    assert len(chosen) == ost.REPRESENTATIVE_MAX
    directions = [r.direction for r in chosen]
    assert directions == sorted(directions)  # agrees before disagrees
    assert chosen[0].best_agree and chosen[0].statement_id == "s0"
    assert "s7" not in {r.statement_id for r in chosen}  # a split statement is not representative
    # Within a direction, the picks (after the best agreed one) come by falling metric.
    for direction in ("agree", "disagree"):
        metrics = [r.metric for r in chosen if r.direction == direction and not r.best_agree]
        assert metrics == sorted(metrics, reverse=True)
    assert sum(r.direction == "disagree" for r in chosen) >= 2  # so the order is tested


def test_representative_falls_back_to_best_by_test_when_nothing_passes() -> None:
    # Nothing significant and no agree at all: the best statement by max(rat, rdt) is kept.
    stats = _single_group_stats([0, 0], [1, 2], [2, 3], ([0, 0], [1, 1], [3, 3]))
    chosen = ost.select_representative(stats, 0, ["a", "b"], np.ones(2, dtype=bool))
    best = int(np.argmax(np.maximum(stats.rat[0], stats.rdt[0])))
    assert [r.statement_id for r in chosen] == [["a", "b"][best]]
    assert not chosen[0].best_agree


def test_consensus_on_a_toy_matrix() -> None:
    nan = math.nan
    rows = [[1, -1, 1, 1], [1, -1, 1, -1], [1, -1, -1, 1], [1, -1, nan, -1]] * 3
    matrix = dense_matrix(rows)
    result = analyze(matrix)
    # s0: 12/12 agree → p = 13/14, z = 2·sqrt(13)·(13/13 - 1/2); s3 is split 6/6.
    agree = result.consensus.agree
    assert [c.statement_id for c in agree] == ["s0"]
    assert agree[0].p_success == pytest.approx(13 / 14)
    assert agree[0].p_test == pytest.approx(2 * math.sqrt(13) * 0.5)
    assert [c.statement_id for c in result.consensus.disagree] == ["s1"]


def test_group_informed_consensus_and_priority_by_hand() -> None:
    counts = ost.VoteCounts(
        agree=np.array([[3.0], [1.0]]),
        disagree=np.array([[1.0], [2.0]]),
        seen=np.array([[5.0], [4.0]]),
    )
    assert ost.group_informed_consensus(counts)[0] == pytest.approx((4 / 7) * (2 / 6))
    extremity = np.array([0.5])
    a, d, s = 4, 3, 9
    p = s - (a + d)
    importance = (1 - (p + 1) / (s + 2)) * (0.5 + 1) * (a + 1) / (s + 2)
    expected = (importance * (1 + 8 * 2 ** (-s / 5))) ** 2
    assert ost.priorities(counts, extremity, np.array([False]))[0] == pytest.approx(expected)
    assert ost.priorities(counts, extremity, np.array([True]))[0] == 49.0


# ---------------------------------------------------------------- inclusion


def test_inclusion_needs_seven_votes_then_tops_up_to_fifteen() -> None:
    vote_counts = [10] * 12 + [6, 5, 5, 4, 2, 1]
    records = [
        (f"p{i}", f"s{j}", 1 if (i + j) % 3 else -1)
        for i, n in enumerate(vote_counts)
        for j in range(n)
    ]
    result = analyze(VoteMatrix.from_votes(records))
    in_conv = dict(zip(result.participant_ids, result.in_conv.tolist(), strict=True))
    assert all(in_conv[f"p{i}"] for i in range(12))
    # 12 qualify; the three top voters below 7 (6, 5, 5 votes, file order on ties) top it up.
    assert [in_conv[f"p{i}"] for i in range(12, 18)] == [True, True, True, False, False, False]


def test_inclusion_threshold_is_the_statement_count_when_smaller() -> None:
    records = [(f"p{i}", f"s{j}", 1) for i in range(20) for j in range(3 if i < 16 else 2)]
    result = analyze(VoteMatrix.from_votes(records))
    assert result.in_conv.sum() == 16


# ---------------------------------------------------------------- clustering


def test_kmeans_initialises_on_first_distinct_rows() -> None:
    points = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0], [1.0, 0.0], [5.0, 5.0]])
    assert oc.first_distinct_rows(points, 2).tolist() == [[0.0, 0.0], [5.0, 5.0]]
    ids, centers = oc.fresh_start(points, 10)
    assert ids.tolist() == [0, 1, 2] and centers.tolist() == [[0, 0], [5, 5], [1, 0]]


def test_kmeans_converges_and_drops_empty_clusters() -> None:
    points = np.array([[0.0, 0.0], [0.2, 0.0], [9.0, 9.0], [9.2, 9.0]])
    start = np.array([[0.0, 0.0], [9.0, 9.0], [100.0, 100.0]])
    result = oc.kmeans(points, np.array([0, 1, 2]), start, max_iters=20)
    assert result.ids.tolist() == [0, 1]
    assert result.labels.tolist() == [0, 0, 1, 1]
    np.testing.assert_allclose(result.centers, [[0.1, 0.0], [9.1, 9.0]])


def test_weighted_kmeans_centres_are_weighted_means() -> None:
    points = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0]])
    result = oc.kmeans(
        points, np.array([0, 1]), points[[0, 2]], weights=np.array([3.0, 1.0, 2.0]), max_iters=20
    )
    assert result.centers[0].tolist() == pytest.approx([0.25, 0.0])


def test_warm_start_recentres_merges_and_splits_off_the_most_distal_point() -> None:
    points = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 10.0], [10.0, 11.0], [50.0, 50.0]])
    names = ["a", "b", "c", "d", "e"]
    seed = oc.ClusterSeed(
        ids=np.array([3, 7, 8]),
        centers=np.zeros((3, 2)),
        members=(("a", "b"), ("c", "gone"), ("d",)),
    )
    ids, centers = oc.clean_start(points, names, seed, 4)
    # 3 and 7 are recentred on their members still here, 8 too; "e" is new and far: split off.
    assert ids.tolist() == [3, 7, 8, 9]
    np.testing.assert_allclose(centers, [[0, 0.5], [10, 10], [10, 11], [50, 50]])
    same_place = oc.ClusterSeed(
        ids=np.array([1, 2]), centers=np.zeros((2, 2)), members=(("a",), ("a", "a"))
    )
    ids, centers = oc.clean_start(points[:1], ["a"], same_place, 2)
    assert ids.tolist() == [2] and centers.tolist() == [[0.0, 0.0]]


def test_silhouette_matches_sklearn_including_singletons() -> None:
    rng = np.random.default_rng(3)
    points = np.vstack([rng.normal(0, 1, (12, 2)), rng.normal(6, 1, (9, 2)), [[20.0, 20.0]]])
    labels = np.array([0] * 12 + [1] * 9 + [2])
    assert oc.silhouette(points, labels) == pytest.approx(silhouette_score(points, labels))


def test_k_smoother_waits_for_four_consecutive_wins() -> None:
    smoother = oc.KSmoother.first(2)
    history = []
    for k in [3, 3, 3, 2, 3, 3, 3, 3]:
        smoother = smoother.update(k)
        history.append(smoother.smoothed_k)
    assert history == [2, 2, 2, 2, 2, 2, 2, 3]


def test_max_group_k_grows_with_base_clusters() -> None:
    assert [oc.max_group_k(n) for n in (5, 12, 24, 36, 100)] == [2, 3, 4, 5, 5]


# ---------------------------------------------------------------- PCA and projection


def _reference_pca(dense: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An independent dense Pol.is projection: (participant xy, components, centre)."""
    voted = ~np.isnan(dense)
    center = np.nanmean(dense, axis=0)
    centered = np.where(voted, dense - center, 0.0)
    _, vectors = np.linalg.eigh(centered.T @ centered)
    comps = vectors[:, ::-1][:, :2].T
    scale = np.sqrt(dense.shape[1] / np.maximum(voted.sum(axis=1), 1))
    return (centered @ comps.T) * scale[:, None], comps, center


def _aligned(result: object, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Our projection and the per-component signs that align the reference with it."""
    ours = np.column_stack([result.x, result.y])  # type: ignore[attr-defined]
    return ours, np.sign((ours * reference).sum(axis=0))


def test_projection_matches_an_independent_dense_computation() -> None:
    matrix, _ = planted_matrix()
    reference, _, _ = _reference_pca(matrix.to_dense())
    ours, signs = _aligned(analyze(matrix), reference)
    np.testing.assert_allclose(ours, reference * signs, atol=1e-9)


def _zero_imputed_reference(dense: np.ndarray) -> np.ndarray:
    """Pol.is before 2017-10-21: blanks are 0 in the PCA, the centre is over everyone."""
    voted = ~np.isnan(dense)
    filled = np.where(voted, dense, 0.0)
    center = filled.mean(axis=0)
    _, vectors = np.linalg.eigh((filled - center).T @ (filled - center))
    comps = vectors[:, ::-1][:, :2].T
    projected = np.where(voted, dense - center, 0.0) @ comps.T  # voted cells only
    return projected * np.sqrt(dense.shape[1] / np.maximum(voted.sum(axis=1), 1))[:, None]


def test_zero_imputation_matches_an_independent_dense_computation() -> None:
    matrix, _ = planted_matrix(missing=0.4, seed=8)
    reference = _zero_imputed_reference(matrix.to_dense())
    ours, signs = _aligned(analyze(matrix, math=ZERO_IMPUTED), reference)
    np.testing.assert_allclose(ours, reference * signs, atol=1e-9)
    mean_imputed, _ = _aligned(analyze(matrix), reference)
    assert not np.allclose(np.abs(mean_imputed), np.abs(reference), atol=1e-3)


def test_zero_imputation_on_many_statements_uses_lanczos_on_the_shifted_operator() -> None:
    matrix, _ = planted_matrix((40, 30), 450, missing=0.5, seed=10)  # > 400: no covariance
    reference = _zero_imputed_reference(matrix.to_dense())
    ours, signs = _aligned(analyze(matrix, math=ZERO_IMPUTED), reference)
    np.testing.assert_allclose(ours, reference * signs, atol=1e-8)


@pytest.mark.parametrize("mean_imputed", [True, False])
def test_covariance_from_counts_and_from_cells_equals_the_dense_one(mean_imputed: bool) -> None:
    matrix, _ = planted_matrix((9, 7), 6, missing=0.4, seed=3)
    votes = rating_votes(matrix, CURRENT)
    dense = matrix.to_dense()
    voted = ~np.isnan(dense)
    counts = voted.sum(axis=0) if mean_imputed else dense.shape[0]
    center = np.nansum(dense, axis=0) / counts
    filled = np.where(voted, dense, center if mean_imputed else 0.0)
    zeroed = np.zeros(6, dtype=bool)
    zeroed[2] = True
    center[zeroed] = 0.0
    filled[:, zeroed] = 0.0
    expected = (filled - center).T @ (filled - center)
    from_counts = dense_covariance(
        votes.cross, center, zeroed, n_rows=votes.n_rows, mean_imputed=mean_imputed
    )
    one_hot = one_hot_cells(votes.indptr, votes.codes, votes.n_cols)
    from_cells = operator_covariance(one_hot, center, zeroed, mean_imputed=mean_imputed)
    np.testing.assert_allclose(from_counts.dense, expected, atol=1e-12)
    v = np.random.default_rng(4).random(6)
    np.testing.assert_allclose(from_cells.apply(v), expected @ v, atol=1e-12)


def test_zero_imputation_exact_pca_matches_power_iteration() -> None:
    matrix, _ = planted_matrix((25, 25, 10), 30, missing=0.3, seed=4)
    exact = analyze(matrix, pca_method="exact", math=ZERO_IMPUTED)
    power = analyze(matrix, pca_method="power", math=ZERO_IMPUTED)
    np.testing.assert_allclose(exact.x, power.x, atol=1e-6)
    np.testing.assert_allclose(exact.y, power.y, atol=1e-6)


def test_replay_follows_the_imputation_of_each_update_s_date() -> None:
    once, _ = planted_matrix(missing=0.4, seed=9)  # blanks: the imputation matters
    rows, cols, votes = once.cells()
    ids = {"participant_ids": once.participant_ids, "statement_ids": once.statement_ids}
    switch = polis_math_at("2017-10-21").since_seconds  # 90b5b9e6: the column mean from then on
    before = replay(rows, cols, votes, np.full(rows.size, switch - 1.0), **ids)
    after = replay(rows, cols, votes, np.full(rows.size, switch), **ids)

    def positions(result: object) -> dict[str, tuple[float, float]]:
        data = result.to_dict()  # type: ignore[attr-defined]
        return {p["id"]: (round(p["x"], 9), round(p["y"], 9)) for p in data["participants"]}

    assert positions(before) == positions(analyze(once, math=polis_math_at(switch - 1.0)))
    assert positions(after) == positions(analyze(once, math=polis_math_at(switch)))
    assert positions(before) != positions(after)


def test_exact_pca_matches_power_iteration() -> None:
    matrix, _ = planted_matrix((25, 25, 10), 30, seed=4)
    exact = analyze(matrix, pca_method="exact")
    power = analyze(matrix, pca_method="power")
    np.testing.assert_allclose(exact.x, power.x, atol=1e-6)
    np.testing.assert_allclose(exact.y, power.y, atol=1e-6)


def test_exact_pca_gives_power_iteration_signs_for_the_start_vector() -> None:
    matrix, _ = planted_matrix(seed=5)
    votes = rating_votes(matrix, CURRENT)
    center = votes.column_sums / votes.column_counts
    no_zeroed = np.zeros(votes.n_cols, dtype=bool)
    covariance = dense_covariance(
        votes.cross,
        center,
        no_zeroed,
        n_rows=votes.n_rows,
        mean_imputed=True,
    )
    starts = start_vectors(votes.n_cols, seed=11)
    exact = exact_pca(covariance, center, starts, n_rows=votes.n_rows)
    power = power_iteration_pca(covariance, center, starts, n_rows=votes.n_rows, iters=1000)
    np.testing.assert_allclose(exact.comps, power.comps, atol=1e-6)


def test_statement_projection_is_a_lone_agree_voter() -> None:
    matrix, _ = planted_matrix(seed=6)
    result = analyze(matrix)
    dense = matrix.to_dense()
    reference, comps, center = _reference_pca(dense)
    _, signs = _aligned(result, reference)
    # sqrt(n/1) scaling of one vote (+1) on s3, centred: (1 - centre) along the components.
    expected = math.sqrt(dense.shape[1]) * (1 - center[3]) * comps[:, 3] * signs
    assert result.statement_projections["s3"] == pytest.approx(tuple(expected), abs=1e-9)
    assert result.statement_extremity["s3"] == pytest.approx(float(np.linalg.norm(expected)))


def test_a_lone_agree_voter_lands_on_the_statement() -> None:
    matrix, _ = planted_matrix(seed=13)
    result = analyze(matrix.with_vote("solo", "s5", 1))
    solo = result.participant_ids.index("solo")
    assert (result.x[solo], result.y[solo]) == pytest.approx(result.statement_projections["s5"])


def test_moderated_statement_counts_as_a_pass_for_scaling_and_is_never_reported() -> None:
    matrix, _ = planted_matrix(seed=7)
    moderated = dense_matrix(matrix.to_dense().tolist(), moderated_out=["s0"])
    result = analyze(moderated)
    assert result.statement_projections["s0"] == (0.0, 0.0)
    reported = {r.statement_id for g in result.groups for r in g.representative}
    reported |= {c.statement_id for c in result.consensus.agree + result.consensus.disagree}
    assert "s0" not in reported
    # Projection: column s0 is a 0 (a pass) for everyone, so it counts as everyone's vote.
    dense = matrix.to_dense()
    dense[:, 0] = 0.0
    reference, _, _ = _reference_pca(dense)
    ours, signs = _aligned(result, reference)
    np.testing.assert_allclose(ours, reference * signs, atol=1e-9)


# ---------------------------------------------------------------- whole pipeline


def test_planted_groups_are_found() -> None:
    matrix, labels = planted_matrix((40, 25), 30, seed=8)
    result = analyze(matrix)
    assert result.k == 2
    assert adjusted_rand_index(labels, result.participant_groups) == 1.0
    assert sorted(g.size for g in result.groups) == [25, 40]
    assert all(g.representative for g in result.groups)


def test_analysis_is_deterministic_for_a_seed() -> None:
    matrix, _ = planted_matrix(seed=9)
    first, second = analyze(matrix, seed=3), analyze(matrix, seed=3)
    assert first.to_dict() == second.to_dict()
    other_seed = analyze(matrix, seed=4)
    assert adjusted_rand_index(first.participant_groups, other_seed.participant_groups) == 1.0


def test_previous_result_warm_starts_and_carries_the_smoother() -> None:
    matrix, labels = planted_matrix((30, 30), 20, seed=10)
    first = analyze(matrix)
    second = analyze(matrix.with_vote("p0", "s1", 1), previous=first)
    assert second.state is not None and second.state.smoother is not None
    assert second.state.smoother.last_k_count == 2
    assert adjusted_rand_index(labels, second.participant_groups) == 1.0
    # Sticky inclusion: a participant once in stays in even when the data would not admit them.
    smaller = VoteMatrix.from_votes(
        [r for r in matrix.as_records() if r[0] != "p1" or r[1] in {"s0", "s1"}]
    )
    assert analyze(smaller, previous=first).in_conv[smaller.participant_ids.index("p1")]


def _bursts() -> tuple[list[tuple[str, str, int]], list[float]]:
    """Two opposed camps voting in three bursts an hour apart."""
    records, times = [], []
    for burst in range(3):
        for i in range(burst * 12, burst * 12 + 12):
            for j in range(8):
                records.append((f"p{i}", f"s{j}", 1 if (i % 2 == 0) == (j < 4) else -1))
                times.append(3600.0 * burst + i + j / 10)
    return records, times


def _arrays(records: list[tuple[str, str, int]]) -> tuple[np.ndarray, ...]:
    matrix = VoteMatrix.from_votes(records)
    position = {p: i for i, p in enumerate(matrix.participant_ids)}
    column = {s: j for j, s in enumerate(matrix.statement_ids)}
    return (
        np.array([position[p] for p, _, _ in records]),
        np.array([column[s] for _, s, _ in records]),
        np.array([v for _, _, v in records]),
        matrix,
    )


def test_replay_runs_one_update_per_burst() -> None:
    records, times = _bursts()
    rows, cols, votes, matrix = _arrays(records)
    ids = {"participant_ids": matrix.participant_ids, "statement_ids": matrix.statement_ids}
    result = replay(rows, cols, votes, times, math=CURRENT, **ids)
    assert result.state is not None and result.state.smoother is not None
    assert result.state.smoother.last_k_count == 3
    merged = replay(rows, cols, votes, times, max_updates=2, math=CURRENT, **ids)
    assert merged.state is not None and merged.state.smoother is not None
    assert merged.state.smoother.last_k_count == 2
    camps = [int(p[1:]) % 2 for p in result.participant_ids]
    assert adjusted_rand_index(camps, result.participant_groups) == 1.0


def test_replay_of_a_single_burst_is_one_analysis_in_pol_is_row_order() -> None:
    records, _ = _bursts()
    rows, cols, votes, matrix = _arrays(records)
    replayed = replay(
        rows,
        cols,
        votes,
        np.zeros(len(records)),
        participant_ids=matrix.participant_ids,
        statement_ids=matrix.statement_ids,
        math=CURRENT,
    )
    by_statement = sorted(records, key=lambda r: (int(r[1][1:]), int(r[0][1:])))
    once = analyze(VoteMatrix.from_votes(by_statement, statement_ids=matrix.statement_ids))
    assert replayed.to_dict() == once.to_dict()


def test_to_dict_is_json_ready() -> None:
    matrix, _ = planted_matrix(seed=12)
    data = analyze(matrix).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert {p["id"] for p in data["participants"]} == set(matrix.participant_ids)
    assert set(data) >= {"participants", "groups", "consensus", "group_informed_consensus"}


def test_unanimous_conversations_have_no_opinion_space() -> None:
    records = [(f"p{i}", f"s{j}", 1) for i in range(20) for j in range(30)]
    result = analyze(VoteMatrix.from_votes(records))
    assert not result.x.any() and not result.y.any()
    assert [c.statement_id for c in result.consensus.agree] == ["s0", "s1", "s2", "s3", "s4"]


def test_tiny_conversations_do_not_break() -> None:
    single = analyze(VoteMatrix.from_votes([("a", "s1", 1)]))
    assert single.participant_groups == [0] and single.k == 1
    empty = analyze(VoteMatrix.from_votes([]))
    assert empty.groups == () and empty.participant_ids == []


# ---------------------------------------------------------------- partners


def test_adjusted_rand_index_matches_sklearn() -> None:
    rng = np.random.default_rng(13)
    for n, k_a, k_b in [(50, 2, 3), (200, 5, 4), (7, 7, 1), (30, 1, 1)]:
        a, b = rng.integers(0, k_a, n), rng.integers(0, k_b, n)
        assert adjusted_rand_index(a, b) == pytest.approx(adjusted_rand_score(a, b))
    assert adjusted_rand_index(["x", "x", "y"], [1, 1, 2]) == 1.0


def test_partner_alignment_statistics() -> None:
    people = [f"p{i}" for i in range(60)]
    partners = {p: ["acme", "bolt", "core"][i % 3] for i, p in enumerate(people)}
    aligned = {p: i % 3 for i, p in enumerate(people)}
    result = partner_alignment(aligned, partners, permutations=500, seed=1)
    assert result.cramers_v == pytest.approx(1.0)
    assert result.p_value == pytest.approx(1 / 501)
    assert result.table.sum() == 60
    crossed = {p: (i // 3) % 2 for i, p in enumerate(people)}
    crossed["p0"] = None
    independent = partner_alignment(crossed, partners, permutations=500, seed=1)
    expected_chi2 = chi2_contingency(independent.table, correction=False)[0]
    assert independent.chi2 == pytest.approx(expected_chi2)
    assert independent.n == 59 and independent.p_value > 0.5


def test_bridging_and_fault_lines_on_a_planted_alliance() -> None:
    records = []
    for i in range(40):
        partner_vote = 1 if i < 20 else -1
        records += [(f"p{i}", "shared", 1), (f"p{i}", "split", partner_vote)]
        records.append((f"p{i}", "mixed", 1 if i % 2 else -1))
    matrix = VoteMatrix.from_votes(records)
    partners = {f"p{i}": "north" if i < 20 else "south" for i in range(40)}
    report = bridging_and_fault_lines(matrix, partners)
    assert [b.statement_id for b in report.bridging] == ["shared"]
    assert report.bridging[0].min_agree_rate == pytest.approx(21 / 22)
    assert [f.statement_id for f in report.fault_lines] == ["split"]
    assert report.fault_lines[0].cramers_v == pytest.approx(1.0)
