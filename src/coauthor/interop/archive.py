"""The archive's JSON text: reading it safely, writing it canonically, its JSON Schema.

The document itself (its models and validation) is ``services/archive``'s;
this module only turns bytes into a JSON object and back, and names places in
it by JSON path. ``python -m coauthor.interop.archive`` prints the JSON Schema
that docs/archive.schema.json holds.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, NoReturn

from pydantic import BaseModel

from coauthor.domain.errors import Loc, ValidationFailed
from coauthor.services.archive.document import archive_schema_json


def json_path(loc: Loc) -> str:
    """``("risks", 3, "shares")`` → ``$.risks[3].shares``."""
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
"""The largest archive read: a decade of a busy alliance is a few tens of megabytes."""
MAX_DEPTH = 32
"""The deepest nesting of objects and arrays: an archive needs 6, an event's payload a few more."""

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
"""JSON strings (skipped whole, so brackets inside them do not count) and brackets."""


def nesting_depth(text: str) -> int:
    """How deeply objects and arrays nest in ``text``, read without parsing it."""
    depth = deepest = 0
    for token in _TOKENS.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif bracket in "]}":
            depth -= 1
    return deepest


def _refuse(message: str) -> NoReturn:
    raise ValidationFailed.one((), message)


def _no_constant(name: str) -> NoReturn:
    _refuse(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        _refuse(f"the number {text[:20]} is too large")
    return value


def _text_of(raw: str | bytes) -> str:
    if len(raw) > MAX_DOCUMENT_BYTES:
        _refuse(f"larger than {MAX_DOCUMENT_BYTES // 2**20} MiB")
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        _refuse(f"not UTF-8 text (byte {exc.start})")


def loads_json_object(raw: str | bytes, what: str = "an archive") -> dict[str, Any]:
    """The JSON object in ``raw``, or ValidationFailed saying what is wrong and where.

    Refused before parsing: text over the size limit, not UTF-8, or nested
    deeper than ``MAX_DEPTH`` (which could exhaust the parser's recursion).
    Refused while parsing: broken JSON, ``NaN`` and ``Infinity``, numbers too
    large to hold. Text that no database can store (NUL, lone surrogates) is the
    input models' to refuse, with its path.
    """
    text = _text_of(raw)
    if nesting_depth(text) > MAX_DEPTH:
        _refuse(f"nested more than {MAX_DEPTH} levels deep")
    try:
        data = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        _refuse(f"not valid JSON at {where}: {exc.msg}")
    except ValueError:
        _refuse("holds a number with more digits than this server reads")
    except RecursionError:
        _refuse(f"nested more than {MAX_DEPTH} levels deep")
    if not isinstance(data, dict):
        _refuse(f"{what} is a JSON object")
    return data


def loads_archive(raw: str | bytes) -> dict[str, Any]:
    """The archive's JSON object (see ``loads_json_object``)."""
    return loads_json_object(raw, "an archive")


def dumps_archive(document: BaseModel) -> str:
    """The archive's canonical text: the same alliance always gives the same bytes."""
    return json.dumps(document.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(archive_schema_json())
