"""The pulse on SQLite and PostgreSQL: waves, single-use links, what is stored, imports.

The privacy checks look at the stored rows themselves: an answer's row holds
no person, invitation or time; nothing is appended to the event log; the
database's own row bookkeeping (SQLite's rowid, PostgreSQL's transaction
ids) does not tie an answer to the invitation that gave it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from coauthor.clock import FixedClock
from coauthor.db.tables import pulse_comments, pulse_invitations, pulse_responses
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from coauthor.domain.pulse import (
    STANDARD_ITEMS,
    Comment,
    Response,
    RoleBand,
    Wave,
    WaveInvitation,
    WaveItem,
)
from coauthor.runtime import Runtime
from coauthor.services import eventlog
from coauthor.services.accounts import people
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.accounts.links import Site
from coauthor.services.mail import Outbox
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import AllianceCreate, MemberInput, PartnerInput
from coauthor.services.pulse import answering, imports, items, results, waves
from coauthor.services.pulse.access import Thresholds
from coauthor.services.pulse.imports import CsvTable
from coauthor.services.pulse.links import token_for
from tests.smtp_server import SmtpServer, link_in

SECRET = "integration-secret"
LIMITS = Thresholds(5, 10)


@dataclass
class Pulse:
    runtime: Runtime
    alliance_id: str
    ann: m.Person
    """Nordwerk's manager."""
    bob: m.Person
    """A Red Cedar member."""
    nordwerk: str
    red_cedar: str

    def write(self, service: Any, *args: Any) -> Any:
        with self.runtime.uow() as uow:
            return uow.write(service, *args)

    def open(self, title: str = "Spring pulse", days: int = 7) -> Wave:
        with self.runtime.uow() as uow:
            closes_on = (uow.clock.now() + timedelta(days=days)).date().isoformat()
            payload = {"title": title, "closes_on": closes_on}
            return uow.write(waves.do_open_wave, self.ann, self.alliance_id, payload)

    def tokens(self, wave: Wave) -> dict[str, str]:
        """Person id → the link token of their invitation."""
        with self.runtime.uow() as uow:
            found = uow.find(WaveInvitation, alliance_id=self.alliance_id, wave_id=wave.id)
            return {i.person_id: token_for(SECRET, i) for i in found}

    def answer(self, token: str, value: int = 5, comment: str = "", **extra: int) -> None:
        answers = {item.key: value for item in STANDARD_ITEMS} | extra
        self.write(answering.do_answer, SECRET, token, {"answers": answers, "comment": comment})

    @property
    def clock(self) -> FixedClock:
        clock = self.runtime.clock
        assert isinstance(clock, FixedClock)
        return clock


def someone(uow: UnitOfWork, email: str) -> m.Person:
    data = PersonInput(email=email, name=email.split("@")[0].title())
    return people.do_create_person(uow, None, data, None, bootstrap=True)


@pytest.fixture
def pulse(runtime: Runtime) -> Iterator[Pulse]:
    """Nordwerk: Ann (manager) and six members; Red Cedar: a sponsor and six members (Bob first)."""
    with runtime.uow() as uow:
        ann = someone(uow, "ann@nordwerk.example")
        data = AllianceCreate(name="Helios", kind="joint_venture", organization_name="Nordwerk")
        alliance = alliances.do_create_alliance(uow, ann, data)
        [nordwerk] = uow.find(m.Partner, alliance_id=alliance.id)
        red_cedar = alliances.do_add_partner(
            uow, ann, alliance.id, PartnerInput(organization_name="Red Cedar")
        )
        for i in range(6):
            for partner, domain in ((nordwerk.id, "nordwerk"), (red_cedar.id, "redcedar")):
                member = MemberInput(email=f"m{i}@{domain}.example", partner_id=partner)
                alliances.do_add_member(uow, ann, alliance.id, member)
        sponsor = MemberInput(
            email="sue@redcedar.example", partner_id=red_cedar.id, role=m.Role.SPONSOR
        )
        alliances.do_add_member(uow, ann, alliance.id, sponsor)
        bob = people.person_by_email(uow, "m0@redcedar.example")
        assert bob is not None
        uow.session.commit()
        yield Pulse(runtime, alliance.id, ann, bob, nordwerk.id, red_cedar.id)


