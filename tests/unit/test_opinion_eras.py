"""Pol.is's math across its history, and the replay that follows it (coauthor.analysis)."""

from __future__ import annotations

import re
from dataclasses import fields, replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coauthor.analysis import opinion_cluster as oc
from coauthor.analysis.opinion import (
    CURRENT,
    POLIS_HISTORY,
    PolisMath,
    VoteMatrix,
    analyze,
    polis_math_at,
    replay,
)
from coauthor.analysis.opinion_era import ERA_RULES, history_without
from coauthor.analysis.opinion_replay import update_matrices
from coauthor.analysis.opinion_votes import LiveVotes, rating_votes
from tests.unit.test_opinion import dense_matrix

FAST = settings(max_examples=25, deadline=None, database=None)
DAY = 86_400.0


# ---------------------------------------------------------------- the dated history


def test_history_is_dated_by_commit_in_order() -> None:
    dates = [era.since for era in POLIS_HISTORY]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    assert all(re.fullmatch(r"[0-9a-f]{8}", era.commit) for era in POLIS_HISTORY)
    assert all(era.change for era in POLIS_HISTORY)
    assert POLIS_HISTORY[-1] is CURRENT


@pytest.mark.parametrize(
    ("day", "imputation", "base_k", "pca_iters", "counts_moderated", "zeroed"),
    [
        ("2014-09-01", "zero", 50, 10, False, False),
        ("2017-03-16", "zero", 50, 10, False, False),
        ("2017-03-17", "zero", 50, 10, True, True),  # a557a15a: mod-out kept between updates
        ("2017-04-14", "zero", 100, 10, True, True),  # 32988e40: base-k 100
        ("2017-10-21", "mean", 100, 10, True, True),  # 90b5b9e6: column means
        ("2017-10-31", "mean", 100, 10, False, True),  # acd818c9: raw vote counts
        ("2022-06-28", "mean", 100, 10, False, True),
        ("2022-06-29", "mean", 100, 100, False, True),  # a2efd9ba: 100 iterations
    ],
)
def test_the_math_of_a_date(
    day: str, imputation: str, base_k: int, pca_iters: int, counts_moderated: bool, zeroed: bool
) -> None:
    math = polis_math_at(day)
    assert (math.imputation, math.base_k, math.pca_iters) == (imputation, base_k, pca_iters)
    assert (math.in_conv_counts_moderated, math.zero_moderated) == (counts_moderated, zeroed)
    assert polis_math_at(math.since_seconds) is math
    assert polis_math_at(f"{day}T23:59:59") is math


def test_base_kmeans_iterations_by_era() -> None:
    # The :cluster-iters key was ignored (kmeans' default of 20) until e07aec5a set :max-iters 10.
    assert [polis_math_at(d).base_iters for d in ("2016-01-01", "2017-12-08", "2022-06-29")] == [
        20,
        10,
        100,
    ]
    assert {era.group_iters for era in POLIS_HISTORY} == {20}


@pytest.mark.parametrize(
    ("day", "n_base", "largest_k"),
    [
        ("2014-08-01", 5, 2),  # min(12, max(2, 5 // 3))
        ("2014-08-01", 100, 12),  # min(12, 100 // 3)
        ("2014-09-01", 24, 5),  # min(12, 2 + 24 // 8)
        ("2014-09-01", 100, 12),  # min(12, 2 + 12)
        ("2015-01-01", 24, 4),  # min(5, 2 + 24 // 12)
        ("2015-01-01", 100, 5),
    ],
)
def test_the_range_of_k_by_era(day: str, n_base: int, largest_k: int) -> None:
    assert polis_math_at(day).max_group_k(n_base) == largest_k


def test_before_the_first_modelled_change_the_first_era_applies() -> None:
    assert polis_math_at(0.0) is POLIS_HISTORY[0]
    assert polis_math_at("2013-01-01") is POLIS_HISTORY[0]


def test_every_field_but_the_ignored_group_iterations_belongs_to_a_rule() -> None:
    ruled = {name for rule in ERA_RULES for name in rule.fields}
    modelled = {f.name for f in fields(PolisMath)} - {"since", "commit", "change"}
    assert modelled - ruled == {"group_iters"}
    assert all(rule.changes() for rule in ERA_RULES)


