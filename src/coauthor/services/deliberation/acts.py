"""Deliberations: statements, votes, moderation, routing and promotion.

The results (opinion analysis, partner breakdown) live in
deliberation_results.py and are re-exported here, so callers use one module.
Votes are private. No function here returns one person's votes to anyone
else: the vote matrix is built for the analysis only, and the event log
records that a vote was cast on a statement, never its value or its voter.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel

from coauthor import permissions
from coauthor.analysis.opinion_stats import META_PRIORITY
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import Conflict, NotFound, ValidationFailed
from coauthor.ids import new_id
from coauthor.services import eventlog, inputs
from coauthor.services.deliberation import inputs as deliberation_inputs
from coauthor.services.deliberation import voting
from coauthor.services.deliberation.access import (
    DeliberationAccess,
    open_deliberation,
    ordered_statements,
)
from coauthor.services.deliberation.results import (
    opinion_of,
    released_consensus,
    released_priorities,
    vote_matrix,
)
from coauthor.services.ledger import declarations
from coauthor.services.mechanics.alliances import open_alliance, open_for_edit

SOURCE_PREFIX = "deliberation {deliberation_id}, statement "
DECLARED_FIELDS = {"body_id", "decision_right_id", "meeting_id", "rationale", "positions"}
InputT = TypeVar("InputT", bound=BaseModel)


def list_deliberations(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str
) -> list[m.Deliberation]:
    open_alliance(uow, actor, alliance_id)
    return uow.find(
        m.Deliberation, order_by=m.Deliberation.created_at.desc(), alliance_id=alliance_id
    )


@dataclass(frozen=True)
class DeliberationSummary:
    """A deliberation with its counts, for a list of them."""

    deliberation: m.Deliberation
    statements: int
    """Accepted statements."""
    pending: int
    participants: int


def summaries(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str
) -> list[DeliberationSummary]:
    """Every deliberation of the alliance, newest first, with its counts."""
    found = list_deliberations(uow, actor, alliance_id)
    by_state: dict[tuple[str, str], int] = {}
    for deliberation_id, state, count in uow.session.execute(
        sa.select(m.Statement.deliberation_id, m.Statement.moderation, sa.func.count())
        .where(m.Statement.alliance_id == alliance_id)
        .group_by(m.Statement.deliberation_id, m.Statement.moderation)
    ).all():
        by_state[(deliberation_id, str(state))] = count
    people = dict(
        uow.session.execute(
            sa.select(m.Participant.deliberation_id, sa.func.count())
            .where(m.Participant.alliance_id == alliance_id)
            .group_by(m.Participant.deliberation_id)
        ).all()
    )
    return [
        DeliberationSummary(
            deliberation=d,
            statements=by_state.get((d.id, str(m.Moderation.ACCEPTED)), 0),
            pending=by_state.get((d.id, str(m.Moderation.PENDING)), 0),
            participants=people.get(d.id, 0),
        )
        for d in found
    ]


def do_create_deliberation(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, payload: Any
) -> m.Deliberation:
    open_for_edit(uow, actor, alliance_id)
    data = inputs.parse(deliberation_inputs.DeliberationInput, payload)
    deliberation = m.Deliberation(
        alliance_id=alliance_id,
        id=new_id("dl"),
        question=data.question,
        description=data.description,
        status=m.DeliberationStatus.OPEN,
        strict_moderation=data.strict_moderation,
        created_at=uow.clock.now(),
    )
    uow.add(deliberation)
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "deliberation.created",
        data.model_dump(mode="json") | {"id": deliberation.id},
    )
    return deliberation


def do_set_status(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    status: m.DeliberationStatus | str,
) -> m.Deliberation:
    """Close a deliberation (no more votes or statements) or open it again."""
    target = open_deliberation(uow, actor, alliance_id, deliberation_id, for_edit=True)
    deliberation = target.deliberation
    try:
        status = m.DeliberationStatus(status)
    except ValueError:
        raise ValidationFailed.one("status", "must be open or closed") from None
    deliberation.status = status
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "deliberation.status_set",
        {"id": deliberation_id, "status": status.value},
    )
    return deliberation


def _require_open(deliberation: m.Deliberation) -> None:
    if deliberation.status != m.DeliberationStatus.OPEN:
        raise Conflict("this deliberation is closed")


def _participant(
    uow: UnitOfWork, target: DeliberationAccess, *, create: bool
) -> m.Participant | None:
    """The acting member's participant record, created on their first act."""
    permissions.require_take_part(target.access.actor, target.access.membership)
    membership = target.access.membership
    assert membership is not None, "require_take_part refuses non-members"
    deliberation = target.deliberation
    found = uow.find_one(
        m.Participant,
        alliance_id=deliberation.alliance_id,
        deliberation_id=deliberation.id,
        person_id=membership.person_id,
    )
    if found or not create:
        return found
    participant = m.Participant(
        alliance_id=deliberation.alliance_id,
        id=new_id("pt"),
        deliberation_id=deliberation.id,
        person_id=membership.person_id,
        partner_id=membership.partner_id,
        external_id=None,
        joined_at=uow.clock.now(),
    )
    uow.add(participant)
    uow.flush()
    return participant


