"""The results worker's kept votes (services/deliberation/kept_votes.py), on SQLite and
PostgreSQL: after reading only what changed, the matrix is the full read's, and whatever
the changes cannot see sends it back to the full read."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from coauthor.analysis.opinion import VoteMatrix
from coauthor.db.tables import votes
from coauthor.domain import model as m
from coauthor.runtime import Runtime
from coauthor.services.deliberation import acts as deliberation
from coauthor.services.deliberation import kept_votes, results
from coauthor.services.deliberation.kept_votes import KeptVotes
from tests.integration.test_deliberation_storage import alliance  # noqa: F401  (fixture)
from tests.integration.test_release_cost import (  # noqa: F401  (fixture)
    THRESHOLD,
    assert_same_matrix,
    live,
    vote_round,
)


class _Monotonic:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def kept_and_full(runtime: Runtime, live, kept: KeptVotes) -> tuple[VoteMatrix, VoteMatrix]:  # type: ignore[no-untyped-def]  # noqa: F811
    """The kept matrix (the cut read first, as ``prepare_release`` reads it) and the full
    read's, at the same moment."""
    alliance_id, _, _, deliberation_id, _ = live
    with runtime.uow() as uow:
        found = uow.get(m.Deliberation, alliance_id=alliance_id, id=deliberation_id)
        assert found is not None
        cut = results._last_vote_at(uow, found)
        return kept.matrix(uow, found, cut), results.vote_matrix(uow, found)


def random_votes(runtime: Runtime, live, rng: np.random.Generator, count: int) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """``count`` votes by random members on the first 20 statements: new votes, changed
    votes, the same vote sent again; several at one moment."""
    alliance_id, _, voters, deliberation_id, statement_ids = live
    for _ in range(count):
        voter = voters[int(rng.integers(len(voters)))]
        payload = {
            "statement_id": statement_ids[int(rng.integers(20))],
            "value": int(rng.integers(3)) - 1,
        }
        with runtime.uow() as uow:
            uow.write(deliberation.do_vote, voter, alliance_id, deliberation_id, payload)
        runtime.clock.advance(timedelta(milliseconds=int(rng.choice([0, 0, 300, 2500]))))  # type: ignore[attr-defined]


def test_the_kept_matrix_is_the_full_read_after_random_votes(runtime: Runtime, live) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    rng = np.random.default_rng(14)
    kept = KeptVotes(_Monotonic())
    ours, full = kept_and_full(runtime, live, kept)
    assert_same_matrix(ours, full)
    assert (kept.full_reads, kept.change_reads) == (1, 0)
    for round_number in range(5):
        random_votes(runtime, live, rng, 30)
        if round_number == 2:
            _, _, voters, _, _ = live
            first_voter = voters[0]
            earliest = _earliest_vote(runtime, live, first_voter.id)
            alliance_id, _, _, deliberation_id, _ = live
            with runtime.uow() as uow:  # their first vote changed: they move down the rows
                payload = {"statement_id": earliest[0], "value": 1 if earliest[1] != 1 else -1}
                uow.write(deliberation.do_vote, first_voter, alliance_id, deliberation_id, payload)
        ours, full = kept_and_full(runtime, live, kept)
        assert_same_matrix(ours, full)
    assert (kept.full_reads, kept.change_reads) == (1, 5), "only the changes were read"
    assert full.n_votes > 5_000
    alliance_id, _, _, deliberation_id, _ = live
    random_votes(runtime, live, rng, 20)
    with runtime.uow() as uow:
        found = uow.get(m.Deliberation, alliance_id=alliance_id, id=deliberation_id)
        assert found is not None
        from_kept = results.prepare_release(uow, found, THRESHOLD, kept=kept)
        from_all = results.prepare_release(uow, found, THRESHOLD)
    assert from_kept == from_all and kept.change_reads == 6


def _earliest_vote(runtime: Runtime, live, participant_person: str) -> tuple[str, int]:  # type: ignore[no-untyped-def]  # noqa: F811
    alliance_id, _, _, deliberation_id, _ = live
    with runtime.uow() as uow:
        participant = uow.find(
            m.Participant,
            alliance_id=alliance_id,
            deliberation_id=deliberation_id,
            person_id=participant_person,
        )[0]
        row = uow.session.execute(
            sa.select(votes.c.statement_id, votes.c.value)
            .where(votes.c.alliance_id == alliance_id, votes.c.participant_id == participant.id)
            .order_by(votes.c.at, votes.c.statement_id)
            .limit(1)
        ).one()
    return row[0], row[1]


