"""A person's calendar feed as iCalendar (RFC 5545) text, written with the ``icalendar`` library.

Each open commitment's due date and reply-by date is an event (a due date
given as a day — the end of that day, UTC — is an all-day event on it;
an exact moment is a half-hour event ending there), and each meeting of the
person's alliances is an hour-long event. UIDs are stable, so calendar
applications update events instead of duplicating them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar as ICalendar
from icalendar import Event

from coauthor.domain.ledger import Party
from coauthor.services.ledger.calendar import Calendar, Due, MeetingItem
from coauthor.services.ledger.inputs import END_OF_DAY

PRODID = "-//Coauthor//Commitment ledger//EN"
MEETING_LENGTH = timedelta(hours=1)
MOMENT_LENGTH = timedelta(minutes=30)
DOMAIN = "coauthor"


def _is_end_of_day(moment: datetime) -> bool:
    return moment.timetz() == END_OF_DAY


def _due_event(due: Due, base_url: str, stamp: datetime) -> Event:
    c = due.commitment
    event = Event()
    event.add("uid", f"{c.id}-{due.kind}@{DOMAIN}")
    event.add("dtstamp", stamp)
    if _is_end_of_day(due.at):
        event.add("dtstart", due.at.date())
    else:
        event.add("dtstart", due.at - MOMENT_LENGTH)
        event.add("dtend", due.at)
    role = "You owe" if due.side is Party.PERFORMER else "Owed to you"
    what = "Reply by" if due.kind == "reply_by" else role
    if not c.is_open:
        what = c.phase.label.capitalize()
    event.add("summary", f"{what}: {c.what}")
    link = f"{base_url}/a/{c.alliance_id}/ledger/{c.id}"
    event.add("description", f"{due.alliance}\n{c.phase.label}\n{link}")
    event.add("url", link)
    return event


def _meeting_event(item: MeetingItem, base_url: str, stamp: datetime) -> Event:
    meeting = item.meeting
    event = Event()
    event.add("uid", f"{meeting.id}@{DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.starts_at + MEETING_LENGTH)
    event.add("summary", f"{meeting.title} ({item.body})" if item.body else meeting.title)
    event.add("description", f"{item.alliance}\n{meeting.agenda}".strip())
    event.add("url", f"{base_url}/a/{meeting.alliance_id}/governance#{meeting.id}")
    return event


def calendar_ics(calendar: Calendar, base_url: str, stamp: datetime) -> bytes:
    """The feed's text; ``base_url`` (no trailing slash) makes links absolute."""
    feed = ICalendar()
    feed.add("prodid", PRODID)
    feed.add("version", "2.0")
    feed.add("x-wr-calname", f"Coauthor — {calendar.person.name}")
    for due in calendar.dues:
        feed.add_component(_due_event(due, base_url, stamp))
    for item in calendar.meetings:
        feed.add_component(_meeting_event(item, base_url, stamp))
    return feed.to_ical()
