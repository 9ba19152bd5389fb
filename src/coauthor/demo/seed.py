"""The demo: a year in the life of the Helios Battery Recycling JV, written through the services.

Three partners — a large manufacturer, an Indigenous-owned recycling
cooperative and a university lab — set up a joint venture to recover nickel,
cobalt and lithium from end-of-life battery packs. The seed writes their
charter, agreements and obligations, governance with decision rights, a year
of meetings with attendance and minutes, a risk register, contributions and
value created, a few private partner notes, and a deliberation on who owns
process improvements with statements and votes — each write at the simulated
moment it happened, so the event log tells the story in order.

Every write goes through the services. The demo login is the Nordwerk alliance
manager; their password is generated at seed time, and a new one is set each
time the seed runs again on an already seeded database.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from coauthor.clock import Clock, FixedClock
from coauthor.config import Settings
from coauthor.db.uow import UnitOfWork
from coauthor.demo.emergence import plan_emergence
from coauthor.demo.ledger import plan_ledger
from coauthor.demo.pulse import plan_pulse
from coauthor.domain import model as m
from coauthor.domain.errors import Conflict
from coauthor.services.accounts import people
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.archive.importer import Progress, report_step
from coauthor.services.deliberation import acts as deliberation_service
from coauthor.services.mechanics import alliances, registers
from coauthor.services.mechanics.inputs import (
    AllianceCreate,
    AllianceInput,
    MemberInput,
    MemberUpdate,
    PartnerInput,
    PartnerNoteInput,
)

ALLIANCE_NAME = "Helios Battery Recycling JV"
DEMO_EMAIL = "jonas.brandt@nordwerk.example"
ADMIN_EMAIL = "admin@helios-jv.example"
HISTORY_DAYS = 370
DEFAULT_THRESHOLD: int = Settings.model_fields["anonymity_threshold"].default
PARTNERS = (
    "Nordwerk Industries",
    "Red Cedar Metals Cooperative",
    "Lakeshore University Materials Lab",
)
NORDWERK, RED_CEDAR, LAKESHORE = PARTNERS

PURPOSE = (
    "Helios turns end-of-life electric-vehicle battery packs into battery-grade nickel, "
    "cobalt and lithium close to where the packs are collected. Nordwerk Industries brings "
    "capital, its OEM take-back network and a guaranteed offtake; Red Cedar Metals "
    "Cooperative runs collection, safe discharge and shredding on its permitted site and "
    "trains and employs people from its owner communities; Lakeshore University Materials "
    "Lab brings its low-temperature leaching process and the science to scale it.\n\n"
    "Charter: we decide together what we cannot decide alone; we say early what we cannot "
    "deliver; value created is shared in proportion to what each partner puts at risk; and "
    "the cooperative's communities see the benefits they were promised, every year."
)


@dataclass(frozen=True)
class DemoLogin:
    """How to sign in to the demo; ``created`` is False when it was already seeded."""

    email: str
    password: str
    alliance_id: str
    created: bool
    url: str | None = None


@dataclass(frozen=True)
class PersonSeed:
    key: str
    email: str
    name: str
    partner: str
    role: m.Role
    title: str


# fmt: off
PEOPLE = (
    PersonSeed("katrin", "katrin.vogel@nordwerk.example", "Dr. Katrin Vogel", NORDWERK,
               m.Role.SPONSOR, "VP Circular Materials"),
    PersonSeed("jonas", DEMO_EMAIL, "Jonas Brandt", NORDWERK, m.Role.MANAGER, "Alliance Manager"),
    PersonSeed("mara", "mara.schultz@nordwerk.example", "Mara Schultz", NORDWERK,
               m.Role.MEMBER, "Senior Process Engineer"),
    PersonSeed("felix", "felix.albrecht@nordwerk.example", "Felix Albrecht", NORDWERK,
               m.Role.OBSERVER, "Finance Controller"),
    PersonSeed("renee", "renee.beaulieu@redcedar-metals.example", "Renée Beaulieu", RED_CEDAR,
               m.Role.SPONSOR, "General Manager"),
    PersonSeed("leah", "leah.cardinal@redcedar-metals.example", "Leah Cardinal", RED_CEDAR,
               m.Role.MANAGER, "Partnerships Lead"),
    PersonSeed("sam", "sam.kejick@redcedar-metals.example", "Sam Kejick", RED_CEDAR,
               m.Role.MEMBER, "Plant Supervisor"),
    PersonSeed("grace", "grace.martin@redcedar-metals.example", "Grace Martin", RED_CEDAR,
               m.Role.OBSERVER, "Board Member, Community Benefits"),
    PersonSeed("amara", "amara.okafor@lakeshore-university.example", "Prof. Amara Okafor",
               LAKESHORE, m.Role.SPONSOR, "Lab Director"),
    PersonSeed("wei", "wei.chen@lakeshore-university.example", "Dr. Wei Chen", LAKESHORE,
               m.Role.MANAGER, "Research Programme Manager"),
    PersonSeed("priya", "priya.natarajan@lakeshore-university.example", "Priya Natarajan",
               LAKESHORE, m.Role.MEMBER, "Doctoral Researcher"),
    PersonSeed("tomas", "tomas.rivera@lakeshore-university.example", "Dr. Tomás Rivera",
               LAKESHORE, m.Role.MEMBER, "Postdoctoral Fellow"),
    # Six voters per partner: more than the anonymity threshold (5), so the deliberation's
    # partner breakdown (fault lines, bridging statements) is shown with nothing withheld.
    PersonSeed("lukas", "lukas.meyer@nordwerk.example", "Lukas Meyer", NORDWERK,
               m.Role.MEMBER, "Procurement Lead"),
    PersonSeed("anja", "anja.koehler@nordwerk.example", "Anja Köhler", NORDWERK,
               m.Role.MEMBER, "Quality Manager"),
    PersonSeed("stefan", "stefan.wolf@nordwerk.example", "Stefan Wolf", NORDWERK,
               m.Role.MEMBER, "Plant Manager"),
    PersonSeed("daniel", "daniel.morin@redcedar-metals.example", "Daniel Morin", RED_CEDAR,
               m.Role.MEMBER, "Safety Coordinator"),
    PersonSeed("theresa", "theresa.linklater@redcedar-metals.example", "Theresa Linklater",
               RED_CEDAR, m.Role.MEMBER, "Environmental Officer"),
    PersonSeed("kevin", "kevin.quill@redcedar-metals.example", "Kevin Quill", RED_CEDAR,
               m.Role.MEMBER, "Apprenticeship Coordinator"),
    PersonSeed("hannah", "hannah.park@lakeshore-university.example", "Dr. Hannah Park",
               LAKESHORE, m.Role.MEMBER, "Research Scientist"),
    PersonSeed("yusuf", "yusuf.demir@lakeshore-university.example", "Yusuf Demir", LAKESHORE,
               m.Role.MEMBER, "Lab Technician"),
)
# fmt: on

PARTNER_DESCRIPTIONS = {
    NORDWERK: "Industrial manufacturer of drivetrains and battery packs; anchor customer, "
    "majority funder and offtaker of the recovered metals.",
    RED_CEDAR: "Indigenous-owned, member-governed metals recovery cooperative and certified "
    "minority-owned supplier; runs collection, discharge and shredding on its permitted site.",
    LAKESHORE: "University lab for hydrometallurgy and materials characterisation; inventor "
    "of the low-temperature leaching process the JV licenses.",
}

# fmt: off
# Agreements: key, day signed, title, kind, years in force, summary.
AGREEMENTS = (
    ("nda", 2, "Mutual Non-Disclosure Agreement", m.AgreementKind.NDA, 3,
     "Protects process data, feedstock volumes and pricing exchanged while forming the JV."),
    ("mou", 20, "Memorandum of Understanding on Community Benefits", m.AgreementKind.MOU, 5,
     "Local hiring, apprenticeships and a yearly community report for the cooperative's "
     "owner communities."),
    ("jv", 28, "Helios Joint Venture Agreement", m.AgreementKind.JV_AGREEMENT, 10,
     "Ownership 55/30/15 (Nordwerk, Red Cedar, Lakeshore), governance, capital calls, "
     "offtake and exit."),
    ("sow1", 40, "SOW 1: Black-Mass Pilot Line", m.AgreementKind.SOW, 2,
     "Build and run a 2,000 t/yr discharge-and-shred pilot line at the Red Cedar site."),
    ("sow2", 150, "SOW 2: Leaching Process Scale-Up", m.AgreementKind.SOW, 3,
     "Move the low-temperature leaching process from bench to a 50 kg/day pilot reactor."),
)

# Obligations: agreement, day written, title, debtor, creditor, recurrence, first due day,
# years it recurs (None: one-off), description.
OBLIGATIONS = (
    ("jv", 32, "Fund pilot-line equipment (EUR 1.2M)", NORDWERK, RED_CEDAR, m.Recurrence.ONCE,
     60, None, "Second tranche released on commissioning sign-off."),
    ("jv", 33, "Guaranteed offtake of nickel-cobalt hydroxide", NORDWERK, RED_CEDAR,
     m.Recurrence.QUARTERLY, 120, 3, "At least 80% of output at the index-linked price."),
    ("jv", 33, "Feedstock and yield report", RED_CEDAR, NORDWERK, m.Recurrence.MONTHLY, 75, 2,
     "Tonnes received, discharged and shredded; black-mass yield and grade."),
    ("jv", 34, "Fund two doctoral positions", NORDWERK, LAKESHORE, m.Recurrence.YEARLY, 60, 4,
     "Stipends and bench fees for two doctoral researchers on the leaching process."),
    ("sow1", 45, "Black-mass samples for characterisation", RED_CEDAR, LAKESHORE,
     m.Recurrence.MONTHLY, 90, 1, "Five labelled 1 kg samples per month, chain of custody kept."),
    ("sow1", 46, "Process-safety training for plant staff", LAKESHORE, RED_CEDAR,
     m.Recurrence.ONCE, 70, None, "Thermal-runaway and electrolyte handling, with refreshers."),
    ("sow2", 152, "Quarterly research progress report", LAKESHORE, NORDWERK,
     m.Recurrence.QUARTERLY, 240, 2, "Yields, reagent use and scale-up risks, in plain terms."),
    ("mou", 22, "Apprenticeship places for community members", NORDWERK, RED_CEDAR,
     m.Recurrence.YEARLY, 180, 4, "Four paid apprenticeships a year at Nordwerk plants."),
    ("nda", 3, "Return or destroy confidential material", LAKESHORE, NORDWERK,
     m.Recurrence.ONCE, 2 + 3 * 365, None, "At the end of the NDA term, with a written record."),
)

# Bodies: key, name, kind, cadence, purpose, seats (chair first).
BODIES = (
    ("steering", "Steering Committee", m.BodyKind.STEERING_COMMITTEE, m.Cadence.MONTHLY,
     "Strategy, budget, capital calls and anything a working group escalates.",
     ("katrin", "renee", "amara", "jonas", "leah", "wei")),
    ("process", "Process & Pilot Line Working Group", m.BodyKind.WORKING_GROUP,
     m.Cadence.BIWEEKLY, "Runs the pilot line safely and improves yield.",
     ("sam", "mara", "priya", "tomas", "leah")),
    ("commercial", "Commercial & Offtake Working Group", m.BodyKind.WORKING_GROUP,
     m.Cadence.BIWEEKLY, "Feedstock sourcing, offtake and pricing proposals.",
     ("leah", "jonas", "felix", "wei", "grace")),
)

# Decision rights: body, decision kind, rule, quorum percent, description.
DECISION_RIGHTS = (
    ("steering", "Annual budget and capital calls", m.DecisionRule.CONSENSUS, 100,
     "All three partners present; no partner is outvoted on money it must put in."),
    ("steering", "Changes to the charter and strategy", m.DecisionRule.CONSENSUS, 80, ""),
    ("steering", "Spending above EUR 250,000", m.DecisionRule.MAJORITY, 67,
     "Two thirds of seats present; dissent is recorded."),
    ("process", "Pilot-line operating parameters", m.DecisionRule.CONSENT, 60,
     "Adopted unless someone has a reasoned, paramount objection."),
    ("process", "Safety stop and restart", m.DecisionRule.CONSENT, 40,
     "Anyone may stop the line; restarting needs the group's consent."),
    ("commercial", "Offtake pricing proposals to the Steering Committee",
     m.DecisionRule.MAJORITY, 60, ""),
)

# Risks: title, likelihood, impact, shares, description, mitigation, later (day, status) changes.
RISKS = (
    ("Feedstock shortfall from OEM take-back", 3, 4,
     {NORDWERK: "50", RED_CEDAR: "30", LAKESHORE: "20"},
     "Fewer end-of-life packs arrive than the pilot line needs.",
     "Second collection route through two dismantlers; monthly volume forecast.",
     ((160, m.RiskStatus.MITIGATING),)),
    ("Thermal runaway during discharge and shredding", 2, 5, {RED_CEDAR: "60", NORDWERK: "40"},
     "A damaged cell ignites in storage or in the shredder.",
     "Inert-gas shredding, quarantine bay, staff training by Lakeshore.",
     ((75, m.RiskStatus.MITIGATING),)),
    ("Departure of key doctoral researchers", 3, 3, {LAKESHORE: "70", NORDWERK: "30"},
     "The process knowledge sits with two people.", "Lab notebooks and a second postdoc.", ()),
    ("Nickel and cobalt price collapse", 3, 4, {NORDWERK: "55", RED_CEDAR: "45"},
     "Offtake revenue falls below operating cost.", "Floor price in the offtake schedule.", ()),
    ("Permit delay for the wet-chemistry line", 4, 3,
     {RED_CEDAR: "50", NORDWERK: "30", LAKESHORE: "20"},
     "The provincial permit for leaching on site takes longer than planned.",
     "Early engagement with the regulator and the community.",
     ((150, m.RiskStatus.MITIGATING), (240, m.RiskStatus.CLOSED))),
    ("Disagreement over ownership of process improvements", 2, 4,
     {NORDWERK: "33.34", RED_CEDAR: "33.33", LAKESHORE: "33.33"},
     "Improvements made on the pilot line could be claimed by more than one partner.",
     "Improvement register reviewed at every steering meeting.", ()),
)

# Contributions: partner, kind, direction, description, amount, unit, days.
CONTRIBUTIONS = (
    (NORDWERK, m.ContributionKind.MONEY, "in", "Capital call", "600000", "EUR",
     (60, 150, 240, 330)),
    (NORDWERK, m.ContributionKind.MARKET_ACCESS, "in", "Access to the OEM take-back network",
     "12", "OEM contracts", (90,)),
    (NORDWERK, m.ContributionKind.PEOPLE_HOURS, "in", "Process engineering support", "640",
     "hours", (120, 300)),
    (RED_CEDAR, m.ContributionKind.EQUIPMENT, "in", "Permitted site, building and storage yard",
     "1", "site", (45,)),
    (RED_CEDAR, m.ContributionKind.PEOPLE_HOURS, "in", "Plant operations staff time", "1550",
     "hours", (120, 210, 300)),
    (LAKESHORE, m.ContributionKind.IP, "in", "Licence to the low-temperature leaching patents",
     "1", "patent family", (30,)),
    (LAKESHORE, m.ContributionKind.PEOPLE_HOURS, "in", "Research staff time", "820", "hours",
     (120, 210, 300)),
    (RED_CEDAR, m.ContributionKind.MONEY, "value", "Revenue from recovered black mass",
     "185000", "EUR", (210, 330)),
    (RED_CEDAR, m.ContributionKind.OTHER, "value", "Jobs held by community members", "14",
     "jobs", (300,)),
    (NORDWERK, m.ContributionKind.MONEY, "value", "Avoided virgin-metal purchases", "410000",
     "EUR", (330,)),
    (NORDWERK, m.ContributionKind.OTHER, "value", "Recycled content in new packs", "320",
     "tonnes", (330,)),
    (LAKESHORE, m.ContributionKind.IP, "value", "Peer-reviewed publications", "3", "papers",
     (300,)),
)

LEANING_KEPT = 0.85
VOTES_SEED = 2024
"""How often a voter votes as their partner leans (else at random): partner lines show."""
QUESTION = "How should Helios share the value created by improvements to the process?"

# Deliberation statements: author, text, how each partner's people lean (agree 1, disagree -1,
# pass 0) for Nordwerk, Red Cedar and Lakeshore; None: rejected in moderation (off topic).
STATEMENTS = (
    ("mara", "Improvements made on the pilot line belong to the JV, whoever proposed them.",
     (1, 1, -1)),
    ("tomas", "Lakeshore may publish any improvement after a 30-day confidentiality review.",
     (-1, 0, 1)),
    ("sam", "Operators who suggest an improvement are named in the improvement register.",
     (1, 1, 1)),
    ("priya", "Value from improvements is shared in proportion to each partner's risk shares.",
     (1, -1, 0)),
    ("leah", "A fixed share of the savings from improvements goes to the cooperative's "
     "communities.", (-1, 1, 1)),
    ("katrin", "The steering committee decides ownership case by case.", (1, -1, -1)),
    ("renee", "Every improvement is explained to plant staff before it goes live.", (1, 1, 1)),
    ("wei", "Can we also sort out parking at the Red Cedar site?", None),
)

NOTES = (
    ("katrin", 95, "Board wants a scale-up decision by Q3. Keep the cooperative's staffing "
     "limits in view before we push the pilot line to two shifts."),
    ("renee", 130, "Members' meeting backs the JV. They ask for the apprenticeship numbers "
     "twice a year, not once — raise this at steering before the MOU review."),
    ("amara", 200, "Publication schedule vs. Nordwerk's confidentiality review: agree a "
     "30-day review window now, before it turns into a conflict."),
    ("jonas", 260, "Offtake price floor is tighter than finance assumed; prepare options "
     "before the budget round instead of surprising the partners."),
)

STEERING_TOPICS = (
    ("Charter and first-year plan", "Charter adopted by consensus; first-year plan approved."),
    ("Pilot-line budget", "Budget of EUR 1.2M approved; Red Cedar to confirm permits."),
    ("Permits and community update", "Permit application filed; community session well "
     "attended. Apprenticeship intake agreed for September."),
    ("Commissioning readiness", "Commissioning moved two weeks for safety training; "
     "no objection."),
    ("First black-mass results", "Yield 61% vs. 65% target; process WG to report options."),
    ("Offtake pricing", "Floor price proposal from the commercial WG accepted with Lakeshore "
     "dissent recorded on the indexing method."),
    ("Scale-up options", "Two options on the table; decision deferred one month for data."),
    ("Scale-up decision", "Option B (second shift, no new building) agreed by consensus."),
    ("Mid-year health check", "Trust high; partners ask for earlier warnings on delays."),
    ("Improvement register", "Three improvements logged; ownership agreed jointly."),
    ("Budget round", "Next-year budget drafted; capital calls stay quarterly."),
    ("Year in review", "Targets mostly met; community report to be co-written."),
)

PROCESS_TOPICS = (
    ("Safety walk-through", "Quarantine bay moved away from the shredder intake."),
    ("Discharge cycle times", "Brine discharge replaced by resistive discharge for modules."),
    ("Black-mass sampling", "Sampling plan agreed with Lakeshore; labels fixed."),
    ("Shredder uptime", "Two stops from foil wrapping; screen changed."),
    ("Yield improvement trials", "Trial 4 raised yield to 63%; keep settings."),
    ("Leaching bench results", "Lithium recovery 88% at 60 °C; reagent use still high."),
    ("Incident review", "Small smoke event, no injuries; procedure updated."),
    ("Operator training", "Four apprentices signed off on discharge station."),
)

COMMERCIAL_TOPICS = (
    ("Feedstock forecast", "Volumes 12% under plan; second dismantler approached."),
    ("Offtake terms", "Draft floor price and index sent to steering."),
    ("OEM take-back contracts", "Two OEMs added; logistics cost still open."),
    ("Pricing review", "Index tracking fine; no change proposed."),
    ("Community benefits reporting", "Grace drafts the half-year community report."),
    ("Logistics costs", "Backhaul with Nordwerk trucks cuts transport cost by a third."),
)

# Meetings: body, first day, days between, hour (UTC), minute-taker, topics.
MEETING_SERIES = (
    ("steering", 35, 30, 14, "jonas", STEERING_TOPICS),
    ("process", 42, 14, 9, "leah", PROCESS_TOPICS),
    ("commercial", 49, 14, 15, "wei", COMMERCIAL_TOPICS),
)
# fmt: on


Action = Callable[[], Any]
MANAGERS = {NORDWERK: "jonas", RED_CEDAR: "leah", LAKESHORE: "wei"}


@dataclass
class _Seeder:
    """Writes the demo's history in time order through the services."""

    uow: UnitOfWork
    clock: FixedClock
    start: datetime
    end: datetime
    people: dict[str, m.Person] = field(default_factory=dict)
    partners: dict[str, str] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)
    plan: list[tuple[datetime, int, Action]] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(2024))
    votes: random.Random = field(default_factory=lambda: random.Random(VOTES_SEED))
    """The votes draw from a sequence of their own, so other plans leave them as they are."""
    threshold: int = DEFAULT_THRESHOLD
    """The site's anonymity threshold: what the demo's deliberation release may show."""

    @property
    def alliance_id(self) -> str:
        return self.items["alliance"]

    def at(self, day: int, hour: int = 10) -> datetime:
        return self.start + timedelta(days=day, hours=hour)

    def on(self, day: int) -> date:
        return (self.start + timedelta(days=day)).date()

    def schedule(self, when: datetime, action: Action, *args: Any) -> None:
        """Run ``action(*args)`` at ``when``, unless that is after the end of the history."""
        if when < self.end:
            self.plan.append((when, len(self.plan), partial(action, *args)))

    def run(self, report: Progress | None) -> None:
        plan = sorted(self.plan, key=lambda entry: entry[:2])
        for done, (when, _, action) in enumerate(plan, start=1):
            self.clock.set(when)
            action()
            report_step(report, "seeding the demo alliance", done, len(plan))

    def create(self, actor: str, kind: str, payload: dict[str, Any], key: str = "") -> None:
        item = registers.do_create_item(
            self.uow, self.people[actor], self.alliance_id, kind, payload
        )
        if key:
            self.items[key] = item.id

    def update(self, actor: str, kind: str, key: str, changes: dict[str, Any]) -> None:
        item = registers.get_item(self.uow, self.alliance_id, kind, self.items[key])
        payload = registers.as_input(self.uow, self.alliance_id, kind, item) | changes
        registers.do_update_item(
            self.uow, self.people[actor], self.alliance_id, kind, item.id, payload
        )


