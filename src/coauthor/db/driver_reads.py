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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import psycopg
import sqlalchemy as sa

CURSOR_KEY = "coauthor.driver_read_cursor"
"""Where a pooled connection keeps its reads' cursor (``info`` lives as long as the
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
        parameters = dict(self.constants)
        for name, process in self.binds.items():
            value = values[name]
            parameters[name] = value if process is None else process(value)
        if not connection.in_transaction():
            connection.begin()  # as SQLAlchemy's own execution begins one, to be ended
        cursor = _cursor(connection)
        events = connection.dispatch
        events.before_cursor_execute(connection, cursor, self.sql, parameters, None, False)
        try:
            cursor.execute(self.sql, parameters, prepare=True)
            found = cursor.fetchall()
        except psycopg.Error as error:
            raise _wrapped(connection, self.sql, parameters, error, cursor) from error
        events.after_cursor_execute(connection, cursor, self.sql, parameters, None, False)
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


@lru_cache(maxsize=64)
def driver_read(statement: sa.Select, dialect: sa.Dialect) -> DriverRead:
    """``DriverRead.of(statement, dialect)``, compiled once per statement and dialect: the
    callers pass statements they build once (``functools.cache``), so a statement is the
    same object at every call."""
    return DriverRead.of(statement, dialect)


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


def _cursor(connection: sa.Connection) -> Any:
    """The cursor kept with ``connection``'s driver connection, made on its first read
    (SQLAlchemy empties ``info`` when it replaces an invalidated driver connection)."""
    pooled = connection.connection
    cursor = pooled.info.get(CURSOR_KEY)
    if cursor is None or cursor.closed:
        driver = pooled.driver_connection
        cursor = pooled.info[CURSOR_KEY] = driver.cursor()  # type: ignore[union-attr]
    return cursor
