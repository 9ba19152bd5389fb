"""Deliberation pages: start, write, moderate, vote one statement at a time, results, promote.

The seeded alliance (see conftest) has Northwind (manager, member) and
Contoso (sponsor, observer). ``crowd`` adds four more members per partner so
the results have two opinion groups along partner lines, a consensus, fault
lines and a bridging statement; this module runs with an anonymity threshold
of 3 so the partner breakdown can show.

Anonymity: ``test_no_page_or_api_shows_who_voted`` scans every deliberation
page and API answer, as every role, for any participant's id, person id,
email or name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.domain import model as m
from coauthor.runtime import Runtime
from coauthor.services.accounts import people
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.accounts.tokens import do_create_token
from coauthor.services.deliberation import acts as service
from coauthor.services.deliberation.results import vote_matrix
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import MemberInput
from tests.e2e.conftest import PASSWORD, World, event_count, login, post_form

SignIn = Callable[[str], TestClient]
STATEMENT_ID = re.compile(r'name="statement_id" value="([^"]+)"')
NORTH_SAYS = (
    "Savings should be shared by what each partner contributes.",
    "Northwind should lead the joint purchasing programme.",
)
CONTOSO_SAYS = (
    "Savings should be shared equally between the partners.",
    "Contoso should lead the joint purchasing programme.",
)
EVERYONE_SAYS = "We should publish the savings to both boards every quarter."
CROWD_TEXTS = (*NORTH_SAYS, *CONTOSO_SAYS, EVERYONE_SAYS)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The seeded settings, with the smallest anonymity threshold allowed (3)."""
    return settings.model_copy(update={"anonymity_threshold": 3})


@dataclass
class Started:
    """A deliberation made through the services, and its statements in the order written."""

    alliance_id: str
    id: str
    statements: list[str]

    @property
    def url(self) -> str:
        return f"/a/{self.alliance_id}/deliberations/{self.id}"

    @property
    def api(self) -> str:
        return f"/api/v1/alliances/{self.alliance_id}/deliberations/{self.id}"


def person(uow, someone_id: str) -> m.Person:  # type: ignore[no-untyped-def]
    found = uow.get(m.Person, id=someone_id)
    assert found is not None
    return found


def start(
    runtime: Runtime,
    clock: FixedClock,
    manager_id: str,
    alliance_id: str,
    texts: tuple[str, ...] = ("First statement.", "Second statement.", "Third statement."),
    *,
    strict: bool = False,
    question: str = "How should we share the savings of joint purchasing?",
) -> Started:
    """A deliberation with ``texts`` written (and accepted) by the manager, a second apart."""
    with runtime.uow() as uow:
        manager = person(uow, manager_id)
        created = service.do_create_deliberation(
            uow, manager, alliance_id, {"question": question, "strict_moderation": strict}
        )
        ids = []
        for text in texts:
            clock.advance(timedelta(seconds=1))
            statement = service.do_submit_statement(
                uow, manager, alliance_id, created.id, {"text": text}
            )
            if strict:
                service.do_moderate(
                    uow, manager, alliance_id, created.id, statement.id, {"decision": "accepted"}
                )
            ids.append(statement.id)
        uow.session.commit()
    return Started(alliance_id, created.id, ids)


def cast(
    runtime: Runtime, clock: FixedClock, person_id: str, started: Started, votes: dict[str, int]
) -> None:
    with runtime.uow() as uow:
        voter = person(uow, person_id)
        for statement_id, value in votes.items():
            clock.advance(timedelta(seconds=1))
            payload = {"statement_id": statement_id, "value": value}
            service.do_vote(uow, voter, started.alliance_id, started.id, payload)
        uow.session.commit()


@dataclass
class Crowd:
    started: Started
    north: list[str]
    """Person ids of Northwind's five participants (manager and member first)."""
    contoso: list[str]
    """Person ids of Contoso's five participants (sponsor first)."""
    names: list[str]
    emails: list[str]


