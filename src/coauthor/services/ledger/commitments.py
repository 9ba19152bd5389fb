"""Commitments: opening one, making a move, handing a side over; the ledger's write path.

Every move is stored as an immutable act and folded through the domain's
transition table (``coauthor.domain.ledger``); what the acts add up to is
cached on the commitment, and the figures' facts beside it, in the same write
(``record_act``). Only the parties make a commitment's moves — the customer,
and the performer or co-performers — each move checked against the table for
the side they stand on; managers may hand a side to a colleague of the same
partner.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from coauthor import permissions
from coauthor.analysis.ledger_metrics import summarize
from coauthor.db.tables import ledger_facts
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.commitments import Act, Commitment, CommitmentParty
from coauthor.domain.errors import (
    Conflict,
    FieldError,
    Loc,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from coauthor.domain.ledger import (
    CommitmentState,
    Move,
    Party,
    Phase,
    Roster,
    SpeechAct,
    replay,
    step,
)
from coauthor.ids import new_id
from coauthor.services import eventlog, inputs
from coauthor.services.ledger import facts as stored_facts
from coauthor.services.ledger.inputs import MoveInput, OpenInput, ReassignInput
from coauthor.services.ledger.notices import mail_whoever_waits
from coauthor.services.mechanics.alliances import Access, open_alliance

if TYPE_CHECKING:
    from coauthor.services.accounts.links import Site


@dataclass(frozen=True)
class Target:
    """A commitment as one person sees it: the alliance access, the commitment, its parties."""

    access: Access
    commitment: Commitment
    parties: tuple[CommitmentParty, ...]

    def side_of(self, person_id: str) -> Party | None:
        return next((Party(p.side) for p in self.parties if p.person_id == person_id), None)

    @property
    def roster(self) -> Roster:
        return roster_of(self.parties)

    @property
    def sides(self) -> permissions.Parties:
        roster = self.roster
        return permissions.Parties({side.value: roster.ids(side) for side in Party})


def roster_of(parties: Iterable[CommitmentParty]) -> Roster:
    every = list(parties)
    return Roster(
        customer_ids=frozenset(p.person_id for p in every if p.side == Party.CUSTOMER),
        performer_ids=frozenset(p.person_id for p in every if p.side == Party.PERFORMER),
    )


def parties_of(
    uow: UnitOfWork, alliance_id: str, commitment_id: str
) -> tuple[CommitmentParty, ...]:
    rows = uow.find(CommitmentParty, alliance_id=alliance_id, commitment_id=commitment_id)
    return tuple(sorted(rows, key=lambda p: (p.side != Party.CUSTOMER, p.person_id)))


def acts_of(uow: UnitOfWork, alliance_id: str, commitment_id: str) -> list[Act]:
    return uow.find(Act, order_by=Act.seq, alliance_id=alliance_id, commitment_id=commitment_id)


def open_commitment(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, commitment_id: str
) -> Target:
    """A commitment of an alliance the actor may see (everyone in it reads the ledger)."""
    access = open_alliance(uow, actor, alliance_id)
    commitment = uow.get(Commitment, alliance_id=alliance_id, id=commitment_id)
    if commitment is None:
        raise NotFound("no such commitment in this alliance")
    return Target(access, commitment, parties_of(uow, alliance_id, commitment_id))


def participant(uow: UnitOfWork, alliance_id: str, person_id: str, loc: Loc) -> m.Member:
    """The membership of someone named as a party: a member who takes part (not an observer)."""
    member = uow.find_one(m.Member, alliance_id=alliance_id, person_id=person_id)
    if member is None:
        raise ValidationFailed.one(loc, "is not a member of this alliance")
    if member.role not in permissions.ACTING_ROLES:
        raise ValidationFailed.one(loc, "is an observer, and observers do not make commitments")
    return member


def _renamed(error: ValidationFailed, names: dict[str, str]) -> ValidationFailed:
    """The domain names a due moment ``due_at``; tell the person about the field they used."""
    return ValidationFailed(
        [
            FieldError(
                (names.get(str(e.loc[0]), e.loc[0]), *e.loc[1:]) if e.loc else e.loc, e.message
            )
            for e in error.errors
        ]
    )


def _act(
    move: Move, party: Party, actor_id: str, at: datetime, fields: dict[str, Any], renames: dict
) -> SpeechAct:
    try:
        return SpeechAct(move=move, party=party, actor_id=actor_id, at=at, **fields)
    except ValidationFailed as exc:
        raise _renamed(exc, renames) from None


# ------------------------------------------------------------ the write core


def store_facts(
    uow: UnitOfWork,
    commitment: Commitment,
    parties: Sequence[CommitmentParty],
    acts: Sequence[SpeechAct],
) -> None:
    """Replace the figures' facts of one commitment with those its acts give now."""
    performers = sorted({p.partner_id for p in parties if p.side == Party.PERFORMER})
    facts = summarize(
        acts,
        alliance_id=commitment.alliance_id,
        commitment_id=commitment.id,
        customer_partner_id=commitment.customer_partner_id,
        performer_partner_ids=performers,
    )
    uow.flush()
    uow.session.execute(
        sa.delete(ledger_facts).where(
            ledger_facts.c.alliance_id == commitment.alliance_id,
            ledger_facts.c.commitment_id == commitment.id,
        )
    )
    if facts is not None:
        uow.session.execute(sa.insert(ledger_facts), [stored_facts.fact_values(facts)])


