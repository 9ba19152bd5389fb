"""The commitment ledger: my commitments, an alliance's ledger, every move, reassigning,
obligations' periods, declarations, the charter, the figures and my calendar feed.

Every list is a page (``limit``, ``cursor``, ``items``, ``next``). A move the
transition table refuses is a 409 problem naming the state and the moves
allowed there; a move by someone who is not a party is a 403.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import Field

from coauthor.domain import model as m
from coauthor.domain.declarations import Position
from coauthor.domain.ledger import Move, Party, Phase
from coauthor.services import inputs
from coauthor.services.ledger import calendar, declarations, figures, obligations, views
from coauthor.services.ledger import commitments as service
from coauthor.services.ledger.inputs import (
    AssignmentInput,
    DeclarationInput,
    LedgerQuery,
    MineFilter,
    MoveInput,
    OpenInput,
    ReassignInput,
)
from coauthor.services.paging import Page
from coauthor.web.api.deps import PersonDep, set_location
from coauthor.web.api.ledger_figures import AllianceFiguresOut, FiguresOut
from coauthor.web.api.pagination import Paged, PageDep, paged, paged_list
from coauthor.web.api.schemas import Output
from coauthor.web.auth import UowDep, get_runtime

router = APIRouter(tags=["ledger"])

ALLIANCE = "/alliances/{alliance_id}"
COMMITMENTS = f"{ALLIANCE}/commitments"
COMMITMENT = f"{COMMITMENTS}/{{commitment_id}}"
DECLARATIONS = f"{ALLIANCE}/declarations"
CREATED = status.HTTP_201_CREATED


class PartyOut(Output):
    person_id: str
    name: str
    partner_id: str
    partner: str


class CommitmentOut(Output):
    id: str
    alliance_id: str
    what: str
    phase: Phase
    state: int = Field(description="The book's state number, 1–9 (docs/ledger.md).")
    awaits: Party | None = Field(description="Who owes the next answer; null while work goes on.")
    conditions: str
    due_at: datetime | None
    reply_by: datetime | None
    opened_at: datetime
    last_move_at: datetime
    moves: int
    overdue: bool
    customer: PartyOut
    performers: list[PartyOut]
    my_side: Party | None = Field(description="My side of it, if I am a party.")
    body_id: str | None
    meeting_id: str | None
    obligation_id: str | None
    period_due_on: date | None
    waived_by_declaration_id: str | None


class ActOut(Output):
    seq: int
    move: Move
    party: Party
    actor_person_id: str
    speaker: str
    at: datetime
    text: str
    conditions: str | None
    due_at: datetime | None
    reply_by: datetime | None
    evidence: list[str]


class ProposalOut(Output):
    conditions: str
    due_at: datetime | None


class ConversationOut(CommitmentOut):
    acts: list[ActOut]
    proposal: ProposalOut | None = Field(
        description="New terms waiting for an answer (a counter-offer or a renegotiation)."
    )
    my_moves: list[Move] = Field(description="The moves I may make now.")


def _party(ref: views.PersonRef) -> PartyOut:
    return PartyOut(person_id=ref.id, name=ref.name, partner_id=ref.partner_id, partner=ref.partner)


def _commitment(row: views.Row) -> CommitmentOut:
    c = row.commitment
    return CommitmentOut(
        **{name: getattr(c, name) for name in _COMMITMENT_FIELDS},
        overdue=row.overdue,
        customer=_party(row.customer),
        performers=[_party(p) for p in row.performers],
        my_side=row.my_side,
    )


_COMMITMENT_FIELDS = (
    "id",
    "alliance_id",
    "what",
    "phase",
    "state",
    "awaits",
    "conditions",
    "due_at",
    "reply_by",
    "opened_at",
    "last_move_at",
    "moves",
    "body_id",
    "meeting_id",
    "obligation_id",
    "period_due_on",
    "waived_by_declaration_id",
)


def _conversation(seen: views.Conversation) -> ConversationOut:
    proposal = seen.state.proposal
    return ConversationOut(
        **_commitment(seen.row).model_dump(),
        acts=[
            ActOut(
                seq=line.act.seq,
                move=line.act.move,
                party=line.act.party,
                actor_person_id=line.act.actor_person_id,
                speaker=line.speaker,
                at=line.act.at,
                text=line.act.text,
                conditions=line.act.conditions,
                due_at=line.act.due_at,
                reply_by=line.act.reply_by,
                evidence=list(line.act.evidence or []),
            )
            for line in seen.lines
        ],
        proposal=ProposalOut(conditions=proposal.conditions, due_at=proposal.due_at)
        if proposal
        else None,
        my_moves=list(seen.my_moves),
    )


def _rows(request: Request, page: Page[views.Row]) -> Paged[CommitmentOut]:
    return paged(request, page, _commitment)


# ------------------------------------------------------------ my commitments


@router.get("/me/commitments", response_model=Paged[CommitmentOut])
def my_commitments(
    request: Request,
    uow: UowDep,
    person: PersonDep,
    page: PageDep,
    which: Annotated[
        MineFilter,
        Query(
            description="waiting: open, my answer is due (the in-app notice); owe: I perform; "
            "owed: I am the customer; closed."
        ),
    ] = "waiting",
) -> Paged[CommitmentOut]:
    """My commitments across my alliances, one section at a time."""
    return _rows(request, views.my_commitments(uow, person, which, page))


@router.get("/me/ledger-figures", response_model=FiguresOut)
def my_figures(uow: UowDep, person: PersonDep) -> FiguresOut:
    """My own figures (docs/ledger.md, "Metrics"); nobody else can read them."""
    return FiguresOut.model_validate(figures.my_figures(uow, person).to_dict())


class FeedOut(Output):
    id: str
    url: str = Field(description="The private feed URL; shown only in this answer.")
    created_at: datetime


@router.post("/me/calendar-feed", response_model=FeedOut, status_code=CREATED)
def create_feed(request: Request, uow: UowDep, person: PersonDep) -> FeedOut:
    """A new private iCalendar URL of my due dates, reply-by dates and meetings; an earlier
    one stops working."""
    feed, token = uow.write(lambda _: calendar.do_create_feed(uow, person))
    url = f"{str(request.base_url).rstrip('/')}/calendar/{token}.ics"
    return FeedOut(id=feed.id, url=url, created_at=feed.created_at)


@router.delete("/me/calendar-feed", status_code=status.HTTP_204_NO_CONTENT)
def revoke_feed(uow: UowDep, person: PersonDep) -> Response:
    """Stop my calendar URL (nothing to do when there is none)."""
    if calendar.current_feed(uow, person) is not None:
        uow.write(lambda _: calendar.do_revoke_feed(uow, person))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ------------------------------------------------------------------- ledger


@router.get(COMMITMENTS, response_model=Paged[CommitmentOut])
def list_commitments(
    alliance_id: str,
    request: Request,
    uow: UowDep,
    person: PersonDep,
    page: PageDep,
    partner_id: str | None = None,
    state: Literal["open", "waiting", "promised", "reported", "closed", "all"] = "open",
    due: Literal["overdue", "week", "month", "none", "any"] = "any",
    body_id: str | None = None,
) -> Paged[CommitmentOut]:
    """The alliance's commitments, newest first, filtered by partner, state, due date and body."""
    given = {"partner_id": partner_id, "state": state, "due": due, "body_id": body_id}
    query = inputs.parse(LedgerQuery, {name: value for name, value in given.items() if value})
    return _rows(request, views.ledger(uow, person, alliance_id, query, page).rows)