def add_people(runtime: Runtime, world: World, partner: str, count: int) -> list[m.Person]:
    added = []
    with runtime.uow() as uow:
        manager = person(uow, world.manager.id)
        for index in range(count):
            data = PersonInput(
                email=f"{partner}{index}@example.org", name=f"{partner} Voter {index}"
            )
            someone = people.do_create_person(uow, None, data, PASSWORD, bootstrap=True)
            member = MemberInput(
                email=data.email, partner_id=world.partners[partner], role=m.Role.MEMBER
            )
            alliances.do_add_member(uow, manager, world.alliance_id, member)
            added.append(someone)
        uow.session.commit()
    return added


def crowd_votes(crowd_started: Started, leaning: str) -> dict[str, int]:
    """Northwind agrees with its two statements and rejects Contoso's, and the other way round."""
    ids = dict(zip(CROWD_TEXTS, crowd_started.statements, strict=True))
    mine, theirs = (NORTH_SAYS, CONTOSO_SAYS) if leaning == "north" else (CONTOSO_SAYS, NORTH_SAYS)
    votes = {ids[text]: 1 for text in mine} | {ids[text]: -1 for text in theirs}
    return votes | {ids[EVERYONE_SAYS]: 1}


def make_crowd(runtime: Runtime, clock: FixedClock, world: World) -> Crowd:
    """Ten participants, five per partner, split along partner lines but for one statement."""
    north_extra = add_people(runtime, world, "northwind", 3)
    contoso_extra = add_people(runtime, world, "contoso", 4)
    started = start(runtime, clock, world.manager.id, world.alliance_id, CROWD_TEXTS)
    north = [world.manager.id, world.member.id, *(p.id for p in north_extra)]
    contoso = [world.sponsor.id, *(p.id for p in contoso_extra)]
    for person_id in north:
        cast(runtime, clock, person_id, started, crowd_votes(started, "north"))
    for person_id in contoso:
        cast(runtime, clock, person_id, started, crowd_votes(started, "contoso"))
    extra = [*north_extra, *contoso_extra]
    seeded = [world.manager, world.member, world.sponsor, world.observer, world.admin]
    return Crowd(
        started,
        north,
        contoso,
        [p.name for p in extra] + [s.name for s in seeded],
        [p.email for p in extra] + [s.email for s in seeded],
    )


@pytest.fixture
def started(runtime: Runtime, clock: FixedClock, world: World) -> Started:
    return start(runtime, clock, world.manager.id, world.alliance_id)


@pytest.fixture
def crowd(runtime: Runtime, clock: FixedClock, world: World) -> Crowd:
    return make_crowd(runtime, clock, world)


