"""A small alliance for the ledger's integration tests, seeded through the services.

Nordwerk: Ann (manager) and Nina (member). Red Cedar: Bob and Cleo (members)
and Olga (observer). Lakeshore: Lee (manager). A steering committee seats Ann,
Bob and Lee, with a majority right ("Budget", quorum 60 %) and a consensus
right ("Charter", quorum 100 %), and met once with Ann and Bob present.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from coauthor.clock import FixedClock
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.commitments import Act, Commitment
from coauthor.services.accounts import people
from coauthor.services.accounts.inputs import PersonInput
from coauthor.services.ledger import commitments as ledger
from coauthor.services.mechanics import alliances, registers
from coauthor.services.mechanics.inputs import AllianceCreate, MemberInput, PartnerInput


@dataclass
class World:
    uow: UnitOfWork
    clock: FixedClock
    alliance_id: str
    people: dict[str, m.Person]
    partners: dict[str, str]
    members: dict[str, str]
    items: dict[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> m.Person:
        try:
            return self.__dict__["people"][name]
        except KeyError:
            raise AttributeError(name) from None

    def later(self, hours: float = 1) -> None:
        self.clock.advance(timedelta(hours=hours))

    def ask(
        self, who: str, whom: list[str], what: str = "Yield report", **terms: Any
    ) -> Commitment:
        self.later()
        payload = {
            "move": "request",
            "what": what,
            "performer_ids": [self.people[p].id for p in whom],
        }
        return ledger.do_open_commitment(
            self.uow, self.people[who], self.alliance_id, payload | terms
        )

    def offer(self, who: str, to: str, what: str = "Training", **terms: Any) -> Commitment:
        self.later()
        payload = {"move": "offer", "what": what, "customer_id": self.people[to].id}
        return ledger.do_open_commitment(
            self.uow, self.people[who], self.alliance_id, payload | terms
        )

    def move(self, who: str, commitment: Commitment, move: str, **fields: Any) -> Act:
        self.later()
        return ledger.do_move(
            self.uow, self.people[who], self.alliance_id, commitment.id, {"move": move} | fields
        )


def _person(uow: UnitOfWork, key: str) -> m.Person:
    data = PersonInput(email=f"{key}@example.org", name=key.title())
    return people.do_create_person(uow, None, data, None, bootstrap=True)


def seed(uow: UnitOfWork, clock: FixedClock) -> World:
    ann = _person(uow, "ann")
    data = AllianceCreate(name="Helios", kind="joint_venture", organization_name="Nordwerk")
    alliance = alliances.do_create_alliance(uow, ann, data)
    [nordwerk] = uow.find(m.Partner, alliance_id=alliance.id)
    partners = {"nordwerk": nordwerk.id}
    for key, name in (("red_cedar", "Red Cedar"), ("lakeshore", "Lakeshore")):
        partner = PartnerInput(organization_name=name, joined_on=date(2026, 3, 1))
        partners[key] = alliances.do_add_partner(uow, ann, alliance.id, partner).id
    everyone = {"ann": ann}
    ann_member = alliances.membership_of(uow, ann, alliance.id)
    assert ann_member is not None
    members = {"ann": ann_member.id}
    for key, partner, role in (
        ("nina", "nordwerk", m.Role.MEMBER),
        ("bob", "red_cedar", m.Role.MEMBER),
        ("cleo", "red_cedar", m.Role.MEMBER),
        ("olga", "red_cedar", m.Role.OBSERVER),
        ("lee", "lakeshore", m.Role.MANAGER),
    ):
        member = MemberInput(
            email=f"{key}@example.org", name=key.title(), partner_id=partners[partner], role=role
        )
        added = alliances.do_add_member(uow, ann, alliance.id, member)
        members[key] = added.id
        person = uow.get(m.Person, id=added.person_id)
        assert person is not None
        everyone[key] = person
    world = World(uow, clock, alliance.id, everyone, partners, members)
    _governance(world)
    uow.session.commit()
    return world


def _governance(world: World) -> None:
    def create(kind: str, payload: dict[str, Any]) -> str:
        return registers.do_create_item(world.uow, world.ann, world.alliance_id, kind, payload).id

    seats = [{"member_id": world.members[k], "is_chair": k == "ann"} for k in ("ann", "bob", "lee")]
    body = create(
        "body", {"name": "Steering committee", "kind": "steering_committee", "seats": seats}
    )
    world.items["body"] = body
    for key, kind, rule, quorum in (
        ("budget", "Budget", "majority", 60),
        ("charter", "Charter", "consensus", 100),
    ):
        world.items[key] = create(
            "decision_right",
            {"body_id": body, "decision_kind": kind, "rule": rule, "quorum_percent": quorum},
        )
    attendees = [{"member_id": world.members[k]} for k in ("ann", "bob")]
    world.items["meeting"] = create(
        "meeting",
        {
            "body_id": body,
            "title": "March steering",
            "starts_at": world.clock.now().isoformat(),
            "attendees": attendees,
        },
    )
