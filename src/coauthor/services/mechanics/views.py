"""Read models for the web pages: what each screen shows, gathered in one place.

Every function that reads an alliance takes ``(uow, actor, alliance_id, ...)``
and first checks, through ``open_alliance``, that the actor may see it. Nothing
here writes. Partners are listed by organization name; each carries its own
colour (``series``, chosen when it joined and stored), so a partner keeps its
colour on every page and when partners are added or removed.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import NotFound
from coauthor.domain.invariants import risk_score
from coauthor.services.mechanics.alliances import open_alliance, partner_notes
from coauthor.services.paging import Page, PageRequest, keyset

MEETINGS_PER_PAGE = 10
RECURRENCE_MONTHS = {
    m.Recurrence.ONCE: 0,
    m.Recurrence.MONTHLY: 1,
    m.Recurrence.QUARTERLY: 3,
    m.Recurrence.YEARLY: 12,
}


@dataclass(frozen=True)
class Choice:
    id: str
    label: str


@dataclass(frozen=True)
class PartnerRef:
    id: str
    name: str
    series: int
    """The partner's own colour in charts (CSS ``series-N``)."""

    @property
    def index(self) -> int:
        """The colour under its former name, for templates that still write ``index % 8``."""
        return self.series


@dataclass(frozen=True)
class MemberView:
    id: str
    person_id: str
    name: str
    email: str
    partner_id: str
    role: m.Role
    title: str


@dataclass(frozen=True)
class PartnerView:
    ref: PartnerRef
    partner: m.Partner
    members: list[MemberView]
    is_mine: bool


@dataclass(frozen=True)
class PortfolioRow:
    alliance: m.Alliance
    my_role: str
    partners: int


@dataclass(frozen=True)
class Choices:
    """What the forms of an alliance offer to pick from."""

    partners: list[Choice]
    members: list[Choice]
    agreements: list[Choice]
    bodies: list[Choice]


@dataclass(frozen=True)
class ObligationView:
    obligation: m.Obligation
    debtor: str
    creditor: str
    next_due: date | None


@dataclass(frozen=True)
class AgreementView:
    agreement: m.Agreement
    obligations: list[ObligationView]


@dataclass(frozen=True)
class SeatView:
    member_id: str
    name: str
    partner: str
    is_chair: bool


@dataclass(frozen=True)
class MeetingView:
    meeting: m.Meeting
    body: str
    attendees: list[str]


@dataclass(frozen=True)
class BodyView:
    body: m.GovernanceBody
    seats: list[SeatView]
    rights: list[m.DecisionRight]


@dataclass(frozen=True)
class Governance:
    bodies: list[BodyView]
    upcoming: Page[MeetingView]
    """Soonest first."""
    past: Page[MeetingView]
    """Latest first."""
    body_id: str | None = None
    """The body whose meetings these are; None for every body's."""


@dataclass(frozen=True)
class ShareView:
    partner_id: str
    name: str
    series: int
    percent: Decimal


@dataclass(frozen=True)
class RiskView:
    risk: m.Risk
    score: int
    shares: list[ShareView]


@dataclass(frozen=True)
class ContributionView:
    contribution: m.Contribution
    partner: PartnerRef


@dataclass(frozen=True)
class PartnerTotals:
    partner: PartnerRef
    contributed: Decimal
    received: Decimal


@dataclass(frozen=True)
class UnitTotals:
    """What each partner put in and got out in one unit (EUR, hours, …), and all together."""

    unit: str
    rows: list[PartnerTotals]

    @property
    def contributed(self) -> Decimal:
        return sum((row.contributed for row in self.rows), Decimal(0))

    @property
    def received(self) -> Decimal:
        return sum((row.received for row in self.rows), Decimal(0))

    @property
    def shared(self) -> bool:
        """Whether two or more partners have amounts in it: only then a chart compares them."""
        return sum(1 for row in self.rows if row.contributed or row.received) >= 2


@dataclass(frozen=True)
class Amount:
    value: Decimal
    unit: str


