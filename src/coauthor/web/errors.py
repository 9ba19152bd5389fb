"""Errors as RFC 9457 problem documents for the API, and as pages for people."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

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


async def _coauthor_error(request: Request, exc: Exception) -> Response:
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
        return problem(
            422, "Invalid input", "; ".join(f"{e.field}: {e.message}" for e in errors), errors
        )
    return await _coauthor_error(request, ValidationFailed(errors))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if is_api(request):
        return problem(exc.status_code, str(exc.detail), str(exc.detail))
    from coauthor.web.pages.errors import form_page_of, http_error_page

    if exc.status_code == 405 and request.method == "GET":
        return RedirectResponse(form_page_of(request), status_code=303)

    return http_error_page(request, exc.status_code, str(exc.detail))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CoauthorError, _coauthor_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
