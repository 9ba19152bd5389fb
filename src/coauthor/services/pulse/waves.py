"""Pulse waves: open one, its links, response rates while it runs, reminders, closing.

A wave invites every member of the alliance when it opens (their partner and
role band are taken then) and freezes the items it asks. It runs until
``closes_at`` — the end of the day the manager chose, or the moment they
closed it early — and only one wave of an alliance runs at a time, so no two
waves can be put to nearly the same people at once and compared.

Who has answered is never shown to anyone: response rates are counts per
partner, and a count from 1 to threshold − 1 is shown as "fewer than".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from coauthor.analysis.anonymity import shown_count, shown_total
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import Conflict, ValidationFailed
from coauthor.domain.pulse import (
    INSTRUMENT_VERSION,
    STANDARD_ITEMS,
    Response,
    Wave,
    WaveInvitation,
    WaveItem,
    WaveSource,
    role_band,
)
from coauthor.ids import new_id
from coauthor.services import eventlog, inputs
from coauthor.services.mechanics.alliances import open_alliance, open_for_edit
from coauthor.services.pulse.access import open_wave, partner_names
from coauthor.services.pulse.inputs import ReminderInput, WaveInput
from coauthor.services.pulse.items import active_items
from coauthor.services.pulse.links import token_for
from coauthor.services.pulse.mailing import mail_links

if TYPE_CHECKING:
    from coauthor.services.accounts.links import Site

MAX_WAVE_DAYS = 90


def closing_moment(day: date) -> datetime:
    """A wave that closes on ``day`` takes answers until the end of that day, UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def running_wave(uow: UnitOfWork, alliance_id: str) -> Wave | None:
    now = uow.clock.now()
    waves = uow.find(Wave, Wave.closes_at > now, Wave.opened_at <= now, alliance_id=alliance_id)
    return waves[0] if waves else None


def _check_closing_day(data: WaveInput, now: datetime) -> datetime:
    closes_at = closing_moment(data.closes_on)
    if closes_at <= now:
        raise ValidationFailed.one("closes_on", "must be today or later")
    if closes_at > now + timedelta(days=MAX_WAVE_DAYS + 1):
        raise ValidationFailed.one("closes_on", f"must be within {MAX_WAVE_DAYS} days")
    return closes_at


def _freeze_items(uow: UnitOfWork, wave: Wave) -> list[WaveItem]:
    """The standard items of this instrument version, then the alliance's own, as asked now."""
    own = active_items(uow, wave.alliance_id)
    rows = [(item.key, item.dimension, item.text, item.reverse) for item in STANDARD_ITEMS]
    rows += [(item.id, None, item.text, item.reverse) for item in own]
    items = [
        WaveItem(wave.alliance_id, wave.id, key, position, dimension, text, reverse)
        for position, (key, dimension, text, reverse) in enumerate(rows, start=1)
    ]
    uow.add_all(items)
    return items


def _invite_everyone(uow: UnitOfWork, wave: Wave) -> list[WaveInvitation]:
    members = uow.find(m.Member, alliance_id=wave.alliance_id)
    invitations = [
        WaveInvitation(
            alliance_id=wave.alliance_id,
            wave_id=wave.id,
            id=new_id("pi"),
            person_id=member.person_id,
            partner_id=member.partner_id,
            role_band=role_band(member.role),
        )
        for member in members
    ]
    uow.add_all(invitations)
    return invitations


def do_open_wave(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    payload: Any,
    site: Site | None = None,
) -> Wave:
    """Open a wave now for every member; refused while another wave of the alliance runs.

    With ``site`` (and a mail server), each member is emailed their own link.
    """
    access = open_for_edit(uow, actor, alliance_id)
    data = inputs.parse(WaveInput, payload)
    now = uow.clock.now()
    closes_at = _check_closing_day(data, now)
    running = running_wave(uow, alliance_id)
    if running is not None:
        raise Conflict(f"the wave “{running.title}” is still running; close it first")
    wave = Wave(
        alliance_id=alliance_id,
        id=new_id("pw"),
        title=data.title,
        instrument_version=INSTRUMENT_VERSION,
        source=WaveSource.LINKS,
        opened_at=now,
        closes_at=closes_at,
    )
    uow.add(wave)
    uow.flush()
    items = _freeze_items(uow, wave)
    invitations = _invite_everyone(uow, wave)
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "pulse_wave.opened",
        {
            "id": wave.id,
            "title": wave.title,
            "closes_at": closes_at.isoformat(),
            "instrument_version": INSTRUMENT_VERSION,
            "items": [item.key for item in items],
            "invited": len(invitations),
        },
    )
    if site is not None:
        mail_links(uow, site, access.alliance.name, wave, invitations)
    return wave


def _require_running(wave: Wave, now: datetime) -> None:
    if not wave.is_open(now):
        raise Conflict("this wave has closed")


def do_close_wave(uow: UnitOfWork, actor: m.Person | None, alliance_id: str, wave_id: str) -> Wave:
    """Close a running wave now: its links stop working and its results can be shown."""
    wave = open_wave(uow, actor, alliance_id, wave_id, for_edit=True).wave
    now = uow.clock.now()
    _require_running(wave, now)
    wave.closes_at = now
    eventlog.append(uow, alliance_id, actor, "pulse_wave.closed", {"id": wave_id})
    return wave


