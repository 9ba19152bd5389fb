"""The anonymity rules: small groups, differencing, releases, merged labels."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from coauthor.analysis.anonymity import (
    distinct_enough,
    leaves_no_small_remainder,
    merge_small,
    release_due,
    reportable,
    reportable_groups,
    shown_count,
    shown_total,
)

K = 5


def test_no_count_from_one_to_threshold_minus_one_is_shown() -> None:
    assert [shown_count(n, K) for n in range(8)] == [0, None, None, None, None, 5, 6, 7]
    assert not reportable(4, K) and reportable(5, K)


def test_two_groups_must_differ_by_zero_or_at_least_the_threshold() -> None:
    partner = set(range(12))
    assert distinct_enough(partner, partner, K)
    assert not distinct_enough(partner, partner - {0}, K)  # one person's answer by subtraction
    assert not distinct_enough(partner, partner - {0, 1, 2, 3}, K)
    assert distinct_enough(partner, partner - {0, 1, 2, 3, 4}, K)
    assert distinct_enough({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}, K)


def test_detail_gives_way_to_the_coarser_groups_put_first() -> None:
    everyone = set(range(30))
    nordwerk = set(range(20))
    nordwerk_managers = set(range(17))  # differs from Nordwerk by 3 people
    baltic = set(range(20, 30))
    groups = {
        "managers": nordwerk_managers,
        "all": everyone,
        "nordwerk": nordwerk,
        "baltic": baltic,
        "tiny": {1, 2},
    }
    kept = reportable_groups(groups, K, priority=["all", "nordwerk", "baltic"])
    assert kept == ["all", "nordwerk", "baltic"]
    kept_detail_first = reportable_groups(groups, K)
    assert "nordwerk" not in kept_detail_first and "managers" in kept_detail_first


@given(
    st.dictionaries(
        st.sampled_from("abcdefgh"),
        st.sets(st.integers(0, 25), max_size=26),
        max_size=8,
    ),
    st.integers(3, 10),
)
def test_any_two_reported_groups_obey_both_rules(groups: dict, threshold: int) -> None:
    kept = reportable_groups(groups, threshold)
    for key in kept:
        assert len(groups[key]) >= threshold
        for other in kept:
            difference = len(groups[key] ^ groups[other])
            assert difference == 0 or difference >= threshold


def test_releases_wait_for_threshold_people_to_act() -> None:
    assert not release_due(4, False, 4, K)
    assert release_due(5, False, 5, K)
    assert not release_due(4, True, 40, K)
    assert release_due(5, True, 40, K)


def test_small_labels_are_merged_and_a_lone_small_one_withheld() -> None:
    label_of = {f"p{i}": "big" for i in range(6)} | {"q1": "small", "q2": "small", "r": None}
    reported, withheld = merge_small(label_of, K, "others")
    assert withheld == ["small"] and "q1" not in reported and "r" not in reported
    label_of |= {f"s{i}": "other small" for i in range(3)}
    reported, withheld = merge_small(label_of, K, "others")
    assert withheld == [] and reported["q1"] == reported["s0"] == "others"


def test_the_whole_less_every_partner_but_a_small_one_is_not_reported() -> None:
    """Alliance − A − B = C: two people, although every pair of groups differs by 10 or more."""
    a, b, c = set(range(10)), set(range(10, 20)), {20, 21}
    groups = {"all": a | b | c, "a": a, "b": b, "c": c}
    kept = reportable_groups(groups, K, priority=["all", "a", "b"])
    assert kept == ["all", "a"]
    assert not leaves_no_small_remainder([a | b | c, a, b], K)
    assert leaves_no_small_remainder([a | b | c, a, b], 2)
    assert leaves_no_small_remainder([a | b, a, b], K)


def test_a_partner_less_both_its_role_bands_may_leave_nobody() -> None:
    partner, leaders, team = set(range(12)), set(range(5)), set(range(5, 12))
    kept = reportable_groups({"p": partner, "lead": leaders, "team": team}, K)
    assert kept == ["p", "lead", "team"]


@given(
    st.lists(st.integers(1, 4), min_size=1, max_size=6),
    st.lists(st.integers(5, 30), min_size=1, max_size=6),
    st.integers(3, 10),
)
def test_nested_partitions_never_reveal_a_small_remainder(
    small: list[int], large: list[int], threshold: int
) -> None:
    """Partners of any sizes inside the whole: whatever is kept, no subtraction of kept
    groups leaves 1..threshold−1 people."""
    sizes = [*small, *large]
    start, partners = 0, {}
    for index, size in enumerate(sizes):
        partners[f"p{index}"] = set(range(start, start + size))
        start += size
    groups = {"all": set(range(start)), **partners}
    kept = reportable_groups(groups, threshold, priority=["all"])
    chosen = [groups[key] for key in kept]
    assert leaves_no_small_remainder(chosen, threshold)
    if "all" in kept:
        rest = groups["all"] - set().union(*(groups[key] for key in kept if key != "all"))
        assert len(rest) == 0 or len(rest) >= threshold


def test_a_total_is_withheld_when_the_counts_it_hides_are_few() -> None:
    assert shown_total([10, 12, 0], K) == 22
    assert shown_total([10, 12, 3], K) is None  # 25 − 10 − 12 = 3
    assert shown_total([10, 2, 3], K) == 15  # hides 5 people in all: enough
    assert shown_total([], K) == 0
