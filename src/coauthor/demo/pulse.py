"""The demo's pulse: four waves across the Helios year, and a fifth that has just opened.

The story the waves tell: the partners start out close; by the second wave —
after the pilot line's delay and the offtake-pricing dissent — Red Cedar's
people trust the other organizations less, feel surprises are kept from them
and find commitments vague, while Nordwerk's see nothing wrong: a perception
gap. The scale-up decision by consensus and the jointly agreed improvement
register narrow it in the third wave and close it in the fourth.

Every answer goes through its member's signed link (``do_answer``), as it
would in the app. Each partner gets a team of its own here (``TEAM``), so
that every partner has enough people for results to show. Answers are drawn
from a seeded random generator: a person's leaning plus noise per statement,
around the partner's mean for that dimension in that wave.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from coauthor.domain import model as m
from coauthor.domain.pulse import SCALE_POINTS, STANDARD_ITEMS, Dimension, WaveInvitation
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import MemberInput
from coauthor.services.pulse import answering, items, waves
from coauthor.services.pulse.links import token_for

if TYPE_CHECKING:
    from coauthor.demo.seed import _Seeder

NORDWERK = "Nordwerk Industries"
RED_CEDAR = "Red Cedar Metals Cooperative"
LAKESHORE = "Lakeshore University Materials Lab"


@dataclass(frozen=True)
class TeamMember:
    key: str
    email: str
    name: str
    partner: str
    title: str


ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "é": "e"})


def _team(partner: str, domain: str, people: tuple[tuple[str, str], ...]) -> list[TeamMember]:
    found = []
    for name, title in people:
        first, last = name.lower().translate(ASCII).split(" ")
        found.append(
            TeamMember(f"{first}-{last}", f"{first}.{last}@{domain}", name, partner, title)
        )
    return found


# fmt: off
TEAM: tuple[TeamMember, ...] = (
    *_team(NORDWERK, "nordwerk.example", (
        ("Anja Krüger", "Quality Engineer"), ("Tobias Lang", "Logistics Planner"),
        ("Sven Meyer", "Procurement Lead"), ("Lena Hoffmann", "Process Engineer"),
        ("Markus Weber", "Battery Systems Engineer"), ("Julia Fischer", "Sustainability Analyst"),
        ("Deniz Aydin", "Plant Liaison"), ("Clara Wolf", "Legal Counsel"),
        ("Jan Becker", "Controlling Analyst"),
    )),
    *_team(RED_CEDAR, "redcedar-metals.example", (
        ("Marie Whitehorse", "Shift Lead"), ("Daniel Redsky", "Safety Coordinator"),
        ("Nora Fiddler", "Operator"), ("Ethan Moose", "Operator"),
        ("Kaya Littlechild", "Apprentice Coordinator"), ("Joseph Bear", "Maintenance Technician"),
        ("Alice Sinclair", "Environmental Officer"), ("Robert Thunder", "Logistics Coordinator"),
        ("Wanda Cook", "Community Liaison"),
    )),
    *_team(LAKESHORE, "lakeshore-university.example", (
        ("Hana Sato", "Research Technician"), ("Omar Haddad", "Doctoral Researcher"),
        ("Elena Petrova", "Postdoctoral Fellow"), ("Kwame Mensah", "Lab Manager"),
        ("Sofia Costa", "Doctoral Researcher"), ("Lucas Martin", "Analytical Chemist"),
        ("Mei Lin", "Doctoral Researcher"), ("Ravi Iyer", "Research Engineer"),
        ("Ines Moreau", "Grants Officer"),
    )),
)

D = Dimension
# Each partner's mean per dimension in waves 1–5 (1–7, higher is better).
PROFILES: dict[str, dict[Dimension, tuple[float, ...]]] = {
    NORDWERK: {
        D.TRUST_ORGANIZATION: (5.6, 5.7, 5.6, 5.6, 5.7),
        D.TRUST_COUNTERPART: (5.5, 5.6, 5.5, 5.6, 5.6),
        D.PSYCHOLOGICAL_SAFETY: (5.2, 5.3, 5.3, 5.4, 5.4),
        D.CLARITY: (5.3, 5.4, 5.3, 5.4, 5.5),
        D.PRESENCE: (5.0, 5.0, 5.1, 5.1, 5.2),
        D.SURPRISE_AND_CONFLICT: (5.3, 5.4, 5.3, 5.4, 5.4),
        D.SHARED_PURPOSE: (5.8, 5.8, 5.8, 5.9, 5.9),
    },
    RED_CEDAR: {
        D.TRUST_ORGANIZATION: (5.5, 3.8, 4.6, 5.5, 5.6),
        D.TRUST_COUNTERPART: (5.5, 4.8, 5.1, 5.5, 5.6),
        D.PSYCHOLOGICAL_SAFETY: (5.1, 4.4, 4.8, 5.3, 5.3),
        D.CLARITY: (5.3, 4.0, 4.6, 5.3, 5.4),
        D.PRESENCE: (5.0, 4.7, 4.9, 5.1, 5.1),
        D.SURPRISE_AND_CONFLICT: (5.2, 3.6, 4.4, 5.3, 5.4),
        D.SHARED_PURPOSE: (5.7, 4.8, 5.2, 5.8, 5.8),
    },
    LAKESHORE: {
        D.TRUST_ORGANIZATION: (5.1, 5.0, 5.1, 5.3, 5.3),
        D.TRUST_COUNTERPART: (5.4, 5.3, 5.4, 5.5, 5.5),
        D.PSYCHOLOGICAL_SAFETY: (5.5, 5.4, 5.5, 5.6, 5.6),
        D.CLARITY: (4.8, 4.6, 4.8, 5.0, 5.1),
        D.PRESENCE: (4.9, 4.8, 4.9, 5.0, 5.1),
        D.SURPRISE_AND_CONFLICT: (4.9, 4.7, 4.9, 5.1, 5.1),
        D.SHARED_PURPOSE: (5.3, 5.2, 5.3, 5.5, 5.5),
    },
}
OWN_QUESTION = "The benefits promised to the cooperative's communities are visible on the ground."
# The own question is first asked in wave 2 (its wave-1 mean is never used).
OWN_MEANS = {
    NORDWERK: (5.4, 5.4, 5.3, 5.4, 5.5),
    RED_CEDAR: (4.0, 4.0, 4.6, 5.4, 5.6),
    LAKESHORE: (5.0, 5.0, 5.0, 5.2, 5.3),
}

# Waves: day opened, title; each runs for two weeks. The last one is still open.
WAVES = (
    (75, "Pulse 1 — after launch"),
    (165, "Pulse 2 — pilot line running"),
    (255, "Pulse 3 — after the scale-up decision"),
    (345, "Pulse 4 — year end"),
    (363, "Pulse 5 — new year"),
)
WAVE_DAYS = 14
REMINDER_NOTE = "A few minutes, please: the steering committee reads the results together."
ANSWER_RATE = 0.85
RUNNING_ANSWER_RATE = 0.55
PERSON_SD, PERSON_DIMENSION_SD, ITEM_SD = 0.45, 0.35, 0.55
"""A person's general leaning, their leaning on each dimension, and the noise per statement."""
COMMENT_RATE = 0.3

