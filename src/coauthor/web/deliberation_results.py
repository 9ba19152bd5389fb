"""The results of a deliberation for a request: publish a release if one is due, present it.

Shared by the results page and the API so that both show the same document.
Checking whether a release is due is a cheap read; only when one is does the
request run the write that publishes it (``uow.write``), so polling readers do
not queue behind each other.
"""

from __future__ import annotations

from fastapi import Request

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.reports.deliberation import ResultsDocument, present_results
from coauthor.services.deliberation import acts, results
from coauthor.web.auth import get_runtime


def current_results(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    deliberation_id: str,
    *,
    extra_version: str = "",
) -> ResultsDocument:
    threshold = get_runtime(request).settings.anonymity_threshold
    if results.release_is_due(uow, actor, alliance_id, deliberation_id, threshold):
        uow.write(results.do_release, actor, alliance_id, deliberation_id, threshold)
    release = results.latest_release(uow, actor, alliance_id, deliberation_id)
    target = acts.open_deliberation(uow, actor, alliance_id, deliberation_id)
    statements = acts.statements(uow, actor, alliance_id, deliberation_id)
    names = results.partner_names(uow, actor, alliance_id, deliberation_id)
    return present_results(
        target.deliberation, release, statements, names, threshold, extra_version=extra_version
    )
