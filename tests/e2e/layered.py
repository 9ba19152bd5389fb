"""What the layers answered before routing (``web/results_polls.py``, ``web/vote_posts.py``)
are compared with: the routed answer, byte for byte."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import Response


def answer(response: Response) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (but the date) and body: what must be equal between two answers."""
    headers = {name: value for name, value in response.headers.items() if name != "date"}
    return response.status_code, headers, response.content


def without_layer(app: FastAPI, layer: type) -> FastAPI:
    """``app`` with the ASGI layer ``layer`` taken out, so every request is routed."""
    app.user_middleware = [each for each in app.user_middleware if each.cls is not layer]
    return app