def test_a_wave_freezes_its_items_and_invites_every_member_with_partner_and_band(
    pulse: Pulse,
) -> None:
    pulse.write(items.do_add_item, pulse.ann, pulse.alliance_id, {"text": "We keep our word."})
    wave = pulse.open()
    pulse.write(items.do_add_item, pulse.ann, pulse.alliance_id, {"text": "Later question."})
    with pulse.runtime.uow() as uow:
        asked = uow.find(WaveItem, order_by=WaveItem.position, wave_id=wave.id)
        assert [i.key for i in asked][:21] == [i.key for i in STANDARD_ITEMS]
        assert [i.text for i in asked[21:]] == ["We keep our word."]
        invited = uow.find(WaveInvitation, wave_id=wave.id)
        assert len(invited) == 14 and not any(i.answered for i in invited)
        bands = {(i.partner_id, i.role_band) for i in invited}
        assert (pulse.nordwerk, RoleBand.LEADERSHIP) in bands
        assert (pulse.red_cedar, RoleBand.LEADERSHIP) in bands
        [event] = [
            e for e in eventlog.chain_events(uow, pulse.alliance_id) if "pulse_wave" in e.kind
        ]
        assert event.kind == "pulse_wave.opened" and event.payload["invited"] == 14


def test_one_wave_runs_at_a_time_and_a_closing_day_must_come(pulse: Pulse) -> None:
    wave = pulse.open()
    with pytest.raises(Conflict, match="still running"):
        pulse.open("Twin")
    with pulse.runtime.uow() as uow, pytest.raises(ValidationFailed) as caught:
        yesterday = (uow.clock.now() - timedelta(days=1)).date().isoformat()
        uow.write(
            waves.do_open_wave,
            pulse.ann,
            pulse.alliance_id,
            {"title": "Old", "closes_on": yesterday},
        )
    assert caught.value.errors[0].loc == ("closes_on",)
    with pytest.raises(PermissionDenied):
        pulse.write(waves.do_close_wave, pulse.bob, pulse.alliance_id, wave.id)


def test_an_answer_row_holds_no_person_invitation_or_time_and_logs_no_event(pulse: Pulse) -> None:
    wave = pulse.open()
    tokens = pulse.tokens(wave)
    assert {c.name for c in pulse_responses.columns} == {
        "alliance_id", "wave_id", "id", "partner_id", "role_band", "answers",
    }  # fmt: skip
    assert {c.name for c in pulse_comments.columns} == {"alliance_id", "wave_id", "id", "text"}
    with pulse.runtime.uow() as uow:
        events = len(eventlog.chain_events(uow, pulse.alliance_id))
    pulse.answer(tokens[pulse.bob.id], 6, comment="Honest words.")
    with pulse.runtime.uow() as uow:
        [response] = uow.find(Response, wave_id=wave.id)
        assert (response.partner_id, response.role_band) == (pulse.red_cedar, RoleBand.TEAM)
        assert set(response.answers.values()) == {6} and response.id.startswith("pr_")
        assert [c.text for c in uow.find(Comment, wave_id=wave.id)] == ["Honest words."]
        answered = [i.person_id for i in uow.find(WaveInvitation, wave_id=wave.id) if i.answered]
        assert answered == [pulse.bob.id]
        assert len(eventlog.chain_events(uow, pulse.alliance_id)) == events
        assert all(report.ok for report in eventlog.verify_all(uow))


