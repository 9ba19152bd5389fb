"""The Pulse tab: my own pending answer, the running wave, the trend, past waves, own items.

Then one wave's page (response rates; results once it has closed, with its
CSV export), and the links to send for a running wave (managers). Nothing
here shows who has answered: rates are counts, and the only person told
whether they answered is the person themself.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.interop.pulse_csv import results_csv
from coauthor.reports.pulse_report import trend_report, wave_report
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.services.pulse import items, results, waves
from coauthor.services.pulse.access import Thresholds, open_wave, partner_names, wave_items
from coauthor.services.pulse.inputs import CustomItemInput, WaveInput
from coauthor.web.auth import UowDep, get_runtime
from coauthor.web.pages.deps import Posted, PostingPerson, SignedIn
from coauthor.web.pages.flow import Submission, submit, write_and_go
from coauthor.web.pages.forms import Form
from coauthor.web.pages.layout import alliance_page
from coauthor.web.pages.rendering import see_other

router = APIRouter()
SECTION = "pulse"
DEFAULT_WAVE_DAYS = 14


def thresholds(request: Request) -> Thresholds:
    settings = get_runtime(request).settings
    return Thresholds(settings.anonymity_threshold, settings.pulse_comment_threshold)


def link_url(request: Request, token: str) -> str:
    return str(request.url_for("pulse_answer_page", token=token))


def pulse_url(alliance_id: str, *parts: str) -> str:
    return "/".join((f"/a/{alliance_id}/pulse", *parts))


def _partners(uow: UnitOfWork, alliance_id: str) -> list[str]:
    return list(partner_names(uow, alliance_id).values())


def _home(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    *,
    wave_form: Form | None = None,
    item_form: Form | None = None,
    status: int = 200,
) -> Response:
    limits = thresholds(request)
    found = waves.waves(uow, actor, alliance_id, limits.anonymity)
    access = open_alliance(uow, actor, alliance_id)
    secret = get_runtime(request).secret_key
    mine = waves.my_invitation(uow, actor, alliance_id, secret)
    today = uow.clock.now().date()
    default_close = (today + timedelta(days=DEFAULT_WAVE_DAYS)).isoformat()
    trend = results.trend(uow, actor, alliance_id, limits.anonymity)
    context: dict[str, Any] = {
        "summaries": found,
        "running": next((s for s in found if s.is_open), None),
        "mine": mine,
        "my_link": link_url(request, mine.token) if mine and mine.token else None,
        "my_items": len(wave_items(uow, mine.wave)) if mine else 0,
        "trend": trend_report(trend, _partners(uow, alliance_id)),
        "own_items": items.own_items(uow, actor, alliance_id),
        "max_own_items": items.MAX_OWN_ITEMS,
        "wave_form": wave_form or Form({"closes_on": default_close}),
        "item_form": item_form or Form(),
        "threshold": limits.anonymity,
        "today": today.isoformat(),
        "urls": {"home": pulse_url(alliance_id), "import": pulse_url(alliance_id, "import")},
    }
    return alliance_page(request, access, "pulse.html", SECTION, context, status)


@router.get("/a/{alliance_id}/pulse")
def pulse(request: Request, alliance_id: str, actor: SignedIn, uow: UowDep) -> Response:
    return _home(request, uow, actor, alliance_id)


@router.post("/a/{alliance_id}/pulse/waves")
def start_wave(
    request: Request, alliance_id: str, actor: SignedIn, values: Posted, uow: UowDep
) -> Response:
    return submit(
        request,
        uow,
        Submission.of(values, WaveInput),
        lambda data: waves.do_open_wave(uow, actor, alliance_id, data, get_runtime(request).site),
        success=lambda wave: pulse_url(alliance_id, "waves", wave.id, "links"),
        rerender=lambda form, status: _home(
            request, uow, actor, alliance_id, wave_form=form, status=status
        ),
    )


@router.post("/a/{alliance_id}/pulse/items")
def add_item(
    request: Request, alliance_id: str, actor: SignedIn, values: Posted, uow: UowDep
) -> Response:
    submission = Submission.of(values, CustomItemInput)
    payload = submission.payload | {"reverse": bool(values.get("reverse"))}
    submission = replace(submission, payload=payload)
    return submit(
        request,
        uow,
        submission,
        lambda data: items.do_add_item(uow, actor, alliance_id, data),
        success=lambda item: pulse_url(alliance_id) + "#own-items",
        rerender=lambda form, status: _home(
            request, uow, actor, alliance_id, item_form=form, status=status
        ),
    )


@router.post("/a/{alliance_id}/pulse/items/{pulse_item_id}/retire")
def retire_item(
    request: Request, alliance_id: str, pulse_item_id: str, actor: PostingPerson, uow: UowDep
) -> Response:
    return write_and_go(
        request,
        uow,
        lambda: items.do_retire_item(uow, actor, alliance_id, pulse_item_id),
        pulse_url(alliance_id) + "#own-items",
        "Retired the question: new waves no longer ask it.",
    )


@router.get("/a/{alliance_id}/pulse/waves/{wave_id}")
def wave_page(
    request: Request, alliance_id: str, wave_id: str, actor: SignedIn, uow: UowDep
) -> Response:
    """A wave: its response rates, and its results once it has closed."""
    limits = thresholds(request)
    summary = waves.wave_summary(uow, actor, alliance_id, wave_id, limits.anonymity)
    found = results.wave_results(uow, actor, alliance_id, wave_id, limits)
    access = open_wave(uow, actor, alliance_id, wave_id).access
    context = {
        "summary": summary,
        "wave": summary.wave,
        "report": wave_report(found, _partners(uow, alliance_id)),
        "threshold": limits.anonymity,
        "comment_threshold": limits.comments,
        "urls": {
            "home": pulse_url(alliance_id),
            "page": pulse_url(alliance_id, "waves", wave_id),
            "links": pulse_url(alliance_id, "waves", wave_id, "links"),
            "csv": pulse_url(alliance_id, "waves", wave_id, "results.csv"),
        },
    }
    return alliance_page(request, access, "pulse_wave.html", SECTION, context)


@router.get("/a/{alliance_id}/pulse/waves/{wave_id}/results.csv")
def wave_csv(
    request: Request, alliance_id: str, wave_id: str, actor: SignedIn, uow: UowDep
) -> Response:
    """The reported figures of the wave as CSV: aggregates only, never an answer."""
    limits = thresholds(request)
    summary = waves.wave_summary(uow, actor, alliance_id, wave_id, limits.anonymity)
    found = results.wave_results(uow, actor, alliance_id, wave_id, limits)
    name = f"pulse-{wave_id}.csv"
    return Response(
        results_csv(found, summary.rates),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/a/{alliance_id}/pulse/waves/{wave_id}/links")
def links_page(
    request: Request,
    alliance_id: str,
    wave_id: str,
    actor: SignedIn,
    uow: UowDep,
    reminded: str = "",
) -> Response:
    """The links of a running wave, for its managers to send: one per member."""
    secret = get_runtime(request).secret_key
    target = open_wave(uow, actor, alliance_id, wave_id, for_edit=True)
    found = waves.links(uow, actor, alliance_id, wave_id, secret)
    context = {
        "wave": target.wave,
        "links": [(link, link_url(request, link.token)) for link in found],
        "reminded": bool(reminded),
        "mail": get_runtime(request).site.outbox.enabled,
        "alliance_name": target.access.alliance.name,
        "urls": {
            "home": pulse_url(alliance_id),
            "page": pulse_url(alliance_id, "waves", wave_id),
            "remind": pulse_url(alliance_id, "waves", wave_id, "remind"),
            "close": pulse_url(alliance_id, "waves", wave_id, "close"),
        },
    }
    return alliance_page(request, target.access, "pulse_links.html", SECTION, context)


@router.post("/a/{alliance_id}/pulse/waves/{wave_id}/close")
def close_wave(
    request: Request, alliance_id: str, wave_id: str, actor: PostingPerson, uow: UowDep
) -> Response:
    return write_and_go(
        request,
        uow,
        lambda: waves.do_close_wave(uow, actor, alliance_id, wave_id),
        pulse_url(alliance_id, "waves", wave_id),
        "Closed the wave.",
    )


@router.post("/a/{alliance_id}/pulse/waves/{wave_id}/remind")
def remind(
    request: Request,
    alliance_id: str,
    wave_id: str,
    actor: SignedIn,
    values: Posted,
    uow: UowDep,
) -> Response:
    """Record a reminder (and its note) for everyone who has not answered yet."""
    payload = {"note": values.get("note", "")}
    site = get_runtime(request).site
    uow.write(lambda _: waves.do_remind(uow, actor, alliance_id, wave_id, payload, site))
    return see_other(pulse_url(alliance_id, "waves", wave_id, "links") + "?reminded=1")
