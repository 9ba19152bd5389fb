"""Who is asking: signed session cookies for pages, bearer tokens for the API, CSRF.

The session cookie is signed and timestamped (itsdangerous); it is HttpOnly,
SameSite=Lax, and Secure when ``secure_cookies`` is set. It carries the
person's id and the session's CSRF token. An expired cookie is told apart from
none, so the person learns why they must sign in again.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from coauthor.clock import Clock
from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import NotAuthenticated, PermissionDenied
from coauthor.domain.model import Person
from coauthor.runtime import Runtime
from coauthor.services.accounts import people, tokens

SESSION_COOKIE = "coauthor_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Session:
    person_id: str | None
    csrf_token: str
    expired: bool = False


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


class _ClockSigner(TimestampSigner):
    """A timestamp signer that reads the runtime's clock, so session age follows it."""

    def __init__(self, *args: object, clock: Clock, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock.now().timestamp())


def _serializer(runtime: Runtime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        runtime.secret_key,
        salt="session",
        signer=_ClockSigner,
        signer_kwargs={"clock": runtime.clock},
    )


def read_session(request: Request) -> Session:
    """The session in the cookie; a fresh anonymous one when there is none or it is bad."""
    cached = getattr(request.state, "session", None)
    if cached is not None:
        return cached
    runtime = get_runtime(request)
    raw = request.cookies.get(SESSION_COOKIE)
    session = Session(None, secrets.token_urlsafe(24))
    if raw:
        try:
            data = _serializer(runtime).loads(raw, max_age=runtime.settings.session_max_age_seconds)
            session = Session(data.get("p"), data["c"])
        except SignatureExpired:
            session = Session(None, secrets.token_urlsafe(24), expired=True)
        except (BadSignature, KeyError, TypeError, AttributeError):
            pass
    request.state.session = session
    return session


def write_session(request: Request, response: Response, session: Session) -> None:
    runtime = get_runtime(request)
    value = _serializer(runtime).dumps({"p": session.person_id, "c": session.csrf_token})
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=runtime.settings.session_max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=runtime.settings.secure_cookies,
        path="/",
    )
    request.state.session = session


def start_session(request: Request, response: Response, person: Person) -> None:
    """A new session (and a new CSRF token) after sign-in, against session fixation."""
    write_session(request, response, Session(person.id, secrets.token_urlsafe(24)))


def end_session(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    request.state.session = Session(None, secrets.token_urlsafe(24))


def csrf_token(request: Request) -> str:
    return read_session(request).csrf_token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = read_session(request).csrf_token
    if not submitted or not hmac.compare_digest(submitted, expected):
        raise PermissionDenied("the form's security token is missing or stale; reload the page")


def get_uow(request: Request):  # type: ignore[no-untyped-def]
    """One unit of work per request; the handler commits what it wants kept."""
    with get_runtime(request).uow() as uow:
        yield uow


UowDep = Annotated[UnitOfWork, Depends(get_uow)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def current_person(request: Request, uow: UowDep) -> Person | None:
    """The signed-in person (by API token or session cookie), or None."""
    token = _bearer(request)
    if token is not None:
        person = tokens.person_for_token(uow, token)
        if person is None:
            raise NotAuthenticated("the API token is unknown or revoked")
        request.state.via_token = True
        return person
    session = read_session(request)
    if session.person_id is None:
        return None
    return people.person_by_id(uow, session.person_id)


ActorDep = Annotated[Person | None, Depends(current_person)]


def session_expired(request: Request) -> bool:
    return read_session(request).expired
