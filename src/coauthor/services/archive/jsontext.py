"""An archive's JSON text, read defensively: size, nesting and numbers checked first.

An archive comes from outside. Before anything parses it, its size is
bounded, its nesting is measured without parsing (a deep document could
exhaust a parser's recursion), and numbers JSON does not have — ``NaN``,
``Infinity``, values too large for a double — are refused: they would make
an event's hash depend on how a server prints them. Text no database can
store (NUL, lone surrogates) is the input models' to refuse, with its path.

The scan first drops every escaped backslash and escaped quote (two plain
replacements), so that a quote always opens or closes a string, then replaces
every JSON string by its closing quote (the parity of the quotes up to each
byte, with numpy), so a bracket or a word inside a string never counts, then
looks for refused numbers and measures the nesting in what is left.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

import numpy as np

from coauthor.domain.errors import ValidationFailed

MAX_DOCUMENT_BYTES = 1024 * 1024 * 1024
"""The largest archive read: a busy alliance's decade is tens of megabytes; the ledger's
benchmark (a million speech acts, each with its event) is about 700 MB."""
MAX_DEPTH = 32
"""The deepest nesting of objects and arrays: an archive needs 6, an event's payload a few more."""
MAX_DIGITS = 300
"""The longest run of digits a number may have (a double holds about 17)."""
MAX_EXPONENT = 308
"""The largest decimal exponent a double holds."""

_NUMBERS = re.compile(
    r"(?=[-\dNI])"  # only where a number or a word could start (much faster to search)
    r"(?:NaN|-?Infinity"  # not JSON
    r"|-?\d+(?:\.\d+)?[eE][+-]?(\d+)"  # a number with an exponent
    r"|\d{" + str(MAX_DIGITS + 1) + r",})"  # too many digits
)
SCAN_PIECE = 1 << 22
"""Bytes of an archive's text whose strings are found at once (``_outside_strings``)."""
_QUOTE = ord('"')
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_ONE_KIND_OF_BRACKET = bytes.maketrans(b"{}", b"[]")
_BETWEEN_BRACKETS = (ord("[") + ord("]")) // 2
"""``[`` and ``]`` are this less and more: each one's step in depth is its difference from it."""


_ONE_IN_EVERY_BYTE = np.uint64(0x0101010101010101)


def _refuse(message: str) -> NoReturn:
    raise ValidationFailed.one((), message)