def follow(client: TestClient, response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return client.get(response.headers["location"]).text


def current_statement(page: str) -> str | None:
    found = STATEMENT_ID.search(page)
    return found.group(1) if found else None


def section(page: str, element_id: str) -> str:
    """The HTML from the element with ``element_id`` to the end of its section."""
    start_at = page.index(f'id="{element_id}"')
    return page[start_at : page.index("</section>", start_at)]


# The list and starting a deliberation.


def test_the_tab_and_an_empty_list(login_as: SignIn, world: World) -> None:
    member = login_as("member")
    page = member.get(f"/a/{world.alliance_id}/deliberations")
    assert page.status_code == 200
    assert (
        f'<a href="/a/{world.alliance_id}/deliberations" aria-current="page">Deliberations</a>'
        in page.text
    )
    assert "No deliberations yet." in page.text
    assert "Start a deliberation" not in page.text
    overview = member.get(f"/a/{world.alliance_id}").text
    assert f'href="/a/{world.alliance_id}/deliberations"' in overview


def test_a_manager_starts_a_deliberation(login_as: SignIn, world: World) -> None:
    manager = login_as("manager")
    base = f"/a/{world.alliance_id}/deliberations"
    assert "Start a deliberation" in manager.get(base).text
    data = {"question": "Where should the second plant go?", "description": "Two sites."}
    response = post_form(manager, base, data)
    assert response.status_code == 303
    assert re.fullmatch(rf"{base}/dl_[\w-]+", response.headers["location"])
    page = follow(manager, response)
    assert "Where should the second plant go?" in page
    assert "Two sites." in page
    assert "Nothing to vote on yet" in page
    listing = manager.get(base).text
    row = listing[listing.index("Where should the second plant go?") :]
    assert "Open" in row.split("</tr>")[0]
    assert "statements are moderated" not in row.split("</tr>")[0]


def test_the_moderation_box_is_ticked_unless_unticked(
    login_as: SignIn, world: World, runtime: Runtime
) -> None:
    manager = login_as("manager")
    base = f"/a/{world.alliance_id}/deliberations"
    assert 'name="strict_moderation" value="on" checked' in manager.get(base).text
    strict = post_form(manager, base, {"question": "Strict?", "strict_moderation": "on"})
    lax = post_form(manager, base, {"question": "Lax?"})
    with runtime.uow() as uow:
        manager_person = person(uow, world.manager.id)
        listed = service.list_deliberations(uow, manager_person, world.alliance_id)
        found = {d.question: d.strict_moderation for d in listed}
    assert found["Strict?"] is True
    assert found["Lax?"] is False
    assert strict.status_code == lax.status_code == 303


def test_a_question_is_required(login_as: SignIn, world: World, runtime: Runtime) -> None:
    manager = login_as("manager")
    before = event_count(runtime)
    response = post_form(manager, f"/a/{world.alliance_id}/deliberations", {"question": "  "})
    assert response.status_code == 422
    assert 'id="f-question-error"' in response.text
    assert event_count(runtime) == before


def test_members_do_not_start_deliberations(login_as: SignIn, world: World) -> None:
    member = login_as("member")
    response = post_form(member, f"/a/{world.alliance_id}/deliberations", {"question": "Mine?"})
    assert response.status_code == 403


# Writing and moderating statements.


def test_a_statement_awaits_moderation_when_moderation_is_strict(
    client: TestClient, world: World, runtime: Runtime, clock: FixedClock
) -> None:
    started = start(runtime, clock, world.manager.id, world.alliance_id, (), strict=True)
    login(client, world.member.email, world.member.password)
    page = client.get(started.url).text
    assert "It awaits moderation" in page
    response = post_form(client, f"{started.url}/statements", {"text": "Fund a joint lab."})
    assert response.headers["location"] == f"{started.url}?written=pending#write"
    page = follow(client, response)
    assert "Your statement awaits moderation" in page
    assert "Fund a joint lab." not in page
    assert client.get(f"{started.url}/moderation").status_code == 403

    client.cookies.clear()
    login(client, world.manager.email, world.manager.password)
    moderation = client.get(f"{started.url}/moderation").text
    pending = section(moderation, "pending")
    assert "Fund a joint lab." in pending
    assert world.member.name not in moderation
    statement_id = re.search(r"statements/(st_[\w-]+)/moderation", pending).group(1)  # type: ignore[union-attr]
    accepted = post_form(
        client, f"{started.url}/statements/{statement_id}/moderation", {"decision": "accepted"}
    )
    assert accepted.status_code == 303
    moderation = client.get(f"{started.url}/moderation").text
    assert "Fund a joint lab." in section(moderation, "accepted")
    assert "Nothing is waiting." in moderation

    client.cookies.clear()
    login(client, world.member.email, world.member.password)
    page = client.get(started.url).text
    assert "Fund a joint lab." in page
    assert current_statement(page) == statement_id


def test_managers_statements_need_no_moderation_and_the_queue_is_decided_in_bulk(
    client: TestClient, world: World, runtime: Runtime, clock: FixedClock
) -> None:
    started = start(runtime, clock, world.manager.id, world.alliance_id, (), strict=True)
    login(client, world.member.email, world.member.password)
    texts = ("Fund a joint lab.", "Share the test rig.", "Swap engineers for a month.")
    for text in texts:
        assert post_form(client, f"{started.url}/statements", {"text": text}).status_code == 303
    client.cookies.clear()
    login(client, world.manager.email, world.manager.password)
    own = post_form(client, f"{started.url}/statements", {"text": "Meet monthly."})
    assert own.headers["location"].endswith("?written=accepted#write"), "the moderator's own"
    queue = client.get(f"{started.url}/moderation").text
    assert "Accept all 3 waiting" in queue
    ids = dict(
        (
            text,
            re.search(rf'name="s\.(st_[\w-]+)"[^>]*> <label[^>]*>{re.escape(text)}', queue).group(
                1
            ),
        )  # type: ignore[union-attr]
        for text in texts
    )
    before = event_count(runtime)
    nothing = post_form(client, f"{started.url}/moderation", {"decision": "accepted"})
    assert "Tick the statements to decide on first." in follow(client, nothing)
    assert event_count(runtime) == before
    ticked = {f"s.{ids[texts[0]]}": "on", f"s.{ids[texts[1]]}": "on", "decision": "accepted"}
    assert post_form(client, f"{started.url}/moderation", ticked).status_code == 303
    queue = client.get(f"{started.url}/moderation").text
    assert texts[2] in section(queue, "pending") and texts[0] not in section(queue, "pending")
    assert event_count(runtime) == before + 2
    everything = {"all": "pending", "decision": "accepted"}
    assert post_form(client, f"{started.url}/moderation", everything).status_code == 303
    queue = client.get(f"{started.url}/moderation").text
    assert "Nothing is waiting." in queue
    assert all(text in section(queue, "accepted") for text in (*texts, "Meet monthly."))


def test_a_statement_is_in_at_once_without_strict_moderation(
    login_as: SignIn, started: Started
) -> None:
    member = login_as("member")
    response = post_form(member, f"{started.url}/statements", {"text": "Share the data too."})
    assert response.headers["location"].endswith("?written=accepted#write")
    assert "others can vote on it now" in follow(member, response)


def test_statement_errors_sit_next_to_the_field(login_as: SignIn, started: Started) -> None:
    member = login_as("member")
    empty = post_form(member, f"{started.url}/statements", {"text": ""})
    assert empty.status_code == 422
    assert 'id="f-text-error"' in empty.text
    duplicate = post_form(member, f"{started.url}/statements", {"text": "First statement."})
    assert duplicate.status_code == 409
    assert "already been written" in duplicate.text.split('id="f-text-error"')[1]


def test_a_moderation_decision_can_be_changed(login_as: SignIn, started: Started) -> None:
    manager = login_as("manager")
    first = started.statements[0]
    url = f"{started.url}/statements/{first}/moderation"
    assert post_form(manager, url, {"decision": "rejected"}).status_code == 303
    page = manager.get(f"{started.url}/moderation").text
    assert "First statement." in section(page, "rejected")
    assert "First statement." not in section(page, "accepted")
    assert post_form(manager, url, {"decision": "accepted"}).status_code == 303
    page = manager.get(f"{started.url}/moderation").text
    assert "First statement." in section(page, "accepted")


def test_a_statement_about_the_participants_can_be_meta(
    login_as: SignIn, started: Started, runtime: Runtime
) -> None:
    manager = login_as("manager")
    first = started.statements[0]
    url = f"{started.url}/statements/{first}/moderation"
    assert "Mark as meta" in section(manager.get(f"{started.url}/moderation").text, "accepted")
    assert post_form(manager, url, {"decision": "accepted", "meta": "true"}).status_code == 303
    accepted = section(manager.get(f"{started.url}/moderation").text, "accepted")
    assert '<span class="badge">meta</span> First statement.' in accepted
    assert "Count as an opinion" in accepted
    with runtime.uow() as uow:
        deliberation = uow.get(m.Deliberation, alliance_id=started.alliance_id, id=started.id)
        assert deliberation is not None
        matrix = vote_matrix(uow, deliberation)
    assert first in matrix.meta and first in matrix.moderated_out
    assert post_form(manager, url, {"decision": "accepted", "meta": "false"}).status_code == 303
    assert 'badge">meta' not in manager.get(f"{started.url}/moderation").text
    refused = post_form(manager, url, {"decision": "rejected", "meta": "true"})
    assert refused.status_code == 422


def test_moderating_an_unknown_statement_is_not_found(login_as: SignIn, started: Started) -> None:
    manager = login_as("manager")
    url = f"{started.url}/statements/st_nope/moderation"
    assert post_form(manager, url, {"decision": "accepted"}).status_code == 404
    bad = post_form(
        manager, f"{started.url}/statements/{started.statements[0]}/moderation", {"decision": "x"}
    )
    assert bad.status_code == 422


# Voting.


def test_voting_one_statement_at_a_time(login_as: SignIn, started: Started) -> None:
    member = login_as("member")
    page = member.get(started.url).text
    seen = []
    for left in (3, 2, 1):
        assert f'<strong class="remaining">{left}</strong> statement' in page
        statement_id = current_statement(page)
        assert statement_id in started.statements and statement_id not in seen
        assert "Agree" in page and "Disagree" in page and "Pass" in page
        seen.append(statement_id)
        response = post_form(
            member, f"{started.url}/vote", {"statement_id": statement_id, "value": "1"}
        )
        assert response.headers["location"] == started.url
        page = follow(member, response)
        if left > 1:
            assert f"you have voted on {len(seen)}" in page
    assert sorted(seen) == sorted(started.statements)
    assert "You have voted on every statement" in page
    assert current_statement(page) is None


def test_next_statement_never_repeats_a_voted_one(
    login_as: SignIn, started: Started, runtime: Runtime, clock: FixedClock, world: World
) -> None:
    cast(runtime, clock, world.member.id, started, {started.statements[1]: -1})
    member = login_as("member")
    for _ in range(10):
        assert current_statement(member.get(started.url).text) in (
            started.statements[0],
            started.statements[2],
        )


def test_a_vote_can_be_changed(
    login_as: SignIn, started: Started, runtime: Runtime, clock: FixedClock, world: World
) -> None:
    """The last vote counts; results show it with the next release (three more people)."""
    first = started.statements[0]
    for someone in (world.manager.id, world.sponsor.id):
        cast(runtime, clock, someone, started, {first: 1})
    member = login_as("member")
    vote_url = f"{started.url}/vote"
    assert post_form(member, vote_url, {"statement_id": first, "value": "1"}).status_code == 303
    agree = section(member.get(f"{started.url}/results").text, "consensus")
    assert "First statement." in agree.split("Most disagree")[0]
    assert "100% agree" in agree
    clock.advance(timedelta(seconds=1))
    assert post_form(member, vote_url, {"statement_id": first, "value": "-1"}).status_code == 303
    unchanged = section(member.get(f"{started.url}/results").text, "consensus")
    assert unchanged == agree, "one changed vote alone never shows"
    for someone in add_people(runtime, world, "contoso", 2):
        cast(runtime, clock, someone.id, started, {first: -1})
    results = member.get(f"{started.url}/results").text
    assert "First statement." not in section(results, "consensus").split("Most disagree")[0]
    assert '<dd id="vote-count">5</dd>' in results
    assert "You have voted on every statement" not in member.get(started.url).text


def test_htmx_swaps_only_the_card(login_as: SignIn, started: Started) -> None:
    member = login_as("member")
    statement_id = current_statement(member.get(started.url).text)
    headers = {"HX-Request": "true", "HX-Target": "vote-card"}
    response = post_form(
        member, f"{started.url}/vote", {"statement_id": statement_id, "value": "0"}, **headers
    )
    assert response.status_code == 303
    card = member.get(response.headers["location"], headers=headers)
    assert card.status_code == 200
    assert card.text.lstrip().startswith('<section id="vote-card"')
    assert "<html" not in card.text
    assert '<strong class="remaining">2</strong>' in card.text
    page = member.get(started.url).text
    assert f'hx-post="{started.url}/vote"' in page
    assert 'hx-target="#vote-card"' in page


def test_a_bad_vote_value_is_refused_with_its_field(
    login_as: SignIn, started: Started, runtime: Runtime
) -> None:
    member = login_as("member")
    before = event_count(runtime)
    response = post_form(
        member, f"{started.url}/vote", {"statement_id": started.statements[0], "value": "2"}
    )
    assert response.status_code == 422
    assert "Choose one of: -1, 0 or 1" in response.text
    unknown = post_form(member, f"{started.url}/vote", {"statement_id": "st_nope", "value": "1"})
    assert unknown.status_code == 422
    assert "No such statement in this deliberation" in unknown.text
    assert event_count(runtime) == before


def test_observers_see_the_question_but_cannot_vote(
    login_as: SignIn, started: Started, runtime: Runtime
) -> None:
    observer = login_as("observer")
    page = observer.get(started.url)
    assert page.status_code == 200
    assert "How should we share the savings" in page.text
    assert "observers can follow the" in page.text
    assert f'href="{started.url}/results"' in page.text
    assert 'name="value"' not in page.text
    assert "Add a statement" not in page.text
    before = event_count(runtime)
    payload = {"statement_id": started.statements[0], "value": "1"}
    assert post_form(observer, f"{started.url}/vote", payload).status_code == 403
    assert post_form(observer, f"{started.url}/statements", {"text": "Hi"}).status_code == 403
    assert event_count(runtime) == before
    assert observer.get(f"{started.url}/results").status_code == 200


def test_outsiders_get_404_everywhere(login_as: SignIn, started: Started) -> None:
    outsider = login_as("outsider")
    for path in ("", "/results", "/moderation"):
        assert outsider.get(f"{started.url}{path}").status_code == 404
    assert outsider.get(f"/a/{started.alliance_id}/deliberations").status_code == 404
    payload = {"statement_id": started.statements[0], "value": "1"}
    assert post_form(outsider, f"{started.url}/vote", payload).status_code == 404


def test_an_unknown_deliberation_is_not_found(login_as: SignIn, world: World) -> None:
    member = login_as("member")
    assert member.get(f"/a/{world.alliance_id}/deliberations/dl_nope").status_code == 404


def test_a_closed_deliberation_takes_no_votes(
    client: TestClient, started: Started, world: World
) -> None:
    login(client, world.manager.email, world.manager.password)
    assert "Close deliberation" in client.get(started.url).text
    closed = post_form(client, f"{started.url}/status", {"status": "closed"})
    assert closed.status_code == 303
    assert "Reopen deliberation" in client.get(started.url).text

    client.cookies.clear()
    login(client, world.member.email, world.member.password)
    page = client.get(started.url).text
    assert "Voting has closed" in page
    assert 'name="value"' not in page
    assert "Add a statement" not in page
    payload = {"statement_id": started.statements[0], "value": "1"}
    response = post_form(client, f"{started.url}/vote", payload)
    assert response.status_code == 409
    assert "closed" in response.text
    written = post_form(client, f"{started.url}/statements", {"text": "Too late."})
    assert written.status_code == 409
    assert post_form(client, f"{started.url}/status", {"status": "open"}).status_code == 403


# Results.


def test_results_wait_for_the_threshold_of_voters(
    login_as: SignIn, started: Started, runtime: Runtime, clock: FixedClock, world: World
) -> None:
    """Nothing of the votes shows before three people voted: no counts, no map, no shares."""
    member = login_as("member")
    for number, someone in enumerate((world.manager.id, world.sponsor.id)):
        page = member.get(f"{started.url}/results").text
        assert "Not enough votes yet" in page
        assert '<dd id="vote-count">—</dd>' in page and '<dd id="participant-count">—</dd>' in page
        assert "<svg" not in page and "% agree" not in page
        cast(runtime, clock, someone, started, {started.statements[number]: 1})
    cast(runtime, clock, world.member.id, started, {started.statements[0]: -1})
    page = member.get(f"{started.url}/results").text
    assert "Not enough votes yet" not in page and "<svg" in page
    assert '<dd id="vote-count">3</dd>' in page


def test_results_show_groups_consensus_and_partner_lines(
    login_as: SignIn, crowd: Crowd, world: World
) -> None:
    page = login_as("observer").get(f"{crowd.started.url}/results").text
    assert '<dd id="participant-count">10</dd>' in page
    assert '<dd id="vote-count">50</dd>' in page
    assert '<dd id="group-count">2</dd>' in page
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert svg.count('class="dot series-') == 10
    assert svg.count('class="marker"') == 5
    assert svg.count('class="centre-ring series-') == 2
    assert "Group A" in page and "Group B" in page
    groups = section(page, "groups")
    assert re.search(r"100% of group A (agree|disagree), against 0% of everyone else", groups)
    consensus = section(page, "consensus")
    assert EVERYONE_SAYS in consensus.split("Most disagree")[0]
    divisive = section(page, "divisive")
    assert NORTH_SAYS[0] in divisive and "0% agree" in divisive and "100% agree" in divisive
    partners = section(page, "partners")
    assert "Opinion groups follow partner lines." in partners
    assert "Cramér's V = 1.00" in partners
    assert "Northwind" in partners and "Contoso" in partners
    bridging = partners[partners.index("Bridging statements") : partners.index("Fault lines")]
    assert EVERYONE_SAYS in bridging
    fault_lines = partners[partners.index("Fault lines") :]
    assert all(text in fault_lines for text in (*NORTH_SAYS, *CONTOSO_SAYS))
    assert 'class="promote"' not in page


def test_small_partners_are_merged_and_never_named_as_left_out(
    login_as: SignIn, started: Started, runtime: Runtime, clock: FixedClock, world: World
) -> None:
    """Threshold 3: two Northwind and one Contoso voter merge into one "other" bucket, which
    leaves nothing to compare; with three Northwind voters Contoso's one is left out silently."""
    everyone_agrees = dict.fromkeys(started.statements, 1)
    for someone in (world.manager.id, world.member.id, world.sponsor.id):
        cast(runtime, clock, someone, started, everyone_agrees)
    member = login_as("member")
    partners = section(member.get(f"{started.url}/results").text, "partners")
    assert "alignment-table" not in partners
    assert "at least two partners with 3 or more participants" in partners
    for someone in add_people(runtime, world, "northwind", 3):
        cast(runtime, clock, someone.id, started, everyone_agrees)
    page = member.get(f"{started.url}/results").text
    assert '<dd id="vote-count">18</dd>' in page, "a new release: three more people voted"
    partners = section(page, "partners")
    assert "Left out" not in partners and "Contoso" not in partners
    assert "alignment-table" not in partners


def test_the_results_poll_and_answer_204_when_nothing_changed(
    login_as: SignIn, started: Started, runtime: Runtime, clock: FixedClock, world: World
) -> None:
    member = login_as("member")
    page = member.get(f"{started.url}/results").text
    assert 'hx-trigger="every 5s' in page
    version = re.search(r'data-version="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert f'hx-get="{started.url}/results?v={version}"' in page
    headers = {"HX-Request": "true", "HX-Target": "results"}
    same = member.get(f"{started.url}/results?v={version}", headers=headers)
    assert same.status_code == 204
    for someone in (world.sponsor.id, world.manager.id):
        cast(runtime, clock, someone, started, {started.statements[0]: 1})
        assert member.get(f"{started.url}/results?v={version}", headers=headers).status_code == 204
    cast(runtime, clock, world.member.id, started, {started.statements[0]: 1})
    changed = member.get(f"{started.url}/results?v={version}", headers=headers)
    assert changed.status_code == 200
    assert changed.text.lstrip().startswith('<div id="results"')
    assert "<html" not in changed.text
    assert '<dd id="vote-count">3</dd>' in changed.text
    assert f"?v={version}" not in changed.text


def test_a_manager_promotes_a_consensus_statement(
    client: TestClient, crowd: Crowd, world: World, runtime: Runtime
) -> None:
    login(client, world.manager.email, world.manager.password)
    results = f"{crowd.started.url}/results"
    page = client.get(results).text
    everyone = crowd.started.statements[CROWD_TEXTS.index(EVERYONE_SAYS)]
    action = f"{crowd.started.url}/statements/{everyone}/promote"
    assert f'action="{action}"' in page
    assert "Nothing yet." in section(page, "promoted")
    declare_by_body = (
        f"/a/{world.alliance_id}/declarations/new?deliberation_id={crowd.started.id}"
        f"&amp;statement_id={everyone}"
    )
    assert declare_by_body in page  # a body declares it through the declarations page
    data = {"target": "declaration", "rationale": "Everyone agreed.", "rule": "consensus"}
    response = post_form(client, action, data)
    assert response.headers["location"] == f"{results}#promoted"
    promoted = section(follow(client, response), "promoted")
    assert "Declaration" in promoted and EVERYONE_SAYS in promoted
    assert world.manager.name not in promoted
    charter = post_form(client, action, {"target": "charter"})
    assert charter.status_code == 303
    assert "Charter clause" in section(client.get(results).text, "promoted")

    again = post_form(client, action, {"target": "charter"})
    assert again.status_code == 409
    assert "already in the charter" in again.text
    divided = crowd.started.statements[0]
    refused = post_form(
        client, f"{crowd.started.url}/statements/{divided}/promote", {"target": "charter"}
    )
    assert refused.status_code == 409
    assert "statement in the agreed consensus can be promoted" in refused.text
    bad_rule = post_form(client, action, {"target": "declaration", "rule": "dictatorship"})
    assert bad_rule.status_code == 422
    assert f'id="f-p-{everyone}-rule-error"' in bad_rule.text
    assert client.get(f"/a/{world.alliance_id}").status_code == 200
    with runtime.uow() as uow:
        sources = [d.source for d in uow.find(m.Declaration, alliance_id=world.alliance_id)]
    assert sources == [f"deliberation {crowd.started.id}, statement {everyone}"]


def test_members_cannot_promote(login_as: SignIn, crowd: Crowd) -> None:
    member = login_as("member")
    everyone = crowd.started.statements[CROWD_TEXTS.index(EVERYONE_SAYS)]
    url = f"{crowd.started.url}/statements/{everyone}/promote"
    assert post_form(member, url, {"target": "charter"}).status_code == 403


# Anonymity.


def identities(runtime: Runtime, world: World, crowd: Crowd) -> dict[str, str]:
    """Everything that would tell who someone is: ids, emails and names, by what they are."""
    with runtime.uow() as uow:
        participants = uow.find(
            m.Participant, alliance_id=world.alliance_id, deliberation_id=crowd.started.id
        )
        members = uow.find(m.Member, alliance_id=world.alliance_id)
        found = {p.id: "participant id" for p in participants}
        found |= {member.id: "member id" for member in members}
        for participant in participants:
            someone = person(uow, participant.person_id or "")
            found |= {someone.id: "person id", someone.email: "email", someone.name: "name"}
    found |= dict.fromkeys(crowd.emails, "email") | dict.fromkeys(crowd.names, "name")
    return found


@pytest.fixture
def tokens(runtime: Runtime, world: World) -> Iterator[dict[str, str]]:
    with runtime.uow() as uow:
        made = {
            role: do_create_token(uow, person(uow, world.person(role).id), "scan")[1]
            for role in ("admin", "manager", "member", "sponsor", "observer")
        }
        uow.session.commit()
    yield made


def test_no_page_or_api_shows_who_voted(
    client: TestClient,
    crowd: Crowd,
    world: World,
    runtime: Runtime,
    tokens: dict[str, str],
) -> None:
    secret = identities(runtime, world, crowd)
    participant_ids = [kind for kind in secret.values() if kind == "participant id"]
    assert len(participant_ids) == len(crowd.north) + len(crowd.contoso)
    started = crowd.started
    pages = ["/results", "", "/moderation"]
    api = ["/results", "", "/statements?moderation=all", "/next"]
    for role in ("admin", "manager", "member", "sponsor", "observer"):
        client.cookies.clear()
        me = world.person(role)
        login(client, me.email, me.password)
        answers = {
            f"page {started.url}{path}": client.get(f"{started.url}{path}") for path in pages
        }
        answers[f"page /a/{world.alliance_id}/deliberations"] = client.get(
            f"/a/{world.alliance_id}/deliberations"
        )
        answers[f"htmx {started.url}/results"] = client.get(
            f"{started.url}/results", headers={"HX-Request": "true", "HX-Target": "results"}
        )
        bearer = {"Authorization": f"Bearer {tokens[role]}"}
        for path in api:
            answers[f"api {started.api}{path}"] = client.get(f"{started.api}{path}", headers=bearer)
        answers["api list"] = client.get(
            f"/api/v1/alliances/{world.alliance_id}/deliberations", headers=bearer
        )
        shown = 0
        for where, response in answers.items():
            if response.status_code != 200:
                continue
            shown += 1
            text = response.text
            for value, kind in secret.items():
                if value in (me.name, me.email, me.id):
                    continue  # the page header greets the viewer by name
                assert value not in text, f"{role} sees a {kind} ({value}) on {where}"
        assert shown >= 6, role