@dataclass(frozen=True)
class Balance:
    """A partner's contributions and value received, each as one amount per unit."""

    partner: PartnerRef | None
    """None for all partners together."""
    put_in: list[Amount]
    got_out: list[Amount]


@dataclass(frozen=True)
class Contributions:
    items: list[ContributionView]
    units: list[UnitTotals]
    """Every unit, most used first; units that differ only in capitals are one."""
    balances: list[Balance]
    """Per partner, then all partners together (the common total)."""

    @property
    def compared(self) -> list[UnitTotals]:
        return [unit for unit in self.units if unit.shared]


@dataclass(frozen=True)
class NoteView:
    note: m.PartnerNote
    author: str


@dataclass(frozen=True)
class PartnerNotes:
    partner: PartnerRef
    notes: list[NoteView]
    can_write: bool


def _people(uow: UnitOfWork, ids: Iterable[str]) -> dict[str, m.Person]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {p.id: p for p in uow.find(m.Person, m.Person.id.in_(wanted))}


def _named_partners(uow: UnitOfWork, alliance_id: str) -> list[tuple[m.Partner, PartnerRef]]:
    """Each partner with its reference, in organization-name order."""
    partners = uow.find(m.Partner, alliance_id=alliance_id)
    org_ids = {p.organization_id for p in partners}
    orgs = (
        {o.id: o.name for o in uow.find(m.Organization, m.Organization.id.in_(org_ids))}
        if org_ids
        else {}
    )
    named = sorted(partners, key=lambda p: (orgs.get(p.organization_id, "").lower(), p.id))
    return [(p, PartnerRef(p.id, orgs.get(p.organization_id, "?"), p.colour)) for p in named]


def partner_refs(uow: UnitOfWork, alliance_id: str) -> list[PartnerRef]:
    """The alliance's partners by name, each with its colour (no permission check: callers')."""
    return [ref for _, ref in _named_partners(uow, alliance_id)]


def _refs_by_id(uow: UnitOfWork, alliance_id: str) -> dict[str, PartnerRef]:
    return {ref.id: ref for ref in partner_refs(uow, alliance_id)}


def _member_views(uow: UnitOfWork, alliance_id: str) -> list[MemberView]:
    members = uow.find(m.Member, alliance_id=alliance_id)
    people = _people(uow, (member.person_id for member in members))
    views = [
        MemberView(
            member.id,
            member.person_id,
            people[member.person_id].name,
            people[member.person_id].email,
            member.partner_id,
            member.role,
            member.title,
        )
        for member in members
    ]
    return sorted(views, key=lambda view: view.name.lower())


def _member_labels(
    uow: UnitOfWork, alliance_id: str, partners: Mapping[str, PartnerRef]
) -> dict[str, tuple[str, str]]:
    """Member id → (person's name, partner's name)."""
    return {
        view.id: (view.name, partners[view.partner_id].name)
        for view in _member_views(uow, alliance_id)
    }


def portfolio(uow: UnitOfWork, actor: m.Person | None) -> list[PortfolioRow]:
    """The alliances the actor belongs to (all of them for an administrator) with their role."""
    from coauthor.services.mechanics.alliances import alliances_of

    alliances = alliances_of(uow, actor)
    if not alliances:
        return []
    assert actor is not None
    ids = [alliance.id for alliance in alliances]
    roles = {
        member.alliance_id: member.role.value
        for member in uow.find(m.Member, m.Member.alliance_id.in_(ids), person_id=actor.id)
    }
    counts = dict(
        uow.session.execute(
            sa.select(m.Partner.alliance_id, sa.func.count())
            .where(m.Partner.alliance_id.in_(ids))
            .group_by(m.Partner.alliance_id)
        ).all()
    )
    return [
        PortfolioRow(alliance, roles.get(alliance.id, "administrator"), counts.get(alliance.id, 0))
        for alliance in alliances
    ]


