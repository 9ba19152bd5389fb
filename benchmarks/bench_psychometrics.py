"""Benchmark the pulse statistics: vectorised kernels against a per-group reference loop.

The workload: 100 alliances × 10 partners × 50 respondents × 30 items on a
5-point scale (a one-factor model with partner effects, 5% of answers
missing; fixed seed). Computed:

* per partner (1,000 groups): Cronbach's alpha (pairwise), McDonald's omega
  (minres), rwg(j) and the AD index;
* per alliance (100): ICC(1) and ICC(2) of the respondents' mean scores,
  respondents nested in partners;
* per alliance, the perception gaps between **every pair of partners** (45
  pairs, 4,500 in all) on every item: Welch t, Hedges g, Mann–Whitney U and
  r, Holm across the items, TOST.

Ours is ``coauthor.analysis.psychometrics`` / ``psychometrics_gap``, each
statistic one call over the whole stack. The baseline is the textbook loop:
group by group, pair by pair, item by item, with the reference library calls
(``scipy.stats.ttest_ind``, ``scipy.stats.mannwhitneyu``,
``statsmodels``'s ``ttost_ind`` and ``multipletests``, ``scipy.optimize``
for the minres fit). The baseline is far too slow for the full size, so
both run, interleaved, on the first alliance(s) for the ratio (after a
check that they agree); ours alone runs on the full size against the goal
of one second. Times are medians of several runs, computation only.

The baseline takes about 7 s per alliance and run; the defaults (one
alliance, 5 runs) finish in under a minute.

Usage: ``python benchmarks/bench_psychometrics.py [--repeats 5] [--subset 1] [--write]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from datetime import date
from itertools import combinations
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
sys.path.insert(0, str(ROOT / "scripts"))  # shared helpers for the scripts that write docs/

from doc_section import replace_marked_section  # noqa: E402

START, END = "<!-- bench-psychometrics:start -->", "<!-- bench-psychometrics:end -->"

SHAPE = {"alliances": 100, "partners": 10, "respondents": 50, "items": 30}
SCALE_POINTS = 5
MISSING_SHARE = 0.05
GOAL_SECONDS = 1.0


def survey(alliances: int, partners: int, respondents: int, items: int, *, seed: int = 0):
    """Answers (alliances, partners, respondents, items) on 1..5 with NaN for missing."""
    rng = np.random.default_rng(seed)
    loadings = rng.uniform(0.4, 0.8, size=items)
    partner_effect = rng.normal(0.0, 0.4, size=(alliances, partners, 1, 1))
    factor = rng.normal(size=(alliances, partners, respondents, 1)) + partner_effect
    unique = rng.normal(size=(alliances, partners, respondents, items))
    latent = factor * loadings + unique * np.sqrt(1 - loadings**2)
    answers = np.clip(np.round(3 + 1.1 * latent), 1, SCALE_POINTS)
    answers[rng.random(answers.shape) < MISSING_SHARE] = np.nan
    return answers


# ---------------------------------------------------------------- ours


def ours(answers: np.ndarray) -> dict[str, np.ndarray]:
    from coauthor.analysis import psychometrics as pm
    from coauthor.analysis.psychometrics_gap import gap_arrays

    alliances, partners, respondents, items = answers.shape
    groups = answers.reshape(alliances * partners, respondents, items)
    present = ~np.isnan(answers)
    scores = np.where(present, answers, 0.0).sum(axis=-1) / present.sum(axis=-1)
    gaps = gap_arrays(answers)
    icc = pm.anova_arrays(scores)
    first, second = np.triu_indices(partners, 1)
    return {
        "alpha": pm.alpha_arrays(groups).alpha,
        "omega": pm.omega_arrays(groups).omega,
        "rwg_j": pm.rwg_j_arrays(groups, SCALE_POINTS).rwg,
        "ad": pm.ad_arrays(groups).ad,
        "icc1": icc.icc1,
        "icc2": icc.icc2,
        **{
            f"gap_{name}": getattr(gaps, name)[:, first, second].reshape(-1, items)
            for name in ("t", "p_holm", "hedges_g", "u", "p_mann_whitney", "tost_p")
        },
    }


# ---------------------------------------------------------------- the reference loop


def loop_alpha(x: np.ndarray) -> float:
    k = x.shape[1]
    covariance = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            both = ~np.isnan(x[:, i]) & ~np.isnan(x[:, j])
            covariance[i, j] = np.cov(x[both, i], x[both, j])[0, 1]
    return k / (k - 1) * (1 - np.trace(covariance) / covariance.sum())


def loop_omega(x: np.ndarray) -> float:
    import pandas as pd
    from scipy.optimize import minimize

    correlation = pd.DataFrame(x).corr().to_numpy()  # pairwise-complete
    upper = np.triu_indices(correlation.shape[0], 1)

    def residual(loadings: np.ndarray) -> float:
        return float(((correlation - np.outer(loadings, loadings))[upper] ** 2).sum())

    start = np.full(correlation.shape[0], 0.5)
    fit = minimize(residual, start, method="L-BFGS-B", bounds=[(-1, 1)] * len(start), tol=1e-14)
    loadings = fit.x * np.sign(fit.x.sum())
    common = loadings.sum() ** 2
    return common / (common + (1 - loadings**2).sum())


def loop_agreement(x: np.ndarray) -> tuple[float, float]:
    null = (SCALE_POINTS**2 - 1) / 12
    variances, deviations = [], []
    for column in x.T:
        answered = column[~np.isnan(column)]
        variances.append(answered.var(ddof=1))
        deviations.append(np.abs(answered - answered.mean()).mean())
    j, ratio = len(variances), np.mean(variances) / null
    rwg_j = 0.0 if ratio > 1 else j * (1 - ratio) / (j * (1 - ratio) + ratio)
    return rwg_j, float(np.mean(deviations))


def loop_icc(scores: np.ndarray) -> tuple[float, float]:
    groups = [g[~np.isnan(g)] for g in scores]
    values = np.concatenate(groups)
    n, g = values.size, len(groups)
    msb = sum(len(y) * (y.mean() - values.mean()) ** 2 for y in groups) / (g - 1)
    msw = sum(((y - y.mean()) ** 2).sum() for y in groups) / (n - g)
    k = n / g
    return (msb - msw) / (msb + (k - 1) * msw), (msb - msw) / msb


def loop_gap(a: np.ndarray, b: np.ndarray) -> dict[str, list[float]]:
    import scipy.stats
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.weightstats import ttost_ind

    out: dict[str, list[float]] = {k: [] for k in ("t", "p", "hedges_g", "u", "p_mw", "tost_p")}
    for i in range(a.shape[1]):
        x, y = a[~np.isnan(a[:, i]), i], b[~np.isnan(b[:, i]), i]
        welch = scipy.stats.ttest_ind(x, y, equal_var=False)
        ranks = scipy.stats.mannwhitneyu(x, y, method="asymptotic")
        df = x.size + y.size - 2
        pooled = np.sqrt(((x.size - 1) * x.var(ddof=1) + (y.size - 1) * y.var(ddof=1)) / df)
        out["t"].append(welch.statistic)
        out["p"].append(welch.pvalue)
        out["hedges_g"].append((1 - 3 / (4 * df - 1)) * (x.mean() - y.mean()) / pooled)
        out["u"].append(x.size * y.size - ranks.statistic)
        out["p_mw"].append(ranks.pvalue)
        out["tost_p"].append(ttost_ind(x, y, -0.5, 0.5, usevar="unequal")[0])
    out["p_holm"] = list(multipletests(out["p"], method="holm")[1])
    out["p_mw_holm"] = list(multipletests(out["p_mw"], method="holm")[1])
    return out


def baseline(answers: np.ndarray) -> dict[str, np.ndarray]:
    alliances, partners, respondents, items = answers.shape
    groups = answers.reshape(alliances * partners, respondents, items)
    agreement = [loop_agreement(x) for x in groups]
    scores = np.nanmean(answers, axis=-1)
    icc = [loop_icc(scores[a]) for a in range(alliances)]
    gaps = [
        loop_gap(answers[a, p], answers[a, q])
        for a in range(alliances)
        for p, q in combinations(range(partners), 2)
    ]
    result = {
        "alpha": np.array([loop_alpha(x) for x in groups]),
        "omega": np.array([loop_omega(x) for x in groups]),
        "rwg_j": np.array([r for r, _ in agreement]),
        "ad": np.array([d for _, d in agreement]),
        "icc1": np.array([i for i, _ in icc]),
        "icc2": np.array([i for _, i in icc]),
    }
    for name, key in [("t", "t"), ("p_holm", "p_holm"), ("hedges_g", "hedges_g"), ("u", "u")]:
        result[f"gap_{name}"] = np.array([g[key] for g in gaps])
    result["gap_p_mann_whitney"] = np.array([g["p_mw"] for g in gaps])
    result["gap_tost_p"] = np.array([g["tost_p"] for g in gaps])
    return result


# Omega: two optimisers stop at slightly different points of the same minimum.
# Hedges g: the baseline uses the usual approximation of J, ours the exact factor.
TOLERANCE = {"omega": 1e-5, "gap_hedges_g": 1e-5}


def check_agreement(mine: dict[str, np.ndarray], reference: dict[str, np.ndarray]) -> None:
    for name, expected in reference.items():
        tolerance = TOLERANCE.get(name, 1e-9)
        if not np.allclose(mine[name], expected, rtol=tolerance, atol=tolerance):
            worst = np.nanmax(np.abs(mine[name] - expected))
            raise SystemExit(f"{name}: ours and the baseline disagree (by up to {worst:.2g})")


# ---------------------------------------------------------------- timing


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def interleaved(repeats: int, first: Callable[[], object], second: Callable[[], object]):
    """Medians of ``first`` and ``second`` run A, B, A, B, ... (warm them up first)."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        times[0].append(timed(first))
        times[1].append(timed(second))
    return statistics.median(times[0]), statistics.median(times[1])