def test_a_rule_held_at_today_s_values() -> None:
    imputation = next(rule for rule in ERA_RULES if rule.fields == ("imputation",))
    assert [era.commit for era in imputation.changes()] == ["90b5b9e6"]
    before = polis_math_at("2016-01-01").since_seconds
    assert history_without(imputation)(before).imputation == "mean"
    assert history_without(imputation)(before).base_k == 50
    assert imputation.differs_from_today(before, before + DAY)
    after = polis_math_at("2019-01-01").since_seconds
    assert not imputation.differs_from_today(after, after + DAY)


# ---------------------------------------------------------------- who is in the conversation


def _one_vote_among_moderated() -> tuple[VoteMatrix, int]:
    """Ten moderated statements, and a participant with one real vote."""
    rows = [[1.0] * 12 for _ in range(20)]
    rows.append([1.0] + [np.nan] * 11)
    matrix = dense_matrix(rows, moderated_out=[f"s{j}" for j in range(2, 12)])
    return matrix, matrix.participant_ids.index("p20")


def test_moderated_statements_counted_as_votes_only_in_their_window() -> None:
    # Between a557a15a and acd818c9 (2017) Pol.is counted the zeroed cells of moderated
    # statements as votes, so one real vote was enough to be in the conversation.
    matrix, lone = _one_vote_among_moderated()
    assert analyze(matrix, math=polis_math_at("2017-06-01")).in_conv[lone]
    assert not analyze(matrix, math=polis_math_at("2017-11-01")).in_conv[lone]
    assert not analyze(matrix, math=polis_math_at("2016-06-01")).in_conv[lone]


def test_until_october_2017_the_math_knew_only_moderations_since_february() -> None:
    # Moderations older than b46d1593 (2017-02-27) were not in the saved list, and a
    # conversation loaded all of them only from 6a119cf7 (2017-10-29).
    matrix, lone = _one_vote_among_moderated()
    early = polis_math_at("2016-12-01").since_seconds
    late = polis_math_at("2017-05-01").since_seconds
    moderated_early = dict.fromkeys(matrix.moderated_out, early)
    june = polis_math_at("2017-06-01")
    assert not analyze(matrix, math=june, moderated_at=moderated_early).in_conv[lone]
    assert analyze(
        matrix, math=june, moderated_at=dict.fromkeys(matrix.moderated_out, late)
    ).in_conv[lone]
    october = polis_math_at("2017-10-30")
    assert october.commit == "6a119cf7"
    assert analyze(matrix, math=october, moderated_at=moderated_early).in_conv[lone]


def test_caps_keep_the_first_participants_and_statements() -> None:
    matrix = dense_matrix([[1.0, -1.0, 0.0, 1.0]] * 5)
    capped = rating_votes(matrix, replace(CURRENT, max_participants=3, max_statements=2))
    assert capped.n_rows == 3 and capped.statement_ids == ["s0", "s1"]
    result = analyze(matrix, math=replace(CURRENT, max_participants=3))
    assert result.participant_groups[3:] == [None, None] and not result.in_conv[3:].any()


# ---------------------------------------------------------------- PCA and projection by era


def _polis_power_iteration(data: np.ndarray, starts: np.ndarray, iters: int) -> np.ndarray:
    """Pol.is's powerit-pca written out on the data rows (pca.clj): deflate rows, iterate."""
    centered = data - data.mean(axis=0)
    comps = []
    for start in starts:
        vector, last = start.copy(), 0.0
        for remaining in range(iters, -1, -1):
            product = sum((row @ vector) * row for row in centered)
            eigval = float(np.linalg.norm(product))
            vector = product / eigval
            if remaining == 0 or eigval == last:
                break
            last = eigval
        comps.append(vector)
        centered = np.array([row - (row @ vector) / (vector @ vector) * vector for row in centered])
    return np.array(comps)


def test_ten_power_iterations_from_the_last_components_as_pol_is_ran_them() -> None:
    rng = np.random.default_rng(2)
    earlier, later = (rng.choice([-1.0, 0.0, 1.0], size=(30, 8)) for _ in range(2))
    for dense in (earlier, later):
        dense[rng.random(dense.shape) < 0.3] = np.nan
        dense[:, 0] = 1.0
    era = polis_math_at("2016-01-01")
    first = analyze(dense_matrix(earlier.tolist()), math=era)
    second = analyze(dense_matrix(later.tolist()), previous=first, math=era)
    assert first.state is not None and second.state is not None
    filled = np.nan_to_num(later, nan=0.0)
    expected = _polis_power_iteration(filled, first.state.pca_comps, era.pca_iters)
    np.testing.assert_allclose(second.state.pca_comps, expected, atol=1e-12)
    converged = _polis_power_iteration(filled, first.state.pca_comps, 5000)
    assert not np.allclose(second.state.pca_comps, converged, atol=1e-4)


