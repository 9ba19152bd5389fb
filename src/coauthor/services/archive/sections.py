"""Finding one top-level array of an archive's JSON text, and its items, without parsing it.

A large archive's event chain is a million items: read whole into records, it
is half of what an import holds in memory. ``split_section`` finds the byte
span of a top-level array (``"events": [...]``) and where each of its items
starts and ends, so that the rest of the document is read without it and the
items a chunk at a time (``chunks``).

The text is read as bytes in pieces, with numpy: escaped backslashes and
escaped quotes are first blanked (same length, so every position stays), so a
quote always opens or closes a string; the parity of the quotes before a byte
says whether it is inside a string; the brackets outside strings give each
byte's depth. The array is the value of the key at depth 1, its items are
separated by the commas at depth 2 between its brackets. Anything unexpected
(the key twice, its value not an array) gives None: the caller then reads the
document whole, as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from coauthor.services.archive.jsontext import prefix_parity

PIECE = 1 << 22
"""Bytes looked at in one numpy step."""

_QUOTE, _COMMA, _COLON = ord('"'), ord(","), ord(":")
_OPENERS = (ord("["), ord("{"))
_CLOSERS = (ord("]"), ord("}"))
_SPACE = b" \t\r\n"


@dataclass(frozen=True)
class Section:
    """A top-level array of a JSON text: its brackets' positions and its items' separators."""

    opening: int
    """The position of its ``[``."""
    closing: int
    """The position of its ``]``."""
    commas: np.ndarray
    """The positions of the commas between its items."""
    empty: bool
    """Nothing but white space between its brackets."""

    @property
    def items(self) -> int:
        return 0 if self.empty else self.commas.size + 1

    def rest(self, raw: bytes) -> bytes:
        """The text with this array emptied: ``[]`` in its place."""
        return emptied(raw, (self,))

    def whole(self, raw: bytes) -> bytes:
        """This array's text, brackets and all."""
        return raw[self.opening : self.closing + 1]

    def chunk_count(self, size: int) -> int:
        """How many chunks of ``size`` items it makes (the last may be shorter)."""
        return -(-self.items // size)

    def chunks(self, raw: bytes, size: int) -> Iterator[bytes]:
        """Its items, ``size`` at a time, each chunk a JSON array of its own."""
        for number in range(self.chunk_count(size)):
            yield self.chunk(raw, size, number)

    def chunk(self, raw: bytes, size: int, number: int) -> bytes:
        """Items ``number * size`` to ``(number + 1) * size`` (or the last), as a JSON array
        of their own."""
        first = number * size
        last = min(first + size, self.items)
        start = self.opening if first == 0 else int(self.commas[first - 1])
        end = self.closing if last == self.items else int(self.commas[last - 1])
        return b"[" + raw[start + 1 : end] + b"]"


def emptied(raw: bytes, sections: tuple[Section, ...]) -> bytes:
    """The text with each of ``sections`` (arrays apart from each other) emptied."""
    parts, start = [], 0
    for section in sorted(sections, key=lambda section: section.opening):
        parts += (raw[start : section.opening], b"[]")
        start = section.closing + 1
    return b"".join((*parts, raw[start:]))


@dataclass
class _Walk:
    """What the pieces found so far: where strings start at depth 1, where values at depth
    1 close (depth 2 → 1), the commas at depth 2; and the state at the end of the last piece."""

    strings: list[np.ndarray]
    closings: list[np.ndarray]
    commas: list[np.ndarray]
    inside: int = 0
    depth: int = 0


_OTHER, _QUOTE_CLASS, _OPENER, _CLOSER, _COMMA_CLASS = range(5)
_CLASSES = np.zeros(256, np.uint8)
_CLASSES[_QUOTE] = _QUOTE_CLASS
_CLASSES[list(_OPENERS)] = _OPENER
_CLASSES[list(_CLOSERS)] = _CLOSER
_CLASSES[_COMMA] = _COMMA_CLASS
_CLASS_OF_BYTE = bytes(_CLASSES.tolist())
"""``_CLASSES`` as a ``bytes.translate`` table: one C pass over a piece, no numpy indexing."""


def _walk(text: bytes) -> _Walk:
    """Each piece's quotes, brackets and commas are picked out first (one translation of
    its bytes), and only they are walked: a sixth of the bytes."""
    walk = _Walk([], [], [])
    for start in range(0, len(text), PIECE):
        classes = np.frombuffer(text[start : start + PIECE].translate(_CLASS_OF_BYTE), np.uint8)
        where = np.flatnonzero(classes != 0)  # a third of the time on booleans
        kinds = classes[where]
        quotes = kinds == _QUOTE_CLASS
        inside = prefix_parity(quotes, walk.inside)
        outside = ~quotes & (inside == 0)
        opens = outside & (kinds == _OPENER)
        closes = outside & (kinds == _CLOSER)
        after = walk.depth + np.cumsum(opens.astype(np.int32) - closes.astype(np.int32))
        positions = start + where
        walk.strings.append(positions[quotes & (inside == 1) & (after == 1)])
        walk.closings.append(positions[closes & (after == 1)])
        walk.commas.append(positions[outside & (kinds == _COMMA_CLASS) & (after == 2)])
        if where.size:
            walk.inside, walk.depth = int(inside[-1]), int(after[-1])
    return walk


def _next_char(raw: bytes, position: int) -> int:
    """The position of the first byte at or after ``position`` that is not white space."""
    while position < len(raw) and raw[position] in _SPACE:
        position += 1
    return position


def _values_of(raw: bytes, text: bytes, strings: list[int], name: str) -> list[int]:
    """Where the values of the top-level keys ``name`` start. Keys are compared decoded
    (``"ev\\u0065nts"`` is ``events`` too); ``text`` is ``raw`` with escapes blanked."""
    found = []
    for position in strings:
        end = text.index(b'"', position + 1) + 1
        colon = _next_char(text, end)
        if colon < len(text) and text[colon] == _COLON and json.loads(raw[position:end]) == name:
            found.append(_next_char(text, colon + 1))
    return found


def split_section(raw: bytes, name: str) -> Section | None:
    """The top-level array ``name`` of the JSON object ``raw`` (whose scan passed: see
    ``jsontext.checked_text``), or None when it is missing, given twice or not an array."""
    return split_sections(raw, (name,))[name]


def split_sections(raw: bytes, names: tuple[str, ...]) -> dict[str, Section | None]:
    """``split_section`` of each of ``names``, from one walk of the text."""
    text = raw.replace(b"\\\\", b"__").replace(b'\\"', b"__") if b"\\" in raw else raw
    walk = _walk(text)
    if not walk.strings:  # no text at all: the parser will say what is wrong
        return dict.fromkeys(names)
    strings = np.concatenate(walk.strings).tolist()
    closings = np.concatenate(walk.closings)
    commas = np.concatenate(walk.commas)
    return {name: _section(raw, text, strings, closings, commas, name) for name in names}


def _section(
    raw: bytes,
    text: bytes,
    strings: list[int],
    closings: np.ndarray,
    commas: np.ndarray,
    name: str,
) -> Section | None:
    try:
        found = _values_of(raw, text, strings, name)
    except ValueError:  # a key that is no JSON string: the parser will say what is wrong
        return None
    if len(found) != 1 or not text.startswith(b"[", found[0]):
        return None
    opening = found[0]
    after = closings[closings > opening]
    if not after.size:
        return None
    closing = int(after[0])
    inner = commas[(commas > opening) & (commas < closing)]
    empty = not inner.size and _next_char(text, opening + 1) == closing
    return Section(opening, closing, inner, empty)