def test_a_link_answers_once_only_while_its_wave_runs(pulse: Pulse) -> None:
    wave = pulse.open(days=2)
    tokens = list(pulse.tokens(wave).values())
    pulse.answer(tokens[0])
    with pytest.raises(Conflict, match="already been used"):
        pulse.answer(tokens[0], 1)
    with pytest.raises(NotFound, match="not valid"):
        pulse.answer(tokens[1][:-3] + "xyz")
    pulse.clock.advance(timedelta(days=3))
    with pytest.raises(Conflict, match="closed"):
        pulse.answer(tokens[1])
    with pulse.runtime.uow() as uow:
        assert len(uow.find(Response, wave_id=wave.id)) == 1
        view = answering.open_link(uow, SECRET, tokens[0])
        assert view.state == answering.LinkState.ANSWERED
        assert answering.open_link(uow, SECRET, tokens[1]).state == answering.LinkState.CLOSED


def test_every_question_must_be_answered_on_the_scale_and_nothing_is_kept_otherwise(
    pulse: Pulse,
) -> None:
    wave = pulse.open()
    token = pulse.tokens(wave)[pulse.bob.id]
    answers = {item.key: 4 for item in STANDARD_ITEMS[1:]} | {"to2": 9, "xx": 3}
    with pytest.raises(ValidationFailed) as caught:
        pulse.write(answering.do_answer, SECRET, token, {"answers": answers})
    assert {e.loc for e in caught.value.errors} == {
        ("answers", "to1"),
        ("answers", "to2"),
        ("answers", "xx"),
    }
    with pulse.runtime.uow() as uow:
        assert uow.find(Response, wave_id=wave.id) == []
        assert not any(i.answered for i in uow.find(WaveInvitation, wave_id=wave.id))


def test_results_wait_for_the_wave_to_close(pulse: Pulse) -> None:
    wave = pulse.open()
    for token in list(pulse.tokens(wave).values())[:12]:
        pulse.answer(token, 5)
    with pulse.runtime.uow() as uow:
        assert not results.wave_results(
            uow, pulse.bob, pulse.alliance_id, wave.id, LIMITS
        ).available
        rates = waves.wave_summary(uow, pulse.bob, pulse.alliance_id, wave.id, 5).rates
        assert rates.invited == 14
    pulse.write(waves.do_close_wave, pulse.ann, pulse.alliance_id, wave.id)
    with pulse.runtime.uow() as uow:
        found = results.wave_results(uow, pulse.bob, pulse.alliance_id, wave.id, LIMITS)
        assert found.available and found.figures is not None and found.figures.reported
        assert found.figures.groups[0].n == 12
    with pytest.raises(Conflict, match="closed"):
        pulse.answer(list(pulse.tokens(wave).values())[13])


def test_comments_wait_for_the_higher_threshold(pulse: Pulse) -> None:
    wave = pulse.open()
    tokens = list(pulse.tokens(wave).values())
    for index, token in enumerate(tokens[:9]):
        pulse.answer(token, 5, comment=f"Comment {index}")
    pulse.write(waves.do_close_wave, pulse.ann, pulse.alliance_id, wave.id)
    with pulse.runtime.uow() as uow:
        found = results.wave_results(uow, pulse.ann, pulse.alliance_id, wave.id, LIMITS)
        assert found.comments == [] and found.comments_withheld
        nine = results.wave_results(uow, pulse.ann, pulse.alliance_id, wave.id, Thresholds(5, 9))
        assert nine.comments == [f"Comment {i}" for i in range(9)]


def test_invitations_and_comments_are_rewritten_with_every_answer(pulse: Pulse) -> None:
    """Nothing in the database's own bookkeeping pairs an answer with its invitation."""
    wave = pulse.open()
    tokens = list(pulse.tokens(wave).values())
    for index, token in enumerate(tokens[:3]):
        pulse.answer(token, 5, comment=f"c{index}")
    engine = pulse.runtime.engine
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            invitation_txids = connection.execute(
                sa.text("SELECT DISTINCT xmin::text FROM pulse_invitations")
            ).all()
            comment_txids = connection.execute(
                sa.text("SELECT DISTINCT xmin::text FROM pulse_comments")
            ).all()
            response_txids = connection.execute(
                sa.text("SELECT DISTINCT xmin::text FROM pulse_responses")
            ).all()
            assert len(invitation_txids) == 1 and len(comment_txids) == 1
            assert len(response_txids) == 3
        else:
            for table in (pulse_responses, pulse_comments):
                with pytest.raises(sa.exc.OperationalError, match="rowid"):
                    connection.execute(sa.text(f"SELECT rowid FROM {table.name}"))
            connection.execute(sa.text(f"SELECT rowid FROM {pulse_invitations.name}"))


