"""The keyed hash and the chain's end, checked on events held in memory; reading JSON safely."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import timedelta, timezone

import pytest

from coauthor.domain.model import Event
from coauthor.eventkey import EventKey, event_key_from, key_id_of
from coauthor.services.archive.jsontext import nesting_depth
from coauthor.services.eventlog import Head, check_events, event_hash
from coauthor.services.inputs import unstorable_text
from tests.unit.test_domain_events import CHAIN, chain

SECRET = "0123456789abcdef0123456789abcdef"
KEY = EventKey(SECRET)


def keyed(events: list[Event], key: EventKey = KEY) -> list[Event]:
    return [replace(e, key_id=key.key_id, mac=key.event_mac(e.hash)) for e in events]


def head_of(events: list[Event], key: EventKey | None = KEY) -> Head:
    last = events[-1]
    if key is None:
        return Head(last.seq, last.hash)
    return Head(last.seq, last.hash, key.key_id, key.head_mac(CHAIN, last.seq, last.hash))


def test_macs_are_hmac_sha256_of_the_hash_and_of_the_head() -> None:
    digest = "ab" * 32
    expected = hmac.new(SECRET.encode(), b"event\x00" + digest.encode(), hashlib.sha256)
    assert KEY.event_mac(digest) == expected.hexdigest()
    head = hmac.new(SECRET.encode(), f"head\x00{CHAIN}\x007\x00{digest}".encode(), hashlib.sha256)
    assert KEY.head_mac(CHAIN, 7, digest) == head.hexdigest()
    assert KEY.key_id == key_id_of(SECRET) != key_id_of(SECRET + "x")
    assert len(KEY.key_id) == 16 and SECRET not in repr(KEY)


def test_a_short_key_is_refused_and_no_key_is_none() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        EventKey("short")
    assert event_key_from("") is None


def test_a_keyed_chain_checks_strictly_under_its_key() -> None:
    events = keyed(chain([{"n": n} for n in range(5)]))
    assert check_events(CHAIN, events, head_of(events), key=KEY, strict=True).ok


def test_strict_checking_refuses_missing_foreign_and_wrong_macs() -> None:
    events = keyed(chain([{"n": n} for n in range(5)]))
    other = EventKey("another key of thirty-two characters!")
    cases = {
        "carries no MAC though this server keys its log": replace(events[2], mac=None),
        f"keyed with key {other.key_id}, not this server's key": keyed([events[2]], other)[0],
        "its MAC does not match: the chain was recomputed": replace(events[2], mac="0" * 64),
    }
    for reason, changed in cases.items():
        tampered = [*events[:2], changed, *events[3:]]
        report = check_events(CHAIN, tampered, head_of(events), key=KEY, strict=True)
        assert (report.first_broken_seq, report.reason) == (3, reason)


def test_a_head_moved_back_fails_its_mac() -> None:
    events = keyed(chain([{"n": n} for n in range(5)]))
    cut = events[:3]
    moved = Head(3, cut[-1].hash, KEY.key_id, "f" * 64)
    report = check_events(CHAIN, cut, moved, key=KEY, strict=True)
    assert (report.at_head, report.where) == (True, "head")
    assert report.reason == "its MAC does not match: the chain's end was moved"
    assert check_events(CHAIN, cut, head_of(cut), key=KEY, strict=True).ok


def test_lenient_checking_counts_macs_it_cannot_check() -> None:
    other = EventKey("another key of thirty-two characters!")
    events = keyed(chain([{"n": n} for n in range(4)]), other)
    report = check_events(CHAIN, events, head_of(events, other), key=KEY)
    assert report.ok and report.unchecked_macs == 4
    plain = chain([{"n": n} for n in range(4)])
    assert check_events(CHAIN, plain, head_of(plain, None), key=KEY).ok


def test_events_missing_from_the_end_are_reported_at_the_head() -> None:
    events = chain([{"n": n} for n in range(5)])
    report = check_events(CHAIN, events[:3], head_of(events, None))
    assert (report.where, report.first_broken_seq) == ("head", 4)
    assert "the chain ends at event 3 but its head records event 5" in report.reason


def test_the_same_instant_with_another_offset_hashes_the_same() -> None:
    [event] = chain([{"n": 1}])
    shifted = event.at.astimezone(timezone(timedelta(hours=2)))
    assert shifted.isoformat().endswith("+02:00")
    args = (CHAIN, 1, shifted, event.actor_id, event.kind, event.payload, event.prev_hash)
    assert event_hash(*args) == event.hash


def test_nesting_depth_skips_brackets_inside_strings() -> None:
    assert nesting_depth('{"a": [1, {"b": "[[[\\"]]"}]}') == 3
    assert nesting_depth("[" * 50 + "]" * 50) == 50
    assert nesting_depth('"just text"') == 0


def test_unstorable_text_names_each_place() -> None:
    value = {"a": ["ok", "x\x00"], "b\ud800": {"c": "fine", "d": "\udfff"}}
    assert unstorable_text(value) == [
        ((), "is not valid Unicode: it holds a lone surrogate (\\ud800)"),  # a key: its object
        (("a", 1), "contains a NUL character (\\u0000), which text may not hold"),
        (("b\ud800", "d"), "is not valid Unicode: it holds a lone surrogate (\\udfff)"),
    ]
