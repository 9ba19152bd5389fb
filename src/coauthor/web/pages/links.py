"""Where an item lives on the pages: the link a search result or an activity line follows.

A feature whose items are searchable (services/search/kinds.py) adds the
page of its kind here; a kind without one is shown without a link.
"""

from __future__ import annotations

from collections.abc import Callable

Link = Callable[[str, str, str | None], str | None]
"""(alliance id, item id, parent id) → the path of the page that shows the item."""


def _in(section: str) -> Link:
    return lambda alliance_id, item_id, parent_id: f"/a/{alliance_id}/{section}#{item_id}"


LINKS: dict[str, Link] = {
    "alliance": lambda alliance_id, item_id, parent_id: f"/a/{alliance_id}",
    "partner": _in("partners"),
    "member": _in("partners"),
    "partner_note": lambda alliance_id, item_id, parent_id: (
        f"/a/{alliance_id}/partners/{parent_id}/notes" if parent_id else None
    ),
    "agreement": _in("agreements"),
    "obligation": _in("agreements"),
    "body": _in("governance"),
    "decision_right": _in("governance"),
    # Meetings are listed a page at a time: their own page always shows them.
    "meeting": lambda alliance_id, item_id, parent_id: (
        f"/a/{alliance_id}/history/meeting/{item_id}"
    ),
    "risk": _in("risks"),
    "contribution": _in("contributions"),
    "deliberation": lambda alliance_id, item_id, parent_id: (
        f"/a/{alliance_id}/deliberations/{item_id}"
    ),
    "statement": lambda alliance_id, item_id, parent_id: (
        f"/a/{alliance_id}/deliberations/{parent_id}/results" if parent_id else None
    ),
    "declaration": lambda alliance_id, item_id, parent_id: (
        f"/a/{alliance_id}/declarations/{item_id}"
    ),
    "charter_clause": _in("charter"),
    "commitment": lambda alliance_id, item_id, parent_id: f"/a/{alliance_id}/ledger/{item_id}",
    "pulse_item": lambda alliance_id, item_id, parent_id: f"/a/{alliance_id}/pulse#own-items",
    "plot_twist": lambda alliance_id, item_id, parent_id: (
        f"/a/{alliance_id}/emergence/plot-twists/{item_id}"
    ),
    "tension": lambda alliance_id, item_id, parent_id: (
        f"/a/{alliance_id}/emergence/tensions/{item_id}"
    ),
    "experiment": lambda alliance_id, item_id, parent_id: (
        f"/a/{alliance_id}/emergence/experiments/{item_id}"
    ),
    # Learnings have no page of their own: the Emergence tab lists them.
    "learning": lambda alliance_id, item_id, parent_id: f"/a/{alliance_id}/emergence#learnings",
}


def item_url(
    kind: str, alliance_id: str, item_id: str | None, parent_id: str | None = None
) -> str | None:
    """The page of an item, or None when its kind has none (or it is gone)."""
    link = LINKS.get(kind)
    if link is None or not item_id:
        return None
    return link(alliance_id, item_id, parent_id)
