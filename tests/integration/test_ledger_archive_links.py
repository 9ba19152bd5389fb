"""The commitments' links in an archive: each broken one refused with its JSON path.

``ledger.link_errors`` asks all commitments at once whether anything is wrong
(``_all_linked``) and walks them one by one (``_commitment_links``) only when something
is, for the errors and their paths: each corruption below must still be refused with its
own path and reason, and a sound archive must never be walked one by one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from coauthor.domain.errors import ValidationFailed
from coauthor.interop import archive
from coauthor.services.archive import ledger
from coauthor.services.archive.importer import do_import_archive
from tests.integration.test_archive_import_paths import (  # noqa: F401 - demo_text: a fixture
    demo_text,
    runtime_on,
)

Document = dict[str, Any]


def _first_with_obligation(document: Document) -> int:
    return next(i for i, c in enumerate(document["commitments"]) if c["obligation_id"])


def _other_period_twice(document: Document) -> None:
    """The second commitment of an obligation given the first one's period."""
    commitments = document["commitments"]
    first = _first_with_obligation(document)
    twin = next(
        i
        for i, c in enumerate(commitments)
        if i != first and c["obligation_id"] == commitments[first]["obligation_id"]
    )
    commitments[twin]["period_due_on"] = commitments[first]["period_due_on"]


def _commitment(field: str, value: Callable[[Document], Any]) -> Callable[[Document], None]:
    def corrupt(document: Document) -> None:
        document["commitments"][0][field] = value(document)

    return corrupt


def _party(number: int, field: str, value: Callable[[Document], Any]) -> Callable[[Document], None]:
    def corrupt(document: Document) -> None:
        document["commitments"][0]["parties"][number][field] = value(document)

    return corrupt


def _first_id(section: str) -> Callable[[Document], str]:
    """An id of the archive's own, of another section than the field names."""
    return lambda document: document[section][0]["id"]


GHOST = "ghost@nowhere.example"

WRONG_SECTION = (
    ("body_id", "meetings", "bodies"),
    ("meeting_id", "bodies", "meetings"),
    ("obligation_id", "partners", "obligations"),
    ("waived_by_declaration_id", "partners", "declarations"),
)
"""A commitment's field that names an item, given an id of another section, and the
section the field names."""

CORRUPTIONS: dict[str, tuple[Callable[[Document], None], str, str]] = {
    **{
        f"an id of {given} as {field}": (
            _commitment(field, _first_id(given)),
            f"$.commitments[0].{field}",
            f"is not in {section}",
        )
        for field, given, section in WRONG_SECTION
    },
    "two customers": (
        _party(1, "side", lambda document: "customer"),
        "$.commitments[0].parties",
        "exactly one customer",
    ),
    "a party who is not among the people": (
        _party(1, "email", lambda document: GHOST),
        "$.commitments[0].parties[1].email",
        "is not in people",
    ),
    "a party of no partner of the alliance": (
        _party(1, "partner_id", _first_id("bodies")),
        "$.commitments[0].parties[1].partner_id",
        "is not in partners",
    ),
    "the same person twice": (
        lambda document: document["commitments"][0]["parties"][1].update(
            email=document["commitments"][0]["parties"][0]["email"]
        ),
        "$.commitments[0].parties[1].email",
        "is a party twice",
    ),
    "an act by someone not among the people": (
        lambda document: document["commitments"][0]["acts"][0].update(actor_email=GHOST),
        "$.commitments[0].acts[0].actor_email",
        "is not in people",
    ),
}


def _refusal(path: Path, text: str) -> list[tuple[str, str]]:
    runtime = runtime_on(path)
    try:
        with runtime.uow() as uow, pytest.raises(ValidationFailed) as refused:
            uow.write(do_import_archive, None, text.encode(), bootstrap=True)
    finally:
        runtime.close()
    return [(archive.json_path(error.loc), error.message) for error in refused.value.errors]


@pytest.mark.parametrize("name", [*CORRUPTIONS, "a period twice"])
def test_each_broken_link_of_a_commitment_is_refused_with_its_path(
    demo_text: str,  # noqa: F811
    tmp_path: Path,
    name: str,
) -> None:
    document = json.loads(demo_text)
    if name == "a period twice":
        _other_period_twice(document)
        first = _first_with_obligation(document)
        path, reason = f"$.commitments[{first}].period_due_on", "appears more than once"
    else:
        corrupt, path, reason = CORRUPTIONS[name]
        corrupt(document)
    problems = _refusal(tmp_path / "refused.sqlite3", json.dumps(document))
    assert any(where == path and reason in why for where, why in problems), problems


def test_a_sound_archive_is_never_walked_commitment_by_commitment(
    demo_text: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def walked(*args: Any) -> list:
        raise AssertionError("a sound archive's commitments were checked one by one")

    monkeypatch.setattr(ledger, "_commitment_links", walked)
    runtime = runtime_on(tmp_path / "sound.sqlite3")
    try:
        with runtime.uow() as uow:
            uow.write(do_import_archive, None, demo_text.encode(), bootstrap=True)
    finally:
        runtime.close()
