"""Email to whoever a commitment now waits on, sent after the move's write commits.

The in-app notice ("My commitments", the header's count) is always there;
with ``COAUTHOR_SMTP_URL`` set, a move that leaves the commitment waiting on
the other side's answer — a request, an offer, a counter, a proposal to
renegotiate, a completion report — also emails the people on that side,
never the one who moved. Progress notes and moves that close a commitment
send nothing: the one waiting sees them on the commitment's page.
"""

from __future__ import annotations

from collections.abc import Sequence

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.commitments import Commitment, CommitmentParty
from coauthor.domain.ledger import Move
from coauthor.services.accounts.links import Site
from coauthor.services.mail import Message

QUIET_MOVES = frozenset({Move.PROGRESS_NOTE, Move.COMMIT_TO_COMMIT})


def _body(actor: m.Person, move: Move, commitment: Commitment, alliance: str, link: str) -> str:
    said = move.value.replace("_", " ")
    lines = [
        f"{actor.name} made a move in {alliance}: {said}.",
        "",
        f"“{commitment.what}”",
        "",
        f"It now waits on your answer ({commitment.phase.label}).",
    ]
    if commitment.due_at is not None:
        lines.append(f"Due {commitment.due_at.strftime('%d %B %Y, %H:%M UTC')}.")
    lines += ["", "Answer, or see the whole conversation:", link]
    return "\n".join(lines) + "\n"


def mail_whoever_waits(
    uow: UnitOfWork,
    site: Site,
    actor: m.Person,
    commitment: Commitment,
    parties: Sequence[CommitmentParty],
    move: Move,
) -> int:
    """Email the people the commitment now waits on (not ``actor``); how many were sent."""
    if not site.outbox.enabled or commitment.awaits is None or move in QUIET_MOVES:
        return 0
    waiting = [p.person_id for p in parties if p.side == commitment.awaits]
    recipients = [
        person
        for person in uow.find(m.Person, m.Person.id.in_(waiting))
        if person.id != actor.id and person.active
    ]
    if not recipients:
        return 0
    alliance = uow.get(m.Alliance, id=commitment.alliance_id)
    name = alliance.name if alliance is not None else ""
    link = site.link(f"/a/{commitment.alliance_id}/ledger/{commitment.id}")
    subject = f"Waiting on you: {commitment.what[:80]}"
    body = _body(actor, move, commitment, name, link)
    return sum(
        site.outbox.send_after_commit(uow, Message(person.email, subject, body))
        for person in recipients
    )