def _found_alliance(seeder: _Seeder, password: str) -> None:
    """The site admin, the demo manager, and the alliance with Nordwerk as first partner."""
    uow, founder = seeder.uow, PEOPLE[1]
    admin = PersonInput(email=ADMIN_EMAIL, name="Site Administrator", is_admin=True)
    people.do_create_person(uow, None, admin, None, bootstrap=True)
    person = PersonInput(email=founder.email, name=founder.name)
    jonas = people.do_create_person(uow, None, person, password, bootstrap=True)
    seeder.people["jonas"] = jonas
    data = AllianceCreate(
        name=ALLIANCE_NAME,
        kind=m.AllianceKind.JOINT_VENTURE,
        purpose=PURPOSE,
        organization_name=NORDWERK,
    )
    seeder.items["alliance"] = alliances.do_create_alliance(uow, jonas, data).id
    _describe_founder(seeder, founder)


def _describe_founder(seeder: _Seeder, founder: PersonSeed) -> None:
    jonas = seeder.people["jonas"]
    membership = alliances.membership_of(seeder.uow, jonas, seeder.alliance_id)
    assert membership is not None
    seeder.partners[NORDWERK], seeder.members["jonas"] = membership.partner_id, membership.id
    details = _partner_input(seeder, NORDWERK, 0)
    alliances.do_update_partner(
        seeder.uow, jonas, seeder.alliance_id, membership.partner_id, details
    )
    title = MemberUpdate(partner_id=membership.partner_id, role=founder.role, title=founder.title)
    alliances.do_update_member(seeder.uow, jonas, seeder.alliance_id, membership.id, title)