def test_what_the_changes_cannot_see_sends_it_to_the_full_read(runtime: Runtime, live) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """A vote committed long after it was written (or written with an old time, as an import
    does), a vote deleted behind the service's back, a statement moderated, most participants
    changed, and time."""
    alliance_id, manager, _, deliberation_id, statement_ids = live
    rng = np.random.default_rng(3)
    monotonic = _Monotonic()
    kept = KeptVotes(monotonic)
    kept_and_full(runtime, live, kept)
    vote_round(runtime, live, 0)
    assert_same_matrix(*kept_and_full(runtime, live, kept))
    assert (kept.full_reads, kept.change_reads) == (1, 1)

    def changed_behind(statement: sa.ColumnElement[bool], **values: object) -> None:
        random_votes(runtime, live, rng, 4)  # some changes, so that the change read has rows
        with runtime.uow() as uow:
            uow.session.execute(sa.update(votes).where(statement).values(**values))
            uow.session.commit()

    imported = _an_imported_vote(runtime, live)
    cases = {
        "changed with an old time": lambda: changed_behind(
            _vote_key(*imported[:3]), value=1 if imported[3] != 1 else -1
        ),
        "deleted": lambda: _deleted(runtime, live, rng, imported),
        "moderated": lambda: _rejected(
            runtime, manager, alliance_id, deliberation_id, statement_ids[1]
        ),
    }
    for name, change in cases.items():
        before = kept.full_reads
        change()
        assert_same_matrix(*kept_and_full(runtime, live, kept))
        assert kept.full_reads == before + 1, name
    random_votes(runtime, live, rng, 4)
    assert_same_matrix(*kept_and_full(runtime, live, kept))
    before = kept.full_reads
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kept_votes, "MOST_CHANGED", 0.0)  # any change is "most" here
        random_votes(runtime, live, rng, 4)
        assert_same_matrix(*kept_and_full(runtime, live, kept))
    assert kept.full_reads == before + 1, "most participants changed"
    random_votes(runtime, live, rng, 4)
    assert_same_matrix(*kept_and_full(runtime, live, kept))
    before = kept.full_reads
    monotonic.now += kept_votes.FULL_READ_SECONDS
    random_votes(runtime, live, rng, 4)
    assert_same_matrix(*kept_and_full(runtime, live, kept))
    assert kept.full_reads == before + 1, "every vote read again after FULL_READ_SECONDS"


def _an_imported_vote(runtime: Runtime, live) -> tuple[str, str, str, int]:  # type: ignore[no-untyped-def]  # noqa: F811
    """(deliberation, participant, statement, value) of the oldest vote: one the import wrote,
    long before the kept copy's cut."""
    alliance_id, _, _, deliberation_id, _ = live
    with runtime.uow() as uow:
        row = uow.session.execute(
            sa.select(votes.c.participant_id, votes.c.statement_id, votes.c.value)
            .where(votes.c.alliance_id == alliance_id, votes.c.deliberation_id == deliberation_id)
            .order_by(votes.c.at, votes.c.participant_id, votes.c.statement_id)
            .limit(1)
        ).one()
    return deliberation_id, row[0], row[1], row[2]


def _vote_key(
    deliberation_id: str, participant_id: str, statement_id: str
) -> sa.ColumnElement[bool]:
    return sa.and_(
        votes.c.deliberation_id == deliberation_id,
        votes.c.participant_id == participant_id,
        votes.c.statement_id == statement_id,
    )


def _deleted(runtime: Runtime, live, rng: np.random.Generator, imported: tuple) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    random_votes(runtime, live, rng, 4)
    with runtime.uow() as uow:
        uow.session.execute(sa.delete(votes).where(_vote_key(*imported[:3])))
        uow.session.commit()


def _rejected(
    runtime: Runtime, manager, alliance_id: str, deliberation_id: str, statement_id: str
) -> None:  # type: ignore[no-untyped-def]
    with runtime.uow() as uow:
        decision = {"decision": "rejected"}
        uow.write(
            deliberation.do_moderate, manager, alliance_id, deliberation_id, statement_id, decision
        )
