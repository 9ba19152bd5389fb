"""Reads of the vote layer's writer run on PostgreSQL through psycopg's own cursor.

A vote group's writer sends a few keyed reads per group (the people of the votes'
tokens, their alliances' chain heads locked, the facts of their ballots) and one append
(a ``SELECT`` whose ``WITH`` parts insert the events, move the head and upsert the
votes: ``eventlog.append_all``), each a statement built once. Through SQLAlchemy
each execution still sets up an execution context, processes every parameter, makes a
result from the cursor's description (which psycopg rebuilds for every result) and a
row object per row: about 0.2 ms of CPU per read, more than psycopg's own work (about
0.1 ms) on a kept cursor. A ``DriverRead`` is such a statement compiled once for the
dialect, with its parameters' and columns' type processors taken once from SQLAlchemy,
and run on the transaction's own connection, on a cursor kept with that connection,
prepared by the server on first use (``prepare=True``). Its rows hold the values that
SQLAlchemy's would, by name and by position. SQLAlchemy's cursor events see it (without
an execution context: there is none), and its errors are raised as SQLAlchemy's
(``sa.exc.DBAPIError`` and its kinds), a lost connection invalidated.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa

CURSORS_KEY = "coauthor.driver_read_cursors"
"""Where a pooled connection keeps its reads' cursors (``info`` lives as long as the
driver's connection)."""