def _begin_act(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    model: type[InputT],
    payload: Any,
) -> tuple[DeliberationAccess, InputT]:
    """A member's act in a deliberation: they may take part, it is open, the input is valid.

    Checked in that order, so an observer hears "not allowed" before anything else.
    """
    target = open_deliberation(uow, actor, alliance_id, deliberation_id)
    permissions.require_take_part(actor, target.access.membership)
    _require_open(target.deliberation)
    return target, inputs.parse(model, payload)


def do_submit_statement(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    payload: Any,
) -> m.Statement:
    """A participant's statement; it waits for moderation when moderation is strict.

    A manager's own statement does not wait: managers are the moderators.
    """
    target, data = _begin_act(
        uow, actor, alliance_id, deliberation_id, deliberation_inputs.StatementInput, payload
    )
    participant = _participant(uow, target, create=True)
    assert participant is not None
    duplicate = uow.find_one(
        m.Statement, alliance_id=alliance_id, deliberation_id=deliberation_id, text=data.text
    )
    if duplicate is not None:
        raise Conflict("this statement has already been written", ("text",))
    moderated = target.deliberation.strict_moderation and not permissions.can_edit_mechanics(
        actor, target.access.membership
    )
    statement = m.Statement(
        alliance_id=alliance_id,
        id=new_id("st"),
        deliberation_id=deliberation_id,
        text=data.text,
        moderation=m.Moderation.PENDING if moderated else m.Moderation.ACCEPTED,
        is_meta=False,
        author_participant_id=participant.id,
        external_id=None,
        created_at=uow.clock.now(),
    )
    uow.add(statement)
    eventlog.append(
        uow,
        alliance_id,
        None,
        "statement.submitted",
        {"deliberation_id": deliberation_id, "id": statement.id, "text": statement.text},
    )
    return statement


def statements(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    moderation: m.Moderation | None = m.Moderation.ACCEPTED,
) -> list[m.Statement]:
    """Statements of a deliberation; only managers may list pending or rejected ones."""
    target = open_deliberation(uow, actor, alliance_id, deliberation_id)
    if moderation != m.Moderation.ACCEPTED:
        permissions.require_edit_mechanics(actor, target.access.membership)
    criteria = {"moderation": moderation} if moderation is not None else {}
    return ordered_statements(uow, alliance_id, deliberation_id, **criteria)


@dataclass(frozen=True)
class NumberedStatement:
    """A statement and its place among all of the deliberation's statements (from 1).

    Statements are never deleted and new ones come last, so the number stays
    the statement's own: lists page by it.
    """

    number: int
    statement: m.Statement


def numbered_statements(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    moderation: m.Moderation | None = m.Moderation.ACCEPTED,
) -> list[NumberedStatement]:
    """Like :func:`statements`, each with its number in the order of writing."""
    target = open_deliberation(uow, actor, alliance_id, deliberation_id)
    if moderation != m.Moderation.ACCEPTED:
        permissions.require_edit_mechanics(actor, target.access.membership)
    every = ordered_statements(uow, alliance_id, deliberation_id)
    return [
        NumberedStatement(number, statement)
        for number, statement in enumerate(every, start=1)
        if moderation is None or statement.moderation == moderation
    ]


def do_moderate(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    statement_id: str,
    payload: Any,
) -> m.Statement:
    open_deliberation(uow, actor, alliance_id, deliberation_id, for_edit=True)
    statement = _statement_at(uow, alliance_id, deliberation_id, statement_id)
    data = inputs.parse(deliberation_inputs.ModerationInput, payload)
    return _moderate(uow, actor, statement, data)


def do_moderate_many(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, deliberation_id: str, payload: Any
) -> list[m.Statement]:
    """One decision for several statements; all or none (an unknown id refuses the lot)."""
    open_deliberation(uow, actor, alliance_id, deliberation_id, for_edit=True)
    data = inputs.parse(deliberation_inputs.ModerationBatchInput, payload)
    statements = []
    for index, statement_id in enumerate(dict.fromkeys(data.statement_ids)):
        statement = uow.get(m.Statement, alliance_id=alliance_id, id=statement_id)
        if statement is None or statement.deliberation_id != deliberation_id:
            raise ValidationFailed.one(("statement_ids", index), "no such statement here")
        statements.append(statement)
    return [_moderate(uow, actor, statement, data) for statement in statements]


