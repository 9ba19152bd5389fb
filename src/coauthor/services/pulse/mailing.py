"""Pulse links by email: each invitee gets their own link, after the write commits.

Only the service knows who has not answered; a reminder is mailed to them
alone, so nobody — the manager who sends it included — learns who they are.
Without ``COAUTHOR_SMTP_URL`` nothing is sent and the manager hands out the
links from the "Links to send" page.
"""

from __future__ import annotations

from collections.abc import Iterable

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.pulse import Wave, WaveInvitation
from coauthor.services.accounts.links import Site
from coauthor.services.mail import Message
from coauthor.services.pulse.links import token_for

PRIVACY = (
    "Your answers are anonymous: they are stored without your name, and results are shown\n"
    "only for groups large enough that no one's answers can be picked out."
)


def _body(wave: Wave, alliance: str, link: str, note: str, reminder: bool) -> str:
    closes = wave.closes_at.strftime("%d %B %Y, %H:%M UTC")
    opening = (
        f"A reminder: the pulse survey “{wave.title}” of {alliance} is still waiting for you."
        if reminder
        else f"How is {alliance} working together? The pulse survey “{wave.title}” has opened."
    )
    lines = [opening, ""]
    if note:
        lines += [note, ""]
    lines += [
        "Your own link (it works once, until " + closes + "):",
        link,
        "",
        PRIVACY,
    ]
    return "\n".join(lines) + "\n"


def mail_links(
    uow: UnitOfWork,
    site: Site,
    alliance: str,
    wave: Wave,
    invitations: Iterable[WaveInvitation],
    note: str = "",
    reminder: bool = False,
) -> int:
    """Send each invitation's link to its person once this write commits; how many were sent."""
    if not site.outbox.enabled:
        return 0
    chosen = list(invitations)
    ids = [invitation.person_id for invitation in chosen]
    people = {p.id: p for p in uow.find(m.Person, m.Person.id.in_(ids))}
    subject = f"{'Reminder: ' if reminder else ''}{wave.title} — {alliance} pulse"
    sent = 0
    for invitation in chosen:
        person = people.get(invitation.person_id)
        if person is None or not person.active:
            continue
        link = site.link(f"/pulse/{token_for(site.secret_key, invitation)}")
        body = _body(wave, alliance, link, note, reminder)
        sent += site.outbox.send_after_commit(uow, Message(person.email, subject, body))
    return sent
