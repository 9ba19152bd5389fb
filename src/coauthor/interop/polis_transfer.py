"""Pol.is export folders in and out of an alliance's deliberations.

Reading and writing the CSV files is ``coauthor.interop.polis``'s; storing a
conversation is the deliberation services'. This module joins them: an
export becomes a :class:`Conversation` (with each vote's time from the
export's vote log), and a deliberation's anonymous votes become an export.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.interop.polis import PolisExport, write_polis_export
from coauthor.services.deliberation.transfer import (
    Conversation,
    anonymous_conversation,
    do_import_conversation,
)

DEFAULT_QUESTION = "Imported Pol.is conversation"


def _question(export: PolisExport) -> str:
    topic = export.summary.get("topic", "").strip()
    return (topic or DEFAULT_QUESTION)[:500]


def _vote_times(export: PolisExport, now: datetime) -> list[datetime] | None:
    """When each current vote was cast, from the export's vote log where there is one."""
    log = export.vote_log
    if log is None or log.seconds.size == 0:
        return None
    rows, cols, _ = export.matrix.cells()
    n_statements = export.matrix.shape[1]
    latest: dict[int, float] = dict(
        zip(
            (log.ptpt_idx * n_statements + log.stmt_idx).tolist(), log.seconds.tolist(), strict=True
        )
    )
    keys = (rows * n_statements + cols).tolist()
    return [datetime.fromtimestamp(latest.get(key, now.timestamp()), UTC) for key in keys]


def conversation_of(
    export: PolisExport, now: datetime, question: str | None = None
) -> Conversation:
    return Conversation(
        matrix=export.matrix,
        texts=export.texts,
        question=question or _question(export),
        description=f"Imported from a Pol.is export ({export.votes_source}).",
        vote_times=_vote_times(export, now),
    )


def import_polis(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    export: PolisExport,
    *,
    question: str | None = None,
    bootstrap: bool = False,
) -> m.Deliberation:
    """Load a Pol.is export as a closed deliberation; run it as one write (``uow.write``)."""
    conversation = conversation_of(export, uow.clock.now(), question)
    return do_import_conversation(uow, actor, alliance_id, conversation, bootstrap=bootstrap)


def export_polis(
    uow: UnitOfWork,
    actor: m.Person | None,
    alliance_id: str,
    deliberation_id: str,
    folder: Path,
    anonymity_threshold: int,
    *,
    bootstrap: bool = False,
) -> int:
    """Write the deliberation as a Pol.is export folder; returns the participant count."""
    anonymous = anonymous_conversation(
        uow, actor, alliance_id, deliberation_id, anonymity_threshold, bootstrap=bootstrap
    )
    write_polis_export(
        folder,
        anonymous.matrix,
        anonymous.texts,
        anonymous.groups,
        topic=anonymous.topic,
    )
    return anonymous.matrix.shape[0]
