"""``coauthor pulse stats`` through typer's CliRunner, on CSV files written in tmp_path."""

from __future__ import annotations

import json
import math
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
import typer
from click.testing import Result
from typer.testing import CliRunner

from coauthor.analysis import psychometrics as pm
from coauthor.cli.pulse import pulse_app

SURVEY = """id,partner,t1,t2,t3,s1,comment
1,Nordwerk,4,5,4,2,
2,Nordwerk,5,5,4,1,"two
lines"
3,Nordwerk,4,4,,2,
4,Red Cedar,2,3,2,4,
5,Red Cedar,3,2,3,5,
6,Red Cedar,2,2,1,4,
7,Lakeshore,3,3,3,3,
"""
# The answers above, s1 reversed on its 5-point scale (6 − x).
ANSWERS = np.array(
    [
        [4, 5, 4, 4],
        [5, 5, 4, 5],
        [4, 4, np.nan, 4],
        [2, 3, 2, 2],
        [3, 2, 3, 1],
        [2, 2, 1, 2],
        [3, 3, 3, 3],
    ]
)
GROUPS = ["Nordwerk"] * 3 + ["Red Cedar"] * 3 + ["Lakeshore"]
STATS = ["--group-col", "partner", "--items", "t1,t2,t3,s1", "--reverse", "s1"]


def cli() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(pulse_app, name="pulse")
    return app


def write(tmp_path: Path, text: str, name: str = "survey.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli(), ["pulse", "stats", *map(str, args)])


def test_json_report(tmp_path: Path) -> None:
    path = write(tmp_path, SURVEY)
    result = run(path, *STATS, "--scale-points", "5", "--json")
    assert result.exit_code == 0, result.output
    assert "NaN" not in result.stdout
    report = json.loads(result.stdout)
    assert report["n"] == 7
    assert report["items"] == ["t1", "t2", "t3", "s1"]
    assert (report["scale_points"], report["missing"]) == (5, "pairwise")
    assert report["alpha"] == pytest.approx(pm.cronbach_alpha(ANSWERS).alpha)
    assert report["omega"] == pytest.approx(pm.mcdonald_omega(ANSWERS).omega)
    scores = [np.nanmean(row) for row in ANSWERS]
    assert report["icc1"] == pytest.approx(pm.icc1(scores, GROUPS))
    assert report["icc2"] == pytest.approx(pm.icc2(scores, GROUPS))
    nordwerk, red_cedar, lakeshore = report["groups"]
    assert nordwerk == {
        "group": "Nordwerk",
        "n": 3,
        "rwg_j": pytest.approx(pm.rwg_j(ANSWERS[:3], 5).rwg),
        "ad": pytest.approx(pm.ad_index(ANSWERS[:3]).ad),
    }
    assert red_cedar["group"] == "Red Cedar"
    assert red_cedar["rwg_j"] == pytest.approx(pm.rwg_j(ANSWERS[3:6], 5).rwg)
    assert lakeshore == {"group": "Lakeshore", "n": 1, "rwg_j": None, "ad": None}


def test_reverse_turns_the_item_around(tmp_path: Path) -> None:
    path = write(tmp_path, SURVEY)
    one_item = ["--group-col", "partner", "--items", "s1", "--scale-points", "5", "--json"]
    plain = json.loads(run(path, *one_item).stdout)
    turned = json.loads(run(path, *one_item, "--reverse", "s1").stdout)
    # One item: "rwg" instead of "rwg_j"; alpha and omega are undefined.
    assert plain["groups"][0].keys() == {"group", "n", "rwg", "ad"}
    assert plain["alpha"] is None and plain["omega"] is None
    # Reversing keeps each group's spread but turns the direction of the group means.
    assert turned["groups"][0]["rwg"] == pytest.approx(plain["groups"][0]["rwg"])
    both = ["--group-col", "partner", "--items", "t1,s1", "--scale-points", "5", "--json"]
    assert json.loads(run(path, *both, "--reverse", "s1").stdout)["alpha"] == pytest.approx(
        pm.cronbach_alpha(ANSWERS[:, [0, 3]]).alpha
    )
    assert json.loads(run(path, *both).stdout)["alpha"] < 0  # unreversed, s1 opposes t1


def test_listwise_uses_only_complete_respondents(tmp_path: Path) -> None:
    path = write(tmp_path, SURVEY)
    result = run(path, *STATS, "--scale-points", "5", "--missing", "listwise", "--json")
    report = json.loads(result.stdout)
    assert report["missing"] == "listwise"
    assert report["alpha"] == pytest.approx(pm.cronbach_alpha(ANSWERS, "listwise").alpha)
    assert report["alpha"] != pytest.approx(pm.cronbach_alpha(ANSWERS, "pairwise").alpha)


def test_table_report(tmp_path: Path) -> None:
    result = run(write(tmp_path, SURVEY), *STATS, "--scale-points", "5")
    assert result.exit_code == 0, result.output
    assert "7 respondents, 4 items (1–5), 3 groups" in result.stdout
    assert "Agreement within groups" in result.stdout
    assert "Red Cedar" in result.stdout and "rwg_j" in result.stdout


def expect_error(result: Result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == f"error: {message}"
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        (
            SURVEY,
            ["--items", "s1,t9"],
            "{f}:1: column t9: no such column (the header has: "
            "id, partner, t1, t2, t3, s1, comment)",
        ),
        (
            SURVEY,
            ["--group-col", "team"],
            "{f}:1: column team: no such column (the header has: "
            "id, partner, t1, t2, t3, s1, comment)",
        ),
        (
            SURVEY.replace("4,Red Cedar,2", "4,Red Cedar,7"),
            [],
            "{f}:6: column t1: 7 is off the scale: answers are whole numbers from 1 to 5",
        ),
        (
            SURVEY.replace("4,Red Cedar,2", "4,Red Cedar,2.5"),
            [],
            "{f}:6: column t1: 2.5 is off the scale: answers are whole numbers from 1 to 5",
        ),
        (
            SURVEY.replace("5,Red Cedar,3,2", "5,Red Cedar,3,lots"),
            [],
            "{f}:7: column t2: 'lots' is not a number",
        ),
        (
            SURVEY.replace("t3,s1", "t3,t1"),
            ["--items", "t1,t2,t3", "--reverse", "t3"],
            "{f}:1: column t1: appears more than once in the header",
        ),
        (SURVEY.replace("7,Lakeshore", "7,"), [], "{f}:9: column partner: no group given"),
        (
            SURVEY.replace("6,Red Cedar,2,2,1,4,", "6,Red Cedar,2,2"),
            [],
            "{f}:8: column t3: missing: the row has 4 cells, the header 7",
        ),
        (
            SURVEY.replace("7,Lakeshore,3,3,3,3,", "7,Lakeshore,3,3,3,3,,extra"),
            [],
            "{f}:9: the row has 8 cells, the header only 7",
        ),
        (
            "id,partner,t1,t2,t3,s1\n1,Nordwerk,4,5,4,2\n",
            [],
            "{f}:2: column partner: 1 respondent(s); at least 2 are needed",
        ),
        ("", [], "{f}:1: no header row (the file is empty)"),
        (SURVEY, ["--scale-points", "1"], "--scale-points: must be a whole number of at least 2"),
        (SURVEY, ["--reverse", "t7"], "--reverse: 't7' is not one of the items"),
        (SURVEY, ["--items", "t1,t2,t1"], "--items: names 't1' twice"),
    ],
)
def test_bad_input_names_file_line_and_column(
    tmp_path: Path, text: str, args: list[str], message: str
) -> None:
    path = write(tmp_path, text)
    options = dict(zip(STATS[::2], STATS[1::2], strict=True)) | {"--scale-points": "5"}
    options |= dict(zip(args[::2], args[1::2], strict=True))
    result = run(path, *[part for pair in options.items() for part in pair])
    expect_error(result, message.format(f=path))


