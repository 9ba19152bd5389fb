"""Who is asking: server-side sessions for pages, bearer tokens for the API, CSRF.

The session cookie is signed and timestamped (itsdangerous); it is HttpOnly,
SameSite=Lax, and Secure when ``secure_cookies`` is set. For a visitor who
has not signed in it carries only a CSRF token. After sign-in it carries a
random session secret: the session itself is a row (services/accounts/
sessions.py) keyed by the secret's digest, so signing out, changing one's
password, "sign out everywhere" and an administrator's deactivation end it
on the server, and an old cookie opens nothing. The CSRF token of a signed-in
session is derived from its secret (an HMAC with the site key): it is bound
to that session and changes with it.

An expired or ended session is told apart from none, so the person learns
why they must sign in again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request, Response
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from coauthor.clock import Clock
from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import NotAuthenticated, PermissionDenied
from coauthor.domain.model import Person
from coauthor.runtime import Runtime
from coauthor.services.accounts import people, sessions, tokens

SESSION_COOKIE = "coauthor_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Session:
    person_id: str | None
    csrf_token: str
    expired: bool = False
    session_id: str | None = None


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def session_rules(runtime: Runtime) -> sessions.SessionRules:
    settings = runtime.settings
    return sessions.SessionRules(
        lifetime=timedelta(seconds=settings.session_max_age_seconds),
        idle=timedelta(seconds=settings.session_idle_seconds),
    )


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


def _anonymous(expired: bool = False) -> Session:
    return Session(None, secrets.token_urlsafe(24), expired=expired)


def csrf_for(runtime: Runtime, session_secret: str) -> str:
    """The CSRF token of the signed-in session with this secret."""
    mac = hmac.new(runtime.secret_key.encode(), b"csrf:" + session_secret.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def _server_session(runtime: Runtime, secret: str) -> Session:
    """The live session the secret opens (recording its use), or an expired anonymous one."""
    with runtime.uow() as uow:
        live = sessions.live_session(uow, secret, session_rules(runtime))
        if live is None:
            return _anonymous(expired=True)
        if sessions.stale(live.session, uow.clock.now()):
            uow.write(sessions.do_touch_session, live.session.id)
        return Session(live.person.id, csrf_for(runtime, secret), session_id=live.session.id)


def _decode(runtime: Runtime, raw: str) -> Session:
    try:
        data = _serializer(runtime).loads(raw, max_age=runtime.settings.session_max_age_seconds)
    except SignatureExpired:
        return _anonymous(expired=True)
    except BadSignature:
        return _anonymous()
    if isinstance(data, dict) and isinstance(data.get("s"), str):
        return _server_session(runtime, data["s"])
    if isinstance(data, dict) and isinstance(data.get("c"), str):
        return Session(None, data["c"])
    return _anonymous()


def signed_in_secret(runtime: Runtime, raw: str) -> str | None:
    """The session secret a signed-in cookie carries; None for an anonymous, expired or
    forged cookie (which ``_decode`` answers without a server session)."""
    try:
        data = _serializer(runtime).loads(raw, max_age=runtime.settings.session_max_age_seconds)
    except BadSignature:
        return None
    if isinstance(data, dict) and isinstance(data.get("s"), str):
        return data["s"]
    return None


def read_session(request: Request) -> Session:
    """The session in the cookie; a fresh anonymous one when there is none or it is not live."""
    cached = getattr(request.state, "session", None)
    if cached is not None:
        return cached
    raw = request.cookies.get(SESSION_COOKIE)
    session = _decode(get_runtime(request), raw) if raw else _anonymous()
    request.state.session = session
    return session


def session_cookie(runtime: Runtime, secret: str) -> str:
    """The cookie value that carries a session's secret."""
    return _serializer(runtime).dumps({"s": secret})


def _set_cookie(request: Request, response: Response, payload: dict[str, str]) -> None:
    runtime = get_runtime(request)
    response.set_cookie(
        SESSION_COOKIE,
        _serializer(runtime).dumps(payload),
        max_age=runtime.settings.session_max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=runtime.settings.secure_cookies,
        path="/",
    )


def write_session(request: Request, response: Response, session: Session) -> None:
    """Keep an anonymous visitor's CSRF token in their cookie (a signed-in one needs nothing)."""
    if session.session_id is None:
        _set_cookie(request, response, {"c": session.csrf_token})
    request.state.session = session


def start_session(
    request: Request, response: Response, person: Person, secret: str, session_id: str
) -> None:
    """Hand the browser the secret of the session just started (a new CSRF token with it)."""
    _set_cookie(request, response, {"s": secret})
    csrf = csrf_for(get_runtime(request), secret)
    request.state.session = Session(person.id, csrf, session_id=session_id)


def end_session(request: Request, response: Response) -> None:
    """Forget the session in this browser (the caller ends it on the server)."""
    response.delete_cookie(SESSION_COOKIE, path="/")
    request.state.session = _anonymous()


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


def bearer_token(request: Request) -> str | None:
    return bearer_token_in(request.headers.get("authorization", ""))


def bearer_token_in(header: str) -> str | None:
    """The token of an ``Authorization: Bearer …`` header; None for any other header."""
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def current_person(request: Request, uow: UowDep) -> Person | None:
    """The signed-in person (by API token or session cookie), or None."""
    token = bearer_token(request)
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