def _partner_input(seeder: _Seeder, name: str, day: int) -> PartnerInput:
    return PartnerInput(
        organization_name=name, joined_on=seeder.on(day), description=PARTNER_DESCRIPTIONS[name]
    )


def _add_partner(seeder: _Seeder, name: str, day: int) -> None:
    data = _partner_input(seeder, name, day)
    partner = alliances.do_add_partner(seeder.uow, seeder.people["jonas"], seeder.alliance_id, data)
    seeder.partners[name] = partner.id


def _add_member(seeder: _Seeder, person: PersonSeed, by: str) -> None:
    data = MemberInput(
        email=person.email,
        name=person.name,
        partner_id=seeder.partners[person.partner],
        role=person.role,
        title=person.title,
    )
    member = alliances.do_add_member(seeder.uow, seeder.people[by], seeder.alliance_id, data)
    seeder.members[person.key] = member.id
    added = seeder.uow.get(m.Person, id=member.person_id)
    assert added is not None
    seeder.people[person.key] = added


def _set_stage(seeder: _Seeder, stage: m.AllianceStage) -> None:
    data = AllianceInput(
        name=ALLIANCE_NAME, kind=m.AllianceKind.JOINT_VENTURE, purpose=PURPOSE, stage=stage
    )
    alliances.do_update_alliance(seeder.uow, seeder.people["jonas"], seeder.alliance_id, data)


