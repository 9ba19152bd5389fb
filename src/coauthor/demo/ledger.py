"""The demo's commitment ledger: a year of requests, offers and promises at Helios, and the
declarations its bodies made.

Every kind of story the figures tell is here, written through the services at
the moment it happened: promises kept and kept late, declined, countered,
renegotiated, reneged, cancelled, withdrawn, sent back once, one that lapsed
in silence, a joint commitment, an offer, obligations whose monthly periods
are reported (one waived by the steering committee), and declarations with
recorded dissent — plus routine requests across the partners so that every
partner's figures and every quarter have something true to show. Jonas (the
demo login) finds answers waiting on him and one promise past due.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from coauthor.domain import model as m
from coauthor.domain.commitments import Commitment
from coauthor.domain.declarations import Tally, quorum_refusal
from coauthor.services.deliberation import acts as deliberation_service
from coauthor.services.deliberation import results
from coauthor.services.ledger import commitments as ledger
from coauthor.services.ledger import declarations, obligations

if TYPE_CHECKING:
    from coauthor.demo.seed import _Seeder

EVIDENCE = "https://helios-jv.example/shared/"


@dataclass(frozen=True)
class Said:
    """One move of a story: on ``day`` (fractional days are hours), ``who`` says ``move``."""

    day: float
    who: str
    move: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Story:
    key: str
    opener: str
    counterparts: tuple[str, ...]
    """Whom a request asks (several: a joint commitment), or to whom an offer is made."""
    what: str
    conditions: str
    due_day: int | None
    moves: tuple[Said, ...]
    offer: bool = False


# fmt: off
STORIES: tuple[Story, ...] = (
    Story("forecast", "jonas", ("sam",), "Weekly feedstock forecast for the commissioning quarter",
          "Tonnes by chemistry (NMC, LFP), week by week", 80, (
              Said(62, "sam", "promise", {"text": "Yes — from the take-back bookings."}),
              Said(78, "sam", "report_completion",
                   {"text": "Forecast shared.", "evidence": [EVIDENCE + "forecast-q2.xlsx"]}),
              Said(79.2, "jonas", "declare_satisfied", {"text": "Exactly what we needed."}),
          )),
    Story("reactor-cost", "katrin", ("wei",), "Cost estimate for the 50 kg/day pilot reactor",
          "Capex and running cost, with the three biggest uncertainties named", 120, (
              Said(101, "wei", "promise"),
              Said(131, "wei", "report_completion", {"text": "Later than promised, sorry: the "
                                                     "vendor quotes came in late.",
                                                     "evidence": [EVIDENCE + "reactor.pdf"]}),
              Said(133, "katrin", "declare_satisfied"),
          )),
    Story("weekend-cover", "mara", ("priya",), "Cover the weekend bench trials in week 20",
          "Both Saturday runs, logged", 145, (
              Said(141, "priya", "decline", {"text": "Exams that week. Tomás might be free?"}),
          )),
    Story("backhaul", "leah", ("jonas",), "Backhaul slots on Nordwerk trucks for black mass",
          "Two slots a week from the Red Cedar site", 160, (
              Said(152, "jonas", "counter_offer", {"text": "One slot a week is what the fleet can "
                                                   "carry until the new contract.",
                                                   "conditions": "One slot a week", "due_on": 175}),
              Said(153, "leah", "accept_counter", {"text": "One is fine to start."}),
              Said(172, "jonas", "report_completion", {"text": "Slot booked every Tuesday."}),
              Said(174, "leah", "declare_satisfied"),
          )),
    Story("site-access", "amara", ("renee",), "Site access for the leaching skid installation",
          "Badges for three lab staff and a bay with power", 190, (
              Said(181, "renee", "promise"),
              Said(188, "renee", "renegotiate", {"text": "The fire inspection moved by two weeks; "
                                                 "we cannot open the bay before it.",
                                                 "due_on": 205}),
              Said(189, "amara", "accept", {"text": "Understood — thank you for saying so early."}),
              Said(203, "renee", "report_completion", {"text": "Bay 4 is yours."}),
              Said(204, "amara", "declare_satisfied"),
          )),
    Story("poster", "amara", ("tomas",), "Conference poster on the leaching results",
          "A0, reviewed by Nordwerk", 220, (
              Said(205, "tomas", "promise"),
              Said(210, "amara", "cancel", {"text": "The conference is postponed to next year."}),
          )),
    Story("reagent-audit", "wei", ("mara",), "Audit of the reagent supplier",
          "Site visit report with a go / no-go", 230, (
              Said(215, "mara", "promise"),
              Said(228, "mara", "renege", {"text": "Our audit team was pulled onto a recall; I "
                                           "cannot do this. I should have said so sooner."}),
          )),
    Story("shadow-shift", "leah", ("priya",), "Shadow a shift on the discharge line",
          "A full shift with the supervisor, safety induction first", 250, (
              Said(246, "priya", "commit_to_commit", {"text": "Let me check my lab rota.",
                                                      "reply_by_on": 249}),
              Said(248, "priya", "accept"),
              Said(252, "leah", "report_completion"),
              Said(253, "priya", "declare_satisfied", {"text": "Learned more in a day than in "
                                                       "a month of papers."}),
          ), offer=True),
    Story("community-draft", "katrin", ("leah",), "Draft of the half-year community benefits "
          "report", "Jobs, apprenticeships and spending in the owner communities", 270, (
              Said(256, "leah", "promise"),
              Said(266, "leah", "report_completion", {"evidence": [EVIDENCE + "h1.docx"]}),
              Said(268, "katrin", "declare_not_satisfied", {"text": "Please add the apprenticeship "
                                                            "numbers by community."}),
              Said(275, "leah", "report_completion", {"text": "Numbers added."}),
              Said(276, "katrin", "declare_satisfied"),
          )),
    Story("samples", "tomas", ("sam",), "Black-mass samples labelled to the new sampling plan",
          "Five 1 kg samples, chain of custody kept", 300, (
              Said(285, "sam", "promise"),
          )),
    Story("business-case", "jonas", ("wei", "leah"), "Joint business case for the scale-up",
          "Option A vs B: capex, staffing, and what each partner puts at risk", 330, (
              Said(305, "wei", "promise", {"text": "Leah and I will write it together."}),
              Said(320, "leah", "progress_note", {"text": "Staffing part done; waiting on capex."}),
              Said(328, "wei", "report_completion", {"evidence": [EVIDENCE + "scale-up-case.pdf"]}),
              Said(331, "jonas", "declare_satisfied"),
          )),
    Story("night-data", "wei", ("sam",), "Night-shift yield data for May", "Raw logger export",
          None, (
              Said(111, "wei", "withdraw", {"text": "Found it in the monthly report, thanks."}),
          )),
    Story("oem-contracts", "leah", ("jonas",), "Copies of the OEM take-back contracts",
          "All three signed contracts, redacted prices", 355, (
              Said(345, "jonas", "promise"),
              Said(357, "jonas", "progress_note", {"text": "Two of three signed; the third OEM "
                                                   "signs next week."}),
          )),
    Story("shredder-log", "jonas", ("sam",), "Shredder uptime log for the last quarter",
          "Stops, causes and hours", 365, (
              Said(341, "sam", "promise"),
              Said(364, "sam", "report_completion", {"evidence": [EVIDENCE + "uptime-q4.csv"]}),
          )),
    Story("floor-price", "renee", ("jonas",), "Confirm next year's offtake floor price",
          "A number Nordwerk finance signs off", 380, ()),
    Story("lithium-pack", "jonas", ("priya",), "Lithium recovery data pack",
          "All runs since the scale-up, with reagent use", 372, (
              Said(366, "priya", "counter_offer", {"text": "The last two runs finish early next "
                                                   "month.", "due_on": 385}),
          )),
    Story("apprentice-plan", "renee", ("katrin",), "Placement plan for next year's apprentices",
          "Four places, sites and mentors named", 400, (
              Said(362, "katrin", "commit_to_commit", {"text": "HR confirms the sites this month.",
                                                       "reply_by_on": 375}),
          )),
)

# Routine requests across the partners, to give each partner and quarter figures to show.
ROUTINE = (
    "Meeting room for the partner workshop", "Updated safety data sheets", "Translation of the "
    "site rules", "Photos of the new screen for the newsletter", "Draft agenda for the next "
    "steering meeting", "Invoice copy for the capital call", "Visitor badges for the auditors",
    "Review of the sampling procedure", "Summary of the regulator's letter", "Spare parts list "
    "for the shredder", "Comments on the press release", "Logger calibration certificate",
    "Training slots for two new operators", "Minutes of the process working group",
    "Lab notebook scans for the IP register", "Freight quote for the next shipment",
)

# Obligations whose periods the demo performs: title, performer, customer, day named,
# days early (-) or late (+) each report comes, keyed by period number.
OBLIGATION_WORK = (
    ("Feedstock and yield report", "sam", "mara", 70, {3: 4, 6: 2}),
    ("Quarterly research progress report", "wei", "katrin", 160, {}),
    ("Black-mass samples for characterisation", "sam", "priya", 85, {2: 3}),
)
WAIVED_PERIOD = ("Feedstock and yield report", 5)

# Declarations: target day, body, decision kind, text, rationale, dissent (person, position,
# their words), add to the charter.
DECLARATIONS = (
    (36, "steering", "Changes to the charter and strategy",
     "We adopt the Helios charter: we decide together what we cannot decide alone; we say early "
     "what we cannot deliver; value is shared in proportion to what each partner puts at risk.",
     "Written together over the first month; read aloud at the first meeting.", (), True),
    (120, "process", "Pilot-line operating parameters",
     "Run the shredder at 40 Hz with the 12 mm screen from the next shift.",
     "Trial 4 raised yield to 63% with no extra stops.",
     (("tomas", "abstain", "I have not seen the vibration data yet."),), False),
    (186, "steering", "Offtake terms and pricing",
     "Adopt the commercial group's floor price, indexed to the LME cobalt price.",
     "A floor protects the cooperative's cash flow; the index keeps Nordwerk near market.",
     (("wei", "against", "Indexing to cobalt alone ignores lithium, which is where our process "
       "adds value. We would rather see a blended index."),
      ("amara", "abstain", "Lakeshore has no stake in offtake revenue.")), False),
    (250, "steering", "Waivers of obligations",
     "Waive the feedstock and yield report for the maintenance month: the line did not run.",
     "Nothing to report while the line was down for the screen change.", (), False),
)
DECLARATION_ATTEMPTS = 4
"""Monthly tries at a declaration, in case a meeting's attendance does not make the quorum."""
EXTRA_RIGHTS = (
    ("steering", "Offtake terms and pricing", m.DecisionRule.MAJORITY, 67,
     "Two thirds of seats present; dissent is recorded."),
    ("steering", "Waivers of obligations", m.DecisionRule.CONSENT, 50, ""),
)
# fmt: on


