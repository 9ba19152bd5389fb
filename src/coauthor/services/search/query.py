"""A person's search: in one alliance, or across every alliance they may see.

Permission is checked here, in the query itself: a search in one alliance
first opens it (a non-member gets "no such alliance"); a search everywhere
covers only the person's alliances (every alliance for a site administrator);
and an entry private to a partner (its notes) is found only by that
partner's own members — never by an administrator who is not one.

Every word must match, as the start of a word ("nord" finds "Nordwerk"),
without regard to case or accents. Results come best first: title matches
before body matches, then by the database's own relevance rank.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from coauthor import permissions
from coauthor.db.tables import NATIVE_SEARCH_TABLE
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.services.mechanics.alliances import alliances_of, open_alliance
from coauthor.services.search.index import is_sqlite, write_now
from coauthor.services.search.kinds import BY_KIND
from coauthor.services.search.text import query_words, snippet

MAX_HITS = 100


@dataclass(frozen=True)
class Hit:
    kind: str
    label: str
    alliance_id: str
    alliance_name: str
    item_id: str
    parent_id: str | None
    partner_id: str | None
    title: str
    snippet: str


@dataclass(frozen=True)
class Results:
    query: str
    words: list[str]
    hits: list[Hit]
    alliance_id: str | None = None
    """The alliance searched; None for a search across the person's alliances."""

    @property
    def capped(self) -> bool:
        return len(self.hits) >= MAX_HITS


def _fts_match(words: list[str]) -> str:
    """SQLite FTS5: every word as a quoted prefix ("nord"* AND "indus"*)."""
    return " AND ".join(f'"{word}"*' for word in words)


def _tsquery(words: list[str]) -> str:
    """PostgreSQL: every word as a prefix (nord:* & indus:*)."""
    return " & ".join(f"{word}:*" for word in words)


VISIBLE = "e.alliance_id IN :alliances AND (e.partner_id IS NULL OR e.partner_id IN :partners)"
COLUMNS = "e.alliance_id, e.kind, e.item_id, e.parent_id, e.partner_id, e.title, e.body"
SQLITE_SEARCH = f"""
SELECT {COLUMNS}, bm25({NATIVE_SEARCH_TABLE}, 10.0, 1.0) AS rank
FROM {NATIVE_SEARCH_TABLE} JOIN search_entries AS e ON e.doc = {NATIVE_SEARCH_TABLE}.rowid
WHERE {NATIVE_SEARCH_TABLE} MATCH :match AND {VISIBLE}
ORDER BY rank, e.title, e.item_id
LIMIT :limit
"""
POSTGRES_DOCUMENT = (
    "to_tsvector('simple'::regconfig, coalesce(e.terms_title, '') || ' ' || "
    "coalesce(e.terms_body, ''))"
)
POSTGRES_SEARCH = f"""
SELECT {COLUMNS},
  -(CASE WHEN to_tsvector('simple'::regconfig, e.terms_title) @@ q.query THEN 1 ELSE 0 END
    + ts_rank({POSTGRES_DOCUMENT}, q.query)) AS rank
FROM search_entries AS e, to_tsquery('simple'::regconfig, :match) AS q(query)
WHERE {POSTGRES_DOCUMENT} @@ q.query AND {VISIBLE}
ORDER BY rank, e.title, e.item_id
LIMIT :limit
"""


def _visible_alliances(uow: UnitOfWork, actor: m.Person, alliance_id: str | None) -> dict[str, str]:
    """Alliance id → name of what the actor may search."""
    if alliance_id is not None:
        alliance = open_alliance(uow, actor, alliance_id).alliance
        return {alliance.id: alliance.name}
    return {alliance.id: alliance.name for alliance in alliances_of(uow, actor)}


def _own_partners(uow: UnitOfWork, actor: m.Person) -> list[str]:
    return [member.partner_id for member in uow.find(m.Member, person_id=actor.id)]


def search(
    uow: UnitOfWork, actor: m.Person | None, query: str, alliance_id: str | None = None
) -> Results:
    """What ``actor`` may find for ``query``: in ``alliance_id``, or in all their alliances."""
    person = permissions.require_signed_in(actor)
    alliances = _visible_alliances(uow, person, alliance_id)
    words = query_words(query)
    if not words or not alliances:
        return Results(query, words, [], alliance_id)
    write_now(uow.session)
    sqlite = is_sqlite(uow.session)
    statement = sa.text(SQLITE_SEARCH if sqlite else POSTGRES_SEARCH).bindparams(
        sa.bindparam("alliances", expanding=True), sa.bindparam("partners", expanding=True)
    )
    rows = uow.session.execute(
        statement,
        {
            "match": _fts_match(words) if sqlite else _tsquery(words),
            "alliances": list(alliances),
            "partners": _own_partners(uow, person) or ["-"],
            "limit": MAX_HITS,
        },
    )
    hits = [
        Hit(
            kind=row.kind,
            label=BY_KIND[row.kind].label if row.kind in BY_KIND else row.kind,
            alliance_id=row.alliance_id,
            alliance_name=alliances[row.alliance_id],
            item_id=row.item_id,
            parent_id=row.parent_id,
            partner_id=row.partner_id,
            title=row.title,
            snippet=snippet(row.body, words),
        )
        for row in rows
    ]
    return Results(query, words, hits, alliance_id)
