"""The math Pol.is ran at a given date: every dated change that moves groups.

Pol.is's groups are those of the code that was deployed when it computed
them. Its math (``math/src/polismath`` in compdemocracy/polis, before 2020 the
standalone polisMath repository, whose history the monorepo keeps) changed
several times in ways that move participants between groups. Each change below
is read from that git history (``git log --follow`` on ``conversation.clj``,
``clusters.clj`` and ``pca.clj``; ``delphi/docs/MATH_ALGORITHM_HISTORY.md``
summarises several of them) and dated by its commit, since Pol.is's deploy dates
before 2025 are not recorded. Nothing here is fitted to any conversation.

The history starts on 2014-07-31, the first commit in which the k chosen by
silhouette was actually applied (before it, ``max-key`` was called without
``apply`` and no group clustering was chosen); an earlier date gets that era.
Pol.is's mini-batch PCA for conversations above 10,000 participants is not
modelled (it samples participants at random; see ``docs/deliberation.md``).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Literal

Imputation = Literal["zero", "mean"]


def _seconds(when: float | str | date | datetime) -> float:
    if isinstance(when, datetime):
        moment = when if when.tzinfo else when.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(when, date):
        return datetime(when.year, when.month, when.day, tzinfo=UTC).timestamp()
    if isinstance(when, str):
        return _seconds(datetime.fromisoformat(when))
    if not math.isfinite(float(when)):
        raise ValueError(f"not a time: {when!r}")
    return float(when)


@dataclass(frozen=True)
class PolisMath:
    """The group-moving parts of Pol.is's math as they stood from ``since`` on.

    ``since``/``commit``/``change`` name the change that opened this era.
    ``pca_iters`` is the number of power iterations per update, warm-started
    from the last update's components (we compute the converged vectors
    exactly where it is 100, see :mod:`coauthor.analysis.opinion_pca`).
    ``max_participants``/``max_statements`` are Pol.is's conversation caps
    (0: none). ``moderation_known_since``: the moderated-out statements the
    math knew of are those moderated on or after that date (None: all). The
    number of groups tried is
    ``min(max_k, max(2, k_offset + n_base_clusters // base_clusters_per_k))``.
    """

    since: str
    commit: str
    change: str
    in_conv_counts_moderated: bool
    zero_moderated: bool
    imputation: Imputation
    sparse_projection: bool
    pca_iters: int
    base_k: int
    base_iters: int
    group_iters: int
    max_k: int
    k_offset: int
    base_clusters_per_k: int
    k_buffer: int
    weighted_groups: bool
    max_participants: int
    max_statements: int
    moderation_known_since: str | None

    @property
    def since_seconds(self) -> float:
        """``since`` as a UTC timestamp in seconds (midnight of the commit's date)."""
        return _seconds(self.since)

    def max_group_k(self, n_base_clusters: int) -> int:
        """Largest k tried for groups (Pol.is ``max-k-fn`` of the era)."""
        extra = self.k_offset + n_base_clusters // self.base_clusters_per_k
        return min(self.max_k, max(2, extra))


_FIRST = PolisMath(
    since="2014-07-31",
    commit="e2fd9ab1",
    change="the k with the best silhouette is applied (apply max-key); in-conv: at least "
    "min(7, statements) votes, sticky, topped up to 15 (3a8d6b19, 2014-07-24); zero "
    "imputation; plain PCA projection; 50 base clusters; k-means at most 20 iterations "
    "(the :cluster-iters option was ignored); 10 power iterations per update; k up to "
    "min(12, max(2, base clusters / 3)); no smoother; unweighted group k-means",
    in_conv_counts_moderated=False,
    zero_moderated=False,
    imputation="zero",
    sparse_projection=False,
    pca_iters=10,
    base_k=50,
    base_iters=20,
    group_iters=20,
    max_k=12,
    k_offset=0,
    base_clusters_per_k=3,
    k_buffer=1,
    weighted_groups=False,
    max_participants=0,
    max_statements=0,
    moderation_known_since=None,
)

_CHANGES: tuple[tuple[str, str, str, dict[str, object]], ...] = (
    (
        "2014-08-28",
        "99fef1fc",
        "fewer groups: k up to min(12, 2 + base clusters / 8) (58239370, fixed the same day); "
        "conversation caps of 80,000 participants and 800 statements (3d5f694c)",
        {
            "k_offset": 2,
            "base_clusters_per_k": 8,
            "max_participants": 80_000,
            "max_statements": 800,
        },
    ),
    (
        "2014-08-30",
        "eaa29c66",
        "the k-smoother: a new k is adopted after winning 4 updates in a row",
        {"k_buffer": 4},
    ),
    (
        "2014-10-03",
        "6133a9f2",
        "sparsity-aware projection (voted statements only, scaled by sqrt(statements / votes); "
        "first tried in 36ab1e7c on 2014-10-02 and withdrawn the same day)",
        {"sparse_projection": True},
    ),
    (
        "2014-10-15",
        "5dc04d08",
        "k up to min(5, 2 + base clusters / 12)",
        {"max_k": 5, "base_clusters_per_k": 12},
    ),
    (
        "2014-11-10",
        "24d5f83d",
        "group k-means weighted by base-cluster sizes",
        {"weighted_groups": True},
    ),
    (
        "2017-03-17",
        "a557a15a",
        "moderated-out and meta statements are zeroed for everyone before the PCA (b68ca8b6, "
        "2017-02-27; they survive from one update to the next only since a557a15a), so they "
        "also count as votes towards the in-conversation threshold. The math learns of a "
        "moderation by polling for new ones (at start-up, those of the last 10 days): only "
        "moderations since its list was first saved (b46d1593, 2017-02-27; reloaded since "
        "2f96213d) are known",
        {
            "zero_moderated": True,
            "in_conv_counts_moderated": True,
            "moderation_known_since": "2017-02-27",
        },
    ),
    ("2017-04-14", "32988e40", "100 base clusters", {"base_k": 100}),
    (
        "2017-10-21",
        "90b5b9e6",
        "missing votes imputed with the column mean instead of 0",
        {"imputation": "mean"},
    ),
    (
        "2017-10-29",
        "6a119cf7",
        "every moderation is known: a conversation loads all of them when it starts",
        {"moderation_known_since": None},
    ),
    (
        "2017-10-31",
        "acd818c9",
        "the in-conversation threshold counts real votes only (30355e11, finished by acd818c9)",
        {"in_conv_counts_moderated": False},
    ),
    (
        "2017-12-08",
        "e07aec5a",
        "base k-means gets its configured 10 iterations (the ignored :cluster-iters key "
        "fixed); caps raised to 100,000 participants and 1,000 statements (7dc6f1e5)",
        {"base_iters": 10, "max_participants": 100_000, "max_statements": 1000},
    ),
    ("2018-01-22", "b49a1c5c", "statement cap 1,500", {"max_statements": 1500}),
    ("2020-06-18", "87b57243", "statement cap 10,000", {"max_statements": 10_000}),
    (
        "2022-06-29",
        "a2efd9ba",
        "100 power iterations and 100 base k-means iterations per update",
        {"pca_iters": 100, "base_iters": 100},
    ),
)


def _history() -> tuple[PolisMath, ...]:
    eras = [_FIRST]
    for since, commit, change, fields in _CHANGES:
        eras.append(replace(eras[-1], since=since, commit=commit, change=change, **fields))  # type: ignore[arg-type]
    return tuple(eras)


POLIS_HISTORY: tuple[PolisMath, ...] = _history()
CURRENT: PolisMath = POLIS_HISTORY[-1]


_STARTS = tuple(era.since_seconds for era in POLIS_HISTORY)


def polis_math_at(when: float | str | date | datetime | None) -> PolisMath:
    """The era in force at ``when`` (UTC seconds, an ISO date or a date); None: the current one."""
    if when is None:
        return CURRENT
    return POLIS_HISTORY[max(bisect_right(_STARTS, _seconds(when)) - 1, 0)]


@dataclass(frozen=True)
class EraRule:
    """One group-moving aspect of the math whose history is followed: the fields it covers."""

    name: str
    fields: tuple[str, ...]

    def changes(self) -> tuple[PolisMath, ...]:
        """The eras that changed one of this rule's fields (their ``since`` and ``commit``)."""
        return tuple(
            later
            for earlier, later in pairwise(POLIS_HISTORY)
            if any(getattr(earlier, f) != getattr(later, f) for f in self.fields)
        )

    def as_today(self, math: PolisMath) -> PolisMath:
        """``math`` with this rule's fields as they are today."""
        return replace(math, **{f: getattr(CURRENT, f) for f in self.fields})

    def differs_from_today(self, start: float, end: float) -> bool:
        """Whether an era in force from ``start`` to ``end`` (seconds) differs here from today."""
        first = polis_math_at(start)
        return any(
            self.as_today(era) != era
            for era in POLIS_HISTORY
            if era is first or start < era.since_seconds <= end
        )


ERA_RULES: tuple[EraRule, ...] = (
    EraRule("moderated statements counted as votes", ("in_conv_counts_moderated",)),
    EraRule("moderated statements zeroed in the PCA", ("zero_moderated",)),
    EraRule("moderations known to the math", ("moderation_known_since",)),
    EraRule("imputation of missing votes", ("imputation",)),
    EraRule("projection", ("sparse_projection",)),
    EraRule("power iterations per update", ("pca_iters",)),
    EraRule("number of base clusters", ("base_k",)),
    EraRule("base k-means iterations", ("base_iters",)),
    EraRule("range of k", ("max_k", "k_offset", "base_clusters_per_k")),
    EraRule("k-smoother", ("k_buffer",)),
    EraRule("group weights", ("weighted_groups",)),
    EraRule("conversation caps", ("max_participants", "max_statements")),
)


def known_moderation(
    math: PolisMath, moderated: frozenset[str], moderated_at: Mapping[str, float] | None
) -> frozenset[str]:
    """The moderated statements ``math`` knew of, given when each was moderated (seconds).

    Without times (or a statement without one) a moderation counts as known.
    """
    if math.moderation_known_since is None or moderated_at is None:
        return moderated
    since = _seconds(math.moderation_known_since)
    return frozenset(s for s in moderated if moderated_at.get(s, since) >= since)


def history_without(rule: EraRule) -> Callable[[float], PolisMath]:
    """The dated history with ``rule``'s fields as they are today at every date."""
    return lambda when: rule.as_today(polis_math_at(when))
