"""Pol.is statement statistics: repness, consensus, group-informed consensus, priority.

Formulas from ``stats.clj``, ``repness.clj`` and ``conversation.clj``; counts
are in the export convention (agree = +1). "ns" counts every vote, passes
included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Z_90 = 1.2816
REPRESENTATIVE_MAX = 5
CONSENSUS_MAX = 5
META_PRIORITY = 7.0

Direction = Literal["agree", "disagree"]


def prop_test(successes: NDArray | float, trials: NDArray | float) -> NDArray:
    """One-proportion z-like score against 1/2 with add-one smoothing (stats.clj prop-test)."""
    s = np.asarray(successes, dtype=np.float64) + 1
    n = np.asarray(trials, dtype=np.float64) + 1
    return 2 * np.sqrt(n) * (s / n - 0.5)


def two_prop_test(
    succ_in: NDArray | float,
    succ_out: NDArray | float,
    n_in: NDArray | float,
    n_out: NDArray | float,
) -> NDArray:
    """Two-proportion z-test with add-one smoothing; 0 where the pooled rate is 1."""
    s1 = np.asarray(succ_in, dtype=np.float64) + 1
    s2 = np.asarray(succ_out, dtype=np.float64) + 1
    n1 = np.asarray(n_in, dtype=np.float64) + 1
    n2 = np.asarray(n_out, dtype=np.float64) + 1
    pooled = (s1 + s2) / (n1 + n2)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (s1 / n1 - s2 / n2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return np.where(pooled == 1, 0.0, z)


def z_sig_90(z: NDArray | float) -> NDArray:
    return np.asarray(z) > Z_90


@dataclass(frozen=True, eq=False)
class VoteCounts:
    """Agree / disagree / all-votes counts, shape ``(n_groups, n_statements)``."""

    agree: NDArray[np.float64]
    disagree: NDArray[np.float64]
    seen: NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class RepnessStats:
    """Every repness statistic of every (group, statement)."""

    na: NDArray
    nd: NDArray
    ns: NDArray
    pa: NDArray
    pd: NDArray
    pat: NDArray
    pdt: NDArray
    ra: NDArray
    rd: NDArray
    rat: NDArray
    rdt: NDArray


def repness_stats(counts: VoteCounts) -> RepnessStats:
    """In-group vs rest-of-groups statistics (``repness.clj`` comment-stats + comparitive)."""
    na, nd, ns = counts.agree, counts.disagree, counts.seen
    rest_na = na.sum(axis=0) - na
    rest_nd = nd.sum(axis=0) - nd
    rest_ns = ns.sum(axis=0) - ns
    pa = (na + 1) / (ns + 2)
    pd = (nd + 1) / (ns + 2)
    return RepnessStats(
        na=na,
        nd=nd,
        ns=ns,
        pa=pa,
        pd=pd,
        pat=prop_test(na, ns),
        pdt=prop_test(nd, ns),
        ra=pa / ((1 + rest_na) / (2 + rest_ns)),
        rd=pd / ((1 + rest_nd) / (2 + rest_ns)),
        rat=two_prop_test(na, rest_na, ns, rest_ns),
        rdt=two_prop_test(nd, rest_nd, ns, rest_ns),
    )


@dataclass(frozen=True)
class RepresentativeStatement:
    """A statement representative of a group, in the direction it is representative for."""

    statement_id: str
    direction: Direction
    n_success: int
    n_trials: int
    p_success: float
    p_test: float
    repness: float
    repness_test: float
    n_agree: int
    n_disagree: int
    pa: float
    pd: float
    best_agree: bool = False

    @property
    def metric(self) -> float:
        """Pol.is's sort key: repness × repness-test × p-success × p-test."""
        return self.repness * self.repness_test * self.p_success * self.p_test


def _finalize(
    stats: dict[str, float], statement_id: str, *, best_agree: bool = False
) -> RepresentativeStatement:
    """Pol.is finalize-cmt-stats: agree if rat > rdt, else disagree."""
    agree = stats["rat"] > stats["rdt"]
    return RepresentativeStatement(
        statement_id=statement_id,
        direction="agree" if agree else "disagree",
        n_success=int(stats["na"] if agree else stats["nd"]),
        n_trials=int(stats["ns"]),
        p_success=stats["pa"] if agree else stats["pd"],
        p_test=stats["pat"] if agree else stats["pdt"],
        repness=stats["ra"] if agree else stats["rd"],
        repness_test=stats["rat"] if agree else stats["rdt"],
        n_agree=int(stats["na"]),
        n_disagree=int(stats["nd"]),
        pa=stats["pa"],
        pd=stats["pd"],
        best_agree=best_agree,
    )


def _beats_best_agree(stats: dict[str, float], best: dict[str, float] | None) -> bool:
    """Pol.is beats-best-agr?: the running choice of the group's best agreed statement."""
    if stats["na"] == 0 and stats["nd"] == 0:
        return False
    if best is not None and best["ra"] > 1.0:
        product = stats["ra"] * stats["rat"] * stats["pa"] * stats["pat"]
        return product > best["ra"] * best["rat"] * best["pa"] * best["pat"]
    if best is not None:
        return stats["pa"] * stats["pat"] > best["pa"] * best["pat"]
    return stats["pat"] > Z_90 or (stats["ra"] > 1.0 and stats["pa"] > 0.5)


