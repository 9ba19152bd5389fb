"""A release built the cheap way is the release built from every vote read row by row.

On SQLite and PostgreSQL: a Pol.is conversation imported into an alliance, then
members of two partners voting live (changing votes, several at one moment), a
statement rejected and one made meta. The results worker's grouped read of the
votes must give the very matrix of the row-by-row read in time order, and the
release it prepares (warm-started from the previous release's state) the very
document, state included, that the row-by-row path gives (the worker computing with
BLAS on one thread, the reference with every thread).
"""

from __future__ import annotations

import itertools
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from coauthor.analysis.opinion import VoteMatrix, analyze_from_state
from coauthor.analysis.opinion_codec import state_from_json, state_to_json
from coauthor.config import Settings
from coauthor.domain import model as m
from coauthor.interop.polis import read_polis_export
from coauthor.interop.polis_transfer import import_polis
from coauthor.runtime import Runtime, build_runtime
from coauthor.services.deliberation import acts as deliberation
from coauthor.services.deliberation import results
from coauthor.worker import _NotificationWaiter, _Rounds, one_blas_thread
from tests.integration.test_deliberation_storage import alliance  # noqa: F401  (fixture)

POLIS = Path(__file__).resolve().parents[1] / "data" / "polis"
THRESHOLD = 5


