"""The ledger's figures for an alliance (by partner and by period) and for one person.

Figures are reported for the alliance and per partner — never as a table of
people (Suchman's lesson in DESIGN.md). A person sees their own figures, and
only their own: ``my_figures`` is the view of "me" against everyone else,
from the acts of the commitments they took part in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from coauthor import permissions
from coauthor.analysis.ledger_metrics import (
    CommitmentRecord,
    LedgerMetrics,
    Period,
    ledger_metrics,
    table_by_partner,
    table_by_period,
    table_metrics,
)
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.commitments import Act, Commitment, CommitmentParty
from coauthor.domain.ledger import Party
from coauthor.services.ledger.facts import load_table
from coauthor.services.ledger.views import partner_refs
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.services.mechanics.views import PartnerRef

ME, OTHERS = "me", "others"


@dataclass(frozen=True)
class AllianceFigures:
    alliance: m.Alliance
    as_of: datetime
    overall: LedgerMetrics
    partners: list[tuple[PartnerRef, LedgerMetrics]]
    periods: dict[str, LedgerMetrics]
    period: Period

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``coauthor ledger metrics --json`` and of the API (docs/ledger.md)."""
        return {
            "alliance_id": self.alliance.id,
            "alliance": self.alliance.name,
            "as_of": self.as_of.isoformat(),
            **self.overall.to_dict(),
            "by_partner": [
                {"partner_id": ref.id, "partner": ref.name, **figures.to_dict()}
                for ref, figures in self.partners
            ],
            "by_period": [
                {"period": key, **figures.to_dict()} for key, figures in self.periods.items()
            ],
        }


def figures_of(
    uow: UnitOfWork, alliance: m.Alliance, *, period: Period = "quarter"
) -> AllianceFigures:
    """The alliance's figures now, each partner's view, and the figures per period opened.

    No permission check: ``alliance_figures`` checks, the operator's CLI needs none.
    """
    now = uow.clock.now()
    table = load_table(uow, alliance.id)
    views = table_by_partner(table, now)
    return AllianceFigures(
        alliance=alliance,
        as_of=now,
        overall=table_metrics(table, now),
        partners=[
            (ref, views[ref.id]) for ref in partner_refs(uow, alliance.id) if ref.id in views
        ],
        periods=table_by_period(table, now, period),
        period=period,
    )


def alliance_figures(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, *, period: Period = "quarter"
) -> AllianceFigures:
    access = open_alliance(uow, actor, alliance_id)
    return figures_of(uow, access.alliance, period=period)


def _records_of(uow: UnitOfWork, person_id: str) -> list[CommitmentRecord]:
    """The actor's commitments, each seen as "me" on my side and "others" on the other."""
    mine = uow.session.execute(
        sa.select(CommitmentParty.alliance_id, CommitmentParty.commitment_id, CommitmentParty.side)
        .join(
            Commitment,
            sa.and_(
                Commitment.alliance_id == CommitmentParty.alliance_id,
                Commitment.id == CommitmentParty.commitment_id,
            ),
        )
        .where(
            CommitmentParty.person_id == person_id, Commitment.waived_by_declaration_id.is_(None)
        )
    ).all()
    sides = {(alliance, commitment): Party(side) for alliance, commitment, side in mine}
    acts: dict[tuple[str, str], list[Act]] = defaultdict(list)
    ids = {commitment for _, commitment in sides}
    if ids:
        for act in uow.find(Act, Act.commitment_id.in_(ids), order_by=Act.seq):
            acts[(act.alliance_id, act.commitment_id)].append(act)
    records = []
    for key, side in sides.items():
        customer = ME if side is Party.CUSTOMER else OTHERS
        performer = ME if side is Party.PERFORMER else OTHERS
        records.append(
            CommitmentRecord.from_acts(
                alliance_id=key[0],
                commitment_id=key[1],
                customer_partner_id=customer,
                performer_partner_ids=(performer,),
                acts=[act.speech_act() for act in acts[key]],
            )
        )
    return records


def my_figures(uow: UnitOfWork, actor: m.Person | None) -> LedgerMetrics:
    """The actor's own figures across their alliances (shown to them alone)."""
    person = permissions.require_signed_in(actor)
    return ledger_metrics(_records_of(uow, person.id), uow.clock.now(), partner_id=ME)
