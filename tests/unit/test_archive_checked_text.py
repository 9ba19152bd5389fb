"""Archive text with no unstorable character is read by lighter twins of the largest models;
they accept exactly what the models accept, and a refusal is the models' own."""

from __future__ import annotations

import json
from typing import Any

import pytest

from coauthor.domain.errors import ValidationFailed
from coauthor.services import inputs
from coauthor.services.archive.document import ArchiveDocument, parse_archive

OPENED = "2024-01-02T09:00:00+02:00"


def archive() -> dict[str, Any]:
    act = {
        "move": "request",
        "party": "customer",
        "actor_email": "ann@example.org",
        "at": OPENED,
        "text": "The throughput figures",
        "due_at": "2024-02-01T12:00:00Z",
    }
    return {
        "format": "coauthor-archive/1",
        "alliance": {
            "id": "al_checkedText00001",
            "name": "Checked text",
            "kind": "consortium",
            "created_at": "2024-01-01T00:00:00Z",
        },
        "commitments": [
            {
                "id": "cm_checkedText00001",
                "parties": [
                    {"email": "ann@example.org", "side": "customer", "partner_id": "pa_a"},
                    {"email": "bo@example.org", "side": "performer", "partner_id": "pa_b"},
                ],
                "acts": [act],
                "period_due_on": "2024-03-31",
            }
        ],
    }


def refusal(text: str) -> list[tuple[tuple, str]]:
    with pytest.raises(ValidationFailed) as refused:
        parse_archive(text)
    return [(error.loc, error.message) for error in refused.value.errors]


@pytest.mark.parametrize(
    ("text", "may_be"),
    [
        ('{"a": "plain"}', False),
        ('{"a": "Ren\u00e9e \U0001f600"}', False),
        (json.dumps({"a": "L\x00b"}), True),
        (json.dumps({"a": "\ud800"}), True),
        (json.dumps({"a": "\U0001f600"}), True),  # a proper pair, escaped: a false alarm
        ('{"a": "\\\\u0000"}', True),  # an escaped backslash: a false alarm
        ('{"a": "L\x00b"}', True),
        ('{"a": "\udc00"}', True),
    ],
)
def test_what_may_hold_unstorable_text(text: str, may_be: bool) -> None:
    assert inputs.text_may_be_unstorable(text) is may_be


def test_checked_text_reads_as_the_models_read_it() -> None:
    document = archive()
    from_text = parse_archive(json.dumps(document))
    from_models = inputs.parse(ArchiveDocument, document)
    assert from_text.model_dump() == from_models.model_dump()
    act = from_text.commitments[0].acts[0]
    assert act.at.isoformat() == "2024-01-02T07:00:00+00:00"


@pytest.mark.parametrize(
    ("where", "value", "loc", "message"),
    [
        (("acts", 0, "at"), 1_700_000_000, ("commitments", 0, "acts", 0, "at"), "written as text"),
        (("acts", 0, "due_at"), 17.5, ("commitments", 0, "acts", 0, "due_at"), "written as text"),
        (("period_due_on",), 20240331, ("commitments", 0, "period_due_on"), "written as text"),
        (("acts", 0, "at"), "2024-01-02T09:00:00", ("commitments", 0, "acts", 0, "at"), "zone"),
        (("acts", 0, "text"), "L\x00b", ("commitments", 0, "acts", 0, "text"), "NUL"),
    ],
)
def test_what_the_models_refuse_is_refused_with_their_path(
    where: tuple, value: Any, loc: tuple, message: str
) -> None:
    document = archive()
    target: Any = document["commitments"][0]
    for part in where[:-1]:
        target = target[part]
    target[where[-1]] = value
    [(found_loc, found_message)] = refusal(json.dumps(document))
    assert found_loc == loc
    assert message in found_message
