"""A vote's write: every check of the act, in one query, and the vote as one upsert.

A live deliberation takes a hundred votes a second, and on SQLite each vote holds
the database's write lock for the whole of its transaction, so the time a vote
spends inside it is what every other vote waits for. Through the ORM a vote read
seven rows one query at a time (the alliance, the person again, the membership,
the deliberation, the statement, the participant, the vote). Here one prebuilt
query, run inside the write, reads all of them by their keys, and the same checks
run on what it found, in the same order and with the same errors as every other
act of a deliberation (``acts._begin_act``: may see the alliance, the deliberation
exists, may take part, it is open; then the input and the statement). The vote
is then an upsert that keeps the time of a vote sent again with the same value,
so that two requests racing to cast a first vote both end in one row.

``cast_votes`` is the same for a group of votes (the vote layer's group commits), in
a constant number of statements for the whole group: one facts query over the
group's keys, one insert of new participants, one upsert of changed votes (on
PostgreSQL a part of the statement that appends the votes' events, ``acts.do_votes``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from coauthor import permissions
from coauthor.db import tables
from coauthor.db.driver_reads import driver_read
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import Conflict, NotFound, ValidationFailed
from coauthor.ids import new_id
from coauthor.services import eventlog, inputs
from coauthor.services.deliberation.inputs import VoteInput

NO_STATEMENT = "no such statement in this deliberation"
CLOSED_STATEMENT = "this statement is not open for votes"


def cast_vote(
    uow: UnitOfWork, actor: m.Person | None, alliance_id: str, deliberation_id: str, payload: Any
) -> m.Vote:
    """Record (or change) the actor's vote and return it as stored (see ``acts.do_vote``)."""
    person = permissions.require_signed_in(actor)
    try:
        data: VoteInput | None = inputs.parse(VoteInput, payload)
        refused: ValidationFailed | None = None
    except ValidationFailed as error:
        data, refused = None, error
    key = {
        "person": _id_of(person),
        "alliance": alliance_id,
        "deliberation": deliberation_id,
        "statement": data.statement_id if data else "",
    }
    found = uow.session.connection().execute(_facts_query(), key).one_or_none()
    data = _checked(found, deliberation_id, data, refused)
    participant_id = found.participant_id or _join(uow, found, alliance_id, deliberation_id)
    vote = m.Vote(
        alliance_id=alliance_id,
        deliberation_id=deliberation_id,
        participant_id=participant_id,
        statement_id=data.statement_id,
        value=data.value,
        at=found.vote_at if found.vote_value == data.value else uow.clock.now(),
    )
    if found.vote_value != data.value:
        _upsert(uow, vote)
    return vote


class Ballot(NamedTuple):
    """One vote of a group, as ``cast_vote`` takes it."""

    actor: m.Person | None
    alliance_id: str
    deliberation_id: str
    payload: Any


def cast_votes(
    uow: UnitOfWork,
    ballots: Sequence[Ballot],
    then: Callable[[m.Vote], None] | None = None,
    upsert_with: Callable[[eventlog.Alongside], None] | None = None,
) -> list[m.Vote | Exception]:
    """Each ballot's outcome — the vote as stored, or the error that refused it — exactly as
    calling ``cast_vote`` for each in order in one transaction gives, in a constant number
    of statements: the facts of every ballot in ONE query, the checks of ``cast_vote`` on
    them in the same order, the votes that pass folded in order in Python (a later ballot
    sees an earlier one's participant and vote), then one insert of the new participants
    and one upsert of the changed votes. A refused ballot writes nothing. ``then(vote)``
    runs after each vote that passes, in order (``acts.do_votes`` appends its event
    there, so the clock is read in the order ``do_vote`` reads it). On PostgreSQL, given
    ``upsert_with``, the upsert of the votes that moved is handed to it instead of run,
    for the caller to run in a statement of its own (``acts.do_votes``: the events'
    append)."""
    outcomes: list[m.Vote | Exception | None] = [None] * len(ballots)
    parsed: list[tuple[int, m.Person, VoteInput | None, ValidationFailed | None]] = []
    for number, ballot in enumerate(ballots):
        try:
            person = permissions.require_signed_in(ballot.actor)
        except Exception as refused:
            outcomes[number] = refused
            continue
        try:
            parsed.append((number, person, inputs.parse(VoteInput, ballot.payload), None))
        except ValidationFailed as error:
            parsed.append((number, person, None, error))
    facts = _group_facts(uow, [(ballots[n], person, data) for n, person, data, _ in parsed])
    group = _Group(uow.clock.now, upsert_with)
    for (number, _, data, refused), found in zip(parsed, facts, strict=True):
        ballot = ballots[number]
        try:
            vote = group.cast(found, ballot.alliance_id, ballot.deliberation_id, data, refused)
        except Exception as failed:
            outcomes[number] = failed
            continue
        outcomes[number] = vote
        if then is not None:
            then(vote)
    group.write(uow)
    assert all(outcome is not None for outcome in outcomes)
    return outcomes  # type: ignore[return-value]