def _moment(seeder: _Seeder, day: float, hour: int = 9) -> Any:
    return seeder.start + timedelta(days=day, hours=hour)


def _fields(seeder: _Seeder, fields: dict[str, Any]) -> dict[str, Any]:
    """Day numbers in ``due_on`` / ``reply_by_on`` as dates of the demo's calendar."""
    return {
        key: seeder.on(value) if key in ("due_on", "reply_by_on") else value
        for key, value in fields.items()
    }


def _open(seeder: _Seeder, story: Story) -> None:
    payload: dict[str, Any] = {"move": "offer" if story.offer else "request", "what": story.what}
    people = [seeder.people[p].id for p in story.counterparts]
    if story.offer:
        payload["customer_id"] = people[0]
    else:
        payload["performer_ids"] = people
    if story.conditions:
        payload["conditions"] = story.conditions
    if story.due_day is not None:
        payload["due_on"] = seeder.on(story.due_day)
    opened = ledger.do_open_commitment(
        seeder.uow, seeder.people[story.opener], seeder.alliance_id, payload
    )
    seeder.items[f"ledger-{story.key}"] = opened.id


def _say(seeder: _Seeder, key: str, said: Said) -> None:
    payload = {"move": said.move} | _fields(seeder, said.fields)
    ledger.do_move(
        seeder.uow, seeder.people[said.who], seeder.alliance_id, seeder.items[key], payload
    )