def test_before_october_2014_the_projection_was_the_plain_pca_one() -> None:
    rng = np.random.default_rng(5)
    dense = rng.choice([-1.0, 0.0, 1.0], size=(25, 6))
    dense[rng.random(dense.shape) < 0.4] = np.nan
    dense[:, 0] = 1.0
    matrix = dense_matrix(dense.tolist())
    filled = np.nan_to_num(dense, nan=0.0)
    centered = filled - filled.mean(axis=0)
    result = analyze(matrix, math=polis_math_at("2014-09-01"))
    assert result.state is not None
    expected = centered @ result.state.pca_comps.T  # every cell, a blank as 0, no rescaling
    np.testing.assert_allclose(np.column_stack([result.x, result.y]), expected, atol=1e-12)


# ---------------------------------------------------------------- the replay


def _history(n_participants: int, n_statements: int, days: tuple[str, str], seed: int) -> dict:
    """Two opinion camps voting over a period, with moderated statements and passes."""
    rng = np.random.default_rng(seed)
    camp = rng.integers(0, 2, n_participants)
    opinion = rng.choice([-1, 1], size=(2, n_statements))
    rows, cols = [], []
    for i in range(n_participants):
        chosen = rng.choice(n_statements, size=int(rng.integers(1, n_statements)), replace=False)
        rows += [i] * chosen.size
        cols += chosen.tolist()
    rows_a, cols_a = np.array(rows), np.array(cols)
    noise = rng.random(rows_a.size)
    votes = np.where(noise < 0.15, 0, opinion[camp[rows_a], cols_a])
    start, end = (polis_math_at(d).since_seconds for d in days)
    times = np.sort(rng.uniform(start, end, rows_a.size))
    order = rng.permutation(rows_a.size)
    return {
        "ptpt_idx": rows_a[order],
        "stmt_idx": cols_a[order],
        "vote": votes[order],
        "timestamps": times,
        "participant_ids": [f"p{i}" for i in range(n_participants)],
        "statement_ids": [f"s{j}" for j in range(n_statements)],
        "moderated_out": ["s1", "s4", "s5", "s7", "s8", "s9", "s10"],
    }


def _update_by_update(log: dict, math: object = None) -> object:
    """The reference: analyze(previous=...) after every 1-second batch, as replay defines it."""
    previous = None
    matrices = update_matrices(**{k: v for k, v in log.items() if k != "moderated_at"})
    for matrix, newest in matrices:
        era = math(newest) if callable(math) else math
        previous = analyze(
            matrix,
            previous=previous,
            math=era or polis_math_at(newest),
            moderated_at=log.get("moderated_at"),
        )
    return previous


def test_replay_equals_analysing_after_every_batch_across_eras() -> None:
    # 2017-02 to 2018-01: the moderated-statement window opens and closes, the imputation and
    # the base-cluster count change, all within the history.
    log = _history(45, 14, ("2017-02-01", "2018-01-25"), seed=3)
    fast = replay(**log)
    assert fast.to_dict() == _update_by_update(log).to_dict()


def test_replay_equals_analysing_after_every_batch_with_moderation_times() -> None:
    log = _history(45, 14, ("2017-02-01", "2018-01-25"), seed=7)
    moderated = log["moderated_out"]
    when = polis_math_at("2017-02-27").since_seconds
    log["moderated_at"] = {s: when + (DAY if s in moderated[:3] else -DAY) for s in moderated}
    fast = replay(**log)
    assert fast.to_dict() == _update_by_update(log).to_dict()
    assert fast.to_dict() != replay(**{**log, "moderated_at": None}).to_dict()


def test_replay_equals_analysing_after_every_batch_with_today_s_math() -> None:
    log = _history(40, 12, ("2023-01-01", "2023-02-01"), seed=4)
    assert replay(**log, math=CURRENT).to_dict() == _update_by_update(log, CURRENT).to_dict()


def test_replay_equals_analysing_after_every_batch_in_2014() -> None:
    log = _history(40, 10, ("2014-08-01", "2014-12-01"), seed=5)
    assert replay(**log).to_dict() == _update_by_update(log).to_dict()


def test_replay_follows_a_rule_held_at_today_s_values() -> None:
    log = _history(35, 12, ("2016-06-01", "2017-06-01"), seed=6)
    rule = next(r for r in ERA_RULES if r.fields == ("imputation",))
    held = replay(**log, math=history_without(rule))
    assert held.to_dict() == _update_by_update(log, history_without(rule)).to_dict()
    assert held.to_dict() != replay(**log).to_dict()