def partner_directory(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str
) -> list[PartnerView]:
    """Every partner with its members; ``is_mine`` marks the actor's own partner."""
    access = open_alliance(uow, actor, alliance_id)
    my_partner = access.membership.partner_id if access.membership else None
    members: dict[str, list[MemberView]] = defaultdict(list)
    for member in _member_views(uow, alliance_id):
        members[member.partner_id].append(member)
    return [
        PartnerView(ref, partner, members.get(ref.id, []), ref.id == my_partner)
        for partner, ref in _named_partners(uow, alliance_id)
    ]


def choices(uow: UnitOfWork, actor: m.Person | None, alliance_id: str) -> Choices:
    open_alliance(uow, actor, alliance_id)
    refs = partner_refs(uow, alliance_id)
    labels = _member_labels(uow, alliance_id, {ref.id: ref for ref in refs})
    return Choices(
        partners=[Choice(ref.id, ref.name) for ref in refs],
        members=[Choice(mid, f"{name} ({partner})") for mid, (name, partner) in labels.items()],
        agreements=[
            Choice(a.id, a.title)
            for a in uow.find(m.Agreement, order_by=m.Agreement.title, alliance_id=alliance_id)
        ],
        bodies=_body_choices(uow, alliance_id),
    )


def _body_choices(uow: UnitOfWork, alliance_id: str) -> list[Choice]:
    bodies = uow.find(m.GovernanceBody, order_by=m.GovernanceBody.name, alliance_id=alliance_id)
    return [Choice(b.id, b.name) for b in bodies]


