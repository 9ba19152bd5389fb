"""The replay on two threads gives the sequential replay's result, update by update, to the bit."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coauthor.analysis import opinion_kernels
from coauthor.analysis.opinion import CURRENT, analyze_from_state, polis_math_at, replay
from coauthor.analysis.opinion_codec import state_to_json
from coauthor.analysis.opinion_era import ERA_RULES, history_without
from coauthor.analysis.opinion_replay import PIPELINE_FROM_UPDATES, replay_states, update_matrices
from coauthor.interop.polis import read_polis_export, vote_history
from tests.unit.test_opinion_eras import DAY, _history

DATA = Path(__file__).parents[1] / "data" / "polis"


def _with_moderation_times(log: dict[str, Any]) -> dict[str, Any]:
    moderated = log["moderated_out"]
    when = polis_math_at("2017-02-27").since_seconds
    return {
        **log,
        "moderated_at": {s: when + (DAY if s in moderated[:3] else -DAY) for s in moderated},
    }


# The synthetic histories the replay's tests use: across eras (the imputation and base-cluster
# count change within), with moderation times, today's math throughout (100 power iterations),
# 2014 (the plain projection), and a rule held at today's values.
HISTORIES = {
    "across eras": (_history(45, 14, ("2017-02-01", "2018-01-25"), seed=3), None),
    "moderation times": (
        _with_moderation_times(_history(45, 14, ("2017-02-01", "2018-01-25"), seed=7)),
        None,
    ),
    "today's math": (_history(40, 12, ("2017-02-01", "2018-01-25"), seed=4), CURRENT),
    "2014": (_history(40, 10, ("2014-08-01", "2014-12-01"), seed=5), None),
    "a rule held": (
        _history(35, 12, ("2016-06-01", "2017-06-01"), seed=6),
        history_without(next(r for r in ERA_RULES if r.fields == ("imputation",))),
    ),
}


def _states(log: dict[str, Any], math: object, *, pipelined: bool) -> list[dict[str, Any]]:
    return [state_to_json(s) for s in replay_states(**log, math=math, pipelined=pipelined)]


def _results_of_every_update(log: dict[str, Any], math: object, *, pipelined: bool) -> list:
    """Each update's ``to_dict()``: its matrix analysed from the state the update before left."""
    states = [None, *replay_states(**log, math=math, pipelined=pipelined)]
    matrices = update_matrices(**{k: v for k, v in log.items() if k != "moderated_at"})
    results = []
    for state, (matrix, newest) in zip(states, matrices, strict=True):
        era = math(newest) if callable(math) else (math or polis_math_at(newest))
        result = analyze_from_state(
            matrix, state=state, math=era, moderated_at=log.get("moderated_at")
        )
        results.append(result.to_dict())
    return results


@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_every_update_of_a_pipelined_replay_is_the_sequential_one(name: str) -> None:
    log, math = HISTORIES[name]
    sequential = _results_of_every_update(log, math, pipelined=False)
    assert len(sequential) > PIPELINE_FROM_UPDATES
    assert _results_of_every_update(log, math, pipelined=True) == sequential
    assert replay(**log, math=math, pipelined=True).to_dict() == sequential[-1]
    assert replay(**log, math=math).to_dict() == sequential[-1]  # pipelined by default


def test_a_shared_export_replays_the_same_on_two_threads() -> None:
    export = read_polis_export(DATA / "london.youth.policing")
    log = {**vote_history(export), "moderated_at": export.statement_times}
    sequential = _states(log, None, pipelined=False)
    assert len(sequential) > PIPELINE_FROM_UPDATES
    assert _states(log, None, pipelined=True) == sequential
    assert replay(**log, pipelined=True).to_dict() == replay(**log, pipelined=False).to_dict()


def _pca_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "replay-pca"]


def test_an_error_in_the_power_iteration_stops_both_threads_and_is_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log, math = HISTORIES["today's math"]
    calls = 0
    power_components = opinion_kernels.power_components

    def fails_on_the_fifth(*args: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise FloatingPointError("the fifth power iteration")
        return power_components(*args)

    monkeypatch.setattr(opinion_kernels, "power_components", fails_on_the_fifth)
    with pytest.raises(FloatingPointError, match="the fifth power iteration"):
        replay(**log, math=math, pipelined=True)
    assert calls == 5
    assert _pca_threads() == []


class Cancelled(Exception):
    pass


def test_an_error_in_the_calling_thread_stops_the_power_iteration() -> None:
    log, math = HISTORIES["today's math"]

    def cancel(done: int, total: int) -> None:
        if done == 20:
            raise Cancelled

    with pytest.raises(Cancelled):
        replay(**log, math=math, pipelined=True, progress=cancel)
    assert _pca_threads() == []


def test_a_short_replay_stays_on_one_thread() -> None:
    log, math = HISTORIES["today's math"]
    started: list[int] = []

    def spy(done: int, total: int) -> None:
        started.append(len(_pca_threads()))

    arrays = ("ptpt_idx", "stmt_idx", "vote", "timestamps")
    short = {k: np.asarray(v)[:30] if k in arrays else v for k, v in log.items()}
    replay(**short, math=math, progress=spy)
    assert started and max(started) == 0
    started.clear()
    replay(**log, math=math, progress=spy)
    assert max(started) == 1