def do_remind(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    wave_id: str,
    payload: Any = None,
    site: Site | None = None,
) -> Wave:
    """Record a reminder, with an optional note, to everyone who has not answered yet.

    Who that is stays inside the service: with ``site`` and a mail server the
    reminder is emailed to them alone; otherwise the manager hands out the
    same links again (a used one thanks its owner and stores nothing). Each
    member who has not answered also sees the reminder on their pulse page.
    """
    opened = open_wave(uow, actor, alliance_id, wave_id, for_edit=True)
    wave = opened.wave
    data = inputs.parse(ReminderInput, payload or {})
    now = uow.clock.now()
    _require_running(wave, now)
    wave.reminded_at, wave.reminder_note = now, data.note
    eventlog.append(
        uow, alliance_id, actor, "pulse_wave.reminded", {"id": wave_id, "note": data.note}
    )
    if site is not None:
        waiting = uow.find(WaveInvitation, alliance_id=alliance_id, wave_id=wave_id, answered=False)
        mail_links(uow, site, opened.access.alliance.name, wave, waiting, data.note, reminder=True)
    return wave


@dataclass(frozen=True)
class PartnerRate:
    """A partner's response rate: ``answered`` is None when it is 1..threshold − 1."""

    partner_id: str
    name: str
    invited: int
    answered: int | None


@dataclass(frozen=True)
class ResponseRates:
    partners: list[PartnerRate]
    invited: int
    answered: int | None
    """The total, unless it would reveal the counts hidden per partner."""
    threshold: int


def response_rates(uow: UnitOfWork, wave: Wave, threshold: int) -> ResponseRates:
    """Invited and answered per partner: from the invitations, or for an import its answers."""
    names = partner_names(uow, wave.alliance_id)
    scope = {"alliance_id": wave.alliance_id, "wave_id": wave.id}
    if wave.source == WaveSource.IMPORT:
        invited: Counter[str] = Counter()
        answered = Counter(r.partner_id for r in uow.find(Response, **scope))
    else:
        invitations = uow.find(WaveInvitation, **scope)
        invited = Counter(i.partner_id for i in invitations)
        answered = Counter(i.partner_id for i in invitations if i.answered)
    partners = sorted(set(invited) | set(answered), key=lambda p: names.get(p, p))
    rates = [
        PartnerRate(p, names.get(p, p), invited[p], shown_count(answered[p], threshold))
        for p in partners
    ]
    return ResponseRates(
        partners=rates,
        invited=sum(invited.values()),
        answered=shown_total((answered[p] for p in partners), threshold),
        threshold=threshold,
    )


@dataclass(frozen=True)
class WaveSummary:
    wave: Wave
    is_open: bool
    rates: ResponseRates


def waves(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, threshold: int
) -> list[WaveSummary]:
    """Every wave of the alliance, newest first, with its response rates."""
    open_alliance(uow, actor, alliance_id)
    now = uow.clock.now()
    found = uow.find(Wave, order_by=Wave.opened_at.desc(), alliance_id=alliance_id)
    return [WaveSummary(w, w.is_open(now), response_rates(uow, w, threshold)) for w in found]


def wave_summary(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, wave_id: str, threshold: int
) -> WaveSummary:
    wave = open_wave(uow, actor, alliance_id, wave_id).wave
    return WaveSummary(wave, wave.is_open(uow.clock.now()), response_rates(uow, wave, threshold))


@dataclass(frozen=True)
class Link:
    """A member's link to a running wave, for the manager to send."""

    name: str
    email: str
    partner: str
    token: str


def links(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, wave_id: str, secret_key: str
) -> list[Link]:
    """Every invited member's link (managers), by partner and name; never whether it was used."""
    wave = open_wave(uow, actor, alliance_id, wave_id, for_edit=True).wave
    _require_running(wave, uow.clock.now())
    invitations = uow.find(WaveInvitation, alliance_id=alliance_id, wave_id=wave_id)
    people = {
        p.id: p for p in uow.find(m.Person, m.Person.id.in_([i.person_id for i in invitations]))
    }
    names = partner_names(uow, alliance_id)
    found = [
        Link(
            people[i.person_id].name,
            people[i.person_id].email,
            names.get(i.partner_id, ""),
            token_for(secret_key, i),
        )
        for i in invitations
    ]
    return sorted(found, key=lambda link: (link.partner, link.name, link.email))


@dataclass(frozen=True)
class MyInvitation:
    """The actor's own place in the running wave: their link, unless they have answered."""

    wave: Wave
    answered: bool
    token: str | None


def my_invitation(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, secret_key: str
) -> MyInvitation | None:
    """Shown to the person themself only: whether they still have the running wave to answer."""
    open_alliance(uow, actor, alliance_id)
    wave = running_wave(uow, alliance_id)
    if wave is None or actor is None:
        return None
    invitation = uow.find_one(
        WaveInvitation, alliance_id=alliance_id, wave_id=wave.id, person_id=actor.id
    )
    if invitation is None:
        return None
    token = None if invitation.answered else token_for(secret_key, invitation)
    return MyInvitation(wave, invitation.answered, token)