def test_response_rates_hide_counts_below_the_threshold(pulse: Pulse) -> None:
    wave = pulse.open()
    tokens = pulse.tokens(wave)
    with pulse.runtime.uow() as uow:
        invited = {i.person_id: i.partner_id for i in uow.find(WaveInvitation, wave_id=wave.id)}
    red = [tokens[p] for p, partner in invited.items() if partner == pulse.red_cedar]
    north = [tokens[p] for p, partner in invited.items() if partner == pulse.nordwerk]
    for token in red[:5] + north[:2]:
        pulse.answer(token)
    with pulse.runtime.uow() as uow:
        rates = waves.wave_summary(uow, pulse.ann, pulse.alliance_id, wave.id, 5).rates
    by_partner = {r.partner_id: r.answered for r in rates.partners}
    assert by_partner == {pulse.red_cedar: 5, pulse.nordwerk: None}
    assert rates.answered is None  # 7 − 5 would give Nordwerk's 2 away
    for token in north[2:5]:
        pulse.answer(token)
    with pulse.runtime.uow() as uow:
        rates = waves.wave_summary(uow, pulse.ann, pulse.alliance_id, wave.id, 5).rates
    assert rates.answered == 10


def table(*rows: str) -> CsvTable:
    header, *body = [row.split(",") for row in rows]
    return CsvTable(header, [(line, cells) for line, cells in enumerate(body, start=2)])


GOOD = (
    "id,partner,role,to1,to2,Q3,note",
    *[f"r{i},{'Nordwerk' if i % 2 else 'red cedar'},team,{i % 7 + 1},4,5,ok" for i in range(10)],
)
GOOD_MAPPING = {"role": "role_band", "id": "respondent", "Q3": "to3", "note": "comment"}


def import_wave(pulse: Pulse, source: CsvTable, columns: dict[str, str]) -> Wave:
    payload = {"title": "From the old tool", "closed_on": "2026-02-20", "columns": columns}
    return pulse.write(imports.do_import_wave, pulse.ann, pulse.alliance_id, source, payload, 5)


def test_an_imported_file_becomes_a_closed_wave_without_respondent_ids(pulse: Pulse) -> None:
    wave = import_wave(pulse, table(*GOOD), GOOD_MAPPING)
    with pulse.runtime.uow() as uow:
        stored = uow.get(Wave, alliance_id=pulse.alliance_id, id=wave.id)
        assert stored is not None and not stored.is_open(uow.clock.now())
        assert [i.key for i in uow.find(WaveItem, order_by=WaveItem.position, wave_id=wave.id)] == [
            "to1", "to2", "to3",
        ]  # fmt: skip
        responses = uow.find(Response, wave_id=wave.id)
        assert len(responses) == 10 and {r.role_band for r in responses} == {RoleBand.TEAM}
        assert "r1" not in repr([r.answers for r in responses])
        assert len(uow.find(Comment, wave_id=wave.id)) == 10
        found = results.wave_results(uow, pulse.ann, pulse.alliance_id, wave.id, LIMITS)
        assert found.figures is not None and [g.n for g in found.figures.groups][:1] == [10]


def first_row(row: str) -> tuple[str, ...]:
    """The good file with its first row (line 2) replaced."""
    return (GOOD[0], row, *GOOD[2:])


