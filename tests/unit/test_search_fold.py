"""``fold``: ASCII text takes a shortcut that must give what the full folding gives."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from coauthor.services.search.text import fold


def folded_the_long_way(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"\s+", " ", bare.casefold()).strip()


def test_examples() -> None:
    assert fold("Renée  Beaulieu") == "renee beaulieu"
    assert fold("  RENEE\tBeaulieu\n") == "renee beaulieu"
    assert fold("Straße") == "strasse"
    assert fold("ﬁle\u00a0ONE") == "file one"


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_text_folds_as_the_long_way(text: str) -> None:
    assert fold(text) == folded_the_long_way(text)


@given(st.text())
def test_any_text_folds_as_the_long_way(text: str) -> None:
    assert fold(text) == folded_the_long_way(text)
