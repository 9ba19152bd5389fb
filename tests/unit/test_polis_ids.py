"""Statement id lists given on the command line (``--meta 1-14,20``)."""

from __future__ import annotations

import pytest

from coauthor.interop.polis_cli import parse_statement_ids


def test_ids_and_ranges() -> None:
    assert parse_statement_ids("1-3,7, 9") == ["1", "2", "3", "7", "9"]
    assert parse_statement_ids("007") == ["7"]


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("", "'' is not a statement id"),
        ("a", "'a' is not a statement id"),
        ("1-", "'1-' is not a statement id"),
        ("-3", "'-3' is not a statement id"),
        ("4-2", "range '4-2' runs backwards"),
    ],
)
def test_bad_specs_say_which_part_is_wrong(spec: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_statement_ids(spec)