def _plan_stories(seeder: _Seeder) -> None:
    for story in STORIES:
        first = story.moves[0].day if story.moves else story.due_day or 0
        opened_on = min(first - 2, (story.due_day or first + 10) - 20)
        seeder.schedule(_moment(seeder, opened_on, 10), _open, seeder, story)
        for said in story.moves:
            seeder.schedule(
                _moment(seeder, said.day, 11), _say, seeder, f"ledger-{story.key}", said
            )


def _plan_routine(seeder: _Seeder, rng: random.Random) -> None:
    """Routine requests: mostly kept, some late, declined, countered, reneged or cancelled."""
    from coauthor.demo.seed import PEOPLE

    actors = [p.key for p in PEOPLE if p.role != m.Role.OBSERVER]
    partner_of = {p.key: p.partner for p in PEOPLE}
    for number in range(60):
        day = 40 + number * 5 + rng.randint(0, 3)
        customer = rng.choice(actors)
        performer = rng.choice([a for a in actors if partner_of[a] != partner_of[customer]])
        what = ROUTINE[number % len(ROUTINE)]
        explicit = rng.random() < 0.8
        due_day = day + rng.randint(5, 20)
        fate = rng.choices(
            ("kept", "late", "declined", "countered", "reneged", "cancelled", "waiting"),
            weights=(60, 12, 8, 8, 3, 3, 6),
        )[0]
        story = Story(
            f"routine-{number}",
            customer,
            (performer,),
            what,
            "As discussed in the working group" if explicit else "",
            due_day if explicit else None,
            _routine_moves(customer, performer, day, due_day, fate, rng),
        )
        seeder.schedule(_moment(seeder, day, 8), _open, seeder, story)
        for said in story.moves:
            seeder.schedule(_moment(seeder, said.day, 8), _say, seeder, f"ledger-{story.key}", said)


