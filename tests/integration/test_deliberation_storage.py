"""Deliberations in storage, on SQLite and PostgreSQL: votes, results, Pol.is in and out."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from coauthor.analysis.opinion import adjusted_rand_index, analyze
from coauthor.domain import model as m
from coauthor.domain.errors import Conflict, PermissionDenied, ValidationFailed
from coauthor.interop.polis import PolisExport, read_polis_export
from coauthor.interop.polis_transfer import export_polis, import_polis
from coauthor.runtime import Runtime
from coauthor.services.accounts import people
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.deliberation import acts as deliberation
from coauthor.services.deliberation import results
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import AllianceCreate, MemberInput, PartnerInput

POLIS = Path(__file__).resolve().parents[1] / "data" / "polis"


def _person(uow, email: str) -> m.Person:  # type: ignore[no-untyped-def]
    return people.do_create_person(
        uow, None, PersonInput(email=email, name=email.split("@")[0]), None, bootstrap=True
    )


@pytest.fixture
def alliance(runtime: Runtime) -> tuple[str, m.Person, list[m.Person], list[str]]:
    """A manager and ten members, five from each of two partners."""
    with runtime.uow() as uow:
        manager = _person(uow, "manager@north.example")
        created = alliances.do_create_alliance(
            uow,
            manager,
            AllianceCreate(name="North-South", kind="consortium", organization_name="North"),
        )
        south = alliances.do_add_partner(
            uow, manager, created.id, PartnerInput(organization_name="South")
        )
        north = next(p for p in uow.find(m.Partner, alliance_id=created.id) if p.id != south.id)
        voters = []
        for index in range(10):
            partner = north if index < 5 else south
            member = alliances.do_add_member(
                uow,
                manager,
                created.id,
                MemberInput(email=f"voter{index}@example.org", partner_id=partner.id),
            )
            voters.append(uow.get(m.Person, id=member.person_id))
        uow.session.commit()
        return created.id, manager, voters, [north.id, south.id]


def test_votes_count_once_and_results_follow_partner_lines(runtime: Runtime, alliance) -> None:  # type: ignore[no-untyped-def]
    alliance_id, manager, voters, _ = alliance
    with runtime.uow() as uow:
        dl = deliberation.do_create_deliberation(
            uow, manager, alliance_id, {"question": "Where next?", "strict_moderation": False}
        )
        statements = [
            deliberation.do_submit_statement(
                uow, manager, alliance_id, dl.id, {"text": f"Idea {i}"}
            )
            for i in range(8)
        ]
        for index, voter in enumerate(voters):
            north = index < 5
            for number, statement in enumerate(statements):
                value = 1 if (number % 2 == 0) == north else -1
                deliberation.do_vote(
                    uow, voter, alliance_id, dl.id, {"statement_id": statement.id, "value": -value}
                )
                deliberation.do_vote(
                    uow, voter, alliance_id, dl.id, {"statement_id": statement.id, "value": value}
                )
        uow.session.commit()
    with runtime.uow() as uow:
        stored = uow.session.scalar(sa.select(sa.func.count()).select_from(m.Vote))
        assert stored == 10 * 8
        facts = release(uow, manager, alliance_id, dl.id, threshold=3).facts
        assert facts["participants"] == 11, "ten voters and the manager who wrote the statements"
        assert facts["votes"] == 80
        alignment = facts["partners"]["alignment"]
        assert alignment is not None
        assert alignment["cramers_v"] == pytest.approx(1.0)
        assert len(facts["partners"]["fault_lines"]) > 0
        nxt = deliberation.next_statement(uow, voters[0], alliance_id, dl.id)
        assert nxt.statement is None and nxt.voted == 8


def test_observers_and_closed_deliberations_refuse_votes(runtime: Runtime, alliance) -> None:  # type: ignore[no-untyped-def]
    alliance_id, manager, voters, partners = alliance
    with runtime.uow() as uow:
        observer_member = alliances.do_add_member(
            uow,
            manager,
            alliance_id,
            MemberInput(email="watcher@example.org", partner_id=partners[0], role="observer"),
        )
        observer = uow.get(m.Person, id=observer_member.person_id)
        dl = deliberation.do_create_deliberation(uow, manager, alliance_id, {"question": "Q?"})
        statement = deliberation.do_submit_statement(
            uow, voters[0], alliance_id, dl.id, {"text": "A"}
        )
        assert statement.moderation == m.Moderation.PENDING
        with pytest.raises(ValidationFailed):
            deliberation.do_vote(
                uow, voters[1], alliance_id, dl.id, {"statement_id": statement.id, "value": 1}
            )
        deliberation.do_moderate(
            uow, manager, alliance_id, dl.id, statement.id, {"decision": "accepted"}
        )
        with pytest.raises(PermissionDenied):
            deliberation.do_vote(
                uow, observer, alliance_id, dl.id, {"statement_id": statement.id, "value": 1}
            )
        with pytest.raises(ValidationFailed) as bad_value:
            deliberation.do_vote(
                uow, voters[1], alliance_id, dl.id, {"statement_id": statement.id, "value": 2}
            )
        assert bad_value.value.errors[0].loc == ("value",)
        deliberation.do_set_status(uow, manager, alliance_id, dl.id, m.DeliberationStatus.CLOSED)
        with pytest.raises(Conflict):
            deliberation.do_vote(
                uow, voters[1], alliance_id, dl.id, {"statement_id": statement.id, "value": 1}
            )


def test_polis_import_gives_the_same_groups_and_exports_back(
    runtime: Runtime,
    alliance,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    alliance_id, manager, _, _ = alliance
    export = read_polis_export(POLIS / "brexit-consensus")
    with runtime.uow() as uow:
        dl = uow.write(import_polis, manager, alliance_id, export)
    with runtime.uow() as uow:
        stored = deliberation.vote_matrix(
            uow, uow.get(m.Deliberation, alliance_id=alliance_id, id=dl.id)
        )
        assert stored.n_votes == export.matrix.n_votes
        assert stored.shape[0] == export.matrix.shape[0]
        facts = release(uow, manager, alliance_id, dl.id, threshold=5).facts
        participants = uow.find(m.Participant, alliance_id=alliance_id, deliberation_id=dl.id)
        external = {p.id: p.external_id for p in participants}
        stored_deliberation = uow.get(m.Deliberation, alliance_id=alliance_id, id=dl.id)
        fresh = results.opinion_of(uow, stored_deliberation)
        assert fresh is not None
        ours = {external[p]: g for p, g in fresh.group_of().items()}
        direct = analyze(export.matrix)
        both = [
            p for p, g in direct.group_of().items() if g is not None and ours.get(p) is not None
        ]
        assert len(both) > 150
        assert (
            adjusted_rand_index([direct.group_of()[p] for p in both], [ours[p] for p in both]) > 0.9
        )
        released = sorted(g["size"] for g in facts["groups"])
        assert released == sorted(g.size for g in fresh.groups) and facts["k"] == fresh.k
        export_polis(uow, manager, alliance_id, dl.id, tmp_path / "out", anonymity_threshold=5)
    back = read_polis_export(tmp_path / "out")
    assert back.matrix.n_votes == export.matrix.n_votes
    assert _row_profiles(back) == _row_profiles(export)


def _row_profiles(export: PolisExport) -> Counter[tuple[float, ...]]:
    """Each participant's votes, columns ordered by statement text (ids are renumbered)."""
    matrix = export.matrix
    order = sorted(range(matrix.shape[1]), key=lambda j: export.texts[matrix.statement_ids[j]])
    dense = np.nan_to_num(matrix.to_dense()[:, order], nan=9.0)
    return Counter(tuple(row) for row in dense.tolist())


