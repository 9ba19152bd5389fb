"""Conversations in and out of an alliance's deliberations (Pol.is exports and the like).

The file formats are interop's (``coauthor.interop.polis``); here a
conversation is plain data. An imported conversation keeps its ids as
``external_id``; its voters belong to no partner (an export does not say). An
exported one gets fresh random participant numbers, so a row cannot be matched
to a member, and it is refused for conversations smaller than the anonymity
threshold.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import sqlalchemy as sa

from coauthor.analysis.opinion import VoteMatrix
from coauthor.db import bulk
from coauthor.db.tables import participants as participants_table
from coauthor.db.tables import votes as votes_table
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import Conflict, ValidationFailed
from coauthor.ids import new_id
from coauthor.services import eventlog, inputs
from coauthor.services.deliberation.access import open_deliberation
from coauthor.services.deliberation.inputs import DeliberationInput
from coauthor.services.deliberation.results import opinion_of, vote_matrix
from coauthor.services.mechanics.alliances import open_for_edit

INSERT_CHUNK = 5_000


@dataclass(frozen=True)
class Conversation:
    """A conversation to load as a closed deliberation.

    ``vote_times`` gives when each current vote was cast, in the order of
    ``matrix.cells()``; None means now.
    """

    matrix: VoteMatrix
    texts: dict[str, str]
    question: str
    description: str
    vote_times: list[datetime] | None = None


@dataclass(frozen=True)
class AnonymousConversation:
    """A deliberation's votes with participants renumbered at random, for export."""

    matrix: VoteMatrix
    texts: dict[str, str]
    groups: dict[str, int | None]
    topic: str


def _statements(
    uow: UnitOfWork, deliberation: m.Deliberation, conversation: Conversation, now: datetime
) -> dict[str, str]:
    matrix = conversation.matrix
    ids: dict[str, str] = {}
    for external in matrix.statement_ids:
        rejected = external in matrix.moderated_out and external not in matrix.meta
        statement = m.Statement(
            alliance_id=deliberation.alliance_id,
            id=new_id("st"),
            deliberation_id=deliberation.id,
            text=conversation.texts.get(external, "")[:1000] or f"Statement {external}",
            moderation=m.Moderation.REJECTED if rejected else m.Moderation.ACCEPTED,
            is_meta=external in matrix.meta,
            author_participant_id=None,
            external_id=external,
            created_at=now,
        )
        uow.add(statement)
        ids[external] = statement.id
    return ids


def _participants(
    uow: UnitOfWork, deliberation: m.Deliberation, matrix: VoteMatrix, now: datetime
) -> dict[str, str]:
    ids: dict[str, str] = {}
    for external in matrix.participant_ids:
        participant = m.Participant(
            alliance_id=deliberation.alliance_id,
            id=new_id("pt"),
            deliberation_id=deliberation.id,
            person_id=None,
            partner_id=None,
            external_id=external,
            joined_at=now,
        )
        uow.add(participant)
        ids[external] = participant.id
    return ids


def _insert_votes(
    uow: UnitOfWork,
    deliberation: m.Deliberation,
    conversation: Conversation,
    participant_ids: dict[str, str],
    statement_ids: dict[str, str],
    now: datetime,
) -> int:
    matrix = conversation.matrix
    rows, cols, values = matrix.cells()
    times = conversation.vote_times or [now] * rows.size
    records = [
        {
            "alliance_id": deliberation.alliance_id,
            "deliberation_id": deliberation.id,
            "participant_id": participant_ids[matrix.participant_ids[r]],
            "statement_id": statement_ids[matrix.statement_ids[c]],
            "value": v,
            "at": at,
        }
        for r, c, v, at in zip(rows.tolist(), cols.tolist(), values.tolist(), times, strict=True)
    ]
    uow.flush()
    for start in range(0, len(records), INSERT_CHUNK):
        uow.session.execute(sa.insert(votes_table), records[start : start + INSERT_CHUNK])
    if len(records) >= bulk.ANALYZE_AFTER_ROWS:
        bulk.refresh_statistics(uow.session, [votes_table, participants_table])
    return len(records)