def _moderate(
    uow: UnitOfWork,
    actor: m.Person | None,
    statement: m.Statement,
    data: deliberation_inputs.ModerationInput,
) -> m.Statement:
    alliance_id, deliberation_id, statement_id = (
        statement.alliance_id,
        statement.deliberation_id,
        statement.id,
    )
    statement.moderation = m.Moderation(data.decision)
    if data.meta is not None:
        statement.is_meta = data.meta
    elif statement.moderation == m.Moderation.REJECTED:
        statement.is_meta = False
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "statement.moderated",
        {
            "deliberation_id": deliberation_id,
            "id": statement_id,
            "decision": data.decision,
            "meta": statement.is_meta,
        },
    )
    return statement


def _statement(
    uow: UnitOfWork,
    alliance_id: str,
    deliberation_id: str,
    statement_id: str,
    loc: str = "statement_id",
) -> m.Statement:
    """A statement named in the input: an unknown one is an error of that field (422)."""
    statement = uow.get(m.Statement, alliance_id=alliance_id, id=statement_id)
    if statement is None or statement.deliberation_id != deliberation_id:
        raise ValidationFailed.one(loc, "no such statement in this deliberation")
    return statement


def _statement_at(
    uow: UnitOfWork, alliance_id: str, deliberation_id: str, statement_id: str
) -> m.Statement:
    """A statement named in the path: an unknown one is not found (404)."""
    statement = uow.get(m.Statement, alliance_id=alliance_id, id=statement_id)
    if statement is None or statement.deliberation_id != deliberation_id:
        raise NotFound("no such statement in this deliberation")
    return statement


def do_vote(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    payload: Any,
) -> m.Vote:
    """Record (or change) the actor's vote; the newest vote is the one that counts.

    A vote sent again with the same value keeps its time: results are released
    by the number of people whose votes changed (services/deliberation/results.py).
    The checks and the write are ``voting.cast_vote``'s: one query and one upsert.
    """
    vote = voting.cast_vote(uow, actor, alliance_id, deliberation_id, payload)
    eventlog.append(
        uow,
        alliance_id,
        None,
        "vote.cast",
        {"deliberation_id": deliberation_id, "statement_id": vote.statement_id},
    )
    return vote


def do_votes(uow: UnitOfWork, ballots: Sequence[voting.Ballot]) -> list[m.Vote | Exception]:
    """Each ballot's outcome, exactly as ``do_vote`` for each in order in one transaction
    gives (each refused one answered with its own error and writing nothing), in a
    constant number of statements (``voting.cast_votes``): the ballots' chain heads locked
    first, in order of their ids (``eventlog.lock_heads``, as every group of writes does),
    then one facts query, one participant insert, one vote upsert and, per alliance, one
    append of the votes' events (``eventlog.append_all``). On PostgreSQL the vote upsert
    is a part of the first append's statement, a round trip less (every vote that moved
    has its event, so there is an append whenever there is an upsert). The vote layer
    writes the votes that wait together with it (web/vote_posts.py)."""
    eventlog.lock_heads(uow, [ballot.alliance_id for ballot in ballots])
    events: dict[str, list[eventlog.NewEvent]] = {}

    def record(vote: m.Vote) -> None:
        payload = {"deliberation_id": vote.deliberation_id, "statement_id": vote.statement_id}
        event = eventlog.NewEvent(None, "vote.cast", payload, uow.clock.now())
        events.setdefault(vote.alliance_id, []).append(event)

    upserts: list[eventlog.Alongside] = []
    outcomes = voting.cast_votes(uow, ballots, then=record, upsert_with=upserts.append)
    alongside = upserts[0] if upserts else None
    for chain_id, appended in events.items():
        eventlog.append_all(uow, chain_id, appended, alongside)
        alongside = None
    return outcomes


@dataclass(frozen=True)
class NextStatement:
    statement: m.Statement | None
    remaining: int
    voted: int
    accepted: tuple[m.Statement, ...]
    """Every accepted statement, in order (so a page need not list them again)."""