def prefix_parity(flags: np.ndarray, carry: int) -> np.ndarray:
    """For each of the booleans ``flags``, the parity (0 or 1, as uint8) of ``carry`` plus
    how many are set up to it, itself included: with the quotes as flags, 1 inside a string
    and on its opening quote. ``(np.cumsum(flags) + carry) & 1``, about four times faster:
    numpy's cumulative sum takes a step per byte, this one a step per eight. Each eight
    flags are read as one little-endian word, whose bytes three shifts and XORs turn into
    the parities up to each (byte k XORs bytes 0 to k); each word's last byte is then its
    own parity, and one cumulative XOR over those (an eighth as many values) carries
    what came before into every byte of the next word."""
    count = flags.size
    if count == 0:
        return np.zeros(0, np.uint8)
    parities = np.zeros(-(-count // 8) * 8, np.uint8)
    parities[:count] = flags
    words = parities.view("<u8")
    for shift in (8, 16, 32):
        words ^= words << np.uint64(shift)
    totals = (words >> np.uint64(56)).astype(np.uint8)
    before = np.empty_like(totals)
    before[0] = carry
    before[1:] = np.bitwise_xor.accumulate(totals[:-1]) ^ np.uint8(carry)
    words ^= before.astype("<u8") * _ONE_IN_EVERY_BYTE
    return parities[:count]


def _outside_strings(text: str | bytes) -> str:
    """``text`` with every string replaced by its closing quote, cut at a string that
    never ends (the parser will say where).

    Escapes first: ``\\\\`` pairs go left to right, as a parser reads them, so a
    backslash left before a quote escapes it, and that pair goes too; what is left
    of a string holds no quote. (A backslash outside strings is not JSON: the parser
    refuses it.) Then a byte is kept where the quotes up to it, itself included, are
    even: outside strings, and each string's closing quote (``prefix_parity``), a piece
    of ``SCAN_PIECE`` bytes at a time; the UTF-8 bytes give the same skeleton as the
    characters, since a quote is never part of another character's bytes.
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    kept = []
    odd = 0
    for start in range(0, len(data), SCAN_PIECE):
        piece = np.frombuffer(data, np.uint8, min(SCAN_PIECE, len(data) - start), start)
        parity = prefix_parity(piece == _QUOTE, odd)
        kept.append(piece[parity == 0].tobytes())
        odd = int(parity[-1])
    skeleton = b"".join(kept)
    del kept  # the pieces, before the skeleton is decoded
    return skeleton.decode("utf-8", "surrogatepass")


def _depth(skeleton: str) -> int:
    """The deepest nesting of the brackets in ``skeleton``: each kept, as ``[`` or ``]``, by
    one byte translation (anything else outside ASCII is no JSON; the parser refuses it)."""
    brackets = skeleton.encode("ascii", "replace").translate(_ONE_KIND_OF_BRACKET, _NOT_BRACKETS)
    steps = _BETWEEN_BRACKETS - np.frombuffer(brackets, np.uint8).astype(np.int32)
    return int(np.cumsum(steps).max(initial=0))


def nesting_depth(text: str) -> int:
    """How deeply objects and arrays nest in ``text``, read without parsing it."""
    return _depth(_outside_strings(text))


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_TOO_MANY_DIGITS = b"0" * (MAX_DIGITS + 1)


def _may_hold_refused_numbers(skeleton: str) -> bool:
    """False when ``_NUMBERS`` cannot match: no ``N`` or ``I`` for ``NaN`` or ``Infinity``,
    no ``e`` or ``E`` but those of ``true`` and ``false`` (an exponent's follows a digit),
    and no run of more than MAX_DIGITS digits. Each is one fast scan, where the regular
    expression takes a Python-level step at every digit."""
    if not skeleton.isascii() or "N" in skeleton or "I" in skeleton or "E" in skeleton:
        return True
    if "e" in skeleton.replace("true", "").replace("false", ""):
        return True
    return _TOO_MANY_DIGITS in skeleton.encode("ascii").translate(_DIGITS_AS_ZERO)


def _refuse_numbers(skeleton: str) -> None:
    """Refuse the first number JSON does not have or a double cannot hold."""
    if not _may_hold_refused_numbers(skeleton):
        return
    for token in _NUMBERS.finditer(skeleton):
        found = token.group()
        if token.group(1) is not None:
            if int(token.group(1)[:6]) > MAX_EXPONENT:
                _refuse(f"the number {found[:20]} is too large")
        elif found[0] in "NI-":
            _refuse(f"{found} is not a JSON number")
        else:
            _refuse("holds a number with more digits than this server reads")


def _scan(text: str | bytes) -> int:
    """The nesting depth of ``text``, once its numbers pass.

    Strings are removed first (a bracket or a word inside one never counts), so
    what is left to walk is short: the numbers only where they could be refused,
    and the brackets.
    """
    skeleton = _outside_strings(text)
    _refuse_numbers(skeleton)
    return _depth(skeleton)


def checked_text(raw: str | bytes) -> str:
    """``raw`` as text, once its size, encoding, nesting and numbers pass."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        _refuse(f"larger than {MAX_DOCUMENT_BYTES // 2**20} MiB")
    text = raw
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            _refuse(f"not UTF-8 text (byte {exc.start})")
    if _scan(raw) > MAX_DEPTH:  # the bytes when given: the scan reads them
        _refuse(f"nested more than {MAX_DEPTH} levels deep")
    return text


def _no_constant(name: str) -> NoReturn:
    _refuse(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        _refuse(f"the number {text[:20]} is too large")
    return value


def decode_json(raw: str | bytes, what: str = "an archive") -> dict[str, Any]:
    """The JSON object in ``raw``, or ValidationFailed saying what is wrong and where."""
    text = checked_text(raw)
    try:
        data = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        _refuse(f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")
    except ValueError:
        _refuse("holds a number with more digits than this server reads")
    except RecursionError:
        _refuse(f"nested more than {MAX_DEPTH} levels deep")
    if not isinstance(data, dict):
        _refuse(f"{what} is a JSON object")
    return data
