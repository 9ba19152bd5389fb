"""The results of a deliberation for a request: the latest release, presented.

Shared by the results page and the API so that both show the same document.
Releases are published by the results worker (``coauthor/worker.py``); with
``COAUTHOR_RESULTS_WORKER=inline`` the request that finds one due publishes
it instead (checking is a cheap read; only then does it write). The API's JSON
of a release is stored with it (``services/deliberation/documents.py``) and read
by its key; a version without stored bytes is built here and stored. Both the JSON
and the page's presented document are kept in the runtime's bounded caches under
their version, so a poll that already has the version is answered without reading
or building anything.
"""

from __future__ import annotations

import logging

from fastapi import Request

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import Busy
from coauthor.reports.deliberation import ResultsDocument, present_results
from coauthor.runtime import Runtime
from coauthor.services.deliberation import acts, documents, results
from coauthor.web.auth import get_runtime

log = logging.getLogger("coauthor.results")


def publish_if_due(
    request: Request, uow: UnitOfWork, actor: m.Person, alliance_id: str, deliberation_id: str
) -> None:
    """In inline mode, publish the release that is due (the worker does it otherwise)."""
    settings = get_runtime(request).settings
    threshold = settings.anonymity_threshold
    if settings.results_worker != "inline":
        return
    if results.release_is_due(uow, actor, alliance_id, deliberation_id, threshold):
        uow.write(results.do_release, actor, alliance_id, deliberation_id, threshold)


def results_version(
    request: Request, uow: UnitOfWork, actor: m.Person, alliance_id: str, deliberation_id: str
) -> str:
    """The version of the results shown now (after publishing what is due)."""
    publish_if_due(request, uow, actor, alliance_id, deliberation_id)
    return results.results_version(uow, actor, alliance_id, deliberation_id)


def current_results(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    deliberation_id: str,
    *,
    extra_version: str = "",
    version: str | None = None,
) -> ResultsDocument:
    """The presented document of ``version`` (the current one when not given: a caller
    that has just read the version passes it, so it is not looked up twice)."""
    if version is None:
        version = results_version(request, uow, actor, alliance_id, deliberation_id)
    document = presented_results(
        get_runtime(request), uow, actor, alliance_id, deliberation_id, version
    )
    if extra_version:
        document = document.model_copy(update={"version": document.version + extra_version})
    return document


def presented_results(
    runtime: Runtime,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    deliberation_id: str,
    version: str,
) -> ResultsDocument:
    """The presented document of ``version``, shaped once per version and process."""
    key = (alliance_id, deliberation_id, version, runtime.settings.anonymity_threshold)
    document = runtime.results_documents.get(key)
    if document is None:
        document = _present(runtime, uow, actor, alliance_id, deliberation_id)
        runtime.results_documents.put(key, document)
    return document


def current_results_json(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    deliberation_id: str,
    version: str,
) -> tuple[str, bytes]:
    """The results of ``version`` (from ``results_version``) as the API sends them."""
    return encoded_results(get_runtime(request), uow, actor, alliance_id, deliberation_id, version)


def encoded_results(
    runtime: Runtime,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    deliberation_id: str,
    version: str,
) -> tuple[str, bytes]:
    """(version, JSON bytes) of ``version`` as the API sends them, encoded once per version
    and process, so that a poll without ``If-None-Match`` costs no serialization. The
    routed handler and the results-poll layer (``web/results_polls.py``) both call it."""
    key = results.results_json_key(
        alliance_id, deliberation_id, version, runtime.settings.anonymity_threshold
    )
    encoded = runtime.results_json.get(key)
    if encoded is None:
        encoded = _stored_or_built(runtime, uow, actor, alliance_id, deliberation_id, version)
        runtime.results_json.put(key, encoded)
    return encoded


def _stored_or_built(
    runtime: Runtime,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    deliberation_id: str,
    version: str,
) -> tuple[str, bytes]:
    """The stored bytes of ``version`` (one keyed read), else built here as before the
    documents were stored, and stored for the other processes."""
    released = results.released_number_and_status(version)
    if released is not None:
        body = documents.stored_document(uow, alliance_id, deliberation_id, *released)
        if body is not None:
            return version, body
    document = presented_results(runtime, uow, actor, alliance_id, deliberation_id, version)
    body = document.model_dump_json().encode()
    if document.release is not None:
        _store(uow, alliance_id, deliberation_id, document.release, document.status.value, body)
    return document.version, body


def _store(
    uow: UnitOfWork, alliance_id: str, deliberation_id: str, number: int, status: str, body: bytes
) -> None:
    """Store a built document; a store that cannot get the write lock in time is skipped (the
    reader has its bytes; the next process to need them builds them again)."""
    try:
        uow.write(documents.do_store_document, alliance_id, deliberation_id, number, status, body)
    except Busy:
        log.warning("the results document r%s-%s was not stored (busy)", number, status)


def _present(
    runtime: Runtime, uow: UnitOfWork, actor: m.Person, alliance_id: str, deliberation_id: str
) -> ResultsDocument:
    threshold = runtime.settings.anonymity_threshold
    release = results.latest_release(uow, actor, alliance_id, deliberation_id)
    target = acts.open_deliberation(uow, actor, alliance_id, deliberation_id)
    statements = acts.statements(uow, actor, alliance_id, deliberation_id)
    names = results.partner_names(uow, actor, alliance_id, deliberation_id)
    return present_results(target.deliberation, release, statements, names, threshold)
