"""Answering a wave through its signed link: no sign-in, once, while the wave runs.

What one answer writes, and what it leaves out, is the privacy design of
docs/pulse.md:

- the answers go into a new ``Response`` with a random id that holds the
  wave, the partner and role band the invitation recorded, and the answers —
  no person, no invitation, no time;
- a comment goes into a ``Comment`` of its own, with a random id, linked to
  no response and no partner;
- the invitation is marked answered (nothing else: not when);
- nothing is appended to the event log: an event would date the answer and
  give it a place in a sequence.

In the same transaction every invitation and every comment of the wave is
rewritten, so that no database keeps, in its own row bookkeeping (such as
PostgreSQL's transaction id of the last write to a row), which invitation or
comment was written together with which response.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from coauthor.db.tables import pulse_comments, pulse_invitations
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from coauthor.domain.pulse import (
    SCALE_POINTS,
    Comment,
    Response,
    Wave,
    WaveInvitation,
    WaveItem,
)
from coauthor.ids import new_id
from coauthor.services import inputs
from coauthor.services.pulse.access import wave_items
from coauthor.services.pulse.inputs import AnswerInput
from coauthor.services.pulse.links import read_token

NOT_A_LINK = "this pulse link is not valid: check that it was copied whole"


class LinkState(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


@dataclass(frozen=True)
class LinkView:
    """What a link's page shows: the wave and its items, and whether answers are taken."""

    alliance: m.Alliance
    wave: Wave
    items: list[WaveItem]
    state: LinkState


def _invitation(uow: UnitOfWork, secret_key: str, token: str) -> tuple[WaveInvitation, Wave]:
    key = read_token(secret_key, token)
    found = None
    if key is not None:
        found = uow.get(
            WaveInvitation, alliance_id=key.alliance_id, wave_id=key.wave_id, id=key.invitation_id
        )
    if key is None or found is None:
        raise NotFound(NOT_A_LINK)
    wave = uow.get(Wave, alliance_id=found.alliance_id, id=found.wave_id)
    assert wave is not None, "an invitation belongs to a wave"
    return found, wave


def _state(invitation: WaveInvitation, wave: Wave, uow: UnitOfWork) -> LinkState:
    if invitation.answered:
        return LinkState.ANSWERED
    return LinkState.OPEN if wave.is_open(uow.clock.now()) else LinkState.CLOSED


def open_link(uow: UnitOfWork, secret_key: str, token: str) -> LinkView:
    """The wave a link invites to; a link that does not verify is not found."""
    invitation, wave = _invitation(uow, secret_key, token)
    alliance = uow.get(m.Alliance, id=wave.alliance_id)
    assert alliance is not None
    return LinkView(alliance, wave, wave_items(uow, wave), _state(invitation, wave, uow))


def _checked_answers(data: AnswerInput, items: list[WaveItem]) -> dict[str, int]:
    """Every item answered once, on the scale; errors name each item (``answers.<key>``)."""
    keys = [item.key for item in items]
    errors = [
        FieldError(("answers", key), "is not a question of this pulse")
        for key in data.answers
        if key not in keys
    ]
    for key in keys:
        value = data.answers.get(key)
        if value is None:
            errors.append(FieldError(("answers", key), "please answer this question"))
        elif not 1 <= value <= SCALE_POINTS:
            errors.append(
                FieldError(("answers", key), f"must be from 1 to {SCALE_POINTS}, not {value}")
            )
    if errors:
        raise ValidationFailed(errors)
    return {key: data.answers[key] for key in keys}


def _mark_answered(uow: UnitOfWork, invitation: WaveInvitation) -> None:
    """Mark one invitation answered, then rewrite all of the wave's invitations alike."""
    table = pulse_invitations
    wave_rows = (table.c.alliance_id == invitation.alliance_id) & (
        table.c.wave_id == invitation.wave_id
    )
    marked = uow.session.execute(
        sa.update(table)
        .where(wave_rows, table.c.id == invitation.id, table.c.answered.is_(False))
        .values(answered=True)
    )
    if marked.rowcount != 1:
        raise Conflict("this link has already been used; each link answers once")
    uow.session.execute(sa.update(table).where(wave_rows).values(answered=table.c.answered))


def _add_comment(uow: UnitOfWork, wave: Wave, text: str) -> None:
    uow.add(Comment(wave.alliance_id, wave.id, new_id("pc"), text))
    uow.flush()
    table = pulse_comments
    uow.session.execute(
        sa.update(table)
        .where(table.c.alliance_id == wave.alliance_id, table.c.wave_id == wave.id)
        .values(text=table.c.text)
    )


def do_answer(uow: UnitOfWork, secret_key: str, token: str, payload: Any) -> None:
    """Store one set of answers through a link; a used or closed link stores nothing.

    Returns nothing, not even the response's id: nobody, the person
    answering included, can later point at their own answers.
    """
    invitation, wave = _invitation(uow, secret_key, token)
    state = _state(invitation, wave, uow)
    if state == LinkState.ANSWERED:
        raise Conflict("this link has already been used; each link answers once")
    if state == LinkState.CLOSED:
        raise Conflict("this pulse has closed; answers are no longer taken")
    data = inputs.parse(AnswerInput, payload)
    answers = _checked_answers(data, wave_items(uow, wave))
    _mark_answered(uow, invitation)
    uow.add(
        Response(
            alliance_id=wave.alliance_id,
            wave_id=wave.id,
            id=new_id("pr"),
            partner_id=invitation.partner_id,
            role_band=invitation.role_band,
            answers=answers,
        )
    )
    if data.comment:
        _add_comment(uow, wave, data.comment)
    uow.flush()