def next_statement(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    rng: random.Random | None = None,
) -> NextStatement:
    """The next statement for the actor, drawn with probability ∝ Pol.is priority."""
    target = open_deliberation(uow, actor, alliance_id, deliberation_id)
    participant = _participant(uow, target, create=False)
    accepted = tuple(
        ordered_statements(uow, alliance_id, deliberation_id, moderation=m.Moderation.ACCEPTED)
    )
    voted_ids = _voted_statement_ids(uow, participant) if participant else set()
    unvoted = [s for s in accepted if s.id not in voted_ids]
    if not unvoted:
        return NextStatement(None, 0, len(voted_ids), accepted)
    priorities = released_priorities(uow, target.deliberation)
    meta_weight = META_PRIORITY**2
    weights = [meta_weight if s.is_meta else priorities.get(s.id, 1.0) or 1e-9 for s in unvoted]
    chosen = (rng or random.Random()).choices(unvoted, weights=weights, k=1)[0]
    return NextStatement(chosen, len(unvoted), len(voted_ids), accepted)


def _voted_statement_ids(uow: UnitOfWork, participant: m.Participant) -> set[str]:
    rows = uow.session.scalars(
        sa.select(m.Vote.statement_id).where(
            m.Vote.alliance_id == participant.alliance_id,
            m.Vote.participant_id == participant.id,
        )
    )
    return set(rows)


@dataclass(frozen=True)
class Promotion:
    """A declaration or charter clause made from one of this deliberation's statements."""

    target: str
    """"declaration" or "charter"."""
    item: m.Declaration | m.CharterClause
    statement_id: str

    @property
    def at(self) -> datetime:
        item = self.item
        return item.declared_at if isinstance(item, m.Declaration) else item.added_at


def _source(deliberation_id: str, statement_id: str) -> str:
    return SOURCE_PREFIX.format(deliberation_id=deliberation_id) + statement_id


def promoted_from(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, deliberation_id: str
) -> list[Promotion]:
    """The declarations and charter clauses promoted from this deliberation, oldest first."""
    open_deliberation(uow, actor, alliance_id, deliberation_id)
    prefix = SOURCE_PREFIX.format(deliberation_id=deliberation_id)
    found: list[Promotion] = []
    for target, cls in (("declaration", m.Declaration), ("charter", m.CharterClause)):
        column = cls.source  # type: ignore[attr-defined]
        for item in uow.find(
            cls, column.startswith(prefix, autoescape=True), alliance_id=alliance_id
        ):
            found.append(Promotion(target, item, item.source.removeprefix(prefix)))
    return sorted(found, key=lambda p: (p.at, p.item.id))


def do_promote(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    statement_id: str,
    payload: Any,
) -> m.Declaration | m.CharterClause:
    """Turn a consensus statement into a declaration or a clause of the charter."""
    target = open_deliberation(uow, actor, alliance_id, deliberation_id, for_edit=True)
    statement = _statement_at(uow, alliance_id, deliberation_id, statement_id)
    data = inputs.parse(deliberation_inputs.PromotionInput, payload)
    consensus_ids = released_consensus(uow, target.deliberation)
    if statement.id not in consensus_ids or statement.moderation != m.Moderation.ACCEPTED:
        raise Conflict("only a statement in the agreed consensus can be promoted")
    if data.body_id and uow.get(m.GovernanceBody, alliance_id=alliance_id, id=data.body_id) is None:
        raise ValidationFailed.one("body_id", "no such governance body in this alliance")
    source = _source(deliberation_id, statement_id)
    kind: type[m.Declaration] | type[m.CharterClause] = (
        m.Declaration if data.target == "declaration" else m.CharterClause
    )
    if uow.find_one(kind, alliance_id=alliance_id, source=source) is not None:
        where = "a declaration" if data.target == "declaration" else "in the charter"
        raise Conflict(f"this statement is already {where}", ("target",))
    promoted: m.Declaration | m.CharterClause
    if data.target == "declaration" and data.body_id:
        declared = data.model_dump(include=DECLARED_FIELDS) | {"text": statement.text}
        promoted = declarations.do_declare(uow, actor, alliance_id, declared, source=source)
    elif data.target == "declaration":
        promoted = declarations.declare_jointly(
            uow, actor, alliance_id, statement.text, data.rationale, data.rule, source
        )
    else:
        promoted = m.CharterClause(
            alliance_id=alliance_id,
            id=new_id("cc"),
            text=statement.text,
            added_at=uow.clock.now(),
            source=source,
        )
        uow.add(promoted)
    eventlog.append(
        uow,
        alliance_id,
        actor,
        f"{data.target}.promoted",
        {"id": promoted.id, "statement_id": statement_id, "text": statement.text},
    )
    return promoted


__all__ = [
    "DeliberationAccess",
    "open_deliberation",
    "opinion_of",
    "ordered_statements",
    "vote_matrix",
]