def component_times(answers: np.ndarray, repeats: int) -> dict[str, float]:
    """Median time of each statistic of ours on the full workload."""
    from coauthor.analysis import psychometrics as pm
    from coauthor.analysis.psychometrics_gap import gap_arrays

    groups = answers.reshape(-1, *answers.shape[2:])
    scores = np.nanmean(answers, axis=-1)
    parts = {
        "alpha": lambda: pm.alpha_arrays(groups),
        "omega": lambda: pm.omega_arrays(groups),
        "rwg(j) + AD": lambda: (pm.rwg_j_arrays(groups, SCALE_POINTS), pm.ad_arrays(groups)),
        "ICC": lambda: pm.anova_arrays(scores),
        "gaps": lambda: gap_arrays(answers),
    }
    return {
        name: statistics.median(timed(run) for _ in range(repeats)) for name, run in parts.items()
    }


def render(full: float, subset: dict, components: dict[str, float], repeats: int) -> str:
    a, p, r, k = SHAPE.values()
    n = subset["alliances"]
    ratio = subset["ours"] / subset["baseline"]
    case = "first alliance" if n == 1 else f"first {n} alliances"
    lines = [
        f"Measured {date.today().isoformat()} on {platform.machine()} {platform.system()}, "
        f"{os.cpu_count()} cores (shared), Python {platform.python_version()}; "
        f"medians of {repeats} runs, computation only.",
        "",
        "| case | size | baseline | ours | ours ÷ baseline | speed-up |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {case} | {n} × {p} partners × {r} × {k} "
        f"| {subset['baseline']:.2f} s | {1000 * subset['ours']:.1f} ms "
        f"| {ratio:.4f} | {1 / ratio:.0f}× |",
        f"| full workload | {a} × {p} partners × {r} × {k} | — | {1000 * full:.0f} ms | — | — |",
        "",
        f"- Goal: the full workload in under {GOAL_SECONDS:.0f} s "
        f"({'met' if full < GOAL_SECONDS else 'NOT met'}: {full:.2f} s).",
        "- Ours on the full workload, by statistic: "
        + ", ".join(f"{name} {1000 * t:.0f} ms" for name, t in components.items())
        + ".",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--subset", type=int, default=1, help="alliances for the baseline")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    answers = survey(**SHAPE)
    small = answers[: args.subset]
    check_agreement(ours(small), baseline(small))  # also the warm-up
    ours_small, baseline_small = interleaved(
        args.repeats, lambda: ours(small), lambda: baseline(small)
    )
    ours(answers)
    full = statistics.median(timed(lambda: ours(answers)) for _ in range(args.repeats))
    components = component_times(answers, args.repeats)
    subset = {"alliances": args.subset, "ours": ours_small, "baseline": baseline_small}
    table = render(full, subset, components, args.repeats)
    print(table)
    if args.write:
        replace_marked_section(DOC, START, END, table)


if __name__ == "__main__":
    main()
