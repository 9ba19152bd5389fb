"""The ledger's figures as the API documents them (docs/ledger.md, "Metrics").

The figures come from ``LedgerMetrics.to_dict`` (the same JSON as ``coauthor
ledger metrics --json``); these models name and type every key, so the
OpenAPI document says what a client receives.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class RatioOut(BaseModel):
    value: float | None = Field(description="count ÷ of, or null when of is 0")
    count: int
    of: int


class WaitsOut(BaseModel):
    answered: int = Field(description="waits that ended in an answer")
    median_hours: float | None
    p90_hours: float | None
    currently_waiting: int
    longest_waiting_hours: float | None


class ResponsivenessOut(BaseModel):
    answer: WaitsOut = Field(description="time in state 2: a request or offer waiting")
    declaration: WaitsOut = Field(description="time in state 4: a report waiting")


class ClarityOut(BaseModel):
    explicit: RatioOut = Field(description="requests with conditions and a due date")
    requests: int
    counter_offers: int
    counter_offers_per_request: float | None


class CandorOut(BaseModel):
    requests: int
    declines: int
    counters: int
    declines_per_request: float | None
    counters_per_request: float | None


class SilentLapsesOut(BaseModel):
    count: int
    current: int
    past_due: int
    share_of_past_due: float | None


class ReciprocityOut(BaseModel):
    partners: list[str] = Field(description="partner ids, the order of rows and columns")
    asked: list[list[int]] = Field(description="row: customer partner, column: performer")
    promised: list[list[int]]


class FiguresOut(BaseModel):
    requests: int
    promises: int
    reliability: RatioOut
    renege_rate: RatioOut
    cancel_rate: RatioOut
    responsiveness: ResponsivenessOut
    clarity: ClarityOut
    candor: CandorOut
    silent_lapses: SilentLapsesOut
    rework_loops: RatioOut
    reciprocity: ReciprocityOut


class PartnerFiguresOut(FiguresOut):
    partner_id: str
    partner: str


class PeriodFiguresOut(FiguresOut):
    period: str = Field(description="the quarter or month the commitments were opened in")


class AllianceFiguresOut(FiguresOut):
    alliance_id: str
    alliance: str
    as_of: str
    by_partner: list[PartnerFiguresOut]
    by_period: list[PeriodFiguresOut]
