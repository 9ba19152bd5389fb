"""How values read on a page, in a report or an export: labels, dates, numbers, percents.

Shared by the pages' templates, the API's presenters and (soon) the PDF
reports, so that the same value is written the same way everywhere.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal

from coauthor.domain.labels import label


def event_label(kind: str) -> str:
    """``partner_note.added`` → ``Partner note added``."""
    return label(kind.replace(".", " "))


def format_date(value: date | None) -> str:
    return value.strftime("%d %b %Y").lstrip("0") if value else "—"


def format_datetime(value: datetime | None, zone: str = "UTC") -> str:
    """A moment as a reader in ``zone`` (an IANA name) reads it, with the zone's abbreviation.

    An unknown zone falls back to UTC rather than failing a page.
    """
    if value is None:
        return "—"
    local = value.astimezone(_zone(zone))
    abbreviation = "UTC" if zone == "UTC" else local.tzname() or zone
    return f"{local:%d %b %Y, %H:%M} {abbreviation}".lstrip("0")


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


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


BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("HeadlessChrome/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
SYSTEMS = (
    ("Windows", "Windows"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("Android", "Android"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def describe_browser(user_agent: str) -> str:
    """A User-Agent header as a person recognises their device: ``Firefox on Windows``."""
    browser = next((name for marker, name in BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in SYSTEMS if marker in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or (user_agent[:40] if user_agent else "Unknown browser")
