"""The FastAPI application: JSON API under /api/v1, HTML pages everywhere else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from coauthor.clock import Clock
from coauthor.config import Settings
from coauthor.runtime import Runtime, build_runtime

STATIC_DIR = Path(__file__).parent / "static"


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, runtime: Runtime | None = None
) -> FastAPI:
    runtime = runtime or build_runtime(settings, clock=clock)
    from coauthor.web.address import refuse_unstorable_address

    app = FastAPI(
        dependencies=[Depends(refuse_unstorable_address)],
        lifespan=_lifespan,
        title="Coauthor",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.runtime = runtime
    from coauthor.web.admission import AdmissionControl
    from coauthor.web.anchors import AnchorRedirects
    from coauthor.web.errors import install_error_handlers
    from coauthor.web.headers import SecurityHeaders
    from coauthor.web.results_polls import ResultsPolls
    from coauthor.web.vote_posts import VotePosts

    install_error_handlers(app)
    # The last added is the outermost: every answer gets the security headers, a results
    # poll answered before routing (web/results_polls.py) too; such a poll holds no
    # request thread or pooled connection, so it does not wait for admission. A vote
    # answered before routing (web/vote_posts.py) writes in a request thread, so it does.
    app.add_middleware(AnchorRedirects)
    app.add_middleware(VotePosts, runtime=runtime)
    app.add_middleware(AdmissionControl)
    app.add_middleware(ResultsPolls, runtime=runtime)
    app.add_middleware(SecurityHeaders)
    _mount_static(app, runtime)
    from coauthor.services.accounts.people import dummy_hash
    from coauthor.web.api import public_router as public_api_router
    from coauthor.web.api import router as api_router
    from coauthor.web.api_docs import router as docs_router
    from coauthor.web.pages import router as pages_router

    dummy_hash()
    app.include_router(api_router, prefix="/api/v1")
    app.include_router(docs_router)
    app.include_router(public_api_router, prefix="/api/v1")
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


VENDOR_ASSETS = (
    ("/static/vendor/swagger-ui", "swagger-ui-dist", "vendor-swagger-ui"),
    ("/static/vendor/redoc", "redoc/bundles", "vendor-redoc"),
    ("/static/vendor", "htmx.org/dist", "vendor"),
)
"""npm packages served as they are: (URL prefix, folder under node_modules, route name)."""


def _mount_static(app: FastAPI, runtime: Runtime) -> None:
    for prefix, folder, name in VENDOR_ASSETS:
        directory = runtime.settings.static_vendor_dir / folder
        if directory.is_dir():
            app.mount(prefix, StaticFiles(directory=directory), name=name)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
