"""The security headers as every response gets them, built once per kind of path: the same
pairs, in the same order, as ``MutableHeaders`` adding ``headers_for``'s one by one, and
``scope_is_https`` deciding as ``is_https`` on the request it would build."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from starlette.datastructures import MutableHeaders
from starlette.requests import Request

from coauthor.web.client import is_https, scope_is_https
from coauthor.web.headers import headers_for, raw_headers_for, with_headers

PATHS = (
    "/",
    "/api/v1/alliances/a/deliberations/d/results",
    "/api/docs",
    "/api/redoc",
    "/static/coauthor.css",
    "/static/",
    "/api/docsx",
    "/staticx",
)
ANSWERS = (
    [(b"etag", b'"3-open"')],
    [(b"content-type", b"application/json"), (b"content-length", b"2")],
    [(b"cache-control", b"max-age=60"), (b"x-frame-options", b"SAMEORIGIN")],
    [(b"Cache-Control", b"max-age=60")],  # a raw name not in lower case is not "in" the headers
    (),
)


def added_one_by_one(message: dict[str, Any], extra: dict[str, str]) -> None:
    """How the headers were added before: ``MutableHeaders`` over the message, ``in`` then
    ``append`` for each."""
    headers = MutableHeaders(scope=message)
    for name, value in extra.items():
        if name not in headers:
            headers.append(name, value)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("https", [False, True])
@pytest.mark.parametrize("answer", ANSWERS)
def test_the_raw_headers_are_those_added_one_by_one(
    path: str, https: bool, answer: list[tuple[bytes, bytes]]
) -> None:
    before = {"type": "http.response.start", "status": 200, "headers": list(answer)}
    now = {"type": "http.response.start", "status": 200, "headers": tuple(answer)}
    added_one_by_one(before, headers_for(path, https))
    with_headers(now, raw_headers_for(path, https))
    assert now == before


def scope(scheme: str, client: tuple[str, int] | None, trusted: str, **headers: str) -> dict:
    settings = SimpleNamespace(trusted_proxies=trusted)
    app = SimpleNamespace(state=SimpleNamespace(runtime=SimpleNamespace(settings=settings)))
    raw = [(b"host", b"coauthor.example")]
    raw += [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return {
        "type": "http",
        "method": "GET",
        "scheme": scheme,
        "path": "/login",
        "query_string": b"",
        "headers": raw,
        "client": client,
        "server": ("10.0.0.9", 8000),
        "app": app,
        "root_path": "",
    }


@pytest.mark.parametrize("scheme", ["http", "https", "HTTPS"])
@pytest.mark.parametrize(
    "client", [("10.0.0.5", 1234), ("192.0.2.1", 80), ("testclient", 50000), None]
)
@pytest.mark.parametrize("trusted", ["", "10.0.0.5", "10.0.0.0/8, 192.0.2.0/24"])
@pytest.mark.parametrize("forwarded", [None, "https", "http", "http, HTTPS"])
def test_scope_is_https_is_is_https(
    scheme: str, client: tuple[str, int] | None, trusted: str, forwarded: str | None
) -> None:
    extra = {} if forwarded is None else {"x_forwarded_proto": forwarded}
    made = scope(scheme, client, trusted, **extra)
    assert scope_is_https(made) == is_https(Request(made))
