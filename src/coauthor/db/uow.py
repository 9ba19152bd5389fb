"""The unit of work: one transaction, committed explicitly or rolled back."""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from coauthor.clock import Clock, SystemClock

T = TypeVar("T")


class UnitOfWork:
    """Wraps a session; leaving the block without ``commit()`` rolls everything back."""

    def __init__(self, session_factory: sessionmaker[Session], clock: Clock | None = None) -> None:
        self._session_factory = session_factory
        self.clock: Clock = clock or SystemClock()
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def add(self, entity: object) -> None:
        self.session.add(entity)

    def add_all(self, entities: Iterable[object]) -> None:
        self.session.add_all(list(entities))

    def delete(self, entity: object) -> None:
        self.session.delete(entity)

    def flush(self) -> None:
        self.session.flush()

    def get(self, cls: type[T], **key: Any) -> T | None:
        """One entity by its full primary key, e.g. ``get(Risk, alliance_id=a, id=r)``."""
        return self.session.get(cls, key)

    def find(self, cls: type[T], *criteria: Any, order_by: Any = None, **equal: Any) -> list[T]:
        statement = sa.select(cls).filter_by(**equal)
        if criteria:
            statement = statement.where(*criteria)
        if order_by is not None:
            statement = statement.order_by(order_by)
        return list(self.session.scalars(statement))

    def find_one(self, cls: type[T], **equal: Any) -> T | None:
        return self.session.scalars(sa.select(cls).filter_by(**equal).limit(1)).first()