def _routine_moves(
    customer: str, performer: str, day: int, due_day: int, fate: str, rng: random.Random
) -> tuple[Said, ...]:
    answer = day + rng.choice((0.2, 0.5, 1, 1, 2, 4))
    if fate == "declined":
        return (Said(answer, performer, "decline", {"text": "Not this month, sorry."}),)
    if fate == "waiting":
        return ()
    moves = []
    if fate == "countered":
        moves.append(Said(answer, performer, "counter_offer", {"due_on": due_day + 7}))
        answer += 1
        moves.append(Said(answer, customer, "accept_counter"))
        due_day += 7
    else:
        moves.append(Said(answer, performer, "promise"))
    if fate == "reneged":
        return (*moves, Said(due_day - 1, performer, "renege", {"text": "I cannot make it."}))
    if fate == "cancelled":
        return (*moves, Said(answer + 2, customer, "cancel", {"text": "No longer needed."}))
    report = due_day + (rng.randint(2, 6) if fate == "late" else -rng.randint(0, 3))
    report = max(report, answer + 1)
    declared = report + rng.choice((0.3, 1, 1, 2, 5))
    return (
        *moves,
        Said(report, performer, "report_completion"),
        Said(declared, customer, "declare_satisfied"),
    )


def _obligation_id(seeder: _Seeder, title: str) -> str:
    found = seeder.uow.find_one(m.Obligation, alliance_id=seeder.alliance_id, title=title)
    assert found is not None, f"the demo has no obligation {title!r}"
    return found.id


