"""Email to whoever a commitment waits on: sent after commit, to that side only, never the mover."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from coauthor.runtime import Runtime
from coauthor.services.accounts.links import Site
from coauthor.services.ledger import commitments as ledger
from coauthor.services.mail import Outbox
from tests.integration.ledger_world import World, seed
from tests.smtp_server import SmtpServer, link_in

URL = "https://coauthor.example.org"


@pytest.fixture
def world(runtime: Runtime) -> Iterator[World]:
    with runtime.uow() as uow:
        world = seed(uow, runtime.clock)  # type: ignore[arg-type]
        uow.session.commit()
        yield world


def test_each_answer_owed_is_mailed_to_the_side_that_owes_it(
    world: World, smtp_server: SmtpServer
) -> None:
    site = Site("ledger-notices", URL, Outbox(smtp_server.url, "c@example.org"))
    uow, alliance = world.uow, world.alliance_id
    payload = {"move": "request", "what": "Yield report", "performer_ids": [world.bob.id]}
    asked = uow.write(ledger.do_open_commitment, world.ann, alliance, payload, site)
    asked_id = asked.id
    to_bob = smtp_server.wait_for(world.bob.email)
    assert to_bob["Subject"] == "Waiting on you: Yield report"
    assert link_in(to_bob) == f"{URL}/a/{alliance}/ledger/{asked_id}"
    assert "Ann made a move in Helios: request." in to_bob.get_content()
    uow.write(ledger.do_move, world.bob, alliance, asked_id, {"move": "promise"}, site)
    uow.write(ledger.do_move, world.bob, alliance, asked_id, {"move": "progress_note"}, site)
    uow.write(ledger.do_move, world.bob, alliance, asked_id, {"move": "report_completion"}, site)
    to_ann = smtp_server.wait_for(world.ann.email)
    assert "report completion" in to_ann.get_content()
    uow.write(ledger.do_move, world.ann, alliance, asked_id, {"move": "declare_satisfied"}, site)
    site.outbox.wait()
    assert [message["To"] for message in smtp_server.messages] == [
        world.bob.email,
        world.ann.email,
    ]
