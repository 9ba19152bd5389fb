"""A synthetic alliance archive with a large commitment ledger, for bench_ledger.py.

Four partners, 200 people; commitments drawn from the stories a year of an alliance
holds (kept, kept late, declined, countered then kept, renegotiated, reneged,
cancelled, still open, still waiting for an answer), about four speech acts each on
average. One person — ``focus@…`` — performs ``focus_open`` open commitments, for the
"my commitments" measurement. Deterministic (a fixed seed). The alliance's event
chain holds one event per commitment opened and per move, as the services write
them, hashed as the event log hashes them.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from coauthor.services import eventlog

START = datetime(2024, 1, 1, tzinfo=UTC)
ALLIANCE = "al_benchmarkLedger01"
PARTNERS = (
    "pa_benchAurora00001",
    "pa_benchBorealis0001",
    "pa_benchCirrus000001",
    "pa_benchDelta0000001",
)
PEOPLE_PER_PARTNER = 50
FOCUS = "focus@bench.example"

# A story: the moves after the opening request, as (party, move, extra fields, days later).
STORIES: tuple[tuple[float, tuple[tuple[str, str, dict[str, Any], float], ...]], ...] = (
    (
        0.30,
        (
            ("performer", "promise", {}, 1),
            ("performer", "report_completion", {}, 8),
            ("customer", "declare_satisfied", {}, 1),
        ),
    ),
    (
        0.25,
        (
            ("performer", "promise", {}, 1),
            ("performer", "progress_note", {"text": "On track."}, 4),
            ("performer", "report_completion", {}, 4),
            ("customer", "declare_satisfied", {}, 1),
        ),
    ),
    (
        0.08,
        (
            ("performer", "promise", {}, 2),
            ("performer", "report_completion", {}, 25),
            ("customer", "declare_satisfied", {}, 2),
        ),
    ),
    (0.07, (("performer", "decline", {"text": "Not this quarter."}, 1),)),
    (
        0.07,
        (
            ("performer", "counter_offer", {"due_shift": 7}, 1),
            ("customer", "accept_counter", {}, 1),
            ("performer", "report_completion", {}, 10),
            ("customer", "declare_satisfied", {}, 1),
        ),
    ),
    (
        0.05,
        (
            ("performer", "promise", {}, 1),
            ("performer", "renegotiate", {"due_shift": 10}, 5),
            ("customer", "accept", {}, 1),
            ("performer", "report_completion", {}, 12),
            ("customer", "declare_satisfied", {}, 1),
        ),
    ),
    (0.03, (("performer", "promise", {}, 1), ("performer", "renege", {"text": "Cannot."}, 6))),
    (0.03, (("performer", "promise", {}, 1), ("customer", "cancel", {}, 3))),
    (
        0.07,
        (("performer", "promise", {}, 1), ("performer", "progress_note", {"text": "Halfway."}, 4)),
    ),
    (0.05, ()),
)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _people() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    people, members, emails = [], [], []
    for p_index, partner in enumerate(PARTNERS):
        for n in range(PEOPLE_PER_PARTNER):
            email = FOCUS if (p_index, n) == (1, 0) else f"p{p_index}-{n:03d}@bench.example"
            people.append({"email": email, "name": f"Person {p_index}-{n:03d}"})
            role = "manager" if n == 0 and p_index == 0 else "member"
            members.append(
                {
                    "id": f"me_bench{p_index}{n:03d}xxxxxxx"[:20],
                    "partner_id": partner,
                    "role": role,
                    "title": "",
                    "email": email,
                }
            )
            emails.append(email)
    people.sort(key=lambda person: person["email"])
    members.sort(key=lambda member: member["id"])
    return people, members, emails


def _commitment(
    number: int,
    rng: random.Random,
    customer: tuple[str, str],
    performer: tuple[str, str],
    story: tuple,
    opened: datetime,
) -> dict[str, Any]:
    due = opened + timedelta(days=rng.randint(7, 30))
    request = {
        "move": "request",
        "party": "customer",
        "actor_email": customer[0],
        "at": _iso(opened),
        "text": f"Task {number}",
        "conditions": "Done and signed",
        "due_at": _iso(due),
        "reply_by": None,
        "evidence": [],
    }
    acts, at = [request], opened
    for party, move, extra, days in story:
        at += timedelta(days=days, minutes=rng.randint(1, 600))
        act = {
            "move": move,
            "party": party,
            "actor_email": customer[0] if party == "customer" else performer[0],
            "at": _iso(at),
            "text": extra.get("text", ""),
            "conditions": None,
            "due_at": None,
            "reply_by": None,
            "evidence": [],
        }
        if "due_shift" in extra:
            act["due_at"] = _iso(due + timedelta(days=extra["due_shift"]))
        acts.append(act)
    return {
        "id": f"cm_{number:016d}",
        "parties": [
            {"email": customer[0], "side": "customer", "partner_id": customer[1]},
            {"email": performer[0], "side": "performer", "partner_id": performer[1]},
        ],
        "acts": acts,
        "body_id": None,
        "meeting_id": None,
        "obligation_id": None,
        "period_due_on": None,
        "waived_by_declaration_id": None,
    }


def _events(commitments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One event per opening and per move, chained and hashed as the event log does."""
    entries = []
    for c in commitments:
        for seq, act in enumerate(c["acts"], start=1):
            kind = "commitment.opened" if seq == 1 else "commitment.moved"
            payload = {
                "commitment_id": c["id"],
                "seq": seq,
                "move": act["move"],
                "party": act["party"],
                "text": act["text"],
            }
            entries.append((act["at"], kind, payload))
    entries.sort(key=lambda entry: entry[0])
    events, prev = [], eventlog.GENESIS
    for seq, (at, kind, payload) in enumerate(entries, start=1):
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
        digest = eventlog.event_hash(ALLIANCE, seq, moment, None, kind, payload, prev)
        events.append(
            {
                "seq": seq,
                "at": at,
                "actor_id": None,
                "kind": kind,
                "payload": payload,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    return events


def build(commitment_count: int, focus_open: int, *, seed: int = 10, events: bool = True) -> dict:
    """The archive document (a dict ready for JSON) and, in its ``commitments``, the ledger."""
    rng = random.Random(seed)
    people, members, emails = _people()
    partner_of = {m["email"]: m["partner_id"] for m in members}
    weights = [weight for weight, _ in STORIES]
    open_story = next(moves for _, moves in STORIES if moves and moves[-1][1] == "progress_note")
    commitments = []
    span = 365 * 24 * 60
    for number in range(commitment_count):
        opened = START + timedelta(minutes=rng.randrange(span))
        if number < focus_open:
            customer_email = rng.choice([e for e in emails if partner_of[e] != partner_of[FOCUS]])
            performer_email, story = FOCUS, open_story
        else:
            customer_email, performer_email = rng.sample(emails, 2)
            while partner_of[customer_email] == partner_of[performer_email]:
                customer_email, performer_email = rng.sample(emails, 2)
            story = rng.choices(STORIES, weights=weights)[0][1]
        customer = (customer_email, partner_of[customer_email])
        performer = (performer_email, partner_of[performer_email])
        commitments.append(_commitment(number, rng, customer, performer, story, opened))
    return {
        "format": "coauthor-archive/1",
        "alliance": {
            "id": ALLIANCE,
            "name": "Benchmark alliance",
            "kind": "consortium",
            "stage": "operating",
            "purpose": "",
            "created_at": _iso(START),
        },
        "organizations": [{"name": f"Org {i}", "description": ""} for i in range(len(PARTNERS))],
        "people": people,
        "partners": [
            {"id": p, "organization_name": f"Org {i}", "joined_on": None, "description": ""}
            for i, p in enumerate(PARTNERS)
        ],
        "members": members,
        "commitments": commitments,
        "events": _events(commitments) if events else [],
    }


def act_count(document: dict) -> int:
    return sum(len(c["acts"]) for c in document["commitments"])
