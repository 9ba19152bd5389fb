"""Deliberations: statements, moderation, private votes, routing, results and promotion.

Votes are private. Nothing here returns one person's votes to anyone else:
a vote is answered only to the person who cast it, and the results carry
counts, shares and anonymous map points (x, y, group), never participant or
person ids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import Field

from coauthor.domain import model as m
from coauthor.reports.deliberation import ResultsDocument
from coauthor.services.deliberation import acts as service
from coauthor.services.deliberation.inputs import (
    DeliberationInput,
    ModerationBatchInput,
    ModerationInput,
    PromotionInput,
    StatementInput,
    VoteInput,
)
from coauthor.services.inputs import Input
from coauthor.web.api.deps import PersonDep, set_location
from coauthor.web.api.pagination import Paged, PageDep, paged_list
from coauthor.web.api.schemas import Output
from coauthor.web.auth import UowDep
from coauthor.web.deliberation_results import (
    current_results,
    current_results_json,
    results_version,
)

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


@router.post(f"{DELIBERATION}/moderation", response_model=list[Statement])
def moderate_statements(
    alliance_id: str,
    deliberation_id: str,
    data: ModerationBatchInput,
    uow: UowDep,
    person: PersonDep,
) -> list[Statement]:
    """One decision for several statements (managers); an unknown id refuses them all."""
    done = uow.write(service.do_moderate_many, person, alliance_id, deliberation_id, data)
    return [Statement.model_validate(statement) for statement in done]


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


@router.get(
    f"{DELIBERATION}/results",
    response_model=ResultsDocument,
    responses={304: {"description": "Not modified: the `If-None-Match` version is current"}},
)
def read_results(
    alliance_id: str,
    deliberation_id: str,
    request: Request,
    uow: UowDep,
    person: PersonDep,
) -> Any:
    """The latest release: groups, consensus, divisive statements, partners; no one's votes.

    Results are published in releases, each once at least the anonymity
    threshold of people have voted since the last one (docs/deliberation.md).
    The `ETag` names the version; poll with `If-None-Match` and get `304`
    until it changes.
    """
    current = results_version(request, uow, person, alliance_id, deliberation_id)
    etag = f'"{current}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    version, encoded = current_results_json(
        request, uow, person, alliance_id, deliberation_id, current
    )
    return Response(encoded, media_type="application/json", headers={"ETag": f'"{version}"'})


@router.post(f"{STATEMENT}/promote", response_model=Promoted, status_code=CREATED)
def promote_statement(
    alliance_id: str,
    deliberation_id: str,
    statement_id: str,
    data: PromotionInput,
    request: Request,
    uow: UowDep,
    person: PersonDep,
) -> Promoted:
    """Make a statement of the agreed consensus a declaration or a charter clause (managers).

    Only a statement in the consensus of the latest results release qualifies.
    """
    current_results(request, uow, person, alliance_id, deliberation_id)
    item = uow.write(service.do_promote, person, alliance_id, deliberation_id, statement_id, data)
    return Promoted(target=data.target, id=item.id, text=item.text, source=item.source)