@router.post(COMMITMENTS, response_model=ConversationOut, status_code=CREATED)
def open_commitment(
    alliance_id: str,
    data: OpenInput,
    request: Request,
    response: Response,
    uow: UowDep,
    person: PersonDep,
) -> ConversationOut:
    """Ask (``move: request``, naming ``performer_ids``) or offer (``move: offer``, naming
    ``customer_id``): members who take part, not observers."""
    site = get_runtime(request).site
    created = uow.write(service.do_open_commitment, person, alliance_id, data, site)
    set_location(
        request, response, "read_commitment", alliance_id=alliance_id, commitment_id=created.id
    )
    return _conversation(views.conversation(uow, person, alliance_id, created.id))


@router.get(COMMITMENT, response_model=ConversationOut)
def read_commitment(
    alliance_id: str, commitment_id: str, uow: UowDep, person: PersonDep
) -> ConversationOut:
    """A commitment with every act, the terms on the table and the moves I may make now."""
    return _conversation(views.conversation(uow, person, alliance_id, commitment_id))


@router.post(f"{COMMITMENT}/moves", response_model=ConversationOut, status_code=CREATED)
def make_move(
    alliance_id: str,
    commitment_id: str,
    data: MoveInput,
    request: Request,
    uow: UowDep,
    person: PersonDep,
) -> ConversationOut:
    """One move by one of the parties (docs/ledger.md, "Moves")."""
    site = get_runtime(request).site
    uow.write(service.do_move, person, alliance_id, commitment_id, data, site)
    return _conversation(views.conversation(uow, person, alliance_id, commitment_id))


