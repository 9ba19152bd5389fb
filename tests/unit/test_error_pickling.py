"""Every ``CoauthorError`` crosses a pickle intact: a vote's refusal is raised in the web
process's writer process and answered by the web process (web/process_writes.py), with
the routed status, headers and body (``web/errors.py``), so its class, message, status
and fields must all arrive."""

from __future__ import annotations

import importlib
import pickle
import pkgutil

import pytest

import coauthor.domain
import coauthor.services
from coauthor.domain.errors import (
    Busy,
    CoauthorError,
    Conflict,
    FieldError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    ValidationFailed,
)
from coauthor.domain.ledger import Move, MoveNotAllowed, Party, Phase

EXAMPLES: list[CoauthorError] = [
    CoauthorError("no such thing here"),
    ValidationFailed(
        [FieldError(("statement_id",), "not a statement"), FieldError((), "not a vote")]
    ),
    ValidationFailed.one("value", "must be -1, 0 or 1"),
    NotFound("no such deliberation"),
    PermissionDenied("observers do not vote"),
    NotAuthenticated("sign in first"),
    Conflict("the deliberation is closed"),
    Conflict("taken", loc=("name",)),
    TooManyAttempts("wait a minute"),
    Busy("the alliance is busy", retry_after=3),
    MoveNotAllowed(Phase.OPENED, Move.ACCEPT, Party.CUSTOMER),
]


def _every_subclass(kind: type[CoauthorError]) -> set[type[CoauthorError]]:
    found = set(kind.__subclasses__())
    for sub in list(found):
        found |= _every_subclass(sub)
    return found


def test_every_kind_of_refusal_has_an_example() -> None:
    """A new kind of error (in the domain or the services, which writes raise) must join
    the examples below."""
    for package in (coauthor.domain, coauthor.services):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    assert _every_subclass(CoauthorError) <= {type(example) for example in EXAMPLES}


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda error: type(error).__name__)
def test_a_refusal_survives_pickling(error: CoauthorError) -> None:
    crossed = pickle.loads(pickle.dumps(error, protocol=pickle.HIGHEST_PROTOCOL))
    assert type(crossed) is type(error)
    assert str(crossed) == str(error) and crossed.args == error.args
    assert crossed.detail == error.detail
    assert crossed.status == error.status and crossed.title == error.title
    assert vars(crossed) == vars(error)
    assert getattr(crossed, "errors", None) == getattr(error, "errors", None)
    assert getattr(crossed, "retry_after", None) == getattr(error, "retry_after", None)