def record_act(
    uow: UnitOfWork,
    commitment: Commitment,
    parties: Sequence[CommitmentParty],
    previous: Sequence[SpeechAct],
    act: SpeechAct,
) -> CommitmentState:
    """Store ``act`` after ``previous`` if the table allows it; refresh the cache and facts.

    Raises ``MoveNotAllowed`` (409) for a move the table refuses where the
    commitment stands, ``PermissionDenied`` for a speaker not on the act's side.
    """
    after = step(replay(previous), act, roster_of(parties))
    uow.add(
        Act(
            alliance_id=commitment.alliance_id,
            commitment_id=commitment.id,
            seq=len(previous) + 1,
            move=act.move,
            party=act.party,
            actor_person_id=act.actor_id,
            at=act.at,
            text=act.text,
            conditions=act.conditions,
            due_at=act.due_at,
            reply_by=act.reply_by,
            evidence=list(act.evidence) or None,
        )
    )
    commitment.cache(after)
    store_facts(uow, commitment, parties, [*previous, act])
    return after


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def act_payload(commitment_id: str, seq: int, act: SpeechAct) -> dict[str, Any]:
    """What the event log records of an act: all of it."""
    return {
        "commitment_id": commitment_id,
        "seq": seq,
        "move": act.move.value,
        "party": act.party.value,
        "text": act.text,
        "conditions": act.conditions,
        "due_at": _iso(act.due_at),
        "reply_by": _iso(act.reply_by),
        "evidence": list(act.evidence),
    }


# ------------------------------------------------------------------ opening


@dataclass(frozen=True)
class Sides:
    customer: m.Member
    performers: tuple[m.Member, ...]


def _sides(uow: UnitOfWork, alliance_id: str, me: m.Member, data: OpenInput) -> Sides:
    def named(person_id: str, loc: Loc) -> m.Member:
        return participant(uow, alliance_id, person_id, loc)

    asked = [named(pid, ("performer_ids", i)) for i, pid in enumerate(data.performer_ids)]
    if data.move == "request":
        return Sides(me, tuple(asked))
    assert data.customer_id is not None
    customer = named(data.customer_id, ("customer_id",))
    return Sides(customer, (me, *(p for p in asked if p.person_id != me.person_id)))


def _setting(uow: UnitOfWork, alliance_id: str, data: OpenInput) -> tuple[str | None, str | None]:
    """(body, meeting) a commitment was made in; a meeting implies its body."""
    body_id, meeting_id = data.body_id, data.meeting_id
    if body_id and uow.get(m.GovernanceBody, alliance_id=alliance_id, id=body_id) is None:
        raise ValidationFailed.one("body_id", "no such governance body in this alliance")
    if meeting_id:
        meeting = uow.get(m.Meeting, alliance_id=alliance_id, id=meeting_id)
        if meeting is None:
            raise ValidationFailed.one("meeting_id", "no such meeting in this alliance")
        if body_id and meeting.body_id != body_id:
            raise ValidationFailed.one("meeting_id", "is a meeting of another body")
        body_id = meeting.body_id
    return body_id, meeting_id


def new_commitment(
    alliance_id: str, what: str, customer_partner_id: str, at: datetime, **where: Any
) -> Commitment:
    """A commitment row before its first act (which ``record_act`` caches onto it)."""
    return Commitment(
        alliance_id=alliance_id,
        id=new_id("cm"),
        what=what,
        customer_partner_id=customer_partner_id,
        opened_at=at,
        phase=Phase.OPENED,
        state=int(Phase.OPENED.state),
        last_move_at=at,
        moves=0,
        **where,
    )


def party_rows(commitment: Commitment, sides: Sides) -> list[CommitmentParty]:
    rows = [
        CommitmentParty(
            commitment.alliance_id,
            commitment.id,
            sides.customer.person_id,
            Party.CUSTOMER,
            sides.customer.partner_id,
        )
    ]
    for member in sides.performers:
        rows.append(
            CommitmentParty(
                commitment.alliance_id,
                commitment.id,
                member.person_id,
                Party.PERFORMER,
                member.partner_id,
            )
        )
    return rows


