"""The FastAPI application: JSON API under /api/v1, HTML pages everywhere else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from coauthor.clock import Clock
from coauthor.config import Settings
from coauthor.runtime import Runtime, build_runtime

STATIC_DIR = Path(__file__).parent / "static"


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, runtime: Runtime | None = None
) -> FastAPI:
    runtime = runtime or build_runtime(settings, clock=clock)
    app = FastAPI(
        lifespan=_lifespan,
        title="Coauthor",
        version="1",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        swagger_ui_oauth2_redirect_url="/api/docs/oauth2-redirect",
    )
    app.state.runtime = runtime
    from coauthor.web.errors import install_error_handlers

    install_error_handlers(app)
    from coauthor.web.anchors import AnchorRedirects

    app.add_middleware(AnchorRedirects)
    _mount_static(app, runtime)
    from coauthor.web.api import router as api_router
    from coauthor.web.pages import router as pages_router

    app.include_router(api_router, prefix="/api/v1")
    app.include_router(pages_router)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the embedded results worker with the server, stop it with the server."""
    runtime: Runtime = app.state.runtime
    halt = None
    if runtime.settings.results_worker == "embedded":
        from coauthor.worker import start_in_background

        halt = start_in_background(runtime)
    try:
        yield
    finally:
        if halt is not None:
            halt()


def _mount_static(app: FastAPI, runtime: Runtime) -> None:
    vendor = runtime.settings.static_vendor_dir / "htmx.org" / "dist"
    if vendor.is_dir():
        app.mount("/static/vendor", StaticFiles(directory=vendor), name="vendor")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
