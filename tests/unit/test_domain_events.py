"""The hash chain, checked on events held in memory."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coauthor.domain.model import Event
from coauthor.services.eventlog import (
    GENESIS,
    Head,
    canonical_json,
    check_events,
    check_records,
    event_hash,
)

START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
CHAIN = "al_AAAAAAAAAAAAAAAA"


def chain(payloads: list[dict], chain_id: str = CHAIN) -> list[Event]:
    events: list[Event] = []
    prev = GENESIS
    for seq, payload in enumerate(payloads, start=1):
        at = START + timedelta(minutes=seq)
        digest = event_hash(chain_id, seq, at, "pe_actor", "risk.created", payload, prev)
        events.append(Event(chain_id, seq, at, "pe_actor", "risk.created", payload, prev, digest))
        prev = digest
    return events


payloads = st.lists(
    st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=3),
    min_size=1,
    max_size=8,
)


@given(payloads)
def test_an_untouched_chain_is_intact(items: list[dict]) -> None:
    report = check_events(CHAIN, chain(items))
    assert report.ok
    assert report.events == len(items)


def test_an_empty_chain_is_intact() -> None:
    assert check_events(CHAIN, []).ok


@given(payloads, st.data())
def test_editing_any_event_names_that_event(items: list[dict], data: st.DataObject) -> None:
    events = chain(items)
    index = data.draw(st.integers(min_value=0, max_value=len(events) - 1))
    events[index] = replace(events[index], kind="risk.deleted")
    report = check_events(CHAIN, events)
    assert report.first_broken_seq == index + 1
    assert report.reason == "content does not match its hash"


def test_a_rehashed_edit_breaks_the_next_link() -> None:
    events = chain([{"n": 1}, {"n": 2}, {"n": 3}])
    forged = replace(events[1], payload={"n": 20})
    prev = forged.prev_hash
    digest = event_hash(CHAIN, 2, forged.at, forged.actor_id, forged.kind, {"n": 20}, prev)
    events[1] = replace(forged, hash=digest)
    report = check_events(CHAIN, events)
    assert (report.first_broken_seq, report.reason) == (3, "does not follow the previous event")


@pytest.mark.parametrize("drop", [0, 1])
def test_a_missing_event_is_found(drop: int) -> None:
    events = chain([{"n": 1}, {"n": 2}, {"n": 3}])
    del events[drop]
    report = check_events(CHAIN, events)
    assert report.first_broken_seq == drop + 2
    assert report.reason == f"expected event {drop + 1} here"


def test_the_hash_covers_the_chain_and_the_time() -> None:
    [event] = chain([{"n": 1}])
    assert not check_events("al_other", [replace(event, chain_id="al_other")]).ok
    assert not check_events(CHAIN, [replace(event, at=event.at + timedelta(microseconds=1))]).ok


def test_canonical_json_is_key_order_independent() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == canonical_json({"a": [1, "é"], "b": 1})
    assert canonical_json({"b": 1, "a": 2}) == '{"a":2,"b":1}'


def _record(event: Event) -> SimpleNamespace:
    """The event as an archive holds it: every attribute but its chain id."""
    return SimpleNamespace(**{k: v for k, v in vars(event).items() if k != "chain_id"})


@given(payloads, st.data())
def test_an_archives_records_are_checked_as_their_events(
    items: list[dict], data: st.DataObject
) -> None:
    events = chain(items)
    head = Head(len(events), events[-1].hash)
    assert check_records(CHAIN, map(_record, events), head) == check_events(CHAIN, events, head)
    index = data.draw(st.integers(min_value=0, max_value=len(events) - 1))
    events[index] = replace(events[index], kind="risk.deleted")
    report = check_records(CHAIN, map(_record, events), head)
    assert report == check_events(CHAIN, events, head)
    assert (report.first_broken_seq, report.reason) == (
        index + 1,
        "content does not match its hash",
    )
    # the records are hashed as events of the chain checked
    assert not check_records("al_other", map(_record, chain(items)), head).ok
