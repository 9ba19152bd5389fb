"""Deliberations: statements, moderation, private votes, routing, results and promotion.

Votes are private. Nothing here returns one person's votes to anyone else:
a vote is answered only to the person who cast it, and the results carry
counts, shares and anonymous map points (x, y, group), never participant or
person ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import Field

from coauthor.domain import model as m
from coauthor.reports.opinion_map import group_labels
from coauthor.services.deliberation import acts as service
from coauthor.services.deliberation.inputs import (
    DeliberationInput,
    ModerationInput,
    PromotionInput,
    StatementInput,
    VoteInput,
)
from coauthor.services.inputs import Input
from coauthor.web.api.deps import PersonDep, set_location
from coauthor.web.api.pagination import Paged, PageDep, paged_list
from coauthor.web.api.schemas import Output
from coauthor.web.auth import UowDep, get_runtime

router = APIRouter(tags=["deliberations"])

DELIBERATIONS = "/alliances/{alliance_id}/deliberations"
DELIBERATION = f"{DELIBERATIONS}/{{deliberation_id}}"
STATEMENTS = f"{DELIBERATION}/statements"
STATEMENT = f"{STATEMENTS}/{{statement_id}}"
CREATED = status.HTTP_201_CREATED


class Deliberation(Output):
    id: str
    question: str
    description: str
    status: m.DeliberationStatus
    strict_moderation: bool
    created_at: datetime


class DeliberationSummary(Deliberation):
    statements: int = Field(description="Accepted statements.")
    participants: int


class StatusInput(Input):
    status: m.DeliberationStatus


class Statement(Output):
    """A statement; its author is not disclosed."""

    id: str
    text: str
    moderation: m.Moderation
    is_meta: bool
    created_at: datetime


class Vote(Output):
    """My own vote, as recorded: 1 agree, -1 disagree, 0 pass."""

    statement_id: str
    value: int
    at: datetime


class Next(Output):
    statement: Statement | None = Field(
        description="The next statement to vote on (by Pol.is priority), or null when none is left."
    )
    remaining: int = Field(description="Accepted statements I have not voted on yet.")
    voted: int = Field(description="Statements I have voted on.")


class Point(Output):
    """One participant on the opinion map, anonymous: a position and a group."""

    x: float
    y: float
    group: int | None = Field(description="Opinion group id; null when not yet placed.")


class Representative(Output):
    statement_id: str
    text: str
    direction: Literal["agree", "disagree"]
    percent: float = Field(description="Share of the group's voters who voted in `direction`.")
    n_success: int
    n_trials: int
    n_agree: int
    n_disagree: int


class Group(Output):
    id: int
    label: str = Field(description="A, B, C … in the order of the group ids.")
    size: int
    center: tuple[float, float]
    representative: list[Representative]


class ConsensusStatement(Output):
    statement_id: str
    text: str
    percent: float
    n_success: int
    n_trials: int


class Consensus(Output):
    agree: list[ConsensusStatement]
    disagree: list[ConsensusStatement]


class StatementPosition(Output):
    statement_id: str
    text: str
    votes: int
    x: float
    y: float
    group_informed_consensus: float | None


class Divisive(Output):
    statement_id: str
    text: str
    variance: float
    agree_rates: dict[str, float] = Field(description="Group id → share of its votes that agree.")


class Alignment(Output):
    groups: list[int]
    partners: list[str]
    table: list[list[int]] = Field(description="Participants per group (rows) and partner.")
    cramers_v: float
    p_value: float = Field(description="Permutation p-value of Cramér's V.")
    permutations: int
    n: int
    follows_partner_lines: bool
    summary: str


PARTNER_SHARES = "Partner → share of its votes on the statement that agree."


class Bridging(Output):
    """A statement a majority of every partner agrees with."""

    statement_id: str
    text: str
    min_agree_rate: float = Field(
        description="The lowest smoothed agree rate (A+1)/(S+2) of any partner, as tested."
    )
    agree_rates: dict[str, float] = Field(description=PARTNER_SHARES)


class FaultLine(Output):
    """A statement partners vote on clearly differently (chi-square, Holm-corrected)."""

    statement_id: str
    text: str
    cramers_v: float
    p_value: float
    p_adjusted: float = Field(description="Holm-corrected over all statements tested.")
    agree_rates: dict[str, float] = Field(description=PARTNER_SHARES)


class Partners(Output):
    anonymity_threshold: int
    withheld: list[str] = Field(description="Partners left out: too few of their people took part.")
    alignment: Alignment | None
    bridging: list[Bridging]
    fault_lines: list[FaultLine]


class Results(Output):
    deliberation_id: str
    status: m.DeliberationStatus
    participants: int
    votes: int
    k: int | None
    points: list[Point]
    groups: list[Group]
    consensus: Consensus
    statements: list[StatementPosition]
    divisive: list[Divisive]
    partners: Partners
    version: str = Field(description="Changes whenever the results do.")


class Promoted(Output):
    target: Literal["declaration", "charter"]
    id: str
    text: str
    source: str


def _deliberation(summary: service.DeliberationSummary) -> DeliberationSummary:
    return DeliberationSummary(
        **dict(Deliberation.model_validate(summary.deliberation)),
        statements=summary.statements,
        participants=summary.participants,
    )


@router.get(DELIBERATIONS, response_model=Paged[DeliberationSummary])
def list_deliberations(
    alliance_id: str, request: Request, uow: UowDep, person: PersonDep, page: PageDep
) -> Paged[DeliberationSummary]:
    """Newest first."""
    found = service.summaries(uow, person, alliance_id)
    return paged_list(request, found, _newest_first, page, _deliberation)


def _newest_first(summary: service.DeliberationSummary) -> tuple[float, str]:
    return (-summary.deliberation.created_at.timestamp(), summary.deliberation.id)


@router.post(DELIBERATIONS, response_model=Deliberation, status_code=CREATED)
def create_deliberation(
    alliance_id: str,
    data: DeliberationInput,
    request: Request,
    response: Response,
    uow: UowDep,
    person: PersonDep,
) -> Deliberation:
    """Start a deliberation (managers)."""
    created = uow.write(service.do_create_deliberation, person, alliance_id, data)
    set_location(
        request, response, "read_deliberation", alliance_id=alliance_id, deliberation_id=created.id
    )
    return Deliberation.model_validate(created)


@router.get(DELIBERATION, response_model=Deliberation)
def read_deliberation(
    alliance_id: str, deliberation_id: str, uow: UowDep, person: PersonDep
) -> Deliberation:
    target = service.open_deliberation(uow, person, alliance_id, deliberation_id)
    return Deliberation.model_validate(target.deliberation)


@router.post(f"{DELIBERATION}/status", response_model=Deliberation)
def set_status(
    alliance_id: str, deliberation_id: str, data: StatusInput, uow: UowDep, person: PersonDep
) -> Deliberation:
    """Close a deliberation (no more votes or statements) or open it again (managers)."""
    changed = uow.write(service.do_set_status, person, alliance_id, deliberation_id, data.status)
    return Deliberation.model_validate(changed)


@router.get(STATEMENTS, response_model=Paged[Statement])
def list_statements(
    alliance_id: str,
    deliberation_id: str,
    request: Request,
    uow: UowDep,
    person: PersonDep,
    page: PageDep,
    moderation: Literal["accepted", "pending", "rejected", "all"] = "accepted",
) -> Paged[Statement]:
    """Accepted statements in the order they were written; managers may ask for the others."""
    state = None if moderation == "all" else m.Moderation(moderation)
    found = service.numbered_statements(uow, person, alliance_id, deliberation_id, state)
    return paged_list(request, found, lambda n: (n.number,), page, _numbered)


def _numbered(numbered: service.NumberedStatement) -> Statement:
    return Statement.model_validate(numbered.statement)


@router.post(STATEMENTS, response_model=Statement, status_code=CREATED)
def submit_statement(
    alliance_id: str, deliberation_id: str, data: StatementInput, uow: UowDep, person: PersonDep
) -> Statement:
    """Write a statement (members, not observers); it is pending when moderation is strict."""
    statement = uow.write(service.do_submit_statement, person, alliance_id, deliberation_id, data)
    return Statement.model_validate(statement)


@router.post(f"{STATEMENT}/moderation", response_model=Statement)
def moderate_statement(
    alliance_id: str,
    deliberation_id: str,
    statement_id: str,
    data: ModerationInput,
    uow: UowDep,
    person: PersonDep,
) -> Statement:
    """Accept or reject a statement (managers); a decision can be changed later."""
    statement = uow.write(
        service.do_moderate, person, alliance_id, deliberation_id, statement_id, data
    )
    return Statement.model_validate(statement)


@router.post(f"{DELIBERATION}/votes", response_model=Vote)
def cast_vote(
    alliance_id: str, deliberation_id: str, data: VoteInput, uow: UowDep, person: PersonDep
) -> Vote:
    """Agree (1), disagree (-1) or pass (0); voting again on a statement changes the vote."""
    vote = uow.write(service.do_vote, person, alliance_id, deliberation_id, data)
    return Vote.model_validate(vote)


@router.get(f"{DELIBERATION}/next", response_model=Next)
def next_statement(alliance_id: str, deliberation_id: str, uow: UowDep, person: PersonDep) -> Next:
    """The next statement for me to vote on, chosen by Pol.is priority among those I have not."""
    step = service.next_statement(uow, person, alliance_id, deliberation_id)
    statement = Statement.model_validate(step.statement) if step.statement else None
    return Next(statement=statement, remaining=step.remaining, voted=step.voted)


def _percent(n_success: int, n_trials: int) -> float:
    return round(100 * n_success / n_trials, 1) if n_trials else 0.0


def _rates(agree_rates: Mapping[Any, float]) -> dict[str, float]:
    """Agree rates keyed by group id or partner name, as JSON object keys."""
    return {str(k): v for k, v in agree_rates.items()}


def _alignment_summary(follows: bool, v: float, p: float, permutations: int) -> str:
    if follows:
        return (
            f"Opinion groups follow partner lines: Cramér's V = {v:.2f}, and only "
            f"{100 * p:.1f}% of {permutations} random reshuffles of partners were as strong."
        )
    return (
        f"Opinion groups cut across partners: Cramér's V = {v:.2f} is no stronger than "
        f"chance often gives ({100 * p:.0f}% of {permutations} reshuffles were as strong)."
    )


def _results(results: service.DeliberationResults, threshold: int) -> Results:
    texts = {sid: s.text for sid, s in results.statements.items()}
    opinion = results.opinion
    points = (
        sorted(
            (
                Point(x=float(x), y=float(y), group=g)
                for x, y, g in zip(
                    opinion.x.tolist(), opinion.y.tolist(), opinion.participant_groups, strict=True
                )
            ),
            key=lambda p: (p.group is None, p.group or 0, p.x, p.y),
        )
        if opinion
        else []
    )
    letters = {gid: label for gid, (label, _) in group_labels(opinion).items()}
    groups = (
        [
            Group(
                id=g.id,
                label=letters[g.id],
                size=g.size,
                center=g.center,
                representative=[
                    Representative(
                        statement_id=r.statement_id,
                        text=texts[r.statement_id],
                        direction=r.direction,
                        percent=_percent(r.n_success, r.n_trials),
                        n_success=r.n_success,
                        n_trials=r.n_trials,
                        n_agree=r.n_agree,
                        n_disagree=r.n_disagree,
                    )
                    for r in g.representative
                    if r.statement_id in texts
                ],
            )
            for g in sorted(opinion.groups, key=lambda g: g.id)
        ]
        if opinion
        else []
    )

    def consensus(items: tuple) -> list[ConsensusStatement]:
        return [
            ConsensusStatement(
                statement_id=c.statement_id,
                text=texts[c.statement_id],
                percent=_percent(c.n_success, c.n_trials),
                n_success=c.n_success,
                n_trials=c.n_trials,
            )
            for c in items
            if c.statement_id in texts
        ]

    positions = [
        StatementPosition(
            statement_id=sid,
            text=text,
            votes=results.statement_votes.get(sid, 0),
            x=float(opinion.statement_projections[sid][0]) if opinion else 0.0,
            y=float(opinion.statement_projections[sid][1]) if opinion else 0.0,
            group_informed_consensus=(
                float(opinion.group_informed_consensus[sid])
                if opinion and sid in opinion.group_informed_consensus
                else None
            ),
        )
        for sid, text in texts.items()
        if not opinion or sid in opinion.statement_projections
    ]
    breakdown = results.partners
    alignment = None
    if breakdown.alignment is not None and breakdown.alignment.n:
        a = breakdown.alignment
        alignment = Alignment(
            groups=[int(g) for g in a.groups],  # type: ignore[call-overload]
            partners=[str(p) for p in a.partners],
            table=a.table.tolist(),
            cramers_v=a.cramers_v,
            p_value=a.p_value,
            permutations=a.permutations,
            n=a.n,
            follows_partner_lines=breakdown.follows_partner_lines,
            summary=_alignment_summary(
                breakdown.follows_partner_lines, a.cramers_v, a.p_value, a.permutations
            ),
        )
    lines = breakdown.lines
    partners = Partners(
        anonymity_threshold=threshold,
        withheld=breakdown.withheld,
        alignment=alignment,
        bridging=[
            Bridging(
                statement_id=b.statement_id,
                text=texts[b.statement_id],
                min_agree_rate=b.min_agree_rate,
                agree_rates=_rates(b.agree_rates),
            )
            for b in (lines.bridging if lines else ())
            if b.statement_id in texts
        ],
        fault_lines=[
            FaultLine(
                statement_id=f.statement_id,
                text=texts[f.statement_id],
                cramers_v=f.cramers_v,
                p_value=f.p_value,
                p_adjusted=f.p_adjusted,
                agree_rates=_rates(f.agree_rates),
            )
            for f in (lines.fault_lines if lines else ())
            if f.statement_id in texts
        ],
    )
    return Results(
        deliberation_id=results.deliberation.id,
        status=results.deliberation.status,
        participants=results.participants,
        votes=results.votes,
        k=opinion.k if opinion else None,
        points=points,
        groups=groups,
        consensus=Consensus(
            agree=consensus(opinion.consensus.agree if opinion else ()),
            disagree=consensus(opinion.consensus.disagree if opinion else ()),
        ),
        statements=positions,
        divisive=[
            Divisive(
                statement_id=d.statement_id,
                text=texts[d.statement_id],
                variance=d.variance,
                agree_rates=_rates(d.agree_rates),
            )
            for d in results.divisive
            if d.statement_id in texts
        ],
        partners=partners,
        version=results.version,
    )


@router.get(f"{DELIBERATION}/results", response_model=Results)
def read_results(
    alliance_id: str, deliberation_id: str, request: Request, uow: UowDep, person: PersonDep
) -> Results:
    """Opinion groups, consensus, divisive statements and the partner breakdown; no one's votes."""
    threshold = get_runtime(request).settings.anonymity_threshold
    found = service.results(uow, person, alliance_id, deliberation_id, threshold)
    return _results(found, threshold)


@router.post(f"{STATEMENT}/promote", response_model=Promoted, status_code=CREATED)
def promote_statement(
    alliance_id: str,
    deliberation_id: str,
    statement_id: str,
    data: PromotionInput,
    uow: UowDep,
    person: PersonDep,
) -> Promoted:
    """Make a statement of the agreed consensus a declaration or a charter clause (managers)."""
    item = uow.write(service.do_promote, person, alliance_id, deliberation_id, statement_id, data)
    return Promoted(target=data.target, id=item.id, text=item.text, source=item.source)
