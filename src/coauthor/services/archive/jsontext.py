"""An archive's JSON text, read defensively: size, nesting and numbers checked first.

An archive comes from outside. Before anything parses it, its size is
bounded, its nesting is measured without parsing (a deep document could
exhaust a parser's recursion), and numbers JSON does not have — ``NaN``,
``Infinity``, values too large for a double — are refused: they would make
an event's hash depend on how a server prints them. Text no database can
store (NUL, lone surrogates) is the input models' to refuse, with its path.

The scan is one regular expression over the text, which skips JSON strings
whole, so a bracket or a word inside a string never counts.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from coauthor.domain.errors import ValidationFailed

MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
"""The largest archive read: a decade of a busy alliance is a few tens of megabytes."""
MAX_DEPTH = 32
"""The deepest nesting of objects and arrays: an archive needs 6, an event's payload a few more."""
MAX_DIGITS = 300
"""The longest run of digits a number may have (a double holds about 17)."""
MAX_EXPONENT = 308
"""The largest decimal exponent a double holds."""

_TOKENS = re.compile(
    r'"(?:[^"\\]|\\.)*"'  # a string, skipped whole
    r'|"'  # a string that never ends: the parser will say where
    r"|[\[\]{}]"  # a bracket
    r"|NaN|-?Infinity"  # not JSON
    r"|-?\d+(?:\.\d+)?[eE][+-]?(\d+)"  # a number with an exponent
    r"|\d{" + str(MAX_DIGITS + 1) + r",}"  # too many digits
)


def _refuse(message: str) -> NoReturn:
    raise ValidationFailed.one((), message)


def nesting_depth(text: str) -> int:
    """How deeply objects and arrays nest in ``text``, read without parsing it."""
    return _scan(text, refuse_numbers=False)


def _scan(text: str, refuse_numbers: bool = True) -> int:
    depth = deepest = 0
    for token in _TOKENS.finditer(text):
        first = token.group()[0]
        if first in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif first in "]}":
            depth -= 1
        elif token.group() == '"':
            break
        elif first == '"' or not refuse_numbers:
            continue
        elif token.group(1) is not None:
            if int(token.group(1)[:6]) > MAX_EXPONENT:
                _refuse(f"the number {token.group()[:20]} is too large")
        elif first in "NI-":
            _refuse(f"{token.group()} is not a JSON number")
        else:
            _refuse("holds a number with more digits than this server reads")
    return deepest


def checked_text(raw: str | bytes) -> str:
    """``raw`` as text, once its size, encoding, nesting and numbers pass."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        _refuse(f"larger than {MAX_DOCUMENT_BYTES // 2**20} MiB")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            _refuse(f"not UTF-8 text (byte {exc.start})")
    if _scan(raw) > MAX_DEPTH:
        _refuse(f"nested more than {MAX_DEPTH} levels deep")
    return raw


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