COMMENTS = {
    "calm": (
        "Meetings are better prepared than at the start.",
        "I would like more time with the Lakeshore team on the bench results.",
        "Good momentum; keep the monthly site visits.",
        "The steering committee could share its minutes faster.",
        "Onboarding the new operators went smoothly thanks to the training material.",
        "It would help to see the feedstock forecast before the commercial meeting.",
        "People answer emails across the partners within a day now.",
        "More joint lunches on site, please.",
    ),
    "strain": (
        "We heard about the commissioning delay from the newsletter, not from the partners.",
        "Nobody said what ‘soon’ means for the offtake price decision.",
        "It feels like decisions are made in Stuttgart and explained to us afterwards.",
        "Safety training was good, but the schedule change came without warning.",
        "The pricing dissent was recorded, but was it heard?",
        "Our plant staff carry the risk of the delay, and nobody asked them.",
        "Requests come in without a date, then they are suddenly urgent.",
        "Steering meetings are all slides and no conversation.",
    ),
    "repair": (
        "The scale-up decision was the first time everyone was really in the room.",
        "The improvement register helps: we see who proposed what.",
        "Better, but the community report still needs a shared owner.",
        "Joint site walks every month made a difference.",
        "Delays are announced early now, with a reason.",
        "Still some catching up to do on the apprenticeship numbers.",
        "The working groups finally decide things instead of escalating them.",
        "I trust the people; the processes are catching up.",
    ),
}
COMMENT_MOOD = ("calm", "strain", "repair", "calm", "calm")
# fmt: on


def _add_team_member(seeder: _Seeder, person: TeamMember, manager: str) -> None:
    data = MemberInput(
        email=person.email,
        name=person.name,
        partner_id=seeder.partners[person.partner],
        role=m.Role.MEMBER,
        title=person.title,
    )
    member = alliances.do_add_member(seeder.uow, seeder.people[manager], seeder.alliance_id, data)
    added = seeder.uow.get(m.Person, id=member.person_id)
    assert added is not None
    seeder.people[person.key] = added


def _add_own_question(seeder: _Seeder) -> None:
    items.do_add_item(seeder.uow, seeder.people["leah"], seeder.alliance_id, {"text": OWN_QUESTION})