@router.post(f"{COMMITMENT}/reassign", response_model=ConversationOut)
def reassign(
    alliance_id: str, commitment_id: str, data: ReassignInput, uow: UowDep, person: PersonDep
) -> ConversationOut:
    """Hand one party's place to a colleague of the same partner (managers)."""
    uow.write(service.do_reassign, person, alliance_id, commitment_id, data)
    return _conversation(views.conversation(uow, person, alliance_id, commitment_id))


@router.get(f"{ALLIANCE}/ledger-figures", response_model=AllianceFiguresOut)
def alliance_figures(
    alliance_id: str,
    uow: UowDep,
    person: PersonDep,
    period: Literal["quarter", "month"] = "quarter",
) -> AllianceFiguresOut:
    """The alliance's figures, each partner's, and per period opened (docs/ledger.md)."""
    found = figures.alliance_figures(uow, person, alliance_id, period=period)
    return AllianceFiguresOut.model_validate(found.to_dict())


# -------------------------------------------------------------- obligations


class PeriodOut(Output):
    commitment_id: str
    due_on: date
    status: obligations.PeriodStatus
    phase: Phase


class ObligationPeriods(Output):
    obligation_id: str
    title: str
    performer: str | None
    customer: str | None
    periods: list[PeriodOut]


def _periods(item: obligations.ObligationLedger) -> ObligationPeriods:
    return ObligationPeriods(
        obligation_id=item.obligation.id,
        title=item.obligation.title,
        performer=item.performer,
        customer=item.customer,
        periods=[
            PeriodOut(
                commitment_id=p.commitment.id,
                due_on=p.commitment.period_due_on,
                status=p.status,
                phase=p.commitment.phase,
            )
            for p in item.periods
        ],
    )


@router.get(f"{ALLIANCE}/obligation-periods", response_model=Paged[ObligationPeriods])
def obligation_periods(
    alliance_id: str, request: Request, uow: UowDep, person: PersonDep, page: PageDep
) -> Paged[ObligationPeriods]:
    """Each obligation with who performs and receives it, and each period: met, late,
    waived, cancelled or open."""
    found = obligations.obligation_ledger(uow, person, alliance_id)
    return paged_list(
        request, found, lambda i: (i.obligation.title, i.obligation.id), page, _periods
    )


@router.put(
    f"{ALLIANCE}/obligations/{{obligation_id}}/assignment", response_model=ObligationPeriods
)
def assign_obligation(
    alliance_id: str, obligation_id: str, data: AssignmentInput, uow: UowDep, person: PersonDep
) -> ObligationPeriods:
    """Name who performs an obligation and who receives it; its periods enter the ledger
    (managers)."""
    uow.write(obligations.do_assign_obligation, person, alliance_id, obligation_id, data)
    found = obligations.obligation_ledger(uow, person, alliance_id)
    return _periods(next(item for item in found if item.obligation.id == obligation_id))


# ------------------------------------------------------------- declarations


