"""The demo's emergence log: a year of plot twists at Helios, two conflicts, three experiments.

The story: feedstock runs short in the first months and a weekly forecast call
(an experiment) fixes it; trial 4 is a breakthrough the process group declares
into the operating parameters; the cobalt price falls and the offtake index
becomes a conflict between Lakeshore and Nordwerk, engaged at the steering
committee and resolved with a blended index — while who carries the take-back
logistics cost, between Red Cedar and Nordwerk, is surfaced and never engaged
(avoided: it shows open, months old). Foil in the feedstock is met with gate
sorting (an experiment); a cheap night-power offer still waits for a response.
Retrospectives add their learnings.

Links to declarations are made once the body has declared (the ledger's demo
retries a declaration monthly until a meeting makes its quorum).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from coauthor.demo.pulse import LAKESHORE, NORDWERK, RED_CEDAR
from coauthor.domain import model as m
from coauthor.services.emergence import experiments, learnings, links, plot_twists, tensions

if TYPE_CHECKING:
    from coauthor.demo.seed import _Seeder

# fmt: off
TWISTS: tuple[tuple[int, str, str, str, str, str], ...] = (
    # day, key, who, kind, severity, title — then the description
    (48, "feedstock", "sam", "disruption", "high",
     "Feedstock volumes run 12% under plan"),
    (71, "fire-exit", "leah", "surprise", "medium",
     "Permit inspector asks for a second fire exit"),
    (96, "commissioning", "katrin", "disruption", "medium",
     "Commissioning slips two weeks for safety training"),
    (112, "trial-4", "tomas", "breakthrough", "high",
     "Trial 4 raises black-mass yield to 63%"),
    (150, "cobalt", "renee", "disruption", "critical",
     "Cobalt price falls 30% in a month"),
    (175, "second-oem", "wei", "opportunity", "medium",
     "A second OEM asks to join the take-back scheme"),
    (205, "foil", "leah", "disruption", "medium",
     "Foil wrapping stops the shredder twice a week"),
    (236, "screen", "mara", "disruption", "high",
     "Screen change takes the line down for a month"),
    (290, "night-power", "mara", "opportunity", "low",
     "A regional utility offers cheap night power"),
    (330, "lithium", "priya", "breakthrough", "high",
     "Leaching recovers 88% of the lithium at 60 °C"),
    (356, "operator", "sam", "surprise", "medium",
     "A key shift operator leaves Red Cedar"),
)
RESOLUTIONS = (
    (70, "feedstock", "jonas", "A second dismantler signed; the weekly forecast call keeps "
     "volumes in view."),
    (95, "fire-exit", "leah", "Exit added beside the quarantine bay; permit granted."),
    (118, "commissioning", "katrin", "Training done; commissioning went ahead without incident."),
    (160, "trial-4", "tomas", "Declared into the operating parameters by the process group."),
    (216, "cobalt", "renee", "A blended offtake index from next contract year."),
    (340, "second-oem", "wei", "Second OEM added to the scheme; logistics cost still to settle."),
    (246, "foil", "leah", "Gate sorting halved the stops."),
    (283, "screen", "jonas", "Line back up; the month's report obligation waived."),
)
COMMITMENT_LINKS = (
    (61, "feedstock", "jonas", "ledger-forecast"),
    (336, "second-oem", "leah", "ledger-oem-contracts"),
    (353, "lithium", "jonas", "ledger-lithium-pack"),
)
DECLARATION_LINKS = (
    (158, "trial-4", "tomas", "Run the shredder"),
    (215, "cobalt", "renee", "Adopt the commercial group's floor price"),
    (282, "screen", "jonas", "Waive the feedstock"),
)
TENSIONS: tuple[tuple[int, str, str, str, tuple[str, ...], str], ...] = (
    (160, "index", "wei", "Offtake index: cobalt only, or blended with lithium",
     ("nordwerk", "lakeshore"),
     "Lakeshore says a cobalt-only index ignores where the process adds value; Nordwerk "
     "wants to stay near market."),
    (200, "logistics", "sam", "Who carries the take-back logistics cost",
     ("red_cedar", "nordwerk"),
     "Red Cedar's trucks carry the OEM returns; the cost sits with the cooperative."),
)
TENSION_STEPS = (
    (185, "index", "jonas", {"to": "engaged", "note": "Both sides set out their numbers.",
                             "meeting": "steering-6"}),
    (200, "index", "wei", {"to": "escalated", "note": "To the partners' executives."}),
    (212, "index", "katrin", {"to": "engaged", "note": "Executives join the steering call."}),
    (215, "index", "jonas", {"to": "resolved", "outcome": "A blended cobalt-lithium index from "
                             "the next contract year; Lakeshore's dissent on the interim "
                             "recorded."}),
)
EXPERIMENTS: tuple[dict[str, Any], ...] = (
    {"day": 55, "key": "forecast-call", "who": "jonas", "prompted_by": "twist:feedstock",
     "hypothesis": "A short weekly forecast call cuts the feedstock forecast error",
     "action": "Thirty minutes every Monday, Sam and Jonas, for eight weeks",
     "signal": "Forecast error by week, in tonnes", "review": 115,
     "start": 60, "end": 117, "result": "The error fell from 18% to 7% of the volume.",
     "adjustment": "Keep the call, fortnightly; drop the monthly forecast report.",
     "learning": "A short call beats a long report: say early what you cannot deliver."},
    {"day": 190, "key": "dashboard", "who": "wei", "prompted_by": "tension:index",
     "hypothesis": "A shared price dashboard takes the heat out of pricing talks",
     "action": "One dashboard of cobalt, lithium and our offtake volumes, open to all partners",
     "signal": "Pricing disputes that reach the steering committee", "review": 260,
     "start": 193, "end": 262, "result": "No pricing dispute reached steering since; the "
     "blended index was argued from the same numbers.",
     "adjustment": "Add the logistics costs to the dashboard.",
     "learning": "Argue from the same numbers before arguing about them."},
    {"day": 208, "key": "gate-sorting", "who": "leah", "prompted_by": "twist:foil",
     "hypothesis": "Sorting foil at the gate halves the shredder stops",
     "action": "Two people sort incoming packs at the gate for four weeks",
     "signal": "Shredder stops per week", "review": 240,
     "start": 210, "end": 242, "result": "Stops fell from 2 a week to 1 in four weeks.",
     "adjustment": "Gate sorting stays; Red Cedar trains two more sorters.",
     "learning": "Fix a problem where it enters, not where it hurts."},
)
RETROSPECTIVES = (
    (183, "jonas", "We took politeness for agreement: ask each partner for its no."),
    (300, "leah", "A tension named in the first two weeks is settled in a month; "
     "one left alone grows."),
    (362, "katrin", "Celebrate the breakthroughs together: trial 4 was everyone's."),
)
# fmt: on


@dataclass(frozen=True)
class _Keys:
    """What the emergence plan has created, by its own keys."""

    seeder: _Seeder

    def id(self, key: str) -> str:
        return self.seeder.items[f"emergence-{key}"]

    def put(self, key: str, value: str) -> None:
        self.seeder.items[f"emergence-{key}"] = value


def _person(seeder: _Seeder, who: str) -> m.Person:
    return seeder.people[who]


def _raise(seeder: _Seeder, spec: tuple[int, str, str, str, str, str]) -> None:
    day, key, who, kind, severity, title = spec
    payload = {"title": title, "kind": kind, "severity": severity, "occurred_on": seeder.on(day)}
    twist = plot_twists.do_raise_plot_twist(
        seeder.uow, _person(seeder, who), seeder.alliance_id, payload
    )
    _Keys(seeder).put(f"twist:{key}", twist.id)


def _resolve(seeder: _Seeder, key: str, who: str, resolution: str) -> None:
    plot_twists.do_resolve_plot_twist(
        seeder.uow,
        _person(seeder, who),
        seeder.alliance_id,
        _Keys(seeder).id(f"twist:{key}"),
        {"resolution": resolution},
    )


def _link(seeder: _Seeder, source: str, who: str, kind: str, target_id: str) -> None:
    payload = {"target_kind": kind, "target_id": target_id}
    links.do_link(seeder.uow, _person(seeder, who), seeder.alliance_id, source, payload)


def _link_commitment(seeder: _Seeder, key: str, who: str, item: str) -> None:
    _link(seeder, _Keys(seeder).id(f"twist:{key}"), who, "commitment", seeder.items[item])


def _link_declaration(seeder: _Seeder, key: str, who: str, prefix: str) -> None:
    found = [
        d
        for d in seeder.uow.find(m.Declaration, alliance_id=seeder.alliance_id)
        if d.text.startswith(prefix)
    ]
    if found:
        _link(seeder, _Keys(seeder).id(f"twist:{key}"), who, "declaration", found[0].id)


def _surface(seeder: _Seeder, spec: tuple[int, str, str, str, tuple[str, ...], str]) -> None:
    _, key, who, about, partner_keys, description = spec
    payload = {
        "about": about,
        "description": description,
        "partner_ids": [seeder.partners[_partner_name(p)] for p in partner_keys],
    }
    tension = tensions.do_surface_tension(
        seeder.uow, _person(seeder, who), seeder.alliance_id, payload
    )
    _Keys(seeder).put(f"tension:{key}", tension.id)


def _partner_name(key: str) -> str:
    return {"nordwerk": NORDWERK, "red_cedar": RED_CEDAR, "lakeshore": LAKESHORE}[key]


def _step(seeder: _Seeder, key: str, who: str, step: dict[str, Any]) -> None:
    payload = {name: value for name, value in step.items() if name != "meeting"}
    if "meeting" in step:
        payload["meeting_id"] = seeder.items[step["meeting"]]
    tensions.do_move_tension(
        seeder.uow,
        _person(seeder, who),
        seeder.alliance_id,
        _Keys(seeder).id(f"tension:{key}"),
        payload,
    )


def _propose(seeder: _Seeder, spec: dict[str, Any]) -> None:
    payload = {
        "hypothesis": spec["hypothesis"],
        "action": spec["action"],
        "signal": spec["signal"],
        "review_on": seeder.on(spec["review"]),
        "prompted_by": _Keys(seeder).id(spec["prompted_by"]),
    }
    made = experiments.do_propose_experiment(
        seeder.uow, _person(seeder, spec["who"]), seeder.alliance_id, payload
    )
    _Keys(seeder).put(f"experiment:{spec['key']}", made.id)


def _move_experiment(seeder: _Seeder, spec: dict[str, Any], payload: dict[str, Any]) -> None:
    experiments.do_move_experiment(
        seeder.uow,
        _person(seeder, spec["who"]),
        seeder.alliance_id,
        _Keys(seeder).id(f"experiment:{spec['key']}"),
        payload,
    )


def _link_experiment_to_twist(seeder: _Seeder, twist: str, experiment: str, who: str) -> None:
    keys = _Keys(seeder)
    _link(seeder, keys.id(f"twist:{twist}"), who, "experiment", keys.id(experiment))


def _retrospective(seeder: _Seeder, who: str, text: str) -> None:
    learnings.do_record_learning(
        seeder.uow, _person(seeder, who), seeder.alliance_id, {"text": text}
    )


def _plan_experiments(seeder: _Seeder) -> None:
    for spec in EXPERIMENTS:
        seeder.schedule(seeder.at(spec["day"], 14), _propose, seeder, spec)
        seeder.schedule(seeder.at(spec["start"], 9), _move_experiment, seeder, spec,
                        {"to": "running"})  # fmt: skip
        ended = {
            "to": "concluded",
            "result": spec["result"],
            "adjustment": spec["adjustment"],
            "learning": spec["learning"],
        }
        seeder.schedule(seeder.at(spec["end"], 16), _move_experiment, seeder, spec, ended)
    seeder.schedule(
        seeder.at(191, 10), _link_experiment_to_twist, seeder, "cobalt", "experiment:dashboard",
        "renee",
    )  # fmt: skip


def plan_emergence(seeder: _Seeder) -> None:
    """Schedule the emergence year on the demo's plan (see the module docstring)."""
    for spec in TWISTS:
        seeder.schedule(seeder.at(spec[0], 11), _raise, seeder, spec)
    for day, key, who, text in RESOLUTIONS:
        seeder.schedule(seeder.at(day, 17), _resolve, seeder, key, who, text)
    for day, key, who, item in COMMITMENT_LINKS:
        seeder.schedule(seeder.at(day, 12), _link_commitment, seeder, key, who, item)
    for day, key, who, prefix in DECLARATION_LINKS:
        seeder.schedule(seeder.at(day, 20), _link_declaration, seeder, key, who, prefix)
    for spec in TENSIONS:
        seeder.schedule(seeder.at(spec[0], 15), _surface, seeder, spec)
    for day, key, who, step in TENSION_STEPS:
        seeder.schedule(seeder.at(day, 16), _step, seeder, key, who, step)
    _plan_experiments(seeder)
    for day, who, text in RETROSPECTIVES:
        seeder.schedule(seeder.at(day, 15), _retrospective, seeder, who, text)
