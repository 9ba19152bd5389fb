"""A pulse wave's figures under the anonymity rules: scores, agreement, reliability, gaps.

Pure: plain answers in, frozen dataclasses of plain floats out (NaN where a
statistic is undefined). The service hands in every answer of one wave with
its partner's name and role band; what comes out is only what may be shown.

The groups are the whole alliance, each partner, and each partner × role
band — a laminar family (any two are nested or disjoint), which is what
:func:`coauthor.analysis.anonymity.reportable_groups` needs for its checks to
cover every subtraction. Partners with fewer than ``threshold`` respondents
are first folded into "Other partners" (or left out, when even that is too
small), so that the partners reported add up to the alliance reported. Then,
**per measure** (a dimension, or one of the alliance's own items), the
groups of the people who answered it are filtered by ``reportable_groups``,
coarse groups first: a group's figures on a measure are given only when it is
kept for that measure. With every answer given, every measure keeps the same
groups.

Answers are put in a canonical order (by partner, band and the answers
themselves) before anything is summed, so the figures do not depend on the
order in which answers were stored or read — not even in their last bit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations

import numpy as np
from scipy.special import stdtrit

from coauthor.analysis.anonymity import merge_small, reportable_groups
from coauthor.analysis.psychometrics import (
    Floats,
    ad_arrays,
    cronbach_alpha,
    mcdonald_omega,
    nested_icc,
    rwg_j_arrays,
)
from coauthor.analysis.psychometrics_gap import (
    DEFAULT_EQUIVALENCE_DELTA,
    DEFAULT_SIGNIFICANCE,
    GapArrays,
    gap_arrays,
)
from coauthor.domain.errors import ValidationFailed

OTHER_PARTNERS = "Other partners"
CONFIDENCE = 0.95
NAN = float("nan")


@dataclass(frozen=True)
class Measure:
    """What a score is computed over: a dimension's items, or one item of the alliance's own.

    ``columns`` index the items (columns) of the answers.
    """

    key: str
    label: str
    columns: tuple[int, ...]


@dataclass(frozen=True)
class Respondent:
    """One set of answers, as stored: partner name, role band, answers (NaN = not answered).

    Answers are already scored: a reverse-keyed item is turned around.
    """

    partner: str
    band: str | None
    answers: tuple[float, ...]


@dataclass(frozen=True, order=True)
class GroupKey:
    """The whole alliance (no partner), a partner, or a partner × role band."""

    partner: str | None = None
    band: str | None = None

    @property
    def level(self) -> str:
        if self.partner is None:
            return "alliance"
        return "partner" if self.band is None else "band"

    @property
    def label(self) -> str:
        if self.partner is None:
            return "All partners"
        return self.partner if self.band is None else f"{self.partner} · {self.band}"


ALLIANCE = GroupKey()


@dataclass(frozen=True)
class Score:
    """A group's score on one measure: the mean of its respondents' scores, and agreement.

    A respondent's score is the mean of the measure's items they answered.
    ``low``/``high`` bound the mean's 95% confidence interval (Student's t,
    n − 1 df). ``rwg`` is rwg(j) over the measure's items (rwg for one item)
    and ``ad`` the AD index, with ``ad_within_ceiling`` whether AD ≤ A/6.
    """

    measure: str
    n: int
    mean: float
    sd: float
    low: float
    high: float
    rwg: float
    ad: float
    ad_within_ceiling: bool | None


@dataclass(frozen=True)
class GroupFigures:
    key: GroupKey
    n: int
    scores: dict[str, Score] = field(default_factory=dict)
    """Measure key → score, for the measures on which the group may be reported."""


@dataclass(frozen=True)
class Reliability:
    """How well a measure's items hang together over the alliance, and how partners differ.

    ``alpha`` (pairwise) and ``omega`` (one factor, minres) over the items;
    ``icc1``/``icc2`` of the respondents' scores nested in the reported
    partners. NaN where undefined (alpha for one item, omega for fewer than
    three, ICCs for fewer than two partners).
    """

    measure: str
    n: int
    items: int
    alpha: float
    omega: float
    icc1: float
    icc2: float


@dataclass(frozen=True)
class MeasureGap:
    """Partner a − partner b on one measure (respondents' scores); see perception_gap."""

    measure: str
    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    difference: float
    t: float
    df: float
    p: float
    p_holm: float
    hedges_g: float
    rank_biserial: float
    p_mann_whitney_holm: float
    tost_p: float
    equivalent: bool | None
    significant: bool | None
    """Whether the Holm-adjusted Welch p is below the significance level."""


@dataclass(frozen=True)
class PartnerGap:
    a: str
    b: str
    measures: tuple[MeasureGap, ...]
    equivalent: bool | None
    """Whether the two partners agree (TOST) on every measure compared."""


@dataclass(frozen=True)
class WaveFigures:
    threshold: int
    groups: tuple[GroupFigures, ...]
    reliability: tuple[Reliability, ...]
    gaps: tuple[PartnerGap, ...]
    merged: bool
    """Whether "Other partners" holds partners too small to be reported alone."""

    @property
    def reported(self) -> bool:
        return any(group.key == ALLIANCE for group in self.groups)

    def group(self, key: GroupKey) -> GroupFigures | None:
        return next((group for group in self.groups if group.key == key), None)


def respondent_scores(matrix: Floats, measures: Sequence[Measure]) -> Floats:
    """Respondents × measures: each respondent's mean of the measure's items they answered."""
    scores = np.full((matrix.shape[0], len(measures)), np.nan)
    for j, measure in enumerate(measures):
        part = matrix[:, list(measure.columns)]
        answered = (~np.isnan(part)).sum(axis=1)
        total = np.where(np.isnan(part), 0.0, part).sum(axis=1)
        np.divide(total, answered, out=scores[:, j], where=answered > 0)
    return scores


def mean_interval(values: Floats, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean, and the bounds of its Student-t confidence interval; NaN bounds for n < 2."""
    n = values.size
    mean = float(values.mean()) if n else NAN
    if n < 2:
        return mean, NAN, NAN
    half = float(stdtrit(n - 1, (1 + confidence) / 2) * values.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def _canonical(respondents: Sequence[Respondent]) -> list[Respondent]:
    """The answers in an order of their own content, whatever order they came in."""

    def key(respondent: Respondent) -> tuple:
        answers = tuple(0.0 if math.isnan(a) else a for a in respondent.answers)
        return (respondent.partner, respondent.band or "", answers)

    return sorted(respondents, key=key)


def _labels(rows: Sequence[Respondent], threshold: int) -> dict[int, str]:
    """Each respondent's reported partner: small partners merged; withheld ones left out."""
    reported, _ = merge_small(dict(enumerate(r.partner for r in rows)), threshold, OTHER_PARTNERS)
    return reported


def _members(rows: Sequence[Respondent], labels: Mapping[int, str]) -> dict[GroupKey, set[int]]:
    """The respondents of every group.

    A role band that holds all of its partner's respondents is left out: it
    would show the partner's figures again, and say that nobody of the other
    band answered. So is "Other partners" when it holds everyone.
    """
    groups: dict[GroupKey, set[int]] = {ALLIANCE: set()}
    for row, label in labels.items():
        groups[ALLIANCE].add(row)
        groups.setdefault(GroupKey(label), set()).add(row)
        band = rows[row].band
        if band is not None:
            groups.setdefault(GroupKey(label, band), set()).add(row)
    return {key: members for key, members in groups.items() if not _repeats(key, members, groups)}


def _answering(groups: Mapping[GroupKey, set[int]], answered: Floats) -> dict[GroupKey, set[int]]:
    """The groups among those who answered a measure (``answered`` per row), as above."""
    rows = set(np.flatnonzero(answered).tolist())
    narrowed = {key: members & rows for key, members in groups.items()}
    return {
        key: members
        for key, members in narrowed.items()
        if members and not _repeats(key, members, narrowed)
    }


def _repeats(key: GroupKey, members: set[int], groups: Mapping[GroupKey, set[int]]) -> bool:
    """A band holding all of its partner, or "Other partners" holding everyone, adds nothing."""
    if key.level == "band":
        # "Other partners" may be gone already (holding everyone): its bands sit in the alliance.
        return members == groups.get(GroupKey(key.partner), groups.get(ALLIANCE))
    return key.partner == OTHER_PARTNERS and members == groups[ALLIANCE]


@lru_cache(maxsize=64)
def _kept_cached(groups: tuple[tuple[GroupKey, frozenset[int]], ...], threshold: int) -> tuple:
    return tuple(_kept_uncached(dict(groups), threshold))


def _kept(groups: Mapping[GroupKey, set[int]], threshold: int) -> list[GroupKey]:
    """Reportable groups (the same member sets give the same answer: measures often share)."""
    signature = tuple((key, frozenset(members)) for key, members in groups.items())
    return list(_kept_cached(signature, threshold))


def _kept_uncached(groups: Mapping[GroupKey, frozenset[int]], threshold: int) -> list[GroupKey]:
    """Reportable groups: the alliance, then partners (largest first), then role bands."""
    partners = sorted(
        (key for key in groups if key.level == "partner"), key=lambda k: (-len(groups[k]), k)
    )
    bands = sorted(key for key in groups if key.level == "band")
    alliance = [ALLIANCE] if ALLIANCE in groups else []
    return reportable_groups(groups, threshold, priority=[*alliance, *partners, *bands])


def _scores(
    measure: Measure,
    j: int,
    keys: Sequence[GroupKey],
    members: Mapping[GroupKey, set[int]],
    matrix: Floats,
    scores: Floats,
    scale_points: int,
) -> dict[GroupKey, Score]:
    """The measure's score in each of ``keys``; agreement computed for all groups at once."""
    if not keys:
        return {}
    rows = [sorted(members[key]) for key in keys]
    stack = np.full((len(keys), max(map(len, rows)), len(measure.columns)), np.nan)
    for g, group_rows in enumerate(rows):
        stack[g, : len(group_rows)] = matrix[np.ix_(group_rows, list(measure.columns))]
    agreement = rwg_j_arrays(stack, scale_points).rwg
    deviation = ad_arrays(stack).ad
    ceiling = scale_points / 6
    found = {}
    for g, key in enumerate(keys):
        values = scores[rows[g], j]
        values = values[~np.isnan(values)]
        mean, low, high = mean_interval(values)
        ad = float(deviation[g])
        found[key] = Score(
            measure=measure.key,
            n=int(values.size),
            mean=mean,
            sd=float(values.std(ddof=1)) if values.size > 1 else NAN,
            low=low,
            high=high,
            rwg=float(agreement[g]),
            ad=ad,
            ad_within_ceiling=None if math.isnan(ad) else ad <= ceiling,
        )
    return found


def _reliability(
    measure: Measure,
    j: int,
    matrix: Floats,
    scores: Floats,
    kept: Sequence[GroupKey],
    members: Mapping[GroupKey, set[int]],
) -> Reliability:
    everyone = sorted(members[ALLIANCE])
    items = matrix[np.ix_(everyone, list(measure.columns))]
    rows, partners = [], []
    for key in (key for key in kept if key.level == "partner"):
        rows += sorted(members[key])
        partners += [key.partner] * len(members[key])
    icc1 = icc2 = NAN
    if len(set(partners)) >= 2:
        icc = nested_icc(scores[rows, j], partners)
        icc1, icc2 = icc.icc1, icc.icc2
    return Reliability(
        measure=measure.key,
        n=len(everyone),
        items=len(measure.columns),
        alpha=cronbach_alpha(items).alpha,
        omega=mcdonald_omega(items).omega,
        icc1=icc1,
        icc2=icc2,
    )


GAP_FIGURES = (
    "mean_a",
    "mean_b",
    "difference",
    "t",
    "df",
    "p",
    "p_holm",
    "hedges_g",
    "rank_biserial",
    "p_mann_whitney_holm",
    "tost_p",
)


def _measure_gap(
    arrays: GapArrays, a: int, b: int, i: int, key: str, significance: float
) -> MeasureGap:
    """Item ``i`` of the comparison of group ``a`` with group ``b`` in ``arrays``."""
    tost_p, p_holm = float(arrays.tost_p[a, b, i]), float(arrays.p_holm[a, b, i])
    return MeasureGap(
        measure=key,
        n_a=int(arrays.n_a[a, b, i]),
        n_b=int(arrays.n_b[a, b, i]),
        **{name: float(getattr(arrays, name)[a, b, i]) for name in GAP_FIGURES},
        equivalent=None if math.isnan(tost_p) else tost_p < significance,
        significant=None if math.isnan(p_holm) else p_holm < significance,
    )


def _all_agree(verdicts: Sequence[bool | None]) -> bool | None:
    """True when every measure is equivalent, False when one is not, else None."""
    if False in verdicts:
        return False
    return None if None in verdicts or not verdicts else True


def _gaps(
    partners: Sequence[GroupKey],
    measures: Sequence[Measure],
    scores: Floats,
    kept: Mapping[str, list[GroupKey]],
    everyone: Mapping[GroupKey, set[int]],
    delta: float,
    significance: float,
) -> tuple[PartnerGap, ...]:
    """Every two partners, a − b, on the measures both are reported on (Holm over those).

    The pairs that share the same measures are compared in one ``gap_arrays``
    call over all their partners; a respondent without a score on a measure
    is left out of that measure.
    """
    shared_by: dict[tuple[int, ...], list[tuple[int, int]]] = {}
    for a, b in combinations(range(len(partners)), 2):
        shared = tuple(
            j
            for j, m in enumerate(measures)
            if partners[a] in kept[m.key] and partners[b] in kept[m.key]
        )
        if shared:
            shared_by.setdefault(shared, []).append((a, b))
    found: dict[tuple[int, int], PartnerGap] = {}
    for shared, pairs in shared_by.items():
        involved = sorted({p for pair in pairs for p in pair})
        rows = [sorted(everyone[partners[p]]) for p in involved]
        stack = np.full((len(involved), max(map(len, rows)), len(shared)), np.nan)
        for g, group_rows in enumerate(rows):
            stack[g, : len(group_rows)] = scores[np.ix_(group_rows, list(shared))]
        arrays = gap_arrays(stack, delta=delta)
        place = {p: g for g, p in enumerate(involved)}
        for a, b in pairs:
            items = tuple(
                _measure_gap(arrays, place[a], place[b], i, measures[j].key, significance)
                for i, j in enumerate(shared)
            )
            found[(a, b)] = PartnerGap(
                a=str(partners[a].partner),
                b=str(partners[b].partner),
                measures=items,
                equivalent=_all_agree([item.equivalent for item in items]),
            )
    return tuple(found[pair] for pair in sorted(found))


def wave_figures(
    respondents: Sequence[Respondent],
    measures: Sequence[Measure],
    scale_points: int,
    threshold: int,
    *,
    delta: float = DEFAULT_EQUIVALENCE_DELTA,
    significance: float = DEFAULT_SIGNIFICANCE,
) -> WaveFigures:
    """Every figure of a wave that the anonymity rules allow (see the module docstring).

    Gaps compare every two reported partners (not role bands, not "Other
    partners" against its own members) on the measures both are reported on,
    Holm-adjusted across those measures; ``delta`` is the TOST margin in
    scale points.
    """
    rows = _canonical(respondents)
    labels = _labels(rows, threshold)
    width = len(rows[0].answers) if rows else 1 + max(c for m in measures for c in m.columns)
    matrix = np.array([r.answers for r in rows], dtype=np.float64).reshape(len(rows), width)
    scores = respondent_scores(matrix, measures)
    everyone = _members(rows, labels)
    groups_kept = _kept(everyone, threshold)
    members = {m.key: _answering(everyone, ~np.isnan(scores[:, j])) for j, m in enumerate(measures)}
    kept = {m.key: _kept(members[m.key], threshold) for m in measures}
    per_measure = {
        m.key: _scores(m, j, kept[m.key], members[m.key], matrix, scores, scale_points)
        for j, m in enumerate(measures)
    }
    groups = tuple(
        GroupFigures(
            key=key,
            n=len(everyone[key]),
            scores={m.key: per_measure[m.key][key] for m in measures if key in kept[m.key]},
        )
        for key in sorted(groups_kept, key=_display_order)
    )
    reliability = tuple(
        _reliability(m, j, matrix, scores, kept[m.key], members[m.key])
        for j, m in enumerate(measures)
        if ALLIANCE in kept[m.key]
    )
    partners = [key for key in sorted(groups_kept, key=_display_order) if key.level == "partner"]
    _check_significance(significance)
    gaps = _gaps(partners, measures, scores, kept, everyone, delta, significance)
    return WaveFigures(
        threshold=threshold,
        groups=groups,
        reliability=reliability,
        gaps=gaps,
        merged=any(key.partner == OTHER_PARTNERS for key in groups_kept),
    )


def _check_significance(significance: float) -> None:
    if not 0 < significance < 1:
        raise ValidationFailed.one("significance", "must lie between 0 and 1")


def _display_order(key: GroupKey) -> tuple:
    """The alliance, then partners by name ("Other partners" last), each followed by its bands."""
    level = {"alliance": 0, "partner": 1, "band": 1}[key.level]
    return (level, key.partner == OTHER_PARTNERS, key.partner or "", key.band or "")
