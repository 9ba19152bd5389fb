"""An archived event's hash, encoded by orjson, is always ``event_hash``'s."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coauthor.services.eventlog import (
    GENESIS,
    archived_event_hash,
    check_records,
    event_hash,
)
from tests.unit.test_domain_events import CHAIN, chain

AT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
"""What an archive's checked text can hold: every JSON value but ``NaN`` and ``Infinity``
(refused by the scan), integers past 64 bits and every character but lone surrogates."""
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400)
@given(
    payload=st.dictionaries(st.text(), json_values, max_size=5),
    actor=st.none() | st.text(max_size=20),
    kind=st.text(max_size=20),
    seq=st.integers(min_value=1, max_value=2**40),
    offset=st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_the_same_hash_for_every_json_payload(
    payload: dict, actor: str | None, kind: str, seq: int, offset: int
) -> None:
    at = AT.astimezone(timezone(timedelta(minutes=offset)))
    args = (CHAIN, seq, at, actor, kind, payload, GENESIS)
    assert archived_event_hash(*args) == event_hash(*args)


@pytest.mark.parametrize(
    "value",
    [1e-07, 1e16, 1e22, 0.1, -0.0, 5e-324, 1.7976931348623157e308, 2**64, -(2**63) - 1],
)
def test_numbers_orjson_would_print_otherwise_are_hashed_alike(value: object) -> None:
    payload = {"amount": value, "list": [value], "nested": {"x": [1, value]}}
    args = (CHAIN, 1, AT, None, "contribution.recorded", payload, GENESIS)
    assert archived_event_hash(*args) == event_hash(*args)


@pytest.mark.parametrize("text", ["\x00\x1f\x7f", "\u2028\u2029", '"\\/', "é漢😀", "09:00.5"])
def test_every_character_is_hashed_alike(text: str) -> None:
    payload = {text: text, "list": [text, {text: [text]}]}
    args = (CHAIN, 1, AT, text, text, payload, GENESIS)
    assert archived_event_hash(*args) == event_hash(*args)


def test_what_json_cannot_hold_is_refused_or_hashed_alike() -> None:
    class Named(str):
        pass

    for payload in ({"when": AT}, {"when": AT.date()}):
        args = (CHAIN, 1, AT, None, "x", payload, GENESIS)
        with pytest.raises(TypeError):
            event_hash(*args)
        with pytest.raises(TypeError):
            archived_event_hash(*args)
    for payload in ({"name": Named("x")}, {1: "one", 2: None}):
        args = (CHAIN, 1, AT, None, "x", payload, GENESIS)
        assert archived_event_hash(*args) == event_hash(*args)


def test_records_from_checked_text_are_checked_alike() -> None:
    payloads = [{"amount": 1e-07}, {"text": "ok"}, {"n": 3}]
    events = chain(payloads)
    tampered = [*events[:2], replace(events[2], payload={"n": 4})]
    for from_checked_text in (False, True):
        assert check_records(CHAIN, events, None, from_checked_text=from_checked_text).ok
        broken = check_records(CHAIN, tampered, None, from_checked_text=from_checked_text)
        assert (broken.ok, broken.first_broken_seq) == (False, 3)
    assert json.dumps(payloads[0]) == '{"amount": 1e-07}'