@dataclass
class _Group:
    """The votes of a group folded in order: the participants it made and the votes it
    changed, as ``cast_vote`` one after the other would have left them."""

    now: Callable[[], datetime]
    upsert_with: Callable[[eventlog.Alongside], None] | None = None
    """Who runs the upsert of the votes that moved, on PostgreSQL (``cast_votes``)."""
    joined: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    """(alliance, deliberation, person) → the participant row made by this group."""
    cells: dict[tuple[str, str, str, str], tuple[int | None, datetime | None]] = field(
        default_factory=dict
    )
    """(alliance, deliberation, participant, statement) → the vote's value and time, once a
    ballot of the group reached it."""
    stored: dict[tuple[str, str, str, str], int | None] = field(default_factory=dict)
    """The value each cell had when read, for the cells this group changed."""

    def cast(
        self,
        found: Any,
        alliance_id: str,
        deliberation_id: str,
        data: VoteInput | None,
        refused: ValidationFailed | None,
    ) -> m.Vote:
        """``cast_vote``'s checks and vote, on the facts read for the group and what the
        ballots before this one did."""
        data = _checked(found, deliberation_id, data, refused)
        participant_id = found.participant_id or self._participant(
            found, alliance_id, deliberation_id
        )
        cell = (alliance_id, deliberation_id, participant_id, data.statement_id)
        value, at = self.cells.get(cell, (found.vote_value, found.vote_at))
        if value != data.value:
            self.stored.setdefault(cell, found.vote_value)
            value, at = data.value, self.now()
            self.cells[cell] = (value, at)
        assert at is not None
        return m.Vote(
            alliance_id=alliance_id,
            deliberation_id=deliberation_id,
            participant_id=participant_id,
            statement_id=data.statement_id,
            value=value,
            at=at,
        )

    def _participant(self, found: Any, alliance_id: str, deliberation_id: str) -> str:
        """The participant this group made for the person, or a new one (``_join``'s)."""
        key = (alliance_id, deliberation_id, found.person_id)
        row = self.joined.get(key)
        if row is None:
            row = {
                "alliance_id": alliance_id,
                "id": new_id("pt"),
                "deliberation_id": deliberation_id,
                "person_id": found.person_id,
                "partner_id": found.partner_id,
                "external_id": None,
                "joined_at": self.now(),
            }
            self.joined[key] = row
        return str(row["id"])

    def write(self, uow: UnitOfWork) -> None:
        """One insert of the new participants, then the changed votes: a cell whose value
        moved is upserted as ``_upsert`` does (a concurrent vote of that value keeps its
        time) — on PostgreSQL by ``upsert_with``, when given, as one more part of its own
        statement; a cell that came back to the value it was read with (-1, 1, -1 in one
        group) is set outright, as the group's last ``_upsert`` of it would have set it."""
        connection = uow.session.connection()
        if self.joined:
            connection.execute(_participant_insert(), list(self.joined.values()))
        moved, returned = [], []
        for cell, (value, at) in self.cells.items():
            alliance_id, deliberation_id, participant_id, statement_id = cell
            row = {
                "alliance_id": alliance_id,
                "deliberation_id": deliberation_id,
                "participant_id": participant_id,
                "statement_id": statement_id,
                "value": value,
                "at": at,
            }
            (returned if self.stored[cell] == value else moved).append(row)
        dialect = connection.dialect.name
        if moved and dialect == "postgresql" and self.upsert_with is not None:
            arrays = {f"vote_{name}s": [row[name] for row in moved] for name in VOTE_COLUMNS}
            self.upsert_with(eventlog.Alongside(_unnested_upsert(), arrays))
        elif moved:
            connection.execute(_upsert_statement(dialect), moved)
        if returned:
            connection.execute(_upsert_statement(dialect, only_if_changed=False), returned)


