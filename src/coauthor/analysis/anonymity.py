"""The anonymity rules every aggregate result obeys: deliberations now, pulse surveys next.

Three rules, after the practice of employee-survey products (REFERENCE.md):

1. **Small groups.** No figure describes fewer than ``threshold`` people, and
   no count between 1 and ``threshold − 1`` is shown anywhere (a count of
   zero is fine: it describes no one).
2. **Differencing.** No two reported groups may differ by fewer than
   ``threshold`` people, or subtracting one result from the other reveals the
   few who differ. For groups given as sets of people this is the size of
   their symmetric difference; nested groups (a partner and that partner's
   managers) are the usual case. Subtracting *several* groups counts too:
   a reported group less every reported group inside it must leave nobody
   or at least ``threshold`` people (the alliance less all its partners but
   one small one reveals that one), and a total is shown only when the
   counts it hides add up to 0 or at least ``threshold``.
3. **Releases.** A result that changes as people act (a live deliberation, a
   running wave) is published in releases: the next release only once at
   least ``threshold`` people have acted since the last one, so that two
   releases never differ by the acts of fewer than ``threshold`` people.

The threshold is a setting (default 5, allowed 3–10). These are pure
functions: the services apply them at the query, before any page, API or
export sees a number.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
P = TypeVar("P", bound=Hashable)

MIN_THRESHOLD = 3
MAX_THRESHOLD = 10
DEFAULT_THRESHOLD = 5


def reportable(count: int, threshold: int) -> bool:
    """Whether a figure about ``count`` people may be shown (rule 1)."""
    return count >= threshold


def shown_count(count: int, threshold: int) -> int | None:
    """``count`` if it may be shown; None for 1..threshold−1 (zero describes no one)."""
    return count if count == 0 or count >= threshold else None


def distinct_enough(first: Collection[P], second: Collection[P], threshold: int) -> bool:
    """Whether two groups of people may both be reported (rule 2).

    They may when they are the same people, or when at least ``threshold``
    people are in one and not the other.
    """
    difference = len(set(first) ^ set(second))
    return difference == 0 or difference >= threshold


def reportable_groups(
    groups: Mapping[K, Collection[P]], threshold: int, *, priority: Iterable[K] = ()
) -> list[K]:
    """The groups that may be reported together, under rules 1 and 2.

    Groups are taken in ``priority`` order (then the mapping's order); a group
    is kept when it is large enough and differs enough from every group kept
    before it. Put the coarser groups first (the whole alliance, then
    partners, then partner × role band), so that detail is what gives way.
    """
    order = list(dict.fromkeys([*priority, *groups]))
    kept: list[K] = []
    for key in order:
        members = groups[key]
        if not reportable(len(set(members)), threshold):
            continue
        if not all(distinct_enough(members, groups[other], threshold) for other in kept):
            continue
        if leaves_no_small_remainder([groups[k] for k in (*kept, key)], threshold):
            kept.append(key)
    return kept


def leaves_no_small_remainder(groups: Sequence[Collection[P]], threshold: int) -> bool:
    """Whether no group, less the groups reported inside it, leaves 1..threshold−1 people.

    The whole alliance, its partners A and B reported, and a third partner C
    of two people: the alliance less A less B is C. For nested or disjoint
    groups (alliance, partners, partner × role band) every set that
    subtraction can reach is a union of these remainders, so checking them
    is enough.
    """
    sets = [frozenset(group) for group in groups]
    for outer in sets:
        inner = [other for other in sets if other < outer]
        if not inner:
            continue
        remainder = len(outer - frozenset().union(*inner))
        if 0 < remainder < threshold:
            return False
    return True


def shown_total(counts: Iterable[int], threshold: int) -> int | None:
    """The sum of ``counts``, unless it would reveal the hidden ones (rule 1 by subtraction).

    Each count is shown as :func:`shown_count` shows it; the total is None
    when the counts that are hidden add up to 1..threshold−1.
    """
    values = list(counts)
    hidden = sum(count for count in values if shown_count(count, threshold) is None)
    return sum(values) if hidden == 0 or hidden >= threshold else None


def release_due(acted_since_last: int, released_before: bool, total: int, threshold: int) -> bool:
    """Whether a new release of a live result may be published (rule 3).

    The first release waits for ``threshold`` people in all; each later one
    for ``threshold`` people who acted since the previous release.
    """
    if not released_before:
        return total >= threshold and acted_since_last >= threshold
    return acted_since_last >= threshold


def merge_small(
    label_of: Mapping[P, K | None], threshold: int, merged_label: K
) -> tuple[dict[P, K], list[K]]:
    """Fold labels (partners) held by fewer than ``threshold`` people into ``merged_label``.

    Returns each person's reported label — people without a label, and the
    labels withheld, are left out — and the labels withheld altogether (when
    even the merged bucket is below the threshold). The list of withheld
    labels is for the service's own use; showing it would tell who took part.
    """
    sizes: dict[K, int] = {}
    for label in label_of.values():
        if label is not None:
            sizes[label] = sizes.get(label, 0) + 1
    small = {label for label, size in sizes.items() if size < threshold}
    merged_size = sum(sizes[label] for label in small)
    withheld = sorted(small, key=str) if 0 < merged_size < threshold else []
    reported: dict[P, K] = {}
    for person, label in label_of.items():
        if label is None or label in withheld:
            continue
        reported[person] = merged_label if label in small else label
    return reported, withheld