@dataclass(frozen=True)
class DriverRead:
    """A statement built once, compiled for the dialect, and what its rows need."""

    sql: str
    binds: Mapping[str, Callable[[Any], Any] | None]
    """Each parameter's name and SQLAlchemy's processor of its value, if it has one."""
    constants: Mapping[str, Any]
    """The statement's own values (a literal in it, e.g. a channel's name), processed."""
    row: Callable[..., tuple[Any, ...]]
    """Makes a row, its fields named as the statement's columns."""
    columns: tuple[Callable[[Any], Any] | None, ...]
    """SQLAlchemy's processor of each column's value, if it has one."""

    @classmethod
    def of(cls, statement: sa.Select, dialect: sa.Dialect) -> DriverRead:
        """``statement`` compiled for ``dialect`` (a named-parameter driver's, psycopg's)."""
        compiled = statement.compile(dialect=dialect)
        assert not compiled.positional, "a driver read takes named parameters"
        binds, constants = {}, {}
        for name, bind in compiled.binds.items():
            process = bind.type.bind_processor(dialect)
            if bind.required:
                binds[name] = process
            else:
                value = bind.effective_value
                constants[name] = value if process is None else process(value)
        selected = statement.selected_columns
        columns = tuple(column.type.result_processor(dialect, None) for column in selected)
        row = namedtuple("Row", list(selected.keys()))  # type: ignore[misc]
        return cls(compiled.string, binds, constants, row, columns)

    def rows(self, connection: sa.Connection, values: Mapping[str, Any]) -> list[Any]:
        """The statement's rows for these parameter values, read in ``connection``'s
        transaction (begun here if it is not yet, so that its end ends the driver's)."""
        parameters = self.parameters(values)
        _begun(connection)
        cursor = _cursors(connection, 1)[0]
        events = connection.dispatch
        events.before_cursor_execute(connection, cursor, self.sql, parameters, None, False)
        try:
            cursor.execute(self.sql, parameters, prepare=True)
            found = cursor.fetchall()
        except psycopg.Error as error:
            raise _wrapped(connection, self.sql, parameters, error, cursor) from error
        events.after_cursor_execute(connection, cursor, self.sql, parameters, None, False)
        return self.made(found)

    def parameters(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The driver's parameters: these values processed as SQLAlchemy would, and the
        statement's own constants."""
        parameters = dict(self.constants)
        for name, process in self.binds.items():
            value = values[name]
            parameters[name] = value if process is None else process(value)
        return parameters

    def made(self, found: list[tuple[Any, ...]]) -> list[Any]:
        """The rows of the driver's tuples, each column's value processed as SQLAlchemy's
        would be."""
        if not any(self.columns):
            return [self.row(*values) for values in found]
        return [
            self.row(
                *(
                    value if process is None else process(value)
                    for value, process in zip(values, self.columns, strict=True)
                )
            )
            for values in found
        ]


def rows_together(
    connection: sa.Connection, reads: Sequence[tuple[DriverRead, Mapping[str, Any]]]
) -> list[list[Any]]:
    """Each read's rows, the reads sent together and answered together: one round trip
    instead of one per read (psycopg's pipeline mode), on a transaction already begun on
    the server (psycopg waits for a ``BEGIN`` sent in a pipeline before going on). The
    server still runs each statement after the one before it has finished — a read sent
    after a lock starts once the lock is granted, and sees what committed before — so
    the rows are those of ``rows`` for each read in turn. One by one where libpq has no
    pipeline mode. A failed read raises as ``rows`` raises (named by the first read not
    yet answered: the server's answers are taken in order), and the reads after it do
    not run (the transaction has failed)."""
    if len(reads) < 2 or not psycopg.Pipeline.is_supported():
        return [read.rows(connection, values) for read, values in reads]
    _begun(connection)
    cursors = _cursors(connection, len(reads))
    driver = connection.connection.driver_connection
    events = connection.dispatch
    sent: list[tuple[DriverRead, dict[str, Any], Any]] = []
    found: list[list[tuple[Any, ...]]] = []
    try:
        with driver.pipeline():  # type: ignore[union-attr]
            for (read, values), cursor in zip(reads, cursors, strict=True):
                parameters = read.parameters(values)
                events.before_cursor_execute(connection, cursor, read.sql, parameters, None, False)
                cursor.execute(read.sql, parameters, prepare=True)
                sent.append((read, parameters, cursor))
            for read, parameters, cursor in sent:
                found.append(cursor.fetchall())
                events.after_cursor_execute(connection, cursor, read.sql, parameters, None, False)
    except psycopg.Error as error:
        read, parameters, cursor = (
            sent[min(len(found), len(sent) - 1)] if sent else (reads[0][0], {}, cursors[0])
        )
        raise _wrapped(connection, read.sql, parameters, error, cursor) from error
    return [read.made(rows) for (read, _, _), rows in zip(sent, found, strict=True)]


def _begun(connection: sa.Connection) -> None:
    if not connection.in_transaction():
        connection.begin()  # as SQLAlchemy's own execution begins one, to be ended


def _wrapped(
    connection: sa.Connection,
    sql: str,
    parameters: Mapping[str, Any],
    error: psycopg.Error,
    cursor: Any,
) -> sa.exc.DBAPIError:
    """The driver's error as SQLAlchemy raises it (``uow.write`` tells a lost race by it),
    the connection invalidated first when the error says it is gone, as SQLAlchemy's own
    execution would have it."""
    disconnected = connection.dialect.is_disconnect(error, connection.connection, cursor)
    if disconnected:
        connection.invalidate(error)
    return sa.exc.DBAPIError.instance(
        sql,
        parameters,
        error,
        psycopg.Error,
        connection_invalidated=disconnected,
        dialect=connection.dialect,
    )


def _cursors(connection: sa.Connection, count: int) -> list[Any]:
    """``count`` cursors kept with ``connection``'s driver connection, made on first need
    (SQLAlchemy empties ``info`` when it replaces an invalidated driver connection): one
    per read sent together, as a cursor holds one read's rows."""
    pooled = connection.connection
    kept: list[Any] = pooled.info.setdefault(CURSORS_KEY, [])
    kept[:] = [cursor for cursor in kept if not cursor.closed]
    while len(kept) < count:
        kept.append(pooled.driver_connection.cursor())  # type: ignore[union-attr]
    return kept[:count]
