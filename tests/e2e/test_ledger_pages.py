"""Ledger pages: asking, one-click moves, refusals, the ledger's filters and pages, my
commitments and the notice, obligations, declarations, the charter, the figures, the feed.

The seeded world (tests/e2e/conftest.py): the manager and the member speak for Northwind,
the sponsor and the observer for Contoso; a steering committee seats the manager and the
sponsor, and met on 10 March with only the manager present.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import icalendar
import pytest
from fastapi.testclient import TestClient

from coauthor.clock import FixedClock
from coauthor.domain import model as m
from coauthor.domain.commitments import Commitment
from coauthor.runtime import Runtime
from coauthor.services.ledger import commitments as ledger
from coauthor.services.mechanics import registers
from tests.e2e.conftest import World, event_count, login, post_form


def sign_in(client: TestClient, world: World, role: str) -> TestClient:
    client.cookies.clear()
    someone = world.person(role)
    assert login(client, someone.email, someone.password).status_code == 303
    return client


def ask(client: TestClient, world: World, performer: str = "sponsor", **fields: str) -> str:
    """Post the ask form; returns the new commitment's page."""
    data = {
        "move": "request",
        "what": "Quarterly heat-pump sales by country",
        "conditions": "One table per country",
        "due_on": "2026-03-20",
        "performer_ids.0": world.person(performer).id,
    } | fields
    response = post_form(client, f"/a/{world.alliance_id}/ledger", data)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def move(client: TestClient, page: str, move_name: str, **fields: str) -> httpx.Response:
    response = post_form(client, f"{page}/moves", {"move": move_name} | fields)
    assert response.headers.get("location", "") != "/login", "signed out"
    return response


def buttons(html: str) -> list[str]:
    return re.findall(r'<button type="submit" name="move" value="([a-z_]+)"', html)


def test_a_request_promised_reported_and_accepted_through_the_pages(
    client: TestClient, world: World
) -> None:
    sign_in(client, world, "member")
    page = ask(client, world)
    seen = client.get(page).text
    assert "Quarterly heat-pump sales by country" in seen
    assert buttons(seen) == ["withdraw", "progress_note"]  # the customer waits
    sign_in(client, world, "sponsor")
    mine = client.get("/commitments").text
    assert 'title="waiting on your answer">1<' in mine  # the notice in the header
    assert "Quarterly heat-pump sales by country" in mine.split('id="owe"')[0]
    assert buttons(client.get(page).text) == ["promise", "decline", "progress_note"]
    assert move(client, page, "promise", text="Yes, by the 20th.").status_code == 303
    link = "https://example.org/sales.xlsx"
    assert move(client, page, "report_completion", evidence=link).status_code == 303
    sign_in(client, world, "member")
    assert buttons(client.get(page).text) == [
        "declare_satisfied",
        "declare_not_satisfied",
        "withdraw",
        "progress_note",
    ]
    assert move(client, page, "declare_satisfied").status_code == 303
    done = client.get(page).text
    assert 'class="badge phase-fulfilled"' in done
    said = re.findall(r"</span>\s+(asked|promised|reported it done|declared satisfaction)", done)
    assert said == ["asked", "promised", "reported it done", "declared satisfaction"]
    assert f'href="{link}"' in done
    assert "Yes, by the 20th." in done
    assert 'id="your-move"' not in done


