"""Errors the domain and services raise; the web, API and CLI translate them."""

from __future__ import annotations

from dataclasses import dataclass

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field; ``loc`` is its path, e.g. ("shares", 1, "percent")."""

    loc: Loc
    message: str

    @property
    def field(self) -> str:
        return ".".join(str(part) for part in self.loc)


class CoauthorError(Exception):
    """Base of every error that a user can cause and should be told about."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ValidationFailed(CoauthorError):
    status = 422
    title = "Invalid input"

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field or 'input'}: {e.message}" for e in errors))

    @classmethod
    def one(cls, loc: Loc | str, message: str) -> ValidationFailed:
        path = (loc,) if isinstance(loc, str) else loc
        return cls([FieldError(path, message)])


class NotFound(CoauthorError):
    status = 404
    title = "Not found"


class PermissionDenied(CoauthorError):
    status = 403
    title = "Forbidden"


class NotAuthenticated(CoauthorError):
    status = 401
    title = "Not signed in"


class Conflict(CoauthorError):
    status = 409
    title = "Conflict"

    def __init__(self, detail: str, loc: Loc = ()) -> None:
        super().__init__(detail)
        self.errors = [FieldError(loc, detail)] if loc else []


class TooManyAttempts(CoauthorError):
    status = 429
    title = "Too many attempts"


class Busy(CoauthorError):
    """A write kept colliding with others; the person may simply try again."""

    status = 503
    title = "Busy"

    def __init__(self, detail: str, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