# ---------------------------------------------------------------- the replay's building blocks


VOTE_LOG = st.lists(
    st.tuples(st.integers(0, 7), st.integers(0, 9), st.sampled_from([-1, 0, 1])),
    min_size=1,
    max_size=80,
)


@FAST
@given(VOTE_LOG, st.sampled_from([CURRENT, polis_math_at("2016-01-01")]))
def test_votes_kept_up_to_date_equal_votes_built_at_once(
    log: list[tuple[int, int, int]], math: PolisMath
) -> None:
    statement_ids = [f"s{j}" for j in range(10)]
    live = LiveVotes(statement_ids, frozenset({"s3"}))
    seen: list[int] = []
    for step, (row, column, vote) in enumerate(log):
        if row not in seen:
            seen.append(row)
        live.add(np.array([seen.index(row)]), np.array([column]), np.array([vote]))
        prefix = log[: step + 1]
        order = {r: i for i, r in enumerate(dict.fromkeys(r for r, _, _ in prefix))}
        matrix = VoteMatrix.from_arrays(
            [order[r] for r, _, _ in prefix],
            [c for _, c, _ in prefix],
            [v for _, _, v in prefix],
            participant_ids=[f"p{r}" for r in order],
            statement_ids=statement_ids,
            moderated_out=["s3"],
        )
        _assert_same_votes(live.snapshot(), rating_votes(matrix, math))


@FAST
@given(VOTE_LOG, st.integers(1, 12))
def test_votes_added_in_batches_equal_votes_built_at_once(
    log: list[tuple[int, int, int]], batch: int
) -> None:
    """A batch may bring new participants, new statements and several votes on one cell."""
    statement_ids = [f"s{j}" for j in range(10)]
    live = LiveVotes(statement_ids, frozenset({"s3"}))
    order = {r: i for i, r in enumerate(dict.fromkeys(r for r, _, _ in log))}
    rows = np.array([order[r] for r, _, _ in log])
    columns = np.array([c for _, c, _ in log])
    votes = np.array([v for _, _, v in log])
    for begin in range(0, len(log), batch):
        end = begin + batch
        live.add(rows[begin:end], columns[begin:end], votes[begin:end])
        matrix = VoteMatrix.from_arrays(
            rows[:end],
            columns[:end],
            votes[:end],
            participant_ids=[f"p{r}" for r in list(order)[: int(rows[:end].max()) + 1]],
            statement_ids=statement_ids,
            moderated_out=["s3"],
        )
        _assert_same_votes(live.snapshot(), rating_votes(matrix, CURRENT))


