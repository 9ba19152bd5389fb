"""Text as the index compares it: folded (case, accents, spacing), split into words, snipped.

Both databases index and query the folded text, so "Renée", "RENEE" and
"renee" find the same people on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

WORD = re.compile(r"\w+")
MAX_QUERY_WORDS = 8
MAX_WORD_LENGTH = 40
SNIPPET_LENGTH = 160
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower case, without accents, spaces collapsed: "Renée  Beaulieu" → "renee beaulieu".

    ASCII text has no accents to strip and decomposes to itself, so it skips that
    step (a character at a time in Python): most text is ASCII, and an archive
    import folds hundreds of thousands of commitments.
    """
    bare = text if text.isascii() else _without_accents(text)
    return _SPACES.sub(" ", bare.casefold()).strip()


def _without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def query_words(query: str) -> list[str]:
    """The words of a search, folded: at most MAX_QUERY_WORDS, each cut to MAX_WORD_LENGTH."""
    words = [word[:MAX_WORD_LENGTH] for word in WORD.findall(fold(query))]
    return list(dict.fromkeys(words))[:MAX_QUERY_WORDS]


def doc_id(alliance_id: str, kind: str, item_id: str) -> int:
    """A stable 63-bit number for an entry: the row id of its full-text row on SQLite."""
    digest = hashlib.sha256(f"{alliance_id}\x1f{kind}\x1f{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def snippet(text: str, words: list[str], length: int = SNIPPET_LENGTH) -> str:
    """The part of ``text`` around the first word searched for, at most ``length`` characters."""
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= length:
        return flat
    folded = fold(flat)
    hits = [folded.find(word) for word in words if folded.find(word) >= 0]
    start = max(0, min(hits) - length // 4) if hits else 0
    if start:
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    end = start + length
    cut = flat[start:end].rsplit(" ", 1)[0] if end < len(flat) else flat[start:]
    return ("…" if start else "") + cut + ("…" if end < len(flat) else "")