def test_a_bad_polis_import_writes_nothing(runtime: Runtime, alliance) -> None:  # type: ignore[no-untyped-def]
    alliance_id, _, voters, _ = alliance
    export = read_polis_export(POLIS / "london.youth.policing")
    with runtime.uow() as uow, pytest.raises(PermissionDenied):
        import_polis(uow, voters[0], alliance_id, export)
    with runtime.uow() as uow:
        assert uow.find(m.Deliberation, alliance_id=alliance_id) == []
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(m.Vote)) == 0


def test_groups_below_the_anonymity_threshold_are_not_described(
    runtime: Runtime,
    alliance,  # type: ignore[no-untyped-def]
) -> None:
    alliance_id, manager, voters, _ = alliance
    with runtime.uow() as uow:
        dl = deliberation.do_create_deliberation(
            uow, manager, alliance_id, {"question": "Which site?", "strict_moderation": False}
        )
        ideas = [
            deliberation.do_submit_statement(
                uow, manager, alliance_id, dl.id, {"text": f"Site {i}"}
            )
            for i in range(6)
        ]
        for index, voter in enumerate(voters):
            dissenting = index >= 6
            for number, idea in enumerate(ideas):
                value = 1 if (number < 3) != dissenting else -1
                deliberation.do_vote(
                    uow, voter, alliance_id, dl.id, {"statement_id": idea.id, "value": value}
                )
        uow.session.commit()
    with runtime.uow() as uow:
        stored_deliberation = uow.get(m.Deliberation, alliance_id=alliance_id, id=dl.id)
        fresh = results.opinion_of(uow, stored_deliberation)
        guarded = release(uow, manager, alliance_id, dl.id, threshold=5).facts
    assert fresh is not None
    sizes = {g.id: g.size for g in fresh.groups}
    assert sorted(sizes.values()) == [4, 6]
    small = next(g for g, size in sizes.items() if size == 4)
    assert next(g for g in fresh.groups if g.id == small).representative, "it had reasons to hide"
    described = {g["id"]: g for g in guarded["groups"]}
    assert described[small]["size"] is None and described[small]["center"] is None
    assert described[small]["representative"] == []
    assert all(str(small) not in d["agree"] for d in guarded["divisive"])
    assert_no_small_counts(guarded, 5)