def test_a_file_that_is_not_utf8_or_not_there(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,partner,t1\n1,Müller,3\n".encode("latin-1"))
    result = run(path, "--group-col", "partner", "--items", "t1", "--scale-points", "5")
    assert result.exit_code == 2 and f"error: {path}:" in result.stderr
    assert "not UTF-8 text" in result.stderr
    gone = tmp_path / "gone.csv"
    result = run(gone, "--group-col", "partner", "--items", "t1", "--scale-points", "5")
    expect_error(result, f"{gone}: cannot be read (No such file or directory)")


def test_respondents_without_answers_are_left_out_of_the_icc(tmp_path: Path) -> None:
    text = SURVEY.replace("7,Lakeshore,3,3,3,3,", "7,Lakeshore,,,,,")
    report = json.loads(run(write(tmp_path, text), *STATS, "--scale-points", "5", "--json").stdout)
    scores = [np.nanmean(row) for row in ANSWERS[:6]]
    assert report["icc1"] == pytest.approx(pm.icc1(scores, GROUPS[:6]))
    assert report["n"] == 7 and not math.isnan(report["alpha"])


def test_the_example_in_docs_pulse_md(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "pulse.md").read_text(encoding="utf-8")
    example = re.search(
        r"```csv\n(.*?)```\n\n```console\n\$ coauthor (.*?)\n(.*?)\n```", text, re.S
    )
    assert example is not None, "docs/pulse.md lost its pulse stats example"
    csv_text, command, printed = example.groups()
    args = shlex.split(command)
    assert args[:3] == ["pulse", "stats", "pulse.csv"]
    path = write(tmp_path, csv_text, "pulse.csv")
    result = CliRunner().invoke(cli(), ["pulse", "stats", str(path), *args[3:]])
    assert result.exit_code == 0, result.output
    assert rounded(json.loads(result.stdout)) == json.loads(printed)


def rounded(value: object) -> object:
    """Floats to three places, through lists and objects."""
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, list):
        return [rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value
