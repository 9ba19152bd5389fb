"""Pulse files: a survey CSV read for import, and a wave's reported figures as CSV.

The export holds what the results page shows and nothing else — the
aggregates the anonymity rules let through, never an answer — in one long
table (docs/pulse.md, "CSV export"): one row per figure, with its section,
group, the group it is compared with, the measure, the statistic and its
value. An undefined statistic is an empty cell.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator

from coauthor.domain.errors import ValidationFailed
from coauthor.services.pulse.imports import CsvTable
from coauthor.services.pulse.results import WaveResults
from coauthor.services.pulse.waves import ResponseRates

MAX_CHARACTERS = 2_000_000
COLUMNS = (
    "wave",
    "section",
    "group",
    "compared_with",
    "measure",
    "measure_label",
    "statistic",
    "value",
)
SCORE_STATISTICS = ("n", "mean", "ci_low", "ci_high", "sd", "rwg", "ad")
GAP_STATISTICS = (
    "n_a",
    "n_b",
    "difference",
    "hedges_g",
    "t",
    "df",
    "p",
    "p_holm",
    "rank_biserial",
    "p_mann_whitney_holm",
    "tost_p",
    "significant",
    "equivalent",
)


def read_table(text: str) -> CsvTable:
    """A survey file's header and rows; ValidationFailed at ``("csv", line)`` if unreadable."""
    if len(text) > MAX_CHARACTERS:
        raise ValidationFailed.one(
            ("csv",), f"the file is larger than {MAX_CHARACTERS:,} characters"
        )
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    line = 1
    try:
        header = next(reader, None)
        line = reader.line_num + 1
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((line, row))
            line = reader.line_num + 1
    except csv.Error as error:
        raise ValidationFailed.one(("csv", line), f"unreadable CSV: {error}") from None
    if not header or not any(name.strip() for name in header):
        raise ValidationFailed.one(("csv", 1), "no header row (the file is empty)")
    names = [name.strip() for name in header]
    for position, name in enumerate(names):
        if not name:
            raise ValidationFailed.one(("csv", 1), f"column {position + 1} has no name")
        if names.count(name) > 1:
            raise ValidationFailed.one(("csv", 1, name), "appears more than once in the header")
    return CsvTable(names, rows)


def _value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def _rows(results: WaveResults, rates: ResponseRates) -> Iterator[tuple[object, ...]]:
    wave = results.wave.title
    for rate in rates.partners:
        yield (wave, "responses", rate.name, "", "", "", "invited", rate.invited)
        yield (wave, "responses", rate.name, "", "", "", "answered", rate.answered)
    yield (wave, "responses", "All partners", "", "", "", "invited", rates.invited)
    yield (wave, "responses", "All partners", "", "", "", "answered", rates.answered)
    figures = results.figures
    if figures is None:
        return
    labels = {measure.key: measure.label for measure in results.measures}
    for group in figures.groups:
        for key, score in group.scores.items():
            values = (score.n, score.mean, score.low, score.high, score.sd, score.rwg, score.ad)
            for statistic, value in zip(SCORE_STATISTICS, values, strict=True):
                yield (wave, "score", group.key.label, "", key, labels[key], statistic, value)
    for item in figures.reliability:
        for statistic in ("n", "items", "alpha", "omega", "icc1", "icc2"):
            value = getattr(item, statistic)
            yield (
                wave,
                "reliability",
                "All partners",
                "",
                item.measure,
                labels[item.measure],
                statistic,
                value,
            )
    for gap in figures.gaps:
        for measure in gap.measures:
            for statistic in GAP_STATISTICS:
                value = getattr(measure, statistic)
                label = labels[measure.measure]
                yield (wave, "gap", gap.a, gap.b, measure.measure, label, statistic, value)


def results_csv(results: WaveResults, rates: ResponseRates) -> str:
    """The reported figures of one wave (response rates only, while it runs)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in _rows(results, rates):
        writer.writerow([_value(cell) for cell in row])
    return out.getvalue()