def release(uow, actor, alliance_id: str, deliberation_id: str, threshold: int) -> results.Release:  # type: ignore[no-untyped-def]
    """Publish the release that is due (as the results page would) and return the latest."""
    published = results.do_release(uow, actor, alliance_id, deliberation_id, threshold)
    assert published is not None
    return published


def people_counts(facts: dict) -> list[int | None]:
    """Every count of people in a release's facts (not the tallies within a counted group)."""
    counts: list[int | None] = [facts["participants"]]
    counts += [entry["voters"] for entry in facts["statements"].values()]
    for group in facts["groups"]:
        counts.append(group["size"])
        for reason in group["representative"]:
            counts += [reason["n_trials"], reason["others_trials"]]
    for item in facts["consensus"]["agree"] + facts["consensus"]["disagree"]:
        counts.append(item["n_trials"])
    for item in facts["divisive"]:
        counts += [votes for _, votes in item["agree"].values()]
    partners = facts["partners"]
    if partners["alignment"] is not None:
        counts += [cell for row in partners["alignment"]["table"] for cell in row]
    for item in partners["bridging"] + partners["fault_lines"]:
        counts += [votes for _, votes in item["agree"].values()]
    return counts


def assert_no_small_counts(facts: dict, threshold: int) -> None:
    small = [c for c in people_counts(facts) if c is not None and 0 < c < threshold]
    assert small == [], f"counts of 1..{threshold - 1} people published: {small}"


