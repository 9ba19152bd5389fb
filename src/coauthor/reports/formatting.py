"""How values read on a page, in a report or an export: labels, dates, numbers, percents.

Shared by the pages' templates, the API's presenters and (soon) the PDF
reports, so that the same value is written the same way everywhere.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from coauthor.domain.labels import label


def event_label(kind: str) -> str:
    """``partner_note.added`` → ``Partner note added``."""
    return label(kind.replace(".", " "))


def format_date(value: date | None) -> str:
    return value.strftime("%d %b %Y").lstrip("0") if value else "—"


def format_datetime(value: datetime | None) -> str:
    return value.strftime("%d %b %Y, %H:%M UTC").lstrip("0") if value else "—"


def format_number(value: Decimal | int | float) -> str:
    """Thousands separated by thin spaces, decimals only when there are any."""
    number = Decimal(value)
    text = f"{number:,.2f}".removesuffix(".00")
    return text.replace(",", "\u202f")


def format_percent(value: Decimal | int | float) -> str:
    return f"{format_number(value)}%"


def sentence(text: str) -> str:
    """A service's lower-case message as a sentence: first letter up, a full stop."""
    text = str(text).strip()
    if not text:
        return text
    if text.split(" ", 1)[0].isalpha():
        text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."
