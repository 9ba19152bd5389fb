"""Setting up and serving: ``init``, ``migrate``, ``serve`` and ``demo``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from coauthor.cli.common import progress, settings, shown_url

if TYPE_CHECKING:
    from coauthor.config import Settings

HostOption = Annotated[
    str | None, typer.Option(help="Address to bind to [default: COAUTHOR_HOST or 127.0.0.1].")
]
PortOption = Annotated[
    int | None,
    typer.Option(min=1, max=65535, help="Port to listen on [default: COAUTHOR_PORT or 8000]."),
]


def _migrate() -> None:
    from coauthor.db import migrate
    from coauthor.runtime import build_missing_index, build_runtime

    url = settings().database_url
    migrate.upgrade(url)
    runtime = build_runtime(settings(), migrate_db=False)
    try:
        if build_missing_index(runtime):
            typer.echo("Built the search index of the existing alliances.", err=True)
    finally:
        runtime.close()
    typer.echo(f"{shown_url(url)} is at schema revision {migrate.current_revision(url)}")


def init() -> None:
    """Create the database, or bring its schema up to date."""
    _migrate()


def migrate() -> None:
    """Bring the database's schema up to date (the same as init)."""
    _migrate()


WorkersOption = Annotated[
    int,
    typer.Option(
        min=1,
        max=64,
        help="Web processes sharing the port; with more than one, this process runs the "
        "results worker they share.",
    ),
]
# Proxy headers are read by the app itself, and only from COAUTHOR_TRUSTED_PROXIES
# (web/client.py); uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1.
UVICORN_OPTIONS = {"proxy_headers": False, "server_header": False}
RESULTS_WORKER_VARIABLE = "COAUTHOR_RESULTS_WORKER"


def _serve(current: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    if workers > 1:
        _serve_processes(current, host, port, workers)
        return
    from coauthor.heap import freeze_what_lives_now
    from coauthor.web.app import create_app
    from coauthor.web.vote_timeline import logging_to

    app = create_app(current)
    freeze_what_lives_now()
    if logging_to() is None:
        uvicorn.run(app, host=host, port=port, **UVICORN_OPTIONS)
        return
    from coauthor.web.timed_serving import TIMED_PROTOCOL, FirstSight

    uvicorn.run(FirstSight(app), host=host, port=port, http=TIMED_PROTOCOL, **UVICORN_OPTIONS)


def _serve_processes(current: Settings, host: str, port: int, workers: int) -> None:
    """``workers`` web processes (uvicorn's) and, in this one, the results worker they share.

    This process migrates and settles the signing key before any web process starts, so
    they neither race to migrate nor generate different keys. Each web process builds its
    app from the same environment, told that the results worker is external.
    """
    import os

    import uvicorn

    from coauthor.heap import freeze_what_lives_now
    from coauthor.runtime import build_runtime

    runtime = build_runtime(current)
    runtime.secret_key  # noqa: B018 (read or generated now, once)
    halt = None
    told = os.environ.get(RESULTS_WORKER_VARIABLE)
    if current.results_worker == "embedded":
        from coauthor.worker import start_in_background

        halt = start_in_background(runtime)
        os.environ[RESULTS_WORKER_VARIABLE] = "external"
    freeze_what_lives_now()
    try:
        factory, options = _factory_and_options()
        uvicorn.run(factory, factory=True, workers=workers, host=host, port=port, **options)
    finally:
        if halt is not None:
            halt()
        runtime.close()
        if told is None:
            os.environ.pop(RESULTS_WORKER_VARIABLE, None)
        else:
            os.environ[RESULTS_WORKER_VARIABLE] = told


def _factory_and_options() -> tuple[str, dict[str, str | bool]]:
    """The web processes' app factory and uvicorn's options: timed ones
    (``web/timed_serving.py``) while vote timelines are logged."""
    from coauthor.web.vote_timeline import logging_to

    if logging_to() is None:
        return "coauthor.web.app:create_served_app", dict(UVICORN_OPTIONS)
    from coauthor.web.timed_serving import TIMED_APP_FACTORY, TIMED_PROTOCOL

    return TIMED_APP_FACTORY, {"http": TIMED_PROTOCOL, **UVICORN_OPTIONS}


def serve(host: HostOption = None, port: PortOption = None, workers: WorkersOption = 1) -> None:
    """Serve the web application and the API with uvicorn."""
    current = settings()
    _serve(current, host or current.host, port or current.port, workers)


def worker() -> None:
    """Publish deliberation results as votes arrive, for servers run with
    COAUTHOR_RESULTS_WORKER=external (one worker serves them all); stop with Ctrl-C."""
    import threading

    from coauthor.heap import freeze_what_lives_now
    from coauthor.runtime import build_runtime
    from coauthor.worker import ResultsWorker

    runtime = build_runtime(settings())
    freeze_what_lives_now()
    stop = threading.Event()
    typer.echo(f"results worker on {shown_url(runtime.settings.database_url)}", err=True)
    try:
        ResultsWorker(runtime).run(stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        runtime.close()


def _login_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}/"


def demo(
    host: HostOption = None,
    port: PortOption = None,
    seed_only: Annotated[
        bool, typer.Option("--seed-only", help="Seed and print the login, but do not serve.")
    ] = False,
) -> None:
    """Migrate, seed the demo alliance if absent, print how to sign in, then serve."""
    from coauthor.demo.seed import seed_demo
    from coauthor.runtime import build_runtime

    current = settings()
    host, port = host or current.host, port or current.port
    runtime = build_runtime(current)
    try:
        with runtime.uow() as uow, progress("Seeding the demo alliance") as report:
            login = uow.write(
                seed_demo,
                url=_login_url(host, port),
                report=report,
                threshold=current.anonymity_threshold,
            )
    finally:
        runtime.close()
    if not seed_only:
        _prepare_analysis()  # before the sign-in is printed: the server comes right after
    state = "seeded" if login.created else "already seeded; the demo password was reset"
    typer.echo(f"Demo alliance {state}.")
    typer.echo(f"Sign in at {login.url}")
    typer.echo(f"  email:    {login.email}")
    typer.echo(f"  password: {login.password}")
    if not seed_only:
        _serve(current, host, port)


def _prepare_analysis() -> None:
    """The deliberation analysis's compiled kernels made ready before the demo serves
    (``analysis/opinion_warm_up.py``), with a spinner: on a fresh install that is about
    half a minute of compiling, which the served results worker would otherwise do at
    start, in the process that serves the first pages (and with its interpreter lock)."""
    from coauthor.analysis.opinion_warm_up import warm_up

    with progress("Preparing the deliberation analysis (compiled once per install)"):
        warm_up()


def register(app: typer.Typer) -> None:
    for command in (init, migrate, serve, worker, demo):
        app.command()(command)