def _open_wave(seeder: _Seeder, number: int, title: str, day: int) -> None:
    closes_on = seeder.on(day + WAVE_DAYS - 1)
    payload = {"title": title, "closes_on": closes_on.isoformat()}
    wave = waves.do_open_wave(seeder.uow, seeder.people["jonas"], seeder.alliance_id, payload)
    seeder.items[f"pulse-wave-{number}"] = wave.id


def _remind(seeder: _Seeder, number: int) -> None:
    wave_id = seeder.items[f"pulse-wave-{number}"]
    note = {"note": REMINDER_NOTE}
    waves.do_remind(seeder.uow, seeder.people["jonas"], seeder.alliance_id, wave_id, note)


@dataclass(frozen=True)
class _Answerer:
    """How one person answers: their partner and their own leanings (the same every wave)."""

    key: str
    partner: str
    leaning: float
    dimensions: dict[Dimension, float]

    @classmethod
    def drawn(cls, key: str, partner: str, rng: random.Random) -> _Answerer:
        dimensions = {d: rng.gauss(0, PERSON_DIMENSION_SD) for d in Dimension}
        return cls(key, partner, rng.gauss(0, PERSON_SD), dimensions)


def _answers(
    answerer: _Answerer, number: int, own_items: Sequence[str], rng: random.Random
) -> dict[str, int]:
    answers = {}
    for item in STANDARD_ITEMS:
        mean = PROFILES[answerer.partner][item.dimension][number - 1]
        mean += answerer.leaning + answerer.dimensions[item.dimension]
        answers[item.key] = _point(mean, item.reverse, rng)
    for key in own_items:
        mean = OWN_MEANS[answerer.partner][number - 1]
        answers[key] = _point(mean + answerer.leaning, False, rng)
    return answers


def _point(mean: float, reverse: bool, rng: random.Random) -> int:
    value = min(SCALE_POINTS, max(1, round(rng.gauss(mean, ITEM_SD))))
    return SCALE_POINTS + 1 - value if reverse else value


@dataclass
class _Answering:
    """What the answers of one seed share: the links' key and the comments said so far."""

    seeder: _Seeder
    secret: str
    said: dict[int, set[str]] = field(default_factory=dict)

    def comment(self, number: int) -> str:
        """Now and then a comment of the wave's mood, each said once per wave."""
        said = self.said.setdefault(number, set())
        left = [c for c in COMMENTS[COMMENT_MOOD[number - 1]] if c not in said]
        if not left or self.seeder.rng.random() >= COMMENT_RATE:
            return ""
        comment = self.seeder.rng.choice(left)
        said.add(comment)
        return comment

    def answer(self, number: int, answerer: _Answerer) -> None:
        """Answer wave ``number`` through the answerer's own link, as they would."""
        seeder = self.seeder
        wave_id = seeder.items[f"pulse-wave-{number}"]
        person = seeder.people[answerer.key]
        invitation = seeder.uow.find_one(
            WaveInvitation, alliance_id=seeder.alliance_id, wave_id=wave_id, person_id=person.id
        )
        if invitation is None:
            return
        token = token_for(self.secret, invitation)
        view = answering.open_link(seeder.uow, self.secret, token)
        own = [item.key for item in view.items if item.dimension is None]
        payload = {
            "answers": _answers(answerer, number, own, seeder.rng),
            "comment": self.comment(number),
        }
        answering.do_answer(seeder.uow, self.secret, token, payload)


def plan_pulse(seeder: _Seeder) -> None:
    """Schedule the pulse: the teams join, an own question, five waves and their answers."""
    from coauthor.demo.seed import MANAGERS, PEOPLE

    for index, person in enumerate(TEAM):
        when = seeder.at(20 + index % 20, 9 + index % 7)
        seeder.schedule(when, _add_team_member, seeder, person, MANAGERS[person.partner])
    seeder.schedule(seeder.at(150, 11), _add_own_question, seeder)
    answers = _Answering(seeder, secrets.token_urlsafe(32))
    rng = random.Random(1984)
    everyone = [(p.key, p.partner) for p in PEOPLE] + [(p.key, p.partner) for p in TEAM]
    answerers = [_Answerer.drawn(key, partner, rng) for key, partner in everyone]
    for number, (day, title) in enumerate(WAVES, start=1):
        running = number == len(WAVES)
        seeder.schedule(seeder.at(day, 8), _open_wave, seeder, number, title, day)
        seeder.schedule(seeder.at(day + 7, 10), _remind, seeder, number)
        rate = RUNNING_ANSWER_RATE if running else ANSWER_RATE
        for answerer in answerers:
            if rng.random() >= rate or (running and answerer.key == "jonas"):
                continue  # the person trying the demo answers the running wave themself
            when = seeder.at(day, 9) + timedelta(hours=rng.randrange(0, 24 * (WAVE_DAYS - 2)))
            seeder.schedule(when, answers.answer, number, answerer)
