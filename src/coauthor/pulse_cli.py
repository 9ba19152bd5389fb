"""``coauthor pulse``: the pulse survey's statistics from the command line."""

from __future__ import annotations

import enum
import json
import math
from pathlib import Path
from typing import Annotated, Any, cast

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from coauthor.analysis.psychometrics import (
    Missing,
    ad_index,
    cronbach_alpha,
    mcdonald_omega,
    nested_icc,
    rwg_j,
)
from coauthor.domain.errors import ValidationFailed
from coauthor.interop.survey_csv import SurveyCsvError, SurveyResponses, read_survey_csv

pulse_app = typer.Typer(help="Pulse survey statistics.", no_args_is_help=True)

EXIT_BAD_INPUT = 2

OPTION_OF_FIELD = {"items": "--items", "reverse": "--reverse", "scale_points": "--scale-points"}


class MissingPolicy(enum.StrEnum):
    PAIRWISE = "pairwise"
    LISTWISE = "listwise"


@pulse_app.callback()
def _pulse() -> None:
    """Pulse survey statistics."""


def _names(spec: str | None) -> list[str]:
    """``"A, B,C"`` → ``["A", "B", "C"]``."""
    return [] if spec is None else [name.strip() for name in spec.split(",")]


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {message}", markup=False)
    return typer.Exit(EXIT_BAD_INPUT)


@pulse_app.command("stats")
def stats_command(
    csv: Annotated[Path, typer.Argument(help="Answers: one row per respondent, a header row.")],
    group_col: Annotated[
        str, typer.Option("--group-col", help="The column naming each respondent's group.")
    ],
    items: Annotated[str, typer.Option("--items", help="The item columns, comma-separated.")],
    scale_points: Annotated[
        int, typer.Option("--scale-points", help="Response options of every item (1..N).")
    ],
    reverse: Annotated[
        str | None,
        typer.Option("--reverse", help="Reverse-keyed items, comma-separated: scored N + 1 − x."),
    ] = None,
    missing: Annotated[
        MissingPolicy,
        typer.Option("--missing", help="Alpha and omega over pairwise-complete or complete rows."),
    ] = MissingPolicy.PAIRWISE,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Reliability, agreement and ICC of a pulse survey exported as CSV."""
    try:
        responses = read_survey_csv(
            csv,
            group_column=group_col,
            items=_names(items),
            scale_points=scale_points,
            reverse=_names(reverse),
        )
    except SurveyCsvError as error:
        raise _fail(str(error)) from None
    except ValidationFailed as error:
        field = error.errors[0]
        raise _fail(f"{OPTION_OF_FIELD.get(field.field, field.field)}: {field.message}") from None
    report = survey_statistics(responses, cast(Missing, missing.value))
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, allow_nan=False))
        return
    _print_report(Console(), report)


def _number(value: float) -> float | None:
    """A statistic for JSON: None where it is undefined (NaN)."""
    return None if math.isnan(value) else value


def respondent_scores(answers: np.ndarray) -> np.ndarray:
    """Each respondent's mean over the items they answered; NaN if they answered none."""
    answered = (~np.isnan(answers)).sum(axis=1)
    total = np.where(np.isnan(answers), 0.0, answers).sum(axis=1)
    return np.divide(total, answered, out=np.full(total.shape, np.nan), where=answered > 0)


def survey_statistics(responses: SurveyResponses, missing: Missing) -> dict[str, Any]:
    """The ``pulse stats`` document: whole-survey reliability and ICC, agreement per group."""
    answers = responses.answers
    icc = nested_icc(respondent_scores(answers), responses.groups)
    one_item = len(responses.items) == 1
    groups = []
    for group in dict.fromkeys(responses.groups):
        rows = answers[[g == group for g in responses.groups]]
        agreement = rwg_j(rows, responses.scale_points).rwg
        groups.append(
            {
                "group": group,
                "n": int(rows.shape[0]),
                "rwg" if one_item else "rwg_j": _number(agreement),
                "ad": _number(ad_index(rows, responses.scale_points).ad),
            }
        )
    return {
        "n": int(answers.shape[0]),
        "items": list(responses.items),
        "scale_points": responses.scale_points,
        "missing": missing,
        "alpha": _number(cronbach_alpha(answers, missing).alpha),
        "omega": _number(mcdonald_omega(answers, missing).omega),
        "icc1": _number(icc.icc1),
        "icc2": _number(icc.icc2),
        "groups": groups,
    }


def _shown(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _print_report(console: Console, report: dict[str, Any]) -> None:
    console.print(
        f"{report['n']} respondents, {len(report['items'])} items "
        f"(1–{report['scale_points']}), {len(report['groups'])} groups; "
        f"missing answers: {report['missing']}"
    )
    console.print(
        f"alpha {_shown(report['alpha'])}  omega {_shown(report['omega'])}  "
        f"ICC(1) {_shown(report['icc1'])}  ICC(2) {_shown(report['icc2'])}"
    )
    agreement = "rwg" if len(report["items"]) == 1 else "rwg_j"
    table = Table(title="Agreement within groups")
    for column in ("group", "n", agreement, "AD"):
        table.add_column(column)
    for group in report["groups"]:
        table.add_row(
            group["group"], str(group["n"]), _shown(group[agreement]), _shown(group["ad"])
        )
    console.print(table)