def _assert_same_votes(kept: object, built: object) -> None:
    for name in (
        "indptr",
        "codes",
        "row_counts",
        "row_zeroable_counts",
        "column_counts",
        "column_sums",
        "excluded",
        "zeroable",
    ):
        np.testing.assert_array_equal(getattr(kept, name), getattr(built, name), err_msg=name)
    assert kept.statement_ids == built.statement_ids  # type: ignore[attr-defined]
    for name in ("vv", "vm", "mm"):
        np.testing.assert_array_equal(
            getattr(kept.cross, name),  # type: ignore[attr-defined]
            getattr(built.cross, name),  # type: ignore[attr-defined]
        )


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(2, 12))
def test_k_means_with_carried_bounds_equals_k_means_from_scratch(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    points = rng.normal(0, 1, (60, 2)) + rng.integers(0, 3, (60, 1)) * 3.0
    ids, centers = oc.fresh_start(points, k)
    tracked = oc.TrackedAssignment.unknown(points.shape[0])
    with_bounds = oc.kmeans(points, ids, centers, max_iters=20, tracked=tracked)
    plain = oc.kmeans(points, ids, centers, max_iters=20)
    _assert_same_clustering(with_bounds, plain)
    moved = points + rng.normal(0, 0.05, points.shape)  # the next update: everyone moves a bit
    shift = np.linalg.norm(moved - points, axis=1)
    tracked.moved(shift)
    again = oc.kmeans(moved, with_bounds.ids, with_bounds.centers, max_iters=20, tracked=tracked)
    _assert_same_clustering(again, oc.kmeans(moved, plain.ids, plain.centers, max_iters=20))


def _assert_same_clustering(one: oc.Clustering, other: oc.Clustering) -> None:
    np.testing.assert_array_equal(one.ids, other.ids)
    np.testing.assert_array_equal(one.centers, other.centers)
    np.testing.assert_array_equal(one.labels, other.labels)


@FAST
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_settled_warm_starts_are_what_k_means_returns(seed: int, weighted: bool) -> None:
    rng = np.random.default_rng(seed)
    points = rng.normal(0, 1, (40, 2)) + rng.integers(0, 4, (40, 1)) * 2.5
    weights = rng.integers(1, 9, 40).astype(float) if weighted else None
    starts = {}
    for k in (2, 3, 4, 5):
        ids, centers = oc.fresh_start(points, k)
        previous = oc.kmeans(points, ids, centers, weights=weights, max_iters=20)
        starts[k] = (previous.labels, previous.ids)
    settled = oc.settled_warm_starts(points, weights, starts)
    for k, clustering in settled.items():
        label, seed_ids = starts[k]
        start = oc.warm_start(points, label, seed_ids, k, weights=weights)
        expected = oc.kmeans(
            points, start.ids, start.centers, weights=weights, max_iters=20, labels=start.label
        )
        _assert_same_clustering(clustering, expected)


@FAST
@given(st.integers(0, 2**32 - 1))
def test_silhouettes_of_several_clusterings_at_once(seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = rng.normal(0, 1, (30, 2))
    labelings = [np.unique(rng.integers(0, k, 30), return_inverse=True)[1] for k in (2, 3, 5)]
    distances = oc.point_distances(points)
    together = oc.silhouettes(distances, labelings)
    alone = [oc.silhouettes(distances, [labels])[0] for labels in labelings]
    assert together == pytest.approx(alone, abs=1e-12)


def test_settled_warm_starts_leave_out_coinciding_and_empty_clusters() -> None:
    points = np.array([[0.0, 0.0], [0.0, 0.0], [4.0, 0.0], [4.0, 1.0], [9.0, 9.0]])
    ids3 = np.array([0, 1, 2])
    starts = {
        2: (np.array([0, 0, 1, 1, 1]), np.array([3, 7])),  # a fixed point: settled
        3: (np.array([0, 1, 2, 2, 2]), ids3),  # clusters 0 and 1 share a centre
        # cluster 5 has no point (its centre, (0, 0), ties with cluster 1's: the first wins)
        4: (np.array([1, 1, 0, 0, 2]), np.array([0, 1, 2, 5])),
    }
    settled = oc.settled_warm_starts(points, None, starts)
    assert sorted(settled) == [2]
    np.testing.assert_array_equal(settled[2].centers, [[0.0, 0.0], [17 / 3, 10 / 3]])
    np.testing.assert_array_equal(settled[2].ids, [3, 7])


@FAST
@given(st.integers(0, 2**32 - 1))
def test_projection_one_column_at_a_time_equals_both_at_once(seed: int) -> None:
    from coauthor.analysis import opinion_pca as op

    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 12, 30)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    codes = np.concatenate(
        [np.sort(rng.choice(12, c, replace=False)) * 3 + rng.integers(0, 3, c) for c in counts]
    ).astype(np.int32)
    one_hot = op.one_hot_cells(indptr, codes, 12)
    fit = op.PcaFit(
        center=rng.normal(0, 0.5, 12), comps=rng.normal(0, 1, (2, 12)), eigenvalues=np.ones(2)
    )
    zeroed = rng.random(12) < 0.2
    for sparse in (True, False):
        got = op.project_votes(indptr, codes, fit, zeroed, counts, sparse=sparse)
        table = (
            op._vote_table(fit.center, zeroed)
            if sparse
            else np.where(zeroed[:, None], 0.0, np.arange(-1.0, 2.0)[None, :])
        )
        both = np.asarray(one_hot @ (table[:, :, None] * fit.comps.T[:, None, :]).reshape(-1, 2))
        if sparse:
            expected = both * np.sqrt(12 / np.maximum(counts, 1))[:, None]
        else:
            expected = both - (fit.center * ~zeroed) @ fit.comps.T
        np.testing.assert_array_equal(got, expected)  # the same bits, not only close


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(1, 40))
def test_distances_from_one_triangle_equal_every_hypot(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    points = rng.normal(0, 3, (n, 2))
    points[rng.random(n) < 0.2] = points[0]  # coinciding points
    every = np.hypot(
        points[:, 0, None] - points[None, :, 0], points[:, 1, None] - points[None, :, 1]
    )
    np.testing.assert_array_equal(oc.point_distances(points), every)
