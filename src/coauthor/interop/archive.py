"""The archive's JSON text: reading it safely, writing it canonically, its JSON Schema.

The document itself (its models and validation) is ``services/archive``'s;
this module only turns bytes into a JSON object and back, and names places in
it by JSON path. ``python -m coauthor.interop.archive`` prints the JSON Schema
that docs/archive.schema.json holds.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from pydantic import BaseModel

from coauthor.domain.errors import Loc
from coauthor.services.archive.document import archive_schema_json
from coauthor.services.archive.jsontext import decode_json


def json_path(loc: Loc) -> str:
    """``("risks", 3, "shares")`` → ``$.risks[3].shares``."""
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def loads_archive(raw: str | bytes) -> dict[str, Any]:
    """The archive's JSON object, read defensively (``services.archive.jsontext``)."""
    return decode_json(raw, "an archive")


def dumps_archive(document: BaseModel) -> str:
    """The archive's canonical text: the same alliance always gives the same bytes."""
    return json.dumps(document.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(archive_schema_json())