def _period(seeder: _Seeder, title: str, number: int) -> Commitment | None:
    periods = seeder.uow.find(
        Commitment,
        order_by=Commitment.period_due_on,
        alliance_id=seeder.alliance_id,
        obligation_id=_obligation_id(seeder, title),
    )
    return periods[number] if number < len(periods) else None


def _assign(seeder: _Seeder, title: str, performer: str, customer: str) -> None:
    obligations.do_assign_obligation(
        seeder.uow,
        seeder.people["jonas"],
        seeder.alliance_id,
        _obligation_id(seeder, title),
        {"performer_id": seeder.people[performer].id, "customer_id": seeder.people[customer].id},
    )


def _perform_period(
    seeder: _Seeder, title: str, due_on: date, who: str, move: str, text: str
) -> None:
    """A period's report or acceptance, unless the period is closed or waived by then."""
    period = seeder.uow.find_one(
        Commitment,
        alliance_id=seeder.alliance_id,
        obligation_id=_obligation_id(seeder, title),
        period_due_on=due_on,
    )
    if period is None or not period.is_open or period.waived_by_declaration_id:
        return
    ledger.do_move(
        seeder.uow, seeder.people[who], seeder.alliance_id, period.id, {"move": move, "text": text}
    )


def _due_dates(seeder: _Seeder, title: str, named_day: int) -> list[date]:
    """The due dates the obligation's periods will have once it is named on ``named_day``."""
    from coauthor.demo.seed import OBLIGATIONS

    spec = next(spec for spec in OBLIGATIONS if spec[2] == title)
    recurrence, first, years = spec[5], spec[6], spec[7]
    shape = m.Obligation(
        alliance_id="",
        id="",
        agreement_id="",
        title=title,
        debtor_partner_id="",
        creditor_partner_id="",
        recurrence=recurrence,
        first_due_on=seeder.on(first),
        last_due_on=seeder.on(first + 365 * years) if years else None,
    )
    return obligations.due_dates(shape, seeder.on(named_day) + obligations.HORIZON)


def _plan_obligations(seeder: _Seeder) -> None:
    """Name each obligation's people, then report every period and accept it a day later."""
    for title, performer, customer, day, lateness in OBLIGATION_WORK:
        seeder.schedule(_moment(seeder, day, 15), _assign, seeder, title, performer, customer)
        for number, due_on in enumerate(_due_dates(seeder, title, day)):
            if (title, number) == WAIVED_PERIOD:
                continue
            report_day = (due_on - seeder.start.date()).days + lateness.get(number, -1)
            report_day = max(report_day, day + 1)
            text = "Sent, as every period."
            seeder.schedule(
                _moment(seeder, report_day, 14),
                _perform_period,
                seeder,
                title,
                due_on,
                performer,
                "report_completion",
                text,
            )
            seeder.schedule(
                _moment(seeder, report_day + 1, 10),
                _perform_period,
                seeder,
                title,
                due_on,
                customer,
                "declare_satisfied",
                "",
            )


def _add_rights(seeder: _Seeder) -> None:
    for body, kind, rule, quorum, description in EXTRA_RIGHTS:
        seeder.create(
            "jonas",
            "decision_right",
            {
                "body_id": seeder.items[body],
                "decision_kind": kind,
                "rule": rule,
                "quorum_percent": quorum,
                "description": description,
            },
        )