def test_a_new_vote_shows_only_with_the_next_release(runtime: Runtime, alliance) -> None:  # type: ignore[no-untyped-def]
    """Before and after one person's vote the results are the same; a release needs five people."""
    alliance_id, manager, voters, _ = alliance
    threshold = 5
    with runtime.uow() as uow:
        dl = deliberation.do_create_deliberation(
            uow, manager, alliance_id, {"question": "Open a lab?", "strict_moderation": False}
        )
        idea = deliberation.do_submit_statement(uow, manager, alliance_id, dl.id, {"text": "Yes"})
        uow.session.commit()

    def vote(voter: m.Person, value: int) -> None:
        with runtime.uow() as uow:
            payload = {"statement_id": idea.id, "value": value}
            uow.write(deliberation.do_vote, voter, alliance_id, dl.id, payload)
            runtime.clock.advance(timedelta(seconds=1))

    def published() -> results.Release | None:
        with runtime.uow() as uow:
            return uow.write(results.do_release, manager, alliance_id, dl.id, threshold)

    for voter in voters[:4]:
        vote(voter, 1)
    assert published() is None, "four people: nothing yet"
    vote(voters[4], -1)
    first = published()
    assert first is not None and first.number == 1
    assert first.facts["statements"][idea.id]["voters"] == 5
    vote(voters[5], -1)
    after_one = published()
    assert after_one is not None and (after_one.number, after_one.facts) == (1, first.facts)
    vote(voters[0], -1)  # someone changes their vote: one more person acted, four in all
    for voter in voters[6:8]:
        vote(voter, 1)
    assert published().number == 1  # type: ignore[union-attr]
    vote(voters[8], 1)
    second = published()
    assert second is not None and second.number == 2
    assert second.facts["statements"][idea.id]["voters"] == 9
    assert_no_small_counts(second.facts, threshold)


def test_the_results_worker_publishes_what_is_due_once(runtime: Runtime, alliance) -> None:  # type: ignore[no-untyped-def]
    """Two workers on one database: one release per due moment, whoever gets there first."""
    from coauthor.worker import ResultsWorker

    alliance_id, manager, voters, _ = alliance
    with runtime.uow() as uow:
        dl = deliberation.do_create_deliberation(
            uow, manager, alliance_id, {"question": "Which plant?", "strict_moderation": False}
        )
        idea = deliberation.do_submit_statement(uow, manager, alliance_id, dl.id, {"text": "A"})
        uow.session.commit()
    first, second = ResultsWorker(runtime), ResultsWorker(runtime)
    assert first.run_once() == 0 and second.run_once() == 0
    for voter in voters[:5]:
        with runtime.uow() as uow:
            payload = {"statement_id": idea.id, "value": 1}
            uow.write(deliberation.do_vote, voter, alliance_id, dl.id, payload)
        runtime.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
    assert first.run_once() == 1
    assert second.run_once() == 0, "it saw the chain move, and the release already made"
    with runtime.uow() as uow:
        latest = results.latest_release(uow, manager, alliance_id, dl.id)
        version = results.results_version(uow, manager, alliance_id, dl.id)
    assert latest is not None and latest.number == 1 and version == "r1-open"
    assert first.run_once() == 0, "nothing moved since"


def test_a_release_prepared_outside_the_lock_is_stored_only_if_still_next(
    runtime: Runtime, alliance
) -> None:  # type: ignore[no-untyped-def]
    """The worker computes in a read and stores in a short write; a release made meanwhile
    wins, and a vote cast meanwhile counts towards the next release."""
    alliance_id, manager, voters, _ = alliance
    with runtime.uow() as uow:
        dl = deliberation.do_create_deliberation(
            uow, manager, alliance_id, {"question": "Which port?", "strict_moderation": False}
        )
        idea = deliberation.do_submit_statement(uow, manager, alliance_id, dl.id, {"text": "B"})
        uow.session.commit()
    for voter in voters[:5]:
        with runtime.uow() as uow:
            payload = {"statement_id": idea.id, "value": 1}
            uow.write(deliberation.do_vote, voter, alliance_id, dl.id, payload)
        runtime.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
    with runtime.uow() as uow:
        found = uow.get(m.Deliberation, alliance_id=alliance_id, id=dl.id)
        prepared = results.prepare_release(uow, found, 5)
        stale = results.prepare_release(uow, found, 5)
    assert prepared is not None and stale is not None and prepared.number == 1
    with runtime.uow() as uow:
        payload = {"statement_id": idea.id, "value": -1}
        uow.write(deliberation.do_vote, voters[5], alliance_id, dl.id, payload)
        stored = uow.write(results.do_store_release, prepared)
        assert stored is not None and stored.facts["statements"][idea.id]["voters"] == 5
        assert uow.write(results.do_store_release, stale) is None
        assert results.latest_release(uow, manager, alliance_id, dl.id).number == 1  # type: ignore[union-attr]