def _group_facts(
    uow: UnitOfWork, keyed: Sequence[tuple[Ballot, m.Person, VoteInput | None]]
) -> list[Any]:
    """``_facts_query``'s row (None where it finds none) for each ballot, in ONE query over
    the ballots' keys."""
    found: list[Any] = []
    for start in range(0, len(keyed), MAX_FACTS_GROUP):
        found += _facts_of_some(uow, keyed[start : start + MAX_FACTS_GROUP])
    return found


MAX_FACTS_GROUP = 64
"""Most ballots in one facts query (SQLite takes at most 500 parts in a compound select)."""


def _facts_of_some(
    uow: UnitOfWork, keyed: Sequence[tuple[Ballot, m.Person, VoteInput | None]]
) -> list[Any]:
    keys = {
        "person": [_id_of(person) for _, person, _ in keyed],
        "alliance": [ballot.alliance_id for ballot, _, _ in keyed],
        "deliberation": [ballot.deliberation_id for ballot, _, _ in keyed],
        "statement": [data.statement_id if data else "" for _, _, data in keyed],
    }
    connection = uow.session.connection()
    if connection.dialect.name == "postgresql":
        values = {f"{k}s": v for k, v in keys.items()}
        rows = driver_read(_group_facts_query(None), connection.dialect).rows(connection, values)
    else:
        statement = _group_facts_query(len(keyed))
        values = {f"{k}_{n}": value for k, column in keys.items() for n, value in enumerate(column)}
        rows = connection.execute(statement, values)
    found: list[Any] = [None] * len(keyed)
    for row in rows:
        found[row.ballot] = row
    return found


def _id_of(person: m.Person) -> str:
    """The person's id, without reloading an instance that the write's fresh start expired
    (the query below reads the person's row anyway)."""
    identity = sa.inspect(person).identity
    return identity[0] if identity else person.id


def _checked(
    found: Any, deliberation_id: str, data: VoteInput | None, refused: ValidationFailed | None
) -> VoteInput:
    """Every check of a vote, in order, on its facts row (None: the person was deleted
    since signing in): the act's, then the input's (``refused`` when it did not parse),
    then the statement's. The vote's input, once all of them pass."""
    if found is None:
        raise NotFound("no such alliance")
    _check_act(found, deliberation_id)
    if data is None:
        assert refused is not None
        raise refused
    _check_statement(found, deliberation_id)
    return data


def _check_act(found: Any, deliberation_id: str) -> None:
    """``open_deliberation`` then ``_begin_act``'s checks, on the rows as read in the write."""
    if found.alliance_id is None:
        raise NotFound("no such alliance")
    actor = m.Person(
        id=found.person_id,
        email=found.email,
        name=found.name,
        password_hash=found.password_hash,
        is_admin=found.is_admin,
        created_at=found.person_created_at,
        time_zone=found.time_zone,
        deactivated_at=found.deactivated_at,
    )
    membership = None
    if found.member_id is not None:
        membership = m.Member(
            alliance_id=found.alliance_id,
            id=found.member_id,
            person_id=found.person_id,
            partner_id=found.partner_id,
            role=m.Role(found.role),
            title=found.title,
        )
    permissions.require_view_alliance(actor, membership)
    if found.deliberation_id is None:
        raise NotFound("no such deliberation")
    permissions.require_take_part(actor, membership)
    if found.status != m.DeliberationStatus.OPEN.value:
        raise Conflict("this deliberation is closed")


def _check_statement(found: Any, deliberation_id: str) -> None:
    if found.statement_deliberation_id != deliberation_id:
        raise ValidationFailed.one("statement_id", NO_STATEMENT)
    if found.moderation != m.Moderation.ACCEPTED.value:
        raise ValidationFailed.one("statement_id", CLOSED_STATEMENT)


def _join(uow: UnitOfWork, found: Any, alliance_id: str, deliberation_id: str) -> str:
    """The member's participant record, made on their first act."""
    participant_id = new_id("pt")
    uow.session.connection().execute(
        sa.insert(tables.participants),
        {
            "alliance_id": alliance_id,
            "id": participant_id,
            "deliberation_id": deliberation_id,
            "person_id": found.person_id,
            "partner_id": found.partner_id,
            "external_id": None,
            "joined_at": uow.clock.now(),
        },
    )
    return participant_id


