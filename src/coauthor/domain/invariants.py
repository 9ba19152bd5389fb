"""Rules of the mechanics that hold whatever the storage or interface."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from coauthor.domain.errors import FieldError

HUNDRED = Decimal("100")


def risk_share_errors(percents: Sequence[Decimal], partner_ids: Sequence[str]) -> list[FieldError]:
    """Shares are positive, one per partner, and sum to exactly 100%."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, (percent, partner_id) in enumerate(zip(percents, partner_ids, strict=True)):
        if percent <= 0 or percent > HUNDRED:
            errors.append(
                FieldError(("shares", index, "percent"), "must be above 0 and at most 100")
            )
        if partner_id in seen:
            errors.append(FieldError(("shares", index, "partner_id"), "partner listed twice"))
        seen.add(partner_id)
    if not percents:
        errors.append(FieldError(("shares",), "at least one partner must bear the risk"))
    elif sum(percents, Decimal(0)) != HUNDRED:
        total = sum(percents, Decimal(0))
        errors.append(FieldError(("shares",), f"shares must sum to 100%, not {total}%"))
    return errors


def risk_score(likelihood: int, impact: int) -> int:
    """Likelihood × impact on the usual 5 × 5 grid."""
    return likelihood * impact
