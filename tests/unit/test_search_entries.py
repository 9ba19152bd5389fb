"""The search index's entries as rows (``services/search/index.py``)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from coauthor.db.tables import search_entries
from coauthor.services.search import index
from coauthor.services.search.text import doc_id, fold


def test_an_entrys_row_names_every_column_of_the_entries_table_once() -> None:
    """Entries are rows in ``ENTRY_COLUMNS`` order, no longer read off the table."""
    assert sorted(index.ENTRY_COLUMNS) == sorted(search_entries.columns.keys())


def test_a_commitments_entry_is_made_apart_from_its_values() -> None:
    item = SimpleNamespace(
        alliance_id="al_x", id="cm_1", what="Deliver  the Renée report", conditions=""
    )
    [entry] = index.entries_apart("commitment", [item])
    assert dict(zip(index.ENTRY_COLUMNS, entry, strict=True)) == {
        "alliance_id": "al_x",
        "kind": "commitment",
        "item_id": "cm_1",
        "doc": doc_id("al_x", "commitment", "cm_1"),
        "partner_id": None,
        "parent_id": None,
        "title": "Deliver  the Renée report",
        "body": "",
        "terms_title": fold("Deliver  the Renée report"),
        "terms_body": "",
    }


def test_a_kind_whose_document_reads_the_database_is_not_made_apart() -> None:
    with pytest.raises(ValueError, match="reads more than the item"):
        index.entries_apart("member", [])