def _plan_partners_and_people(seeder: _Seeder) -> None:
    seeder.schedule(seeder.at(1), _add_partner, seeder, RED_CEDAR, 1)
    seeder.schedule(seeder.at(1, 11), _add_partner, seeder, LAKESHORE, 1)
    for index, person in enumerate(p for p in PEOPLE if p.key != "jonas"):
        is_manager = person.role == m.Role.MANAGER
        by = "jonas" if is_manager else MANAGERS[person.partner]
        when = seeder.at(2 if is_manager else 4 + index, 9 + index % 6)
        seeder.schedule(when, _add_member, seeder, person, by)
    seeder.schedule(seeder.at(30, 16), _set_stage, seeder, m.AllianceStage.LAUNCHING)
    seeder.schedule(seeder.at(120, 16), _set_stage, seeder, m.AllianceStage.OPERATING)


def _add_agreement(
    seeder: _Seeder, key: str, day: int, title: str, kind: str, years: int, summary: str
) -> None:
    payload = {
        "title": title,
        "kind": kind,
        "signed_on": seeder.on(day),
        "effective_on": seeder.on(day + 2),
        "expires_on": seeder.on(day + 2 + 365 * years),
        "summary": summary,
    }
    seeder.create("jonas", "agreement", payload, key)


def _add_obligation(seeder: _Seeder, spec: tuple) -> None:
    agreement, _, title, debtor, creditor, recurrence, first, years, description = spec
    payload = {
        "agreement_id": seeder.items[agreement],
        "title": title,
        "debtor_partner_id": seeder.partners[debtor],
        "creditor_partner_id": seeder.partners[creditor],
        "recurrence": recurrence,
        "first_due_on": seeder.on(first),
        "last_due_on": seeder.on(first + 365 * years) if years else None,
        "description": description,
    }
    seeder.create("jonas", "obligation", payload)


