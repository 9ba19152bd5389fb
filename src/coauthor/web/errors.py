"""Errors as RFC 9457 problem documents for the API, and as pages for people."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from coauthor.domain.errors import Busy, CoauthorError, FieldError, ValidationFailed
from coauthor.services.inputs import field_errors

PROBLEM_JSON = "application/problem+json"


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def problem(
    status: int, title: str, detail: str, errors: list[FieldError] | None = None
) -> Response:
    body: dict = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
        body["field"] = errors[0].field
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _request_errors(exc: RequestValidationError) -> list[FieldError]:
    raw = exc.errors()
    invalid_json = [error for error in raw if error["type"] == "json_invalid"]
    if invalid_json:
        position = invalid_json[0]["loc"][-1]
        return [FieldError((), f"the body is not valid JSON (at character {position})")]
    return field_errors(raw, skip=("body", "query", "path"))


async def coauthor_error_response(request: Request, exc: Exception) -> Response:
    """The answer to a refusal (``CoauthorError``): a problem document for the API, a page
    for people; also used by the layers that answer before routing (web/vote_posts.py)."""
    assert isinstance(exc, CoauthorError)
    if is_api(request):
        errors = getattr(exc, "errors", None)
        response = problem(exc.status, exc.title, exc.detail, errors)
    else:
        from coauthor.web.pages.errors import error_page

        response = error_page(request, exc)
    if isinstance(exc, Busy):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = _request_errors(exc)
    if is_api(request):
        detail = "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors)
        return problem(422, "Invalid input", detail, errors)
    return await coauthor_error_response(request, ValidationFailed(errors))


def _undecodable_body(exc: StarletteHTTPException) -> bool:
    """FastAPI answers 400 to a body it could not decode (not UTF-8, say); that is bad input."""
    return exc.status_code == 400 and isinstance(exc.__cause__, ValueError)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _undecodable_body(exc):
        reason = "the body is not UTF-8 JSON"
        return await _validation_error(
            request,
            RequestValidationError([{"type": "body_undecodable", "loc": (), "msg": reason}]),
        )
    if is_api(request):
        response = problem(exc.status_code, str(exc.detail), str(exc.detail))
    elif exc.status_code == 405 and request.method == "GET":
        from coauthor.web.pages.errors import form_page_of

        return RedirectResponse(form_page_of(request), status_code=303)
    else:
        from coauthor.web.pages.errors import http_error_page

        response = http_error_page(request, exc.status_code, str(exc.detail))
    response.headers.update(exc.headers or {})
    if exc.status_code == 405:
        response.headers["Allow"] = _allowed_methods(request) or response.headers.get("Allow", "")
    return response


def _allowed_methods(request: Request) -> str:
    """Every method some route takes at this path (Starlette names only the first route's)."""
    import fastapi.routing

    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = iterate(request.app.routes) if iterate else request.app.routes
    methods: set[str] = set()
    for route in routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


async def _pool_exhausted(request: Request, exc: Exception) -> Response:
    """Every database connection busy for too long: ask the person to try again, never a 500."""
    busy = Busy("the server is busy; please try again in a moment", retry_after=2)
    return await coauthor_error_response(request, busy)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CoauthorError, coauthor_error_response)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(sa.exc.TimeoutError, _pool_exhausted)