def _quorate_meeting(
    seeder: _Seeder, body_id: str, right: m.DecisionRight, speakers: set[str], since: Any
) -> tuple[m.Meeting, set[str], list[str]] | None:
    """The latest meeting of the body since ``since`` whose attendance makes the quorum and
    includes ``speakers`` (the members whose dissent is recorded)."""
    uow, alliance_id = seeder.uow, seeder.alliance_id
    seats = [s.member_id for s in uow.find(m.BodySeat, alliance_id=alliance_id, body_id=body_id)]
    meetings = uow.find(
        m.Meeting,
        m.Meeting.starts_at >= since,
        m.Meeting.starts_at <= seeder.clock.now() - timedelta(hours=2),
        order_by=m.Meeting.starts_at.desc(),
        alliance_id=alliance_id,
        body_id=body_id,
    )
    for meeting in meetings:
        attended = uow.find(m.Attendance, alliance_id=alliance_id, meeting_id=meeting.id)
        present = {a.member_id for a in attended} & set(seats)
        tally = Tally(len(present), 0, 0, len(seats) - len(present))
        if speakers <= present and quorum_refusal(tally, right.quorum_percent) is None:
            return meeting, present, seats
    return None


def _declare(seeder: _Seeder, spec: tuple) -> None:
    """Declare at the latest fitting meeting of the month before; a later attempt retries."""
    _, body, kind, text, rationale, dissent, charter = spec
    uow, alliance_id = seeder.uow, seeder.alliance_id
    if uow.find_one(m.Declaration, alliance_id=alliance_id, text=text) is not None:
        return
    body_id = seeder.items[body]
    right = uow.find_one(
        m.DecisionRight, alliance_id=alliance_id, body_id=body_id, decision_kind=kind
    )
    assert right is not None, f"the demo's {body} has no right {kind!r}"
    words = {seeder.members[who]: (position, reason) for who, position, reason in dissent}
    since = seeder.clock.now() - timedelta(days=31)
    found = _quorate_meeting(seeder, body_id, right, set(words), since)
    if found is None:
        return
    meeting, present, seats = found
    positions = []
    for member_id in seats:
        position, reason = words.get(member_id, ("for", ""))
        if member_id not in present:
            position, reason = "absent", ""
        positions.append({"member_id": member_id, "position": position, "reason": reason})
    payload: dict[str, Any] = {
        "text": text,
        "rationale": rationale,
        "body_id": body_id,
        "decision_right_id": right.id,
        "meeting_id": meeting.id,
        "positions": positions,
        "charter": charter,
    }
    if kind == "Waivers of obligations":
        waived = _period(seeder, *WAIVED_PERIOD)
        payload["waives"] = [waived.id] if waived and waived.is_open else []
    declarations.do_declare(uow, seeder.people["jonas"], alliance_id, payload)


def _promote(seeder: _Seeder) -> None:
    """The released consensus's first statement goes into the charter.

    Only what people were shown can be promoted: the results are released
    first (at the site's anonymity threshold), as the first person to open
    them would.
    """
    uow, alliance_id = seeder.uow, seeder.alliance_id
    deliberation_id = seeder.items.get("deliberation")
    if deliberation_id is None:
        return
    jonas = seeder.people["jonas"]
    release = results.do_release(uow, jonas, alliance_id, deliberation_id, seeder.threshold)
    agreed = release.facts["consensus"]["agree"] if release is not None else []
    if not agreed:
        return
    strongest = agreed[0]["statement_id"]
    deliberation_service.do_promote(
        uow, seeder.people["jonas"], alliance_id, deliberation_id, strongest, {"target": "charter"}
    )


def plan_ledger(seeder: _Seeder) -> None:
    """Schedule the ledger's year on the demo's plan (see the module docstring)."""
    seeder.schedule(_moment(seeder, 29, 20), _add_rights, seeder)
    _plan_stories(seeder)
    _plan_routine(seeder, random.Random(1986))
    _plan_obligations(seeder)
    for spec in DECLARATIONS:
        for attempt in range(DECLARATION_ATTEMPTS):
            when = _moment(seeder, spec[0] + 30 * attempt, 18)
            seeder.schedule(when, _declare, seeder, spec)
    seeder.schedule(_moment(seeder, 232, 18), _promote, seeder)
