"""How the ledger reads on a page: moves as things people said, due moments, ratios, hours.

Shared by the pages (as template filters) and by anything else that shows
commitments, so the same act is worded the same way everywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from coauthor.domain.ledger import Move, Party, Phase
from coauthor.reports.formatting import format_date, format_datetime
from coauthor.services.ledger.inputs import END_OF_DAY

SAID: dict[Move, str] = {
    Move.REQUEST: "asked",
    Move.OFFER: "offered",
    Move.PROMISE: "promised",
    Move.ACCEPT: "accepted",
    Move.COUNTER_OFFER: "made a counter-offer",
    Move.ACCEPT_COUNTER: "accepted the counter-offer",
    Move.COUNTER: "countered",
    Move.DECLINE: "declined",
    Move.REJECT: "rejected the proposal",
    Move.COMMIT_TO_COMMIT: "committed to answer",
    Move.REPORT_COMPLETION: "reported it done",
    Move.RENEGOTIATE: "asked to renegotiate",
    Move.RENEGE: "reneged",
    Move.CANCEL: "cancelled",
    Move.DECLARE_SATISFIED: "declared satisfaction",
    Move.DECLARE_NOT_SATISFIED: "declared it not yet satisfactory",
    Move.WITHDRAW: "withdrew",
    Move.PROGRESS_NOTE: "noted",
}

BUTTON: dict[Move, str] = {
    Move.PROMISE: "Promise",
    Move.ACCEPT: "Accept",
    Move.ACCEPT_COUNTER: "Accept the counter-offer",
    Move.DECLINE: "Decline",
    Move.REJECT: "Reject",
    Move.REPORT_COMPLETION: "Report it done",
    Move.RENEGE: "Renege",
    Move.CANCEL: "Cancel",
    Move.DECLARE_SATISFIED: "Declare satisfied",
    Move.DECLARE_NOT_SATISFIED: "Not satisfied yet",
    Move.WITHDRAW: "Withdraw",
    Move.PROGRESS_NOTE: "Add a note",
    Move.COUNTER_OFFER: "Counter-offer",
    Move.COUNTER: "Counter",
    Move.RENEGOTIATE: "Renegotiate",
    Move.COMMIT_TO_COMMIT: "I will answer by…",
}

PROPOSING = frozenset({Move.COUNTER_OFFER, Move.COUNTER, Move.RENEGOTIATE})
"""Moves that carry new terms: shown as a small form of their own."""
TAKING_A_DATE = frozenset({Move.COMMIT_TO_COMMIT})
CLOSING = frozenset({Move.DECLINE, Move.RENEGE, Move.CANCEL, Move.WITHDRAW, Move.REJECT})

PHASE_BADGES: dict[Phase, str] = {
    Phase.REQUESTED: "requested",
    Phase.OFFERED: "offered",
    Phase.COUNTERED: "countered",
    Phase.OFFER_COUNTERED: "countered",
    Phase.PROMISED: "promised",
    Phase.RENEGOTIATING: "renegotiating",
    Phase.REPORTED: "reported done",
    Phase.FULFILLED: "fulfilled",
    Phase.RENEGED: "reneged",
    Phase.NO_AGREEMENT: "no agreement",
    Phase.CANCELLED: "cancelled",
    Phase.OPENED: "opened",
}


def said(move: Any) -> str:
    return SAID[Move(move)]


def button(move: Any) -> str:
    return BUTTON[Move(move)]


def phase_badge(phase: Any) -> str:
    return PHASE_BADGES[Phase(phase)]


def side_label(side: Any) -> str:
    return "customer" if Party(side) is Party.CUSTOMER else "performer"


def due(moment: datetime | None) -> str:
    """A due moment: the day alone when it is the end of that day (UTC), else day and time."""
    if moment is None:
        return "no due date"
    if moment.timetz() == END_OF_DAY:
        return format_date(moment.date())
    return format_datetime(moment)


def ratio(figure: dict[str, Any] | Any) -> str:
    """``{"value": 0.75, "count": 3, "of": 4}`` → ``75% (3 of 4)``; nothing to divide → ``—``."""
    values = figure if isinstance(figure, dict) else figure.to_dict()
    if values["value"] is None:
        return "— (none yet)"
    return f"{round(100 * values['value'])}% ({values['count']} of {values['of']})"


def hours(value: float | None) -> str:
    """Hours as people say them: ``36 h`` or ``4.5 days``."""
    if value is None:
        return "—"
    if value < 48:
        return f"{value:.0f} h" if value >= 10 else f"{value:.1f} h"
    return f"{value / 24:.1f} days"


def share(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


FILTERS = {
    "said": said,
    "move_button": button,
    "phase_badge": phase_badge,
    "side_label": side_label,
    "due": due,
    "ratio": ratio,
    "hours": hours,
    "share": share,
}