def test_a_move_the_table_refuses_says_why_and_writes_nothing(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    sign_in(client, world, "member")
    page = ask(client, world)
    sign_in(client, world, "sponsor")
    before = event_count(runtime)
    refused = move(client, page, "declare_satisfied")
    assert refused.status_code == 409
    assert "The performer cannot declare satisfied now." in refused.text
    assert "the performer may promise, make a counter-offer, decline" in refused.text
    assert event_count(runtime) == before
    unterms = move(client, page, "counter_offer")
    assert unterms.status_code == 422
    assert 'id="f-counter_offer-conditions-error"' in unterms.text
    assert '<details class="move-form" open>' in unterms.text
    sign_in(client, world, "observer")
    watched = client.get(page).text
    assert 'id="your-move"' not in watched
    assert "Only this commitment's customer and performers make its moves." in watched
    assert move(client, page, "promise").status_code == 403


def test_asking_needs_someone_to_ask_and_a_real_member(client: TestClient, world: World) -> None:
    sign_in(client, world, "member")
    data = {"move": "request", "what": "A table"}
    nobody = post_form(client, f"/a/{world.alliance_id}/ledger", data)
    assert nobody.status_code == 422
    assert 'id="f-ask-performer_ids-error"' in nobody.text
    assert "Say whom you ask." in nobody.text
    observer = data | {"performer_ids.0": world.observer.id}
    refused = post_form(client, f"/a/{world.alliance_id}/ledger", observer)
    assert refused.status_code == 422
    assert "observers do not make commitments" in refused.text


def test_the_ledger_filters_and_pages(
    client: TestClient, world: World, runtime: Runtime, clock: FixedClock
) -> None:
    with runtime.uow() as uow:
        member = uow.get(m.Person, id=world.member.id)
        for number in range(27):
            clock.advance(timedelta(minutes=5))
            payload = {
                "move": "request",
                "what": f"Item {number:02d}",
                "performer_ids": [world.sponsor.id],
                "due_on": "2026-03-05" if number == 0 else "2026-06-01",
            }
            ledger.do_open_commitment(uow, member, world.alliance_id, payload)
        uow.session.commit()
    sign_in(client, world, "observer")
    first = client.get(f"/a/{world.alliance_id}/ledger").text
    items = re.findall(r">Item (\d\d)</a>", first)
    assert items == [f"{n:02d}" for n in range(26, 1, -1)]  # 25 a page, newest first
    older = re.search(r'href="([^"]+)" rel="next"', first)
    assert older is not None
    rest = client.get(older.group(1).replace("&amp;", "&")).text
    assert re.findall(r">Item (\d\d)</a>", rest) == ["01", "00"]
    clock.set(datetime(2026, 3, 10, tzinfo=UTC))
    sign_in(client, world, "observer")  # the session's age follows the clock
    overdue = client.get(f"/a/{world.alliance_id}/ledger?due=overdue").text
    assert re.findall(r">Item (\d\d)</a>", overdue) == ["00"]
    contoso = world.partners["contoso"]
    assert ">Item 26<" in client.get(f"/a/{world.alliance_id}/ledger?partner={contoso}").text
    northwind_only = f"/a/{world.alliance_id}/ledger?partner={contoso}&due=none"
    assert "No commitments match." in client.get(northwind_only).text
    closed = client.get(f"/a/{world.alliance_id}/ledger?state=closed").text
    assert "No commitments match." in closed
    bad = client.get(f"/a/{world.alliance_id}/ledger?state=lost")
    assert bad.status_code == 422


def test_my_calendar_feed_shows_my_due_dates_until_revoked(
    client: TestClient, world: World
) -> None:
    sign_in(client, world, "member")
    ask(client, world)
    made = post_form(client, "/commitments/calendar", {})
    assert made.status_code == 201
    url = re.search(r'id="feed-url" class="secret" type="text" readonly value="([^"]+)"', made.text)
    assert url is not None
    path = url.group(1).removeprefix("http://testserver")
    client.cookies.clear()  # the feed needs no session
    feed = client.get(path)
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(feed.content)
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    due = events["Owed to you: Quarterly heat-pump sales by country"]
    assert due.decoded("dtstart") == datetime(2026, 3, 20).date()
    assert "March steering meeting (Steering committee)" in events
    sign_in(client, world, "member")
    assert post_form(client, "/commitments/calendar/revoke", {}).status_code == 303
    client.cookies.clear()
    assert client.get(path).status_code == 404
    assert client.get("/calendar/cal_not-a-token.ics").status_code == 404


def test_managers_name_an_obligations_people_and_its_periods_enter_the_ledger(
    client: TestClient, world: World
) -> None:
    sign_in(client, world, "manager")
    obligation = world.items["obligation"]  # Northwind owes Contoso monthly from 15 Jan
    url = f"/a/{world.alliance_id}/ledger/obligations/{obligation}/assign"
    wrong = post_form(
        client, url, {"performer_id": world.sponsor.id, "customer_id": world.member.id}
    )
    assert wrong.status_code == 422
    assert "Must be a member of the debtor partner." in wrong.text
    named = {"performer_id": world.member.id, "customer_id": world.sponsor.id}
    assert post_form(client, url, named).status_code == 303
    page = client.get(f"/a/{world.alliance_id}/ledger/obligations").text
    # At 2 March 2026: January and February are past due and open (late); the rest are
    # open, through a year from now (15 Jan 2026 … 15 Feb 2027).
    assert '<span class="badge period-late">2 late</span>' in page
    assert '<span class="badge period-open">12 open</span>' in page
    sign_in(client, world, "member")
    assert "Quarterly capital call — due 15 Jan 2026" in client.get("/commitments").text


def test_a_body_declares_within_its_rights_through_the_form(
    client: TestClient, world: World, runtime: Runtime, clock: FixedClock
) -> None:
    clock.set(datetime(2026, 3, 11, tzinfo=UTC))
    sign_in(client, world, "manager")
    base = f"/a/{world.alliance_id}/declarations"
    body, meeting = world.items["body"], world.items["meeting"]
    form = client.get(f"{base}/new?body_id={body}&meeting_id={meeting}").text
    assert "Sponsor Person" in form and "did not attend" in form
    positions = {
        "positions.0.member_id": world.members["manager"],
        "positions.0.position": "for",
        "positions.1.member_id": world.members["sponsor"],
        "positions.1.position": "absent",
    }
    data = {
        "body_id": body,
        "meeting_id": meeting,
        "decision_right_id": world.items["decision_right"],  # consent, quorum 60 %
        "text": "Order the spare compressors.",
        "rationale": "Lead times are long.",
    } | positions
    no_quorum = post_form(client, base, data)
    assert no_quorum.status_code == 422
    assert "No quorum: 1 of 2 seats were present" in no_quorum.text
    with runtime.uow() as uow:
        manager = uow.get(m.Person, id=world.manager.id)
        right = registers.do_create_item(
            uow,
            manager,
            world.alliance_id,
            "decision_right",
            {"body_id": body, "decision_kind": "Spares", "rule": "majority", "quorum_percent": 50},
        )
        uow.session.commit()
    made = post_form(client, base, data | {"decision_right_id": right.id, "charter": "on"})
    assert made.status_code == 303, made.text
    page = client.get(made.headers["location"]).text
    assert "Order the spare compressors." in page
    assert "1 for, 0 against, 0 abstaining, 1 absent." in page
    charter = client.get(f"/a/{world.alliance_id}/charter").text
    assert "Order the spare compressors." in charter and "by declaration" in charter
    sign_in(client, world, "member")  # not seated, not a manager
    assert post_form(client, base, data | {"decision_right_id": right.id}).status_code == 403


def test_the_figures_page_and_my_own_figures(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    sign_in(client, world, "member")
    page = ask(client, world)
    clock.advance(timedelta(hours=6))  # sign in again after each jump: sessions age with it
    sign_in(client, world, "sponsor")
    assert move(client, page, "promise").status_code == 303
    clock.advance(timedelta(days=2))
    sign_in(client, world, "sponsor")
    assert move(client, page, "report_completion").status_code == 303
    clock.advance(timedelta(hours=12))
    sign_in(client, world, "member")
    assert move(client, page, "declare_satisfied").status_code == 303
    figures = client.get(f"/a/{world.alliance_id}/ledger/figures").text
    assert "100% (1 of 1)" in figures  # kept, and clear
    assert "6.0 h" in figures and "12 h" in figures  # the two waits
    mine = client.get("/commitments/figures").text
    assert "Only you see these." in mine


@pytest.mark.parametrize(
    "path",
    [
        "/ledger",
        "/ledger/figures",
        "/ledger/obligations",
        "/declarations",
        "/declarations/new",
        "/charter",
    ],
)
def test_every_ledger_page_reads_for_an_observer(
    client: TestClient, world: World, path: str
) -> None:
    sign_in(client, world, "observer")
    response = client.get(f"/a/{world.alliance_id}{path}")
    assert response.status_code == 200
    assert 'aria-current="page">Ledger</a>' in response.text


def test_waiting_count_is_in_the_header(client: TestClient, world: World, runtime: Runtime) -> None:
    sign_in(client, world, "member")
    ask(client, world)
    ask(client, world, what="Second")
    sign_in(client, world, "sponsor")
    assert 'title="waiting on your answer">2<' in client.get("/").text
    with runtime.uow() as uow:
        assert len(uow.find(Commitment, alliance_id=world.alliance_id)) == 2


def test_a_body_declares_a_deliberations_consensus_through_the_declaration_form(
    client: TestClient, world: World, runtime: Runtime, clock: FixedClock
) -> None:
    from coauthor.services.deliberation import acts as deliberation
    from coauthor.services.deliberation import results

    with runtime.uow() as uow:
        manager = uow.get(m.Person, id=world.manager.id)
        started = deliberation.do_create_deliberation(
            uow, manager, world.alliance_id, {"question": "Next?", "strict_moderation": False}
        )
        said = deliberation.do_submit_statement(
            uow, manager, world.alliance_id, started.id, {"text": "Publish a joint roadmap."}
        )
        for role in ("manager", "member", "sponsor"):
            voter = uow.get(m.Person, id=world.person(role).id)
            vote = {"statement_id": said.id, "value": 1}
            deliberation.do_vote(uow, voter, world.alliance_id, started.id, vote)
        results.do_release(uow, manager, world.alliance_id, started.id, 3)  # three voters
        right = registers.do_create_item(
            uow,
            manager,
            world.alliance_id,
            "decision_right",
            {
                "body_id": world.items["body"],
                "decision_kind": "Roadmaps",
                "rule": "majority",
                "quorum_percent": 50,
            },
        )
        uow.session.commit()
    clock.set(datetime(2026, 3, 11, tzinfo=UTC))
    sign_in(client, world, "manager")
    base = f"/a/{world.alliance_id}/declarations"
    promoting = {"deliberation_id": started.id, "statement_id": said.id}
    chosen = promoting | {"body_id": world.items["body"], "meeting_id": world.items["meeting"]}
    form = client.get(f"{base}/new", params=chosen).text
    assert "Publish a joint roadmap." in form and 'name="text"' not in form
    data = chosen | {
        "decision_right_id": right.id,
        "positions.0.member_id": world.members["manager"],
        "positions.0.position": "for",
        "positions.1.member_id": world.members["sponsor"],
        "positions.1.position": "absent",
    }
    made = post_form(client, base, data)
    assert made.status_code == 303, made.text
    page = client.get(made.headers["location"]).text
    assert "Publish a joint roadmap." in page and "a deliberation's consensus" in page
    again = post_form(client, base, data)
    assert again.status_code == 409
    assert "already a declaration" in again.text