def do_open_commitment(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    payload: Any,
    site: Site | None = None,
) -> Commitment:
    """A request (the actor asks) or an offer (the actor offers): the first act of a commitment.

    With ``site`` (and a mail server), the other side is emailed (``notices``).
    """
    access = open_alliance(uow, actor, alliance_id)
    permissions.require_take_part(actor, access.membership)
    assert actor is not None and access.membership is not None
    data = inputs.parse(OpenInput, payload)
    sides = _sides(uow, alliance_id, access.membership, data)
    if sides.customer.person_id in {p.person_id for p in sides.performers}:
        where = "performer_ids" if data.move == "request" else "customer_id"
        raise ValidationFailed.one(where, "nobody can be both customer and performer")
    body_id, meeting_id = _setting(uow, alliance_id, data)
    now = uow.clock.now()
    move = Move(data.move)
    party = Party.CUSTOMER if move is Move.REQUEST else Party.PERFORMER
    fields = {"text": data.what, "conditions": data.conditions, "due_at": data.due}
    act = _act(move, party, actor.id, now, fields, {"text": "what", "due_at": _due_field(data)})
    commitment = new_commitment(
        alliance_id,
        data.what,
        sides.customer.partner_id,
        now,
        body_id=body_id,
        meeting_id=meeting_id,
    )
    parties = party_rows(commitment, sides)
    uow.add(commitment)
    uow.flush()
    uow.add_all(parties)
    record_act(uow, commitment, parties, [], act)
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "commitment.opened",
        {
            "id": commitment.id,
            "customer": sides.customer.person_id,
            "performers": [p.person_id for p in sides.performers],
            "body_id": body_id,
            "meeting_id": meeting_id,
            "act": act_payload(commitment.id, 1, act),
        },
    )
    if site is not None:
        mail_whoever_waits(uow, site, actor, commitment, parties, move)
    return commitment


def _due_field(data: OpenInput | MoveInput) -> str:
    return "due_on" if data.due_on is not None else "due_at"


# -------------------------------------------------------------------- moves


def side_to_act(target: Target, actor: m.Person | None) -> Party:
    """The side the actor speaks for on this commitment, if they may make moves at all."""
    person = permissions.require_signed_in(actor)
    side = target.side_of(person.id)
    if side is None:
        permissions.require_take_part(actor, target.access.membership)
        raise PermissionDenied("only this commitment's customer and performers make its moves")
    permissions.require_act_as(actor, target.access.membership, target.sides, side.value)
    return side


def do_move(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    commitment_id: str,
    payload: Any,
    site: Site | None = None,
) -> Act:
    """One move by one of the parties, if the transition table allows it where it stands.

    With ``site`` (and a mail server), whoever it now waits on is emailed (``notices``).
    """
    target = open_commitment(uow, actor, alliance_id, commitment_id)
    side = side_to_act(target, actor)
    assert actor is not None
    if target.commitment.waived_by_declaration_id is not None:
        raise Conflict("this obligation period was waived by a declaration; it takes no more moves")
    data = inputs.parse(MoveInput, payload)
    fields = {
        "text": data.text,
        "conditions": data.conditions,
        "due_at": data.due,
        "reply_by": data.answer_by,
        "evidence": tuple(str(link) for link in data.evidence),
    }
    renames = {
        "due_at": _due_field(data),
        "reply_by": "reply_by_on" if data.reply_by_on is not None else "reply_by",
    }
    act = _act(data.move, side, actor.id, uow.clock.now(), fields, renames)
    previous = [row.speech_act() for row in acts_of(uow, alliance_id, commitment_id)]
    record_act(uow, target.commitment, target.parties, previous, act)
    seq = len(previous) + 1
    eventlog.append(
        uow, alliance_id, actor, "commitment.moved", act_payload(commitment_id, seq, act)
    )
    stored = uow.get(Act, alliance_id=alliance_id, commitment_id=commitment_id, seq=seq)
    assert stored is not None
    if site is not None:
        mail_whoever_waits(uow, site, actor, target.commitment, target.parties, data.move)
    return stored


# ------------------------------------------------------------- reassigning


def do_reassign(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    commitment_id: str,
    payload: Any,
) -> Commitment:
    """A manager hands one person's place on an open commitment to a colleague of the same
    partner (someone leaves, or a task moves): the partner's word stands, the acts stay."""
    target = open_commitment(uow, actor, alliance_id, commitment_id)
    permissions.require_reassign(actor, target.access.membership)
    data = inputs.parse(ReassignInput, payload)
    place = next((p for p in target.parties if p.person_id == data.person_id), None)
    if place is None:
        raise ValidationFailed.one("person_id", "is not a party to this commitment")
    if not target.commitment.is_open:
        raise Conflict("this commitment is closed; its parties stay as they were")
    member = participant(uow, alliance_id, data.to_person_id, ("to_person_id",))
    if member.partner_id != place.partner_id:
        raise ValidationFailed.one(
            "to_person_id", "must speak for the same partner as the person they replace"
        )
    if any(p.person_id == member.person_id for p in target.parties):
        raise ValidationFailed.one("to_person_id", "is already a party to this commitment")
    uow.delete(place)
    uow.flush()
    uow.add(
        CommitmentParty(alliance_id, commitment_id, member.person_id, place.side, place.partner_id)
    )
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "commitment.reassigned",
        {
            "id": commitment_id,
            "side": Party(place.side).value,
            "from": data.person_id,
            "to": member.person_id,
        },
    )
    return target.commitment