def _plan_agreements(seeder: _Seeder) -> None:
    for key, day, *rest in AGREEMENTS:
        seeder.schedule(seeder.at(day, 15), _add_agreement, seeder, key, day, *rest)
    for spec in OBLIGATIONS:
        seeder.schedule(seeder.at(spec[1], 16), _add_obligation, seeder, spec)


def _add_body(seeder: _Seeder, spec: tuple) -> None:
    key, name, kind, cadence, purpose, seats = spec
    chair = seats[0]
    payload = {
        "name": name,
        "kind": kind,
        "cadence": cadence,
        "purpose": purpose,
        "seats": [{"member_id": seeder.members[p], "is_chair": p == chair} for p in seats],
    }
    seeder.create("jonas", "body", payload, key)


def _add_decision_right(seeder: _Seeder, spec: tuple) -> None:
    body, kind, rule, quorum, description = spec
    payload = {
        "body_id": seeder.items[body],
        "decision_kind": kind,
        "rule": rule,
        "quorum_percent": quorum,
        "description": description,
    }
    seeder.create("jonas", "decision_right", payload)


def _plan_governance(seeder: _Seeder) -> None:
    for index, spec in enumerate(BODIES):
        seeder.schedule(seeder.at(29, 10 + index), _add_body, seeder, spec)
    for index, spec in enumerate(DECISION_RIGHTS):
        seeder.schedule(seeder.at(29, 13 + index), _add_decision_right, seeder, spec)


