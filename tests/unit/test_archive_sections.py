"""Finding a top-level array of a JSON text without parsing it (``archive/sections.py``): its
items, read in chunks, and the rest of the text are what the parser reads from the whole."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coauthor.services.archive import sections
from coauthor.services.archive.sections import split_section

TRICKY = st.text(alphabet='\\"[]{},:ab é', max_size=6)
values = st.recursive(
    st.none() | st.booleans() | st.integers(-99, 99) | TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY, inner, max_size=3),
    max_leaves=8,
)


@given(
    st.dictionaries(TRICKY.filter(lambda key: key != "events"), values, max_size=4),
    st.lists(values, max_size=6),
    st.integers(0, 4),
    st.sampled_from([None, 0, 2]),
    st.integers(1, 4),
    st.integers(1, 64),
)
def test_the_items_and_the_rest_are_what_the_parser_reads(
    others: dict[str, Any],
    events: list[Any],
    where: int,
    indent: int | None,
    chunk: int,
    piece: int,
) -> None:
    keys = list(others.items())
    document = dict([*keys[:where], ("events", events), *keys[where:]])
    raw = json.dumps(document, indent=indent, ensure_ascii=False).encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sections, "PIECE", piece)
        found = split_section(raw, "events")
    assert found is not None
    assert found.items == len(events)
    assert [item for part in found.chunks(raw, chunk) for item in json.loads(part)] == events
    count = found.chunk_count(chunk)
    assert count == len(range(0, len(events), chunk))
    for number in range(count):
        part = json.loads(found.chunk(raw, chunk, number))
        assert part == events[number * chunk : (number + 1) * chunk]
    assert json.loads(found.rest(raw)) == {**document, "events": []}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": 1}',  # no such key
        b'{"events": {"a": [1]}}',  # not an array
        b'{"events": [1], "events": [2]}',  # twice
        b'{"events": [1], "ev\\u0065nts": [2]}',  # twice, once with an escape
        b'{"a": {"events": [1]}}',  # not at the top
    ],
)
def test_what_it_does_not_split(raw: bytes) -> None:
    assert split_section(raw, "events") is None


def test_keys_and_brackets_inside_strings_do_not_count() -> None:
    raw = b'{"x": "\\"events\\": [", "events" :\n [1, "a,]", [2, 3], {"b": ","}]}'
    found = split_section(raw, "events")
    assert found is not None
    assert [json.loads(part) for part in found.chunks(raw, 2)] == [[1, "a,]"], [[2, 3], {"b": ","}]]
    assert split_section(b'{"events": [ ]}', "events").items == 0  # type: ignore[union-attr]