WITHOUT_Q3 = {k: v for k, v in GOOD_MAPPING.items() if k != "Q3"}
BAD_FILES = {
    "unknown item": (GOOD, GOOD_MAPPING | {"Q3": "zz9"}, ("columns", "Q3"), "not an item"),
    "unmappable column": (GOOD, WITHOUT_Q3, ("columns", "Q3"), "cannot be mapped"),
    "mapped column missing": (GOOD, GOOD_MAPPING | {"Q9": "to4"}, ("columns", "Q9"), "no such"),
    "off the scale": (
        first_row("r1,Nordwerk,team,8,4,5,x"),
        GOOD_MAPPING,
        ("csv", 2, "to1"),
        "off",
    ),
    "not a number": (
        first_row("r1,Nordwerk,team,x,4,5,x"),
        GOOD_MAPPING,
        ("csv", 2, "to1"),
        "not a",
    ),
    "duplicate respondent": (
        (*GOOD, "r3,Nordwerk,team,1,1,1,x"),
        GOOD_MAPPING,
        ("csv", 12, "id"),
        "on line 5 too",
    ),
    "unknown partner": (
        first_row("r1,Lakeshore,team,1,2,3,x"),
        GOOD_MAPPING,
        ("csv", 2, "partner"),
        "not a partner",
    ),
    "unknown role band": (
        first_row("r1,Nordwerk,boss,1,2,3,x"),
        GOOD_MAPPING,
        ("csv", 2, "role"),
        "not a role band",
    ),
    "too few rows": (GOOD[:5], GOOD_MAPPING, ("csv",), "at least 5 are needed"),
}


@pytest.mark.parametrize(("rows", "columns", "where", "reason"), BAD_FILES.values(), ids=BAD_FILES)
def test_a_bad_file_is_refused_whole_with_line_and_column(
    pulse: Pulse, rows: tuple[str, ...], columns: dict[str, str], where: tuple, reason: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        import_wave(pulse, table(*rows), columns)
    assert any(e.loc == where and reason in e.message for e in caught.value.errors), [
        (e.loc, e.message) for e in caught.value.errors
    ]
    with pulse.runtime.uow() as uow:
        assert uow.find(Wave, alliance_id=pulse.alliance_id) == []
        assert uow.find(Response, alliance_id=pulse.alliance_id) == []


def test_links_are_mailed_on_opening_and_a_reminder_reaches_only_those_who_have_not_answered(
    pulse: Pulse, smtp_server: SmtpServer
) -> None:
    site = Site(SECRET, "https://coauthor.example.org", Outbox(smtp_server.url, "c@example.org"))
    with pulse.runtime.uow() as uow:
        closes_on = (uow.clock.now() + timedelta(days=7)).date().isoformat()
        payload = {"title": "Spring pulse", "closes_on": closes_on}
        wave = uow.write(waves.do_open_wave, pulse.ann, pulse.alliance_id, payload, site)
        emails = {p.id: p.email for p in uow.find(m.Person)}
        tokens = pulse.tokens(wave)
        wave_id = wave.id
    for person_id, token in tokens.items():
        opened = smtp_server.wait_for(emails[person_id])
        assert link_in(opened) == f"https://coauthor.example.org/pulse/{token}"
        assert "Spring pulse" in opened["Subject"] and "anonymous" in opened.get_content()
    pulse.answer(tokens[pulse.bob.id])
    note = {"note": "Five minutes, before Friday's board."}
    pulse.write(waves.do_remind, pulse.ann, pulse.alliance_id, wave_id, note, site)
    waiting = [person_id for person_id in tokens if person_id != pulse.bob.id]
    for person_id in waiting:
        reminder = smtp_server.wait_for(emails[person_id], count=2)
        assert reminder["Subject"].startswith("Reminder:")
        assert "before Friday's board" in reminder.get_content()
    site.outbox.wait()
    to_bob = [message for message in smtp_server.messages if message["To"] == pulse.bob.email]
    assert len(to_bob) == 1 and len(smtp_server.messages) == 2 * len(tokens) - 1