def assert_same_matrix(found: VoteMatrix, expected: VoteMatrix) -> None:
    assert found.participant_ids == expected.participant_ids
    assert found.statement_ids == expected.statement_ids
    assert (found.moderated_out, found.meta) == (expected.moderated_out, expected.meta)
    for ours, theirs in zip(found.cells(), expected.cells(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert found.votes.dtype == expected.votes.dtype


def release_from_rows(runtime: Runtime, alliance_id: str, deliberation_id: str) -> dict:
    """The next release as the row-by-row read gives it: (state, facts), nothing stored."""
    with runtime.uow() as uow:
        found = uow.get(m.Deliberation, alliance_id=alliance_id, id=deliberation_id)
        assert found is not None
        row = results._release_row(uow, found)
        matrix = results.vote_matrix_from_rows(uow, found)
        state = state_from_json(row.state) if row is not None and row.state else None
        opinion = analyze_from_state(matrix, state=state)
        assert opinion.state is not None
        facts = results._facts(uow, found, matrix, opinion, THRESHOLD)
        return {"state": state_to_json(opinion.state), "facts": facts}


def prepared_now(runtime: Runtime, alliance_id: str, deliberation_id: str) -> dict:
    with runtime.uow() as uow:
        found = uow.get(m.Deliberation, alliance_id=alliance_id, id=deliberation_id)
        assert found is not None
        with one_blas_thread():  # as the results worker computes it
            prepared = results.prepare_release(uow, found, THRESHOLD)
        assert prepared is not None, "a release should be due"
        return {"state": prepared.state, "facts": prepared.facts}


@pytest.fixture
def live(runtime: Runtime, alliance):  # type: ignore[no-untyped-def]  # noqa: F811
    """An imported conversation, opened, with live votes and moderation on top."""
    alliance_id, manager, voters, _ = alliance
    export = read_polis_export(POLIS / "brexit-consensus")
    with runtime.uow() as uow:
        imported = uow.write(import_polis, manager, alliance_id, export)
    with runtime.uow() as uow:
        found = uow.get(m.Deliberation, alliance_id=alliance_id, id=imported.id)
        found.status = m.DeliberationStatus.OPEN  # type: ignore[union-attr]
        uow.session.commit()
        statement_ids = [s.id for s in results.ordered_statements(uow, alliance_id, imported.id)]
    return alliance_id, manager, voters, imported.id, statement_ids


def vote_round(runtime: Runtime, live, round_number: int) -> None:  # type: ignore[no-untyped-def]
    """Every member votes on eight statements; pairs of them vote at the same moment, and from
    the second round on some change an earlier vote."""
    alliance_id, _, voters, deliberation_id, statement_ids = live
    for index, voter in enumerate(voters):
        for step in range(8):
            statement = statement_ids[(index * 3 + step * 7 + round_number) % 16]
            value = (index + step + round_number) % 3 - 1
            with runtime.uow() as uow:
                payload = {"statement_id": statement, "value": value}
                uow.write(deliberation.do_vote, voter, alliance_id, deliberation_id, payload)
        if index % 2:
            runtime.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]


def test_the_grouped_read_gives_the_matrix_of_the_row_by_row_read(
    runtime: Runtime,
    live,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alliance_id, manager, _, deliberation_id, statement_ids = live
    vote_round(runtime, live, 0)
    vote_round(runtime, live, 1)
    with runtime.uow() as uow:
        for statement, decision in (
            (statement_ids[2], {"decision": "rejected"}),
            (statement_ids[5], {"decision": "accepted", "meta": True}),
        ):
            uow.write(
                deliberation.do_moderate, manager, alliance_id, deliberation_id, statement, decision
            )
    with runtime.uow() as uow:
        found = uow.get(m.Deliberation, alliance_id=alliance_id, id=deliberation_id)
        assert found is not None
        shown, excluded = results.matrix_statements(uow, found)
        grouped = results._read_cells(uow, found, [s.id for s in shown], excluded)
        assert grouped is not None, "the grouped read decodes these ids"
        fast = results.vote_matrix(uow, found)
        reference = results.vote_matrix_from_rows(uow, found)
        assert_same_matrix(fast, reference)
        assert fast.n_votes > 5_000 and statement_ids[2] in fast.moderated_out
        assert statement_ids[5] in fast.meta
        # A separator that occurs in the ids cannot be decoded: the row-by-row read stands in.
        monkeypatch.setattr(results, "_CELL_SEPARATOR", "_")
        assert results._read_cells(uow, found, [s.id for s in shown], excluded) is None
        stood_in = []
        row_by_row = results.vote_matrix_from_rows
        monkeypatch.setattr(
            results,
            "vote_matrix_from_rows",
            lambda *args: stood_in.append(True) or row_by_row(*args),
        )
        assert_same_matrix(results.vote_matrix(uow, found), reference)
        assert stood_in == [True]


def test_a_warm_started_release_is_the_document_of_the_row_by_row_path(
    runtime: Runtime,
    live,  # type: ignore[no-untyped-def]
) -> None:
    alliance_id, manager, _, deliberation_id, _ = live
    first = prepared_now(runtime, alliance_id, deliberation_id)
    assert first == release_from_rows(runtime, alliance_id, deliberation_id)
    with runtime.uow() as uow:
        published = uow.write(results.do_release, manager, alliance_id, deliberation_id, THRESHOLD)
        assert published is not None and published.number == 1
    vote_round(runtime, live, 2)
    second = prepared_now(runtime, alliance_id, deliberation_id)
    assert second == release_from_rows(runtime, alliance_id, deliberation_id)
    assert second["facts"] != first["facts"], "the new votes show"
    assert second["facts"]["partners"]["alignment"] is not None


def test_from_cells_refuses_two_votes_on_one_cell() -> None:
    ids = {"participant_ids": ["p", "q"], "statement_ids": ["s", "t"]}
    built = VoteMatrix.from_cells([1, 0, 0], [0, 1, 0], [1, -1, 0], **ids)
    expected = VoteMatrix.from_arrays([1, 0, 0], [0, 1, 0], [1, -1, 0], **ids)
    assert_same_matrix(built, expected)
    with pytest.raises(ValueError, match="two votes on one cell"):
        VoteMatrix.from_cells([0, 0], [1, 1], [1, -1], **ids)
    with pytest.raises(ValueError, match="-1, 0 or 1"):
        VoteMatrix.from_cells([0], [1], [2], **ids)


def test_partner_counts_are_the_counts_of_a_loop_over_the_votes() -> None:
    rng = np.random.default_rng(3)
    cells = rng.choice(60 * 9, size=300, replace=False)
    rows, cols = np.divmod(cells, 9)
    values = rng.choice([-1, 0, 1], size=cells.size)
    participants = [f"p{i}" for i in range(60)]
    matrix = VoteMatrix.from_cells(
        rows, cols, values, participant_ids=participants, statement_ids=[f"s{j}" for j in range(9)]
    )
    reported = {p: ("north", "south", "other")[i % 3] for i, p in enumerate(participants) if i % 5}
    expected: dict[tuple[str, str], tuple[int, int]] = {}
    for participant, statement, value in matrix.as_records():
        if participant in reported:
            key = (statement, reported[participant])
            votes, agrees = expected.get(key, (0, 0))
            expected[key] = (votes + 1, agrees + (value == 1))
    assert results._partner_counts(matrix, reported) == expected
    assert sum(votes for votes, _ in expected.values()) < matrix.n_votes


def test_rounds_start_a_poll_interval_apart_however_long_a_round_takes() -> None:
    """From the start of one round to the start of the next: a 0.3 s round and a 0.5 s
    interval give rounds 0.5 s apart (not 0.8 s), and never closer than the interval."""
    stop = threading.Event()
    rounds = _Rounds(stop, poll=0.5)
    starts = []
    for _ in range(4):
        rounds.wait_for_turn()
        starts.append(time.monotonic())
        time.sleep(0.3)  # the round's work
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert all(0.45 <= gap < 0.7 for gap in gaps), gaps


@pytest.mark.postgres
def test_notifications_that_came_during_a_round_are_read_and_dropped(postgres_url: str) -> None:
    runtime = build_runtime(Settings(database_url=postgres_url))
    stop = threading.Event()
    waiter = _NotificationWaiter(runtime, stop, poll=0.3)
    try:
        with runtime.engine.connect() as connection:
            for number in range(30):  # a round's worth of votes, each notifying
                connection.exec_driver_sql(f"NOTIFY coauthor_changes, '{number}'")
                connection.commit()
        waiter.wait()
        assert list(waiter.connection.notifies(timeout=0.2)) == []
    finally:
        stop.set()
        waiter.wait()
        runtime.close()
