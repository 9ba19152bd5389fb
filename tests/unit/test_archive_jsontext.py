"""The defensive scan of an archive's text: what it refuses, and what it leaves to the parser."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coauthor.domain.errors import ValidationFailed
from coauthor.services.archive import jsontext
from coauthor.services.archive.jsontext import (
    _NUMBERS,
    MAX_DEPTH,
    _may_hold_refused_numbers,
    _outside_strings,
    checked_text,
    decode_json,
    nesting_depth,
    prefix_parity,
)


def reason(text: str | bytes) -> str:
    with pytest.raises(ValidationFailed) as refused:
        checked_text(text)
    [error] = refused.value.errors
    return error.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": -Infinity}', "-Infinity is not a JSON number"),
        ('{"a": -2.5e309}', "the number -2.5e309 is too large"),
        ('{"a": ' + "9" * 301 + "}", "more digits"),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), f"more than {MAX_DEPTH} levels"),
        (b'{"a": "\xff"}', "not UTF-8 text (byte 7)"),
    ],
)
def test_what_the_scan_refuses(text: str | bytes, expected: str) -> None:
    assert expected in reason(text)


def test_words_and_brackets_inside_strings_do_not_count() -> None:
    text = '{"hash": "9e999", "note": "NaN [[[ Infinity", "n": 1e308}'
    assert checked_text(text) == text
    assert decode_json(text)["note"] == "NaN [[[ Infinity"


def test_a_string_cut_off_is_left_for_the_parser_to_place() -> None:
    text = '{"events": [{"hash": "ab12e9999'
    assert checked_text(text) == text
    with pytest.raises(ValidationFailed, match="not valid JSON at line 1"):
        decode_json(text)


ESCAPED = '{"a": "\\\\", "b": "\\\\\\"]]]", "c": "say \\"[[[\\" twice\\\\\\\\", "d": [1e309]}'


def test_escaped_backslashes_and_quotes_end_or_keep_their_strings() -> None:
    assert json.loads(ESCAPED)["b"] == '\\"]]]'
    assert nesting_depth(ESCAPED) == 2
    assert "the number 1e309 is too large" in reason(ESCAPED)


@given(st.recursive(st.text(alphabet='\\"[]{}aNI9e ', max_size=8), st.lists, max_leaves=12))
def test_strings_never_count_whatever_they_hold(value: Any) -> None:
    text = json.dumps({'k\\"': value})
    assert nesting_depth(text) == 1 + _list_depth(value)
    assert nesting_depth(text.replace(" ", "")) == 1 + _list_depth(value)


def _list_depth(value: Any) -> int:
    if not isinstance(value, list):
        return 0
    return 1 + max((_list_depth(item) for item in value), default=0)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": [true, false, null, 12, -3.5, 0]}',
        '{"a": 1e5, "b": true}',
        '{"a": 1E308}',
        '{"a": ' + "9" * 300 + "}",
        '{"a": ' + "9" * 301 + "}",
        '{"a": [1, 2' + "0" * 301 + "]}",
        '{"a": nope}',
        '{"a": ١٢٣}',
    ],
)
def test_the_quick_look_for_numbers_misses_nothing_the_search_finds(text: str) -> None:
    skeleton = _outside_strings(text)
    if _NUMBERS.search(skeleton) is not None:
        assert _may_hold_refused_numbers(skeleton)


def test_plain_numbers_and_words_need_no_search() -> None:
    text = '{"a": [true, false, null, 12, -3.5, 0, ' + "9" * 300 + '], "b": "NaN 1e999 E"}'
    assert not _may_hold_refused_numbers(_outside_strings(text))
    assert checked_text(text) == text


def test_objects_and_arrays_nest_alike() -> None:
    assert nesting_depth('{"a": [{}, {"b": {"é": [1]}}], "c": {}}') == 5
    assert nesting_depth('[{"a": 1}] ]] {') == 2


def _reference_skeleton(text: str) -> str:
    """The skeleton by its definition: escapes dropped, each string replaced by a mark by
    a regular expression over the whole text, cut at a string that never ends, and the
    marks made the closing quotes they stand for."""
    text = text.replace("\\\\", "").replace('\\"', "")
    skeleton = re.sub(r'"[^"]*"', "_", text)
    return skeleton.partition('"')[0].replace("_", '"')


@given(
    st.recursive(st.text(alphabet='\\"[]{}aNI9eé ', max_size=8), st.lists, max_leaves=12),
    st.integers(1, 12),
    st.booleans(),
)
def test_the_text_scanned_in_pieces_gives_the_skeleton_of_the_whole(
    value: Any, piece: int, cut_off: bool
) -> None:
    text = json.dumps({'k\\"': value, "n": [1e5, -2, True]}, ensure_ascii=False)
    if cut_off:
        text = text[: len(text) * 2 // 3]
    whole = _outside_strings(text)
    assert whole == _reference_skeleton(text)
    assert _outside_strings(text.encode()) == whole
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsontext, "SCAN_PIECE", piece)
        assert _outside_strings(text) == whole


@given(flags=st.lists(st.booleans(), max_size=70), carry=st.integers(0, 1))
def test_prefix_parity_is_the_running_count_of_flags_modulo_two(
    flags: list[bool], carry: int
) -> None:
    flags_array = np.array(flags, bool)
    expected = (np.cumsum(flags_array, dtype=np.int64) + carry) % 2
    parity = prefix_parity(flags_array, carry)
    assert parity.dtype == np.uint8
    assert parity.tolist() == expected.tolist()