def _upsert(uow: UnitOfWork, vote: m.Vote) -> None:
    connection = uow.session.connection()
    statement = _upsert_statement(connection.dialect.name)
    connection.execute(statement, {name: getattr(vote, name) for name in VOTE_COLUMNS})


VOTE_COLUMNS = tuple(column.name for column in tables.votes.columns)


@cache
def _upsert_statement(dialect_name: str, only_if_changed: bool = True) -> sa.Insert:
    """Insert the vote, or change the stored one — unless it has that value already when
    ``only_if_changed`` (a vote sent twice keeps its first time), else whatever it holds;
    built once per dialect and kind."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return _on_vote_conflict(dialect.insert(tables.votes), only_if_changed)


@cache
def _unnested_upsert() -> sa.Insert:
    """On PostgreSQL: ``_upsert_statement`` (a vote of that value already keeps its time)
    for votes that come as one array per column (``vote_<column>s``), unnested into one
    insert, so that it can be a part of another statement. Built once."""
    votes = tables.votes
    arrays = [
        sa.bindparam(f"vote_{name}s", type_=postgresql.ARRAY(votes.c[name].type))
        for name in VOTE_COLUMNS
    ]
    unnested = sa.func.unnest(*arrays).table_valued(*VOTE_COLUMNS).render_derived("moved_votes")
    insert = postgresql.insert(votes).from_select(
        VOTE_COLUMNS, sa.select(*(unnested.c[name] for name in VOTE_COLUMNS))
    )
    return _on_vote_conflict(insert, only_if_changed=True)


def _on_vote_conflict(
    insert: postgresql.Insert | sqlite.Insert, only_if_changed: bool
) -> postgresql.Insert | sqlite.Insert:
    """``insert`` of votes made an upsert: a vote already stored for the cell takes the new
    value and time — unless, ``only_if_changed``, it holds that value already (a vote sent
    twice, or stored meanwhile by another request, keeps its first time)."""
    votes = tables.votes
    return insert.on_conflict_do_update(
        index_elements=[column.name for column in votes.primary_key],
        set_={"value": insert.excluded.value, "at": insert.excluded.at},
        where=votes.c.value != insert.excluded.value if only_if_changed else None,
    )


@cache
def _participant_insert() -> sa.Insert:
    return sa.insert(tables.participants)


@cache
def _facts_query() -> sa.Select:
    """The person (as read now), the alliance, the membership, the deliberation, the
    statement, the participant and their vote on it, each by its key: one row, its
    missing parts NULL. Built once."""
    people, participants, votes = tables.people, tables.participants, tables.votes
    alliance, deliberation = sa.bindparam("alliance"), sa.bindparam("deliberation")
    statement = sa.bindparam("statement")
    return (
        sa.select(*_facts_columns(votes.c.value, votes.c.at))
        .select_from(
            _facts_joined(people, alliance, deliberation, statement).outerjoin(
                votes,
                sa.and_(
                    votes.c.alliance_id == alliance,
                    votes.c.deliberation_id == deliberation,
                    votes.c.participant_id == participants.c.id,
                    votes.c.statement_id == statement,
                ),
            )
        )
        .where(people.c.id == sa.bindparam("person"))
    )


@cache
def _group_facts_query(count: int | None) -> sa.Select:
    """``_facts_query`` for many ballots at once, with each row's ``ballot`` number (from
    0): the ballots' keys as a derived table, each joined as ``_facts_query`` joins its
    parameters. On PostgreSQL (``count`` None) the keys are four arrays, unnested, so one
    statement serves every group size (run through the driver and prepared on its first
    use, ``driver_reads.driver_read``, so it is planned once per connection); on SQLite one
    ``SELECT`` of parameters per ballot, so the statement is built once per size. The
    vote is read by its whole key in two scalar subqueries rather than joined:
    PostgreSQL plans that in a third of the time (about 3 against 10 ms for 35 ballots),
    which it spends again at every group. A ballot whose person is gone has no row."""
    people, participants, votes = tables.people, tables.participants, tables.votes
    keys = _ballot_keys(count)
    alliance, deliberation, statement = keys.c.alliance, keys.c.deliberation, keys.c.statement

    def vote_column(column: sa.Column) -> sa.ScalarSelect:
        return (
            sa.select(column)
            .where(
                votes.c.alliance_id == alliance,
                votes.c.deliberation_id == deliberation,
                votes.c.participant_id == participants.c.id,
                votes.c.statement_id == statement,
            )
            .scalar_subquery()
        )

    with_people = keys.join(people, people.c.id == keys.c.person)
    return sa.select(
        keys.c.ballot, *_facts_columns(vote_column(votes.c.value), vote_column(votes.c.at))
    ).select_from(_facts_joined(with_people, alliance, deliberation, statement))


def _facts_columns(
    vote_value: sa.ColumnElement[Any], vote_at: sa.ColumnElement[Any]
) -> list[sa.ColumnElement[Any]]:
    """What both facts queries read: the person, the alliance, the membership, the
    deliberation, the statement, the participant, then the vote as each reads it."""
    t = tables
    people, alliances, members, deliberations = t.people, t.alliances, t.members, t.deliberations
    statements, participants = t.statements, t.participants
    return [
        people.c.id.label("person_id"),
        people.c.email,
        people.c.name,
        people.c.password_hash,
        people.c.is_admin,
        people.c.created_at.label("person_created_at"),
        people.c.time_zone,
        people.c.deactivated_at,
        alliances.c.id.label("alliance_id"),
        members.c.id.label("member_id"),
        members.c.partner_id,
        members.c.role,
        members.c.title,
        deliberations.c.id.label("deliberation_id"),
        deliberations.c.status,
        statements.c.deliberation_id.label("statement_deliberation_id"),
        statements.c.moderation,
        participants.c.id.label("participant_id"),
        vote_value.label("vote_value"),
        vote_at.label("vote_at"),
    ]


def _facts_joined(
    with_people: sa.FromClause,
    alliance: sa.ColumnElement[Any],
    deliberation: sa.ColumnElement[Any],
    statement: sa.ColumnElement[Any],
) -> sa.Join:
    """``with_people`` (a from-clause holding ``people``) outer-joined, by their keys, to the
    alliance, the person's membership, the deliberation, the statement and the person's
    participant record: the joins both facts queries make."""
    t = tables
    people, alliances, members, deliberations = t.people, t.alliances, t.members, t.deliberations
    statements, participants = t.statements, t.participants
    return (
        with_people.outerjoin(alliances, alliances.c.id == alliance)
        .outerjoin(
            members, sa.and_(members.c.alliance_id == alliance, members.c.person_id == people.c.id)
        )
        .outerjoin(
            deliberations,
            sa.and_(deliberations.c.alliance_id == alliance, deliberations.c.id == deliberation),
        )
        .outerjoin(
            statements,
            sa.and_(statements.c.alliance_id == alliance, statements.c.id == statement),
        )
        .outerjoin(
            participants,
            sa.and_(
                participants.c.alliance_id == alliance,
                participants.c.deliberation_id == deliberation,
                participants.c.person_id == people.c.id,
            ),
        )
    )


KEY_NAMES = ("person", "alliance", "deliberation", "statement")


def _ballot_keys(count: int | None) -> sa.Subquery | sa.TableValuedAlias:
    """The ballots' keys as a table (``ballot``, ``person``, ``alliance``, ``deliberation``,
    ``statement``): see ``_group_facts_query``."""
    text = sa.String()
    if count is None:
        arrays = [sa.bindparam(f"{name}s", type_=postgresql.ARRAY(sa.String)) for name in KEY_NAMES]
        unnested = (
            sa.func.unnest(*arrays)
            .table_valued(*KEY_NAMES, with_ordinality="ordinal")
            .render_derived("keys")
        )
        first = sa.literal_column("1", sa.Integer)
        numbered = sa.select(
            (unnested.c.ordinal - first).label("ballot"), *(unnested.c[n] for n in KEY_NAMES)
        )
        return numbered.subquery("ballots")
    return sa.union_all(
        *(
            sa.select(
                sa.literal_column(str(number), sa.Integer).label("ballot"),
                *(
                    sa.cast(sa.bindparam(f"{name}_{number}"), text).label(name)
                    for name in KEY_NAMES
                ),
            )
            for number in range(count)
        )
    ).subquery("ballots")
