"""Pulse pages: the tab, opening a wave, the links, answering by link, results, CSV, imports.

Runs with the smallest anonymity threshold (3) and a comment threshold of 3, on the
seeded world (Northwind: manager, member; Contoso: sponsor, observer) plus two more
members per partner.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from coauthor.config import Settings
from coauthor.domain.model import Person, Role
from coauthor.domain.pulse import STANDARD_ITEMS
from coauthor.runtime import Runtime
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import MemberInput
from tests.e2e.conftest import World, csrf_of, event_count, post_form

SignIn = Callable[[str], TestClient]
LINK = re.compile(r'class="link-field" type="text" value="([^"]+)"')


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"anonymity_threshold": 3, "pulse_comment_threshold": 3})


@pytest.fixture
def more_members(runtime: Runtime, world: World) -> None:
    with runtime.uow() as uow:
        manager = uow.get(Person, id=world.manager.id)
        for partner in ("northwind", "contoso"):
            for i in range(2):
                data = MemberInput(
                    email=f"{partner}{i}@example.org",
                    partner_id=world.partners[partner],
                    role=Role.MEMBER,
                )
                alliances.do_add_member(uow, manager, world.alliance_id, data)
        uow.session.commit()


def pulse_url(world: World, *parts: str) -> str:
    return "/".join((f"/a/{world.alliance_id}/pulse", *parts))


def open_wave(client: TestClient, world: World, closes_on: str = "2026-03-20") -> str:
    response = post_form(client, pulse_url(world, "waves"), {"title": "Q1", "closes_on": closes_on})
    assert response.status_code == 303, response.text
    match = re.search(r"/waves/([^/]+)/links$", response.headers["location"])
    assert match
    return match.group(1)


def links_of(client: TestClient, world: World, wave_id: str) -> list[str]:
    page = client.get(pulse_url(world, "waves", wave_id, "links"))
    assert page.status_code == 200
    return [url.split("/pulse/", 1)[1] for url in LINK.findall(page.text)]


def answer_form(value: int = 5, comment: str = "") -> dict[str, str]:
    return {f"answers.{item.key}": str(value) for item in STANDARD_ITEMS} | {"comment": comment}


def answer_by_link(app_client: TestClient, token: str, form: dict[str, str]) -> object:
    csrf = csrf_of(app_client, "/login")
    return app_client.post(
        f"/pulse/{token}", data=form | {"csrf_token": csrf}, follow_redirects=False
    )


@pytest.fixture
def anonymous(app: object) -> TestClient:
    with TestClient(app) as fresh:  # type: ignore[arg-type]
        yield fresh


def test_a_manager_opens_a_wave_and_gets_one_link_per_member(
    login_as: SignIn, world: World, more_members: None
) -> None:
    client = login_as("manager")
    wave = open_wave(client, world)
    page = client.get(pulse_url(world, "waves", wave, "links"))
    assert page.status_code == 200
    assert len(LINK.findall(page.text)) == 8
    assert "mailto:member@example.org?subject=" in page.text
    assert "never says who has answered" in page.text
    again = post_form(
        client, pulse_url(world, "waves"), {"title": "Twin", "closes_on": "2026-03-21"}
    )
    assert again.status_code == 409


def test_opening_a_wave_with_a_past_closing_day_shows_the_field_error(
    login_as: SignIn, world: World, runtime: Runtime
) -> None:
    client = login_as("manager")
    before = event_count(runtime)
    response = post_form(
        client, pulse_url(world, "waves"), {"title": "Q1", "closes_on": "2026-01-01"}
    )
    assert response.status_code == 422
    assert "Must be today or later." in response.text
    assert event_count(runtime) == before


def test_members_cannot_see_the_links(login_as: SignIn, world: World) -> None:
    manager = login_as("manager")
    wave = open_wave(manager, world)
    manager.post("/logout", data={"csrf_token": csrf_of(manager, "/")})
    member = login_as("member")
    assert member.get(pulse_url(world, "waves", wave, "links")).status_code == 403


def test_answering_by_link_without_signing_in_once_and_politely(
    login_as: SignIn, world: World, anonymous: TestClient, runtime: Runtime
) -> None:
    manager = login_as("manager")
    wave = open_wave(manager, world)
    token = links_of(manager, world, wave)[0]
    page = anonymous.get(f"/pulse/{token}")
    assert page.status_code == 200 and "A few minutes, anonymously" in page.text
    assert 'name="answers.to1" value="7"' in page.text
    missing = answer_form() | {"answers.sp3": ""}
    del missing["answers.to2"]
    refused = answer_by_link(anonymous, token, missing)
    assert refused.status_code == 422
    assert refused.text.count("Please answer this question.") == 2
    assert 'name="answers.to1" value="5" checked' in refused.text
    done = answer_by_link(anonymous, token, answer_form(6, "Thanks for asking."))
    assert done.status_code == 303
    assert "Thank you" in anonymous.get(done.headers["location"]).text
    before = event_count(runtime)
    twice = answer_by_link(anonymous, token, answer_form(1))
    assert twice.status_code == 409 and "already been used" in twice.text
    assert event_count(runtime) == before
    assert anonymous.get("/pulse/not-a-link").status_code == 404


def test_my_own_link_is_on_my_pulse_page_until_i_answer(
    login_as: SignIn, world: World, anonymous: TestClient
) -> None:
    manager = login_as("manager")
    open_wave(manager, world)
    page = manager.get(pulse_url(world))
    mine = re.search(r'href="http://testserver/pulse/([^"]+)">Answer now', page.text)
    assert mine, page.text
    answer_by_link(anonymous, mine.group(1), answer_form())
    assert "Thank you: you have answered" in manager.get(pulse_url(world)).text


def test_results_appear_once_the_wave_closes_and_export_as_csv(
    login_as: SignIn, world: World, anonymous: TestClient, more_members: None
) -> None:
    manager = login_as("manager")
    wave = open_wave(manager, world)
    tokens = links_of(manager, world, wave)
    for index, token in enumerate(tokens):
        answer_by_link(anonymous, token, answer_form(4 + index % 3, f"Comment {index}"))
    running = manager.get(pulse_url(world, "waves", wave))
    assert "Results appear when the wave closes" in running.text
    assert "Scores by dimension" not in running.text
    closed = post_form(manager, pulse_url(world, "waves", wave, "close"), {})
    assert closed.status_code == 303
    page = manager.get(pulse_url(world, "waves", wave))
    assert "Scores by dimension" in page.text and "Perception gaps between partners" in page.text
    assert "Comment 0" in page.text and 'class="pulse-chart score-chart' in page.text
    export = manager.get(pulse_url(world, "waves", wave, "results.csv"))
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert {row["section"] for row in rows} == {"responses", "score", "reliability", "gap"}
    assert "Comment 0" not in export.text


def test_own_questions_are_added_and_retired(login_as: SignIn, world: World) -> None:
    client = login_as("manager")
    added = post_form(
        client, pulse_url(world, "items"), {"text": "We share the credit.", "reverse": "on"}
    )
    assert added.status_code == 303
    page = client.get(pulse_url(world))
    assert "We share the credit." in page.text and "reverse-keyed" in page.text
    item = re.search(r"/pulse/items/([^/]+)/retire", page.text)
    assert item
    assert (
        post_form(client, pulse_url(world, "items", item.group(1), "retire"), {}).status_code == 303
    )
    assert "retired" in client.get(pulse_url(world)).text
    short = post_form(client, pulse_url(world, "items"), {"text": "Hm"})
    assert short.status_code == 422 and "at least 5 characters" in short.text


GOOD_CSV = "respondent,partner,to1,to2,extra\n" + "".join(
    f"r{i},{'Northwind' if i % 2 else 'Contoso'},{i % 7 + 1},4,x\n" for i in range(6)
)


def test_an_import_reads_the_file_proposes_a_mapping_and_reports_every_problem(
    login_as: SignIn, world: World, runtime: Runtime
) -> None:
    client = login_as("manager")
    csrf = csrf_of(client, pulse_url(world, "import"))
    files = {"file": ("survey.csv", GOOD_CSV.encode(), "text/csv")}
    data = {"csrf_token": csrf, "title": "Old survey", "closed_on": "2026-02-01"}
    mapping = client.post(pulse_url(world, "import"), data=data, files=files)
    assert mapping.status_code == 200 and "The file has 6 rows and 5 columns" in mapping.text
    assert '<option value="to1" selected>' in mapping.text
    before = event_count(runtime)
    bad = GOOD_CSV.replace("r2,Contoso,3,4,x", "r2,Contoso,9,4,x")
    fields = {"csv": bad, "title": "Old survey", "closed_on": "2026-02-01"}
    fields |= {"column-0": "respondent", "column-1": "partner", "column-2": "to1"}
    fields |= {"column-3": "to2", "column-4": ""}
    refused = post_form(client, pulse_url(world, "import", "map"), fields)
    assert refused.status_code == 422
    assert "Column “extra”: cannot be mapped" in refused.text
    fields["column-4"] = "ignore"
    refused = post_form(client, pulse_url(world, "import", "map"), fields)
    assert "Line 4, column “to1”: 9 is off the scale" in refused.text
    assert event_count(runtime) == before
    fields["csv"] = GOOD_CSV
    imported = post_form(client, pulse_url(world, "import", "map"), fields)
    assert imported.status_code == 303
    assert "Scores by dimension" in client.get(imported.headers["location"]).text


def test_the_upload_step_says_what_is_missing(login_as: SignIn, world: World) -> None:
    client = login_as("manager")
    nothing = post_form(client, pulse_url(world, "import"), {"title": ""})
    assert nothing.status_code == 422 and "Choose a CSV file to import" in nothing.text