def _announce_meeting(
    seeder: _Seeder, body: str, key: str, starts_at: datetime, title: str, writer: str
) -> None:
    agenda = f"1. Actions from last time\n2. {title}\n3. Risks and surprises\n4. Any other business"
    payload = {"body_id": seeder.items[body], "title": title, "starts_at": starts_at}
    seeder.create(writer, "meeting", payload | {"agenda": agenda}, key)


def _write_minutes(
    seeder: _Seeder, body: str, key: str, number: int, outcome: str, writer: str
) -> None:
    seats = next(spec[5] for spec in BODIES if spec[0] == body)
    present = [person for person in seats if seeder.rng.random() > 0.15] or [seats[0]]
    absent = ", ".join(seeder.people[p].name for p in seats if p not in present)
    notes = f"Meeting {number}. {outcome}" + (f" Apologies: {absent}." if absent else "")
    attendees = [{"member_id": seeder.members[person]} for person in present]
    seeder.update(writer, "meeting", key, {"notes": notes, "attendees": attendees})


def _plan_meetings(seeder: _Seeder) -> None:
    for body, first, every, hour, writer, topics in MEETING_SERIES:
        day, number = first, 1
        while seeder.at(day, hour) < seeder.end + timedelta(days=every):
            starts_at, key = seeder.at(day, hour), f"{body}-{number}"
            title, outcome = topics[(number - 1) % len(topics)]
            announce = starts_at - timedelta(days=5)
            seeder.schedule(
                announce, _announce_meeting, seeder, body, key, starts_at, title, writer
            )
            minutes = starts_at + timedelta(days=1)
            seeder.schedule(minutes, _write_minutes, seeder, body, key, number, outcome, writer)
            day, number = day + every, number + 1