class PositionOut(Output):
    member_id: str
    name: str
    partner: str
    position: Position
    reason: str = Field(description="In their own words.")


class DeclarationOut(Output):
    id: str
    text: str
    rationale: str
    body_id: str | None
    body: str | None
    decision_right_id: str | None
    decision_kind: str | None
    rule: m.DecisionRule | None
    quorum_percent: int | None
    meeting_id: str | None
    declared_at: datetime
    source: str
    positions: list[PositionOut]
    dissent: list[PositionOut] = Field(description="Who did not vote for it, and why.")
    clause_ids: list[str]
    waived_commitment_ids: list[str]


def _declaration(view: declarations.DeclarationView) -> DeclarationOut:
    d = view.declaration

    def position(p: declarations.PositionView) -> PositionOut:
        return PositionOut(
            member_id=p.member_id,
            name=p.name,
            partner=p.partner,
            position=p.position,
            reason=p.reason,
        )

    return DeclarationOut(
        id=d.id,
        text=d.text,
        rationale=d.rationale,
        body_id=d.body_id,
        body=view.body,
        decision_right_id=d.decision_right_id,
        decision_kind=view.decision_kind,
        rule=d.rule,
        quorum_percent=d.quorum_percent,
        meeting_id=d.meeting_id,
        declared_at=d.declared_at,
        source=d.source,
        positions=[position(p) for p in view.positions],
        dissent=[position(p) for p in view.dissent],
        clause_ids=[c.id for c in view.clauses],
        waived_commitment_ids=[c.id for c in view.waived],
    )


@router.get(DECLARATIONS, response_model=Paged[DeclarationOut])
def list_declarations(
    alliance_id: str, request: Request, uow: UowDep, person: PersonDep, page: PageDep
) -> Paged[DeclarationOut]:
    """The declarations log, newest first."""
    return paged(request, declarations.declarations(uow, person, alliance_id, page), _declaration)


@router.post(DECLARATIONS, response_model=DeclarationOut, status_code=CREATED)
def declare(
    alliance_id: str,
    data: DeclarationInput,
    request: Request,
    response: Response,
    uow: UowDep,
    person: PersonDep,
) -> DeclarationOut:
    """A body's declaration at one of its meetings, under one of its decision rights, with
    every seated member's position (its seated members or the alliance's managers)."""
    made = uow.write(declarations.do_declare, person, alliance_id, data)
    set_location(
        request, response, "read_declaration", alliance_id=alliance_id, declaration_id=made.id
    )
    return _declaration(declarations.declaration(uow, person, alliance_id, made.id))


@router.get(f"{DECLARATIONS}/{{declaration_id}}", response_model=DeclarationOut)
def read_declaration(
    alliance_id: str, declaration_id: str, uow: UowDep, person: PersonDep
) -> DeclarationOut:
    return _declaration(declarations.declaration(uow, person, alliance_id, declaration_id))


class ClauseOut(Output):
    id: str
    text: str
    added_at: datetime
    source: str
    origin: str = Field(description='"declaration", "deliberation", or "" (written in directly).')
    origin_id: str | None
    repealed_by_declaration_id: str | None


class CharterOut(Output):
    in_force: list[ClauseOut]
    repealed: list[ClauseOut]


def _clause(view: declarations.ClauseView) -> ClauseOut:
    c = view.clause
    return ClauseOut(
        id=c.id,
        text=c.text,
        added_at=c.added_at,
        source=c.source,
        origin=view.origin,
        origin_id=view.origin_id,
        repealed_by_declaration_id=c.repealed_by_declaration_id,
    )


@router.get(f"{ALLIANCE}/charter", response_model=CharterOut)
def read_charter(alliance_id: str, uow: UowDep, person: PersonDep) -> CharterOut:
    """The clauses in force, oldest first, each with where it came from; then repealed ones."""
    found = declarations.charter(uow, person, alliance_id)
    return CharterOut(
        in_force=[_clause(v) for v in found.in_force], repealed=[_clause(v) for v in found.repealed]
    )