def body_choices(uow: UnitOfWork, actor: m.Person | None, alliance_id: str) -> list[Choice]:
    """The governance bodies, by name, for a form that picks one."""
    open_alliance(uow, actor, alliance_id)
    return _body_choices(uow, alliance_id)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_due(obligation: m.Obligation, today: date) -> date | None:
    """The first due date on or after ``today``, or None when none is left."""
    step = RECURRENCE_MONTHS[obligation.recurrence]
    first = obligation.first_due_on
    due = first
    if step and first < today:
        elapsed = (today.year - first.year) * 12 + today.month - first.month
        due = add_months(first, max(0, elapsed // step) * step)
        if due < today:
            due = add_months(first, (elapsed // step + 1) * step)
    if due < today or (obligation.last_due_on and due > obligation.last_due_on):
        return None
    return due


def obligation_views(
    uow: UnitOfWork, alliance_id: str, today: date, partners: Mapping[str, PartnerRef]
) -> list[ObligationView]:
    obligations = uow.find(
        m.Obligation,
        order_by=m.Obligation.first_due_on,
        alliance_id=alliance_id,
    )
    return [
        ObligationView(
            ob,
            partners[ob.debtor_partner_id].name,
            partners[ob.creditor_partner_id].name,
            next_due(ob, today),
        )
        for ob in obligations
    ]


def agreements(uow: UnitOfWork, actor: m.Person | None, alliance_id: str) -> list[AgreementView]:
    """Agreements by title, each with its obligations by first due date."""
    open_alliance(uow, actor, alliance_id)
    obligations = obligation_views(
        uow, alliance_id, uow.clock.now().date(), _refs_by_id(uow, alliance_id)
    )
    by_agreement: dict[str, list[ObligationView]] = defaultdict(list)
    for view in obligations:
        by_agreement[view.obligation.agreement_id].append(view)
    rows = uow.find(m.Agreement, order_by=m.Agreement.title, alliance_id=alliance_id)
    return [AgreementView(a, by_agreement.get(a.id, [])) for a in rows]


def _meeting_views(
    uow: UnitOfWork,
    alliance_id: str,
    labels: Mapping[str, tuple[str, str]],
    meetings: list[m.Meeting],
) -> list[MeetingView]:
    bodies = {b.id: b.name for b in uow.find(m.GovernanceBody, alliance_id=alliance_id)}
    attendance: dict[str, list[str]] = defaultdict(list)
    ids = [meeting.id for meeting in meetings]
    if ids:
        for row in uow.find(
            m.Attendance, m.Attendance.meeting_id.in_(ids), alliance_id=alliance_id
        ):
            attendance[row.meeting_id].append(labels[row.member_id][0])
    return [
        MeetingView(meeting, bodies[meeting.body_id], sorted(attendance[meeting.id]))
        for meeting in meetings
    ]


def _meetings(
    uow: UnitOfWork,
    alliance_id: str,
    body_id: str | None,
    request: PageRequest,
    *,
    upcoming: bool,
) -> Page[m.Meeting]:
    """Upcoming meetings soonest first, or past ones latest first, paged by start time."""
    now = uow.clock.now()
    statement = sa.select(m.Meeting).where(m.Meeting.alliance_id == alliance_id)
    if body_id is not None:
        statement = statement.where(m.Meeting.body_id == body_id)
    if upcoming:
        columns = (m.Meeting.starts_at, m.Meeting.id)
        statement = statement.where(m.Meeting.starts_at >= now)
        return keyset(uow.session, statement, columns, request, lambda x: (x.starts_at, x.id))

    statement = statement.where(m.Meeting.starts_at < now)
    columns = (m.Meeting.starts_at, m.Meeting.id)
    key = lambda x: (x.starts_at, x.id)  # noqa: E731
    return keyset(uow.session, statement, columns, request, key, descending=True)


def _seats(
    uow: UnitOfWork, alliance_id: str, labels: Mapping[str, tuple[str, str]]
) -> dict[str, list[SeatView]]:
    seats: dict[str, list[SeatView]] = defaultdict(list)
    for seat in uow.find(m.BodySeat, alliance_id=alliance_id):
        name, partner = labels[seat.member_id]
        seats[seat.body_id].append(SeatView(seat.member_id, name, partner, seat.is_chair))
    for rows in seats.values():
        rows.sort(key=lambda seat: (not seat.is_chair, seat.name.lower()))
    return seats


def governance(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    *,
    body_id: str | None = None,
    upcoming: PageRequest | None = None,
    past: PageRequest | None = None,
) -> Governance:
    """Bodies with their seats (chair first) and decision rights; meetings split at now.

    Meetings come a page at a time (upcoming soonest first, past latest
    first), of one body when ``body_id`` is given.
    """
    open_alliance(uow, actor, alliance_id)
    if (
        body_id is not None
        and uow.get(m.GovernanceBody, alliance_id=alliance_id, id=body_id) is None
    ):
        raise NotFound("no such governance body")
    labels = _member_labels(uow, alliance_id, _refs_by_id(uow, alliance_id))
    seats = _seats(uow, alliance_id, labels)
    rights: dict[str, list[m.DecisionRight]] = defaultdict(list)
    for right in uow.find(
        m.DecisionRight,
        order_by=m.DecisionRight.decision_kind,
        alliance_id=alliance_id,
    ):
        rights[right.body_id].append(right)
    bodies = uow.find(m.GovernanceBody, order_by=m.GovernanceBody.name, alliance_id=alliance_id)
    pages = {
        when: _meetings(
            uow, alliance_id, body_id, request or PageRequest(MEETINGS_PER_PAGE), upcoming=when
        )
        for when, request in ((True, upcoming), (False, past))
    }
    views = {
        when: Page(_meeting_views(uow, alliance_id, labels, page.items), page.next_cursor)
        for when, page in pages.items()
    }
    return Governance(
        bodies=[BodyView(b, seats.get(b.id, []), rights.get(b.id, [])) for b in bodies],
        upcoming=views[True],
        past=views[False],
        body_id=body_id,
    )


def shares_for(refs: Iterable[PartnerRef], percents: Mapping[str, Decimal]) -> list[ShareView]:
    """Shares in partner order, leaving out partners who bear none."""
    return [
        ShareView(ref.id, ref.name, ref.series, percents[ref.id])
        for ref in refs
        if percents.get(ref.id)
    ]


def risk_register(uow: UnitOfWork, actor: m.Person | None, alliance_id: str) -> list[RiskView]:
    """Risks, highest likelihood × impact first, with each partner's share."""
    open_alliance(uow, actor, alliance_id)
    refs = partner_refs(uow, alliance_id)
    percents: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for share in uow.find(m.RiskShare, alliance_id=alliance_id):
        percents[share.risk_id][share.partner_id] = Decimal(share.percent)
    views = [
        RiskView(
            risk, risk_score(risk.likelihood, risk.impact), shares_for(refs, percents[risk.id])
        )
        for risk in uow.find(m.Risk, alliance_id=alliance_id)
    ]
    return sorted(views, key=lambda view: (-view.score, view.risk.title.lower(), view.risk.id))


def share_preview(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, percents: Mapping[str, Decimal]
) -> list[ShareView]:
    """Shares as a risk form would record them, for drawing before saving."""
    open_alliance(uow, actor, alliance_id)
    return shares_for(partner_refs(uow, alliance_id), percents)


def _unit_spellings(rows: Iterable[m.Contribution]) -> dict[str, str]:
    """Each unit (compared without capitals) → its most used spelling."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        counts[row.unit.casefold()][row.unit] += 1
    return {
        key: max(sorted(used), key=lambda spelling: used[spelling]) for key, used in counts.items()
    }


def _balance(partner: PartnerRef | None, units: list[UnitTotals]) -> Balance:
    def amounts(direction: str) -> list[Amount]:
        found = []
        for unit in units:
            rows = [row for row in unit.rows if partner is None or row.partner.id == partner.id]
            total = sum((getattr(row, direction) for row in rows), Decimal(0))
            if total:
                found.append(Amount(total, unit.unit))
        return found

    return Balance(partner, amounts("contributed"), amounts("received"))


def contributions(uow: UnitOfWork, actor: m.Person | None, alliance_id: str) -> Contributions:
    """Every contribution, newest first; per unit and per partner what was put in and got out.

    Units that differ only in capitals ("eur", "EUR") are one unit, named by
    their most used spelling; units are listed by how many contributions use
    them, so money and hours come before one-off units.
    """
    open_alliance(uow, actor, alliance_id)
    refs = partner_refs(uow, alliance_id)
    by_id = {ref.id: ref for ref in refs}
    rows = uow.find(m.Contribution, order_by=m.Contribution.on, alliance_id=alliance_id)
    spelling = _unit_spellings(rows)
    totals: dict[str, dict[tuple[str, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    used: dict[str, int] = defaultdict(int)
    for row in rows:
        unit = spelling[row.unit.casefold()]
        totals[unit][(row.partner_id, row.direction)] += Decimal(row.amount)
        used[unit] += 1
    units = [
        UnitTotals(
            unit,
            [PartnerTotals(ref, sums[(ref.id, "in")], sums[(ref.id, "value")]) for ref in refs],
        )
        for unit, sums in sorted(totals.items(), key=lambda item: (-used[item[0]], item[0].lower()))
    ]
    balances = [_balance(ref, units) for ref in refs] + [_balance(None, units)]
    items = [ContributionView(row, by_id[row.partner_id]) for row in reversed(rows)]
    return Contributions(items, units, balances)


def upcoming_meetings(
    uow: UnitOfWork, alliance_id: str, request: PageRequest, partners: Mapping[str, PartnerRef]
) -> list[MeetingView]:
    """The next meetings of every body, soonest first."""
    page = _meetings(uow, alliance_id, None, request, upcoming=True)
    return _meeting_views(uow, alliance_id, _member_labels(uow, alliance_id, partners), page.items)


def notes_of_partner(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, partner_id: str
) -> PartnerNotes:
    """A partner's private notes, for that partner's own members only."""
    notes = partner_notes(uow, actor, alliance_id, partner_id)
    access = open_alliance(uow, actor, alliance_id)
    people = _people(uow, (note.author_person_id for note in notes))
    can_write = permissions.can_write_partner_notes(actor, access.membership, partner_id)
    return PartnerNotes(
        partner=_refs_by_id(uow, alliance_id)[partner_id],
        notes=[
            NoteView(
                note,
                people[note.author_person_id].name
                if note.author_person_id in people
                else "former member",
            )
            for note in reversed(notes)
        ],
        can_write=can_write,
    )