_STAT_NAMES = ("na", "nd", "ns", "pa", "pd", "pat", "pdt", "ra", "rd", "rat", "rdt")


def select_representative(
    stats: RepnessStats, group_index: int, statement_ids: list[str], candidates: NDArray[np.bool_]
) -> tuple[RepresentativeStatement, ...]:
    """Pol.is select-rep-comments for one group (``repness.clj`` 130-278).

    Sufficient statements pass both tests at 90% for agree or for disagree;
    they are sorted by the repness metric, the best agreed statement is put
    first, five are kept, agrees before disagrees. With no sufficient
    statement the group gets its best agreed statement, else its best by test.
    """
    columns = np.flatnonzero(candidates)
    rows = {name: getattr(stats, name)[group_index, columns].tolist() for name in _STAT_NAMES}
    per_statement = [{name: rows[name][i] for name in _STAT_NAMES} for i in range(columns.size)]
    sufficient_mask = (
        z_sig_90(stats.rat[group_index, columns]) & z_sig_90(stats.pat[group_index, columns])
    ) | (z_sig_90(stats.rdt[group_index, columns]) & z_sig_90(stats.pdt[group_index, columns]))
    best_agree: tuple[str, dict[str, float]] | None = None
    for column, entry in zip(columns.tolist(), per_statement, strict=True):
        if _beats_best_agree(entry, best_agree[1] if best_agree else None):
            best_agree = (statement_ids[column], entry)
    head = [_finalize(best_agree[1], best_agree[0], best_agree=True)] if best_agree else []
    if not sufficient_mask.any():
        if head or not per_statement:
            return tuple(head)
        best_z = np.maximum(stats.rat[group_index, columns], stats.rdt[group_index, columns])
        best = int(np.argmax(best_z))
        return (_finalize(per_statement[best], statement_ids[columns[best]]),)
    best_agree_id = best_agree[0] if best_agree else None
    sufficient = [
        _finalize(per_statement[i], statement_ids[columns[i]])
        for i in np.flatnonzero(sufficient_mask).tolist()
        if statement_ids[columns[i]] != best_agree_id
    ]
    chosen = (head + sorted(sufficient, key=lambda r: -r.metric))[:REPRESENTATIVE_MAX]
    return tuple(
        [r for r in chosen if r.direction == "agree"]
        + [r for r in chosen if r.direction == "disagree"]
    )


@dataclass(frozen=True)
class ConsensusStatement:
    statement_id: str
    n_success: int
    n_trials: int
    p_success: float
    p_test: float


@dataclass(frozen=True)
class Consensus:
    """Statements most of everyone agrees (or disagrees) with (``repness.clj`` 281-320)."""

    agree: tuple[ConsensusStatement, ...]
    disagree: tuple[ConsensusStatement, ...]


def select_consensus(
    agree: NDArray, disagree: NDArray, seen: NDArray, statement_ids: list[str], candidates: NDArray
) -> Consensus:
    """Top 5 by p·z among statements with p > 1/2 and z significant at 90%, per direction."""

    def top(successes: NDArray) -> tuple[ConsensusStatement, ...]:
        p = (successes + 1) / (seen + 2)
        z = prop_test(successes, seen)
        eligible = np.flatnonzero(candidates & (p > 0.5) & z_sig_90(z))
        ranked = eligible[np.argsort(-(p * z)[eligible], kind="stable")][:CONSENSUS_MAX]
        return tuple(
            ConsensusStatement(
                statement_id=statement_ids[i],
                n_success=int(successes[i]),
                n_trials=int(seen[i]),
                p_success=float(p[i]),
                p_test=float(z[i]),
            )
            for i in ranked.tolist()
        )

    return Consensus(agree=top(agree), disagree=top(disagree))


def group_informed_consensus(counts: VoteCounts) -> NDArray[np.float64]:
    """Product over groups of the smoothed agree rate ``(A + 1) / (S + 2)``."""
    return np.prod((counts.agree + 1) / (counts.seen + 2), axis=0)


def priorities(
    counts: VoteCounts, extremity: NDArray[np.float64], is_meta: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """Pol.is comment priority (``conversation.clj`` 308-327), meta statements 7² = 49.

    importance = (1 - (P+1)/(S+2)) · (E+1) · (A+1)/(S+2), totals over groups;
    priority = (importance · (1 + 8·2^(-S/5)))², the factor letting new
    statements bubble up.
    """
    agree = counts.agree.sum(axis=0)
    seen = counts.seen.sum(axis=0)
    passes = seen - (agree + counts.disagree.sum(axis=0))
    importance = (1 - (passes + 1) / (seen + 2)) * (extremity + 1) * (agree + 1) / (seen + 2)
    priority = (importance * (1 + 8 * np.power(2.0, -seen / 5))) ** 2
    return np.where(is_meta, META_PRIORITY**2, priority)