def _add_risk(seeder: _Seeder, key: str, spec: tuple) -> None:
    title, likelihood, impact, shares, description, mitigation, _ = spec
    payload = {
        "title": title,
        "likelihood": likelihood,
        "impact": impact,
        "description": description,
        "mitigation": mitigation,
        "shares": [
            {"partner_id": seeder.partners[partner], "percent": Decimal(percent)}
            for partner, percent in shares.items()
        ],
    }
    seeder.create("jonas", "risk", payload, key)


def _plan_risks(seeder: _Seeder) -> None:
    for index, spec in enumerate(RISKS):
        key = f"risk-{index}"
        seeder.schedule(seeder.at(45 + 3 * index, 11), _add_risk, seeder, key, spec)
        for day, status in spec[6]:
            change = {"status": status}
            seeder.schedule(seeder.at(day, 12), seeder.update, "leah", "risk", key, change)


def _plan_contributions(seeder: _Seeder) -> None:
    for partner, kind, direction, description, amount, unit, days in CONTRIBUTIONS:
        for day in days:
            payload = {
                "kind": kind,
                "direction": direction,
                "description": description,
                "amount": Decimal(amount),
                "unit": unit,
                "on": seeder.on(day),
            }
            seeder.schedule(seeder.at(day + 2, 13), _add_contribution, seeder, partner, payload)


def _add_contribution(seeder: _Seeder, partner: str, payload: dict[str, Any]) -> None:
    payload = payload | {"partner_id": seeder.partners[partner]}
    seeder.create(MANAGERS[partner], "contribution", payload)


def _add_note(seeder: _Seeder, author: str, body: str) -> None:
    partner = next(person.partner for person in PEOPLE if person.key == author)
    alliances.do_add_partner_note(
        seeder.uow,
        seeder.people[author],
        seeder.alliance_id,
        seeder.partners[partner],
        PartnerNoteInput(body=body),
    )


def _plan_notes(seeder: _Seeder) -> None:
    for author, day, body in NOTES:
        seeder.schedule(seeder.at(day, 17), _add_note, seeder, author, body)


