"""A survey's statistics in one document: reliability, ICC, and agreement per group.

Pure: plain arrays in, a JSON-ready dict out (NaN becomes None). The CLI's
``pulse stats`` prints it; pulse results pages will build on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from coauthor.analysis.psychometrics import (
    Missing,
    ad_index,
    cronbach_alpha,
    mcdonald_omega,
    nested_icc,
    rwg_j,
)


def _number(value: float) -> float | None:
    """A statistic for JSON: None where it is undefined (NaN)."""
    return None if math.isnan(value) else value


def respondent_scores(answers: np.ndarray) -> np.ndarray:
    """Each respondent's mean over the items they answered; NaN if they answered none."""
    answered = (~np.isnan(answers)).sum(axis=1)
    total = np.where(np.isnan(answers), 0.0, answers).sum(axis=1)
    return np.divide(total, answered, out=np.full(total.shape, np.nan), where=answered > 0)


def survey_statistics(
    answers: np.ndarray,
    groups_of_rows: Sequence[str],
    items: Sequence[str],
    scale_points: int,
    missing: Missing,
) -> dict[str, Any]:
    """Whole-survey reliability and ICC, and agreement within each group (in first-seen order).

    ``answers`` is respondents × items (NaN = missing), ``groups_of_rows`` each
    respondent's group. This is the ``pulse stats`` JSON document (docs/pulse.md).
    """
    icc = nested_icc(respondent_scores(answers), list(groups_of_rows))
    one_item = len(items) == 1
    groups = []
    for group in dict.fromkeys(groups_of_rows):
        rows = answers[[g == group for g in groups_of_rows]]
        agreement = rwg_j(rows, scale_points).rwg
        groups.append(
            {
                "group": group,
                "n": int(rows.shape[0]),
                "rwg" if one_item else "rwg_j": _number(agreement),
                "ad": _number(ad_index(rows, scale_points).ad),
            }
        )
    return {
        "n": int(answers.shape[0]),
        "items": list(items),
        "scale_points": scale_points,
        "missing": missing,
        "alpha": _number(cronbach_alpha(answers, missing).alpha),
        "omega": _number(mcdonald_omega(answers, missing).omega),
        "icc1": _number(icc.icc1),
        "icc2": _number(icc.icc2),
        "groups": groups,
    }
