"""Opinion groups against alliance partners: alignment, bridging statements, fault lines.

Pol.is groups say *how* people think; an alliance also knows *who* they
speak for (their partner organisation). These functions ask whether the two
line up (partner alignment), which statements every partner agrees with
(bridging) and which split the partners (fault lines).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import chdtrc

from coauthor.analysis.opinion_matrix import VoteMatrix
from coauthor.analysis.opinion_stats import prop_test, z_sig_90

PERMUTATION_CHUNK = 256


def _codes(labels: Sequence[Hashable]) -> tuple[list[Hashable], NDArray[np.int64]]:
    """Distinct labels (sorted when comparable) and each label's code."""
    distinct = list(dict.fromkeys(labels))
    try:
        distinct = sorted(distinct)  # type: ignore[type-var]
    except TypeError:
        distinct = sorted(distinct, key=repr)
    index = {label: i for i, label in enumerate(distinct)}
    return distinct, np.fromiter((index[x] for x in labels), dtype=np.int64, count=len(labels))


def _comb2(x: NDArray[np.int64]) -> int:
    return int(sum(int(v) * (int(v) - 1) // 2 for v in x.ravel().tolist()))


def adjusted_rand_index(a: ArrayLike, b: ArrayLike) -> float:
    """Adjusted Rand index (Hubert & Arabie) of two labelings of the same items.

    Pair-counting form, as scikit-learn: 1.0 for identical partitions
    (including the degenerate all-in-one and all-singletons cases), about 0
    for independent ones.
    """
    labels_a, labels_b = list(np.asarray(a).tolist()), list(np.asarray(b).tolist())
    if len(labels_a) != len(labels_b):
        raise ValueError("labelings must have the same length")
    n = len(labels_a)
    _, codes_a = _codes(labels_a)
    _, codes_b = _codes(labels_b)
    if n == 0:
        return 1.0
    table = np.zeros((codes_a.max() + 1, codes_b.max() + 1), dtype=np.int64)
    np.add.at(table, (codes_a, codes_b), 1)
    sum_cells = _comb2(table)
    sum_rows = _comb2(table.sum(axis=1))
    sum_cols = _comb2(table.sum(axis=0))
    total = n * (n - 1) // 2
    tp = sum_cells
    fp = sum_cols - sum_cells
    fn = sum_rows - sum_cells
    tn = total - tp - fp - fn
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


@dataclass(frozen=True, eq=False)
class PartnerAlignment:
    """Contingency of opinion groups × partners, Cramér's V and its permutation p-value."""

    groups: list[Hashable]
    partners: list[Hashable]
    table: NDArray[np.int64]
    chi2: float
    cramers_v: float
    p_value: float
    n: int
    permutations: int


def _chi2(tables: NDArray[np.float64]) -> NDArray[np.float64]:
    """Pearson chi-square of each table (last two axes), empty rows/columns ignored."""
    n = tables.sum(axis=(-2, -1), keepdims=True)
    expected = tables.sum(axis=-1, keepdims=True) * tables.sum(axis=-2, keepdims=True) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(expected > 0, (tables - expected) ** 2 / expected, 0.0)
    return terms.sum(axis=(-2, -1))


def _cramers_v(chi2: NDArray | float, n: int, n_rows: int, n_cols: int) -> NDArray:
    dof = min(n_rows, n_cols) - 1
    if n == 0 or dof <= 0:
        return np.zeros_like(np.asarray(chi2, dtype=np.float64))
    return np.sqrt(np.asarray(chi2) / (n * dof))


def partner_alignment(
    groups_by_participant: Mapping[str, int | None],
    partner_by_participant: Mapping[str, Hashable],
    *,
    permutations: int = 2000,
    seed: int = 0,
) -> PartnerAlignment:
    """How much opinion groups follow partner lines.

    Uses participants that are both clustered (group not None) and attached to
    a partner. Cramér's V of the groups × partners table measures the
    association (0 = groups cut across partners, 1 = groups are partners);
    the p-value is the share of label permutations (partners shuffled among the
    same participants, margins kept) whose V is at least the observed one,
    counted with the usual +1 correction.
    """
    people = [
        p
        for p, g in groups_by_participant.items()
        if g is not None and partner_by_participant.get(p) is not None
    ]
    group_labels, group_codes = _codes([groups_by_participant[p] for p in people])
    partner_labels, partner_codes = _codes([partner_by_participant[p] for p in people])
    shape = (len(group_labels), len(partner_labels))
    table = np.zeros(shape, dtype=np.int64)
    np.add.at(table, (group_codes, partner_codes), 1)
    chi2 = float(_chi2(table.astype(np.float64)))
    v = float(_cramers_v(chi2, len(people), *shape))
    exceed = _permutation_exceedances(group_codes, partner_codes, shape, chi2, permutations, seed)
    return PartnerAlignment(
        groups=group_labels,
        partners=partner_labels,
        table=table,
        chi2=chi2,
        cramers_v=v,
        p_value=(exceed + 1) / (permutations + 1),
        n=len(people),
        permutations=permutations,
    )


def _permutation_exceedances(
    group_codes: NDArray[np.int64],
    partner_codes: NDArray[np.int64],
    shape: tuple[int, int],
    observed_chi2: float,
    permutations: int,
    seed: int,
) -> int:
    """Permutations whose chi-square reaches the observed one (V is monotone in chi2)."""
    rng = np.random.default_rng(seed)
    n_cells = shape[0] * shape[1]
    exceed, done = 0, 0
    tolerance = 1e-9 * max(1.0, observed_chi2)
    while done < permutations:
        batch = min(PERMUTATION_CHUNK, permutations - done)
        shuffled = rng.permuted(np.broadcast_to(partner_codes, (batch, partner_codes.size)), axis=1)
        cells = group_codes * shape[1] + shuffled + (np.arange(batch) * n_cells)[:, None]
        tables = np.bincount(cells.ravel(), minlength=batch * n_cells).reshape(batch, *shape)
        exceed += int((_chi2(tables.astype(np.float64)) >= observed_chi2 - tolerance).sum())
        done += batch
    return exceed


@dataclass(frozen=True)
class BridgingStatement:
    """A statement a majority of every partner agrees with."""

    statement_id: str
    min_agree_rate: float
    agree_rates: dict[Hashable, float]


@dataclass(frozen=True)
class FaultLine:
    """A statement on which partners vote differently (partner × vote chi-square)."""

    statement_id: str
    cramers_v: float
    chi2: float
    p_value: float
    p_adjusted: float
    agree_rates: dict[Hashable, float]


@dataclass(frozen=True)
class FaultLineReport:
    bridging: tuple[BridgingStatement, ...]
    fault_lines: tuple[FaultLine, ...]


def _partner_vote_counts(
    matrix: VoteMatrix, partner_by_participant: Mapping[str, Hashable]
) -> tuple[list[Hashable], NDArray[np.float64]]:
    """Counts ``(n_partners, n_statements, 3)`` of agree / disagree / pass per partner."""
    attached = [partner_by_participant.get(p) for p in matrix.participant_ids]
    labels, _ = _codes([p for p in attached if p is not None])
    index = {label: i for i, label in enumerate(labels)}
    partner_of_row = np.array([index.get(p, -1) for p in attached], dtype=np.int64)
    rows, cols, values = matrix.cells()
    partner = partner_of_row[rows]
    keep = partner >= 0
    kind = np.select([values == 1, values == -1], [0, 1], default=2)[keep]
    n_s = matrix.shape[1]
    cell = (partner[keep] * n_s + cols[keep]) * 3 + kind
    counts = np.bincount(cell, minlength=len(labels) * n_s * 3).astype(np.float64)
    return labels, counts.reshape(len(labels), n_s, 3)


def bridging_and_fault_lines(
    matrix: VoteMatrix,
    partner_by_participant: Mapping[str, Hashable],
    *,
    min_votes_per_partner: int = 5,
    alpha: float = 0.05,
    min_cramers_v: float = 0.3,
) -> FaultLineReport:
    """Bridging statements and fault lines between partners.

    Bridging: for every partner, the smoothed agree rate ``(A+1)/(S+2)`` is
    above 1/2 and Pol.is's one-proportion test is significant at 90%
    (the consensus rule of Pol.is, applied per partner instead of overall).
    Sorted by the lowest partner agree rate.

    Fault line: a chi-square test of independence on the partners × (agree,
    disagree, pass) table of the statement, over partners with at least
    ``min_votes_per_partner`` votes on it (at least two such partners).
    Significant after Holm's correction over all tested statements at
    ``alpha``, and with an effect size Cramér's V ≥ ``min_cramers_v``
    (a large effect for a 3-column table), so a big conversation does not
    flag trivial differences. Sorted by V.
    Moderated-out statements are ignored.
    """
    labels, counts = _partner_vote_counts(matrix, partner_by_participant)
    candidates = np.array([s not in matrix.moderated_out for s in matrix.statement_ids])
    bridging = _bridging(matrix, labels, counts, candidates)
    fault_lines = _fault_lines(
        matrix, labels, counts, candidates, min_votes_per_partner, alpha, min_cramers_v
    )
    return FaultLineReport(bridging=bridging, fault_lines=fault_lines)


def _agree_rates(counts: NDArray[np.float64]) -> NDArray[np.float64]:
    return (counts[..., 0] + 1) / (counts.sum(axis=-1) + 2)


def _bridging(
    matrix: VoteMatrix, labels: list[Hashable], counts: NDArray, candidates: NDArray
) -> tuple[BridgingStatement, ...]:
    if not labels:
        return ()
    rates = _agree_rates(counts)
    significant = z_sig_90(prop_test(counts[..., 0], counts.sum(axis=-1)))
    passing = np.flatnonzero(candidates & np.all((rates > 0.5) & significant, axis=0))
    floor = rates.min(axis=0)
    ordered = passing[np.argsort(-floor[passing], kind="stable")]
    return tuple(
        BridgingStatement(
            statement_id=matrix.statement_ids[s],
            min_agree_rate=float(floor[s]),
            agree_rates={label: float(rates[i, s]) for i, label in enumerate(labels)},
        )
        for s in ordered.tolist()
    )


def _fault_lines(
    matrix: VoteMatrix,
    labels: list[Hashable],
    counts: NDArray,
    candidates: NDArray,
    min_votes: int,
    alpha: float,
    min_v: float,
) -> tuple[FaultLine, ...]:
    tested: list[tuple[int, float, float, float, list[int]]] = []
    for s in np.flatnonzero(candidates).tolist():
        partners = np.flatnonzero(counts[:, s].sum(axis=1) >= min_votes)
        table = counts[partners, s]
        table = table[:, table.sum(axis=0) > 0]
        if partners.size < 2 or table.shape[1] < 2:
            continue
        chi2 = float(_chi2(table))
        dof = (table.shape[0] - 1) * (table.shape[1] - 1)
        v = float(_cramers_v(chi2, int(table.sum()), *table.shape))
        tested.append((s, chi2, float(chdtrc(dof, chi2)), v, partners.tolist()))
    adjusted = _holm([t[2] for t in tested])
    rates = _agree_rates(counts)
    found = [
        FaultLine(
            statement_id=matrix.statement_ids[s],
            cramers_v=v,
            chi2=chi2,
            p_value=p,
            p_adjusted=p_adj,
            agree_rates={labels[i]: float(rates[i, s]) for i in partners},
        )
        for (s, chi2, p, v, partners), p_adj in zip(tested, adjusted, strict=True)
        if p_adj < alpha and v >= min_v
    ]
    return tuple(sorted(found, key=lambda f: -f.cramers_v))


def _holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (family-wise error control)."""
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order.tolist()):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted.tolist()