def _open_deliberation(seeder: _Seeder) -> None:
    payload = {"question": QUESTION, "description": "Input for the improvement-register policy."}
    deliberation = deliberation_service.do_create_deliberation(
        seeder.uow, seeder.people["jonas"], seeder.alliance_id, payload
    )
    seeder.items["deliberation"] = deliberation.id


def _submit_statement(seeder: _Seeder, index: int, author: str, text: str) -> None:
    statement = deliberation_service.do_submit_statement(
        seeder.uow,
        seeder.people[author],
        seeder.alliance_id,
        seeder.items["deliberation"],
        {"text": text},
    )
    seeder.items[f"statement-{index}"] = statement.id


def _moderate(seeder: _Seeder, index: int, accepted: bool) -> None:
    deliberation_service.do_moderate(
        seeder.uow,
        seeder.people["jonas"],
        seeder.alliance_id,
        seeder.items["deliberation"],
        seeder.items[f"statement-{index}"],
        {"decision": "accepted" if accepted else "rejected"},
    )


def _vote(seeder: _Seeder, voter: PersonSeed, index: int, leanings: tuple[int, ...]) -> None:
    lean = leanings[PARTNERS.index(voter.partner)]
    value = lean if seeder.votes.random() < LEANING_KEPT else seeder.votes.choice((-1, 0, 1))
    deliberation_service.do_vote(
        seeder.uow,
        seeder.people[voter.key],
        seeder.alliance_id,
        seeder.items["deliberation"],
        {"statement_id": seeder.items[f"statement-{index}"], "value": value},
    )


def _plan_deliberation(seeder: _Seeder) -> None:
    seeder.schedule(seeder.at(200, 9), _open_deliberation, seeder)
    voters = [p for p in PEOPLE if p.role != m.Role.OBSERVER]
    for index, (author, text, leanings) in enumerate(STATEMENTS):
        seeder.schedule(seeder.at(201 + index, 11), _submit_statement, seeder, index, author, text)
        seeder.schedule(seeder.at(209, 9 + index), _moderate, seeder, index, leanings is not None)
        if leanings is None:
            continue
        for number, voter in enumerate(voters):
            if voter.key == "jonas" and index >= 5:
                continue  # left for the person trying the demo
            when = seeder.at(210 + number, 8 + index)
            seeder.schedule(when, _vote, seeder, voter, index, leanings)


PLANS = (
    _plan_partners_and_people,
    _plan_agreements,
    _plan_governance,
    _plan_meetings,
    _plan_risks,
    _plan_contributions,
    _plan_notes,
    _plan_deliberation,
    plan_ledger,
    plan_pulse,
    plan_emergence,
)


def _seed(
    uow: UnitOfWork, clock: FixedClock, password: str, report: Progress | None, threshold: int
) -> str:
    end = clock.now()
    start = datetime.combine((end - timedelta(days=HISTORY_DAYS)).date(), time(0), tzinfo=UTC)
    seeder = _Seeder(uow, clock, start, end, threshold=threshold)
    seeder.schedule(seeder.at(0, 9), _found_alliance, seeder, password)
    for plan in PLANS:
        plan(seeder)
    seeder.run(report)
    return seeder.alliance_id


def _seeded_alliance(uow: UnitOfWork) -> str | None:
    person = people.person_by_email(uow, DEMO_EMAIL)
    membership = uow.find_one(m.Member, person_id=person.id) if person else None
    return membership.alliance_id if membership else None


def _reset_password(uow: UnitOfWork, password: str) -> None:
    person = people.person_by_email(uow, DEMO_EMAIL)
    if person is None:
        raise Conflict(f"the demo person {DEMO_EMAIL} is missing")
    people.do_set_password(uow, None, person, password, bootstrap=True)


def seed_demo(
    uow: UnitOfWork,
    *,
    end: datetime | None = None,
    url: str | None = None,
    report: Progress | None = None,
    threshold: int = DEFAULT_THRESHOLD,
) -> DemoLogin:
    """Seed the demo alliance once; on later runs only give the demo login a new password.

    Run it as one write (``uow.write(seed_demo, ...)``). The history runs over
    the year before ``end`` (default: now) on a clock of its own; the unit of
    work's clock is left as it was. ``threshold`` is the site's anonymity
    threshold, with which the deliberation's results are released.
    """
    password = secrets.token_urlsafe(15)
    existing = _seeded_alliance(uow)
    if existing is not None:
        _reset_password(uow, password)
        return DemoLogin(DEMO_EMAIL, password, existing, created=False, url=url)
    own_clock: Clock = uow.clock
    history = FixedClock(end or own_clock.now())
    uow.clock = history
    try:
        alliance_id = _seed(uow, history, password, report, threshold)
    finally:
        uow.clock = own_clock
    return DemoLogin(DEMO_EMAIL, password, alliance_id, created=True, url=url)