def do_import_conversation(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    conversation: Conversation,
    *,
    bootstrap: bool = False,
) -> m.Deliberation:
    """Load a conversation into the alliance as a closed deliberation."""
    if not bootstrap:
        open_for_edit(uow, actor, alliance_id)
    elif uow.get(m.Alliance, id=alliance_id) is None:
        raise ValidationFailed.one("alliance", "no such alliance")
    now = uow.clock.now()
    data = inputs.parse(DeliberationInput, {"question": conversation.question})
    deliberation = m.Deliberation(
        alliance_id=alliance_id,
        id=new_id("dl"),
        question=data.question,
        description=conversation.description,
        status=m.DeliberationStatus.CLOSED,
        strict_moderation=True,
        created_at=now,
    )
    uow.add(deliberation)
    statement_ids = _statements(uow, deliberation, conversation, now)
    participant_ids = _participants(uow, deliberation, conversation.matrix, now)
    n_votes = _insert_votes(uow, deliberation, conversation, participant_ids, statement_ids, now)
    eventlog.append(
        uow,
        alliance_id,
        actor,
        "deliberation.imported",
        {
            "id": deliberation.id,
            "question": deliberation.question,
            "participants": len(participant_ids),
            "statements": len(statement_ids),
            "votes": n_votes,
        },
    )
    return deliberation


def _renumbered(
    matrix: VoteMatrix, statement_numbers: dict[str, str]
) -> tuple[VoteMatrix, dict[str, str]]:
    """The same votes with participants shuffled and numbered 0..n-1, statements numbered.

    Also returns the participant id → new number map (kept in memory only).
    """
    n = matrix.shape[0]
    new_row = np.array(secrets.SystemRandom().sample(range(n), n), dtype=np.int64)
    rows, cols, values = matrix.cells()
    renumbered = VoteMatrix.from_arrays(
        new_row[rows],
        cols,
        values,
        participant_ids=[str(i) for i in range(n)],
        statement_ids=[statement_numbers[s] for s in matrix.statement_ids],
        moderated_out=[statement_numbers[s] for s in matrix.moderated_out],
        meta=[statement_numbers[s] for s in matrix.meta],
    )
    return renumbered, {pid: str(new_row[i]) for i, pid in enumerate(matrix.participant_ids)}


def anonymous_conversation(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    anonymity_threshold: int,
    *,
    bootstrap: bool = False,
) -> AnonymousConversation:
    """The deliberation's votes, renumbered, with texts and groups by the new numbers."""
    if bootstrap:
        found = uow.get(m.Deliberation, alliance_id=alliance_id, id=deliberation_id)
        if found is None:
            raise ValidationFailed.one("deliberation", "no such deliberation")
        deliberation = found
    else:
        target = open_deliberation(uow, actor, alliance_id, deliberation_id, for_edit=True)
        deliberation = target.deliberation
    matrix = vote_matrix(uow, deliberation)
    if matrix.shape[0] < anonymity_threshold:
        raise Conflict(
            f"only {matrix.shape[0]} participants: fewer than the anonymity threshold "
            f"({anonymity_threshold}), so their votes are not exported"
        )
    every = uow.find(m.Statement, alliance_id=alliance_id, deliberation_id=deliberation_id)
    by_id = {s.id: s for s in every}
    numbers = {sid: str(index) for index, sid in enumerate(matrix.statement_ids)}
    renumbered, number_of = _renumbered(matrix, numbers)
    opinion = opinion_of(uow, deliberation)
    groups = opinion.group_of() if opinion else {}
    return AnonymousConversation(
        matrix=renumbered,
        texts={numbers[sid]: by_id[sid].text for sid in matrix.statement_ids},
        groups={number_of[pid]: groups.get(pid) for pid in matrix.participant_ids},
        topic=deliberation.question,
    )
