"""An event's hash is always the definition's (docs/architecture.md): the SHA-256 of the
canonical JSON — keys sorted, no spaces, text as it is — of its fields, its time in UTC;
whether ``event_hash`` encodes it with orjson (a plain event) or with the standard
library."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import TzInfo

from coauthor.services.eventlog import GENESIS, check_events, event_hash
from tests.unit.test_domain_events import CHAIN, chain

AT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def defined_hash(
    chain: str, seq: int, at: datetime, actor: str | None, kind: str, payload: dict, prev: str
) -> str:
    fields = {"chain": chain, "seq": seq, "at": at.astimezone(UTC).isoformat(), "actor": actor}
    fields |= {"kind": kind, "payload": payload, "prev": prev}
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
"""Every JSON value but ``NaN`` and ``Infinity``, integers past 64 bits and every character
but lone surrogates."""
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
zones = st.sampled_from([UTC, TzInfo(0), ZoneInfo("Europe/London"), None]) | st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-14 * 60, 14 * 60)
)
times = st.builds(
    lambda moment, zone: moment.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    zones,
)


@settings(max_examples=500)
@given(
    payload=st.dictionaries(st.text(), json_scalars, max_size=6)
    | st.dictionaries(st.text(), json_values, max_size=4),
    at=times,
    actor=st.none() | st.text(max_size=20),
    kind=st.text(max_size=20),
    seq=st.integers(min_value=1, max_value=2**40),
)
def test_the_same_hash_for_every_event(
    payload: dict, at: datetime, actor: str | None, kind: str, seq: int
) -> None:
    args = (CHAIN, seq, at, actor, kind, payload, GENESIS)
    assert event_hash(*args) == defined_hash(*args)


@pytest.mark.parametrize(
    "value",
    [1e-07, 1e16, 1e22, 0.1, -0.0, 5e-324, 1.7976931348623157e308, 2**64, -(2**63) - 1],
)
def test_numbers_orjson_would_print_otherwise_are_hashed_alike(value: object) -> None:
    args = (CHAIN, 1, AT, None, "contribution.recorded", {"amount": value}, GENESIS)
    assert event_hash(*args) == defined_hash(*args)


@pytest.mark.parametrize("text", ["\x00\x1f\x7f", "\u2028\u2029", '"\\/', "é漢😀", "09:00.5"])
def test_every_character_is_hashed_alike(text: str) -> None:
    args = (CHAIN, 1, AT, text, text, {text: text, "n": 1, "t": True, "z": None}, GENESIS)
    assert event_hash(*args) == defined_hash(*args)


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 1, 5, 9, 30, 0, 250_000, tzinfo=TzInfo(0)),
        datetime(999, 1, 5, tzinfo=UTC),
        datetime(2026, 1, 5, 9, 30, tzinfo=ZoneInfo("Europe/London")),  # zero in winter
        datetime(2026, 7, 5, 9, 30, tzinfo=ZoneInfo("Europe/London")),
        datetime(2026, 1, 5, 9, 30, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_times_are_hashed_alike(at: datetime) -> None:
    args = (CHAIN, 1, at, None, "x", {"n": 1}, GENESIS)
    assert event_hash(*args) == defined_hash(*args)


def test_what_json_cannot_hold_is_refused_or_hashed_alike() -> None:
    class Named(str):
        pass

    for payload in ({"when": AT}, {"when": date(2026, 1, 5)}):
        args = (CHAIN, 1, AT, None, "x", payload, GENESIS)
        with pytest.raises(TypeError):
            defined_hash(*args)
        with pytest.raises(TypeError):
            event_hash(*args)
    for payload in ({"name": Named("x")}, {1: "one", 2: None}, {Named("k"): 1}):
        args = (CHAIN, 1, AT, None, "x", payload, GENESIS)
        assert event_hash(*args) == defined_hash(*args)


def test_a_chain_of_plain_and_other_events_is_checked_alike() -> None:
    events = chain([{"amount": 1e-07}, {"text": "ok"}, {"n": 3}, {"nested": {"n": 3}}])
    assert check_events(CHAIN, events).ok
    tampered = [*events[:2], replace(events[2], payload={"n": 4}), events[3]]
    broken = check_events(CHAIN, tampered)
    assert (broken.ok, broken.first_broken_seq) == (False, 3)
