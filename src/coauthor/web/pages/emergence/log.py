"""The Emergence tab: plot twists, tensions, experiments and learnings, and a form for each.

"Raise a plot twist" also sits in every alliance page's frame (alliance_base.html):
a title is enough, the kind and severity have defaults, the day is today.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.emergence import PlotTwistKind, Severity
from coauthor.domain.errors import Conflict, FieldError, ValidationFailed
from coauthor.services.emergence import experiments, learnings, plot_twists, tensions
from coauthor.services.emergence.inputs import (
    ExperimentInput,
    LearningInput,
    PlotTwistInput,
    TensionInput,
)
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.services.paging import PageRequest
from coauthor.web.auth import UowDep
from coauthor.web.pages.deps import Posted, SignedIn
from coauthor.web.pages.forms import Form
from coauthor.web.pages.layout import alliance_page
from coauthor.web.pages.rendering import page_url, see_other

router = APIRouter()
SECTION = "emergence"
PER_PAGE = 20
FORMS = ("plot_twist", "tension", "experiment", "learning")


def emergence_url(alliance_id: str, *parts: str) -> str:
    return "/".join((f"/a/{alliance_id}/emergence", *parts))


def partner_names(uow: UnitOfWork, alliance_id: str) -> dict[str, str]:
    rows = uow.session.execute(
        sa.select(m.Partner.id, m.Organization.name)
        .join(m.Organization, m.Organization.id == m.Partner.organization_id)
        .where(m.Partner.alliance_id == alliance_id)
        .order_by(m.Organization.name)
    )
    return {partner_id: name for partner_id, name in rows}


def _log_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    cursors: Mapping[str, str | None],
    forms: Mapping[str, Form] | None = None,
    status: int = 200,
) -> Response:
    access = open_alliance(uow, actor, alliance_id)

    def request_for(key: str) -> PageRequest:
        return PageRequest.parse(PER_PAGE, cursors.get(key))

    twists = plot_twists.plot_twists(uow, actor, alliance_id, request_for("twists"))
    found = tensions.tensions(uow, actor, alliance_id, request_for("tensions"))
    tried = experiments.experiments(uow, actor, alliance_id, request_for("experiments"))
    learned = learnings.learnings(uow, actor, alliance_id, request_for("learnings"))
    forms = dict(forms or {})
    context = {
        "twists": twists,
        "tensions": found,
        "experiments": tried,
        "learnings": learned,
        "next": {
            key: page_url(request, key, page.next_cursor)
            for key, page in (
                ("twists", twists),
                ("tensions", found),
                ("experiments", tried),
                ("learnings", learned),
            )
        },
        "partners": partner_names(uow, alliance_id),
        "now": uow.clock.now(),
        "can_take_part": permissions.can_take_part(actor, access.membership),
        "kinds": list(PlotTwistKind),
        "severities": list(Severity),
        "forms": {key: forms.get(key) or Form(prefix=key) for key in FORMS},
        "open_form": next(iter(forms), ""),
        "prompt_choices": [
            (v.plot_twist.id, f"Plot twist: {v.plot_twist.title}") for v in twists.items
        ]
        + [(v.tension.id, f"Tension: {v.tension.about}") for v in found.items],
    }
    return alliance_page(request, access, "emergence.html", SECTION, context, status)


@router.get("/a/{alliance_id}/emergence")
def emergence_log(
    request: Request,
    alliance_id: str,
    actor: SignedIn,
    uow: UowDep,
    twists: str | None = None,
    tensions: str | None = None,
    experiments: str | None = None,
    learnings: str | None = None,
) -> Response:
    cursors = {
        "twists": twists,
        "tensions": tensions,
        "experiments": experiments,
        "learnings": learnings,
    }
    return _log_page(request, uow, actor, alliance_id, cursors)


def _text_fields(values: Mapping[str, str], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: values[name].strip() for name in names if values.get(name, "").strip()}


def _listed(values: Mapping[str, str], name: str) -> list[str]:
    return [value for key, value in values.items() if key.startswith(f"{name}.") and value]


def _post(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    values: Mapping[str, str],
    key: str,
    action: Any,
    payload: dict[str, Any],
    known: Any,
    go: Any,
) -> Response:
    """Run one create as a write; on refusal show the log again with that form's errors."""
    try:
        created = uow.write(action, actor, alliance_id, payload)
    except (ValidationFailed, Conflict) as exc:
        if not exc.errors:
            raise
        errors = [FieldError(e.loc[:1], e.message) for e in exc.errors]
        form = Form(dict(values), prefix=key).failed(errors, known)
        return _log_page(request, uow, actor, alliance_id, {}, {key: form}, exc.status)
    return see_other(go(created))


@router.post("/a/{alliance_id}/emergence/plot-twists")
def raise_plot_twist(
    request: Request, alliance_id: str, actor: SignedIn, values: Posted, uow: UowDep
) -> Response:
    """Raise a plot twist (from the tab, or from the quick form on any alliance page)."""
    payload = _text_fields(values, ("title", "kind", "severity", "occurred_on", "description"))
    payload.setdefault("title", "")
    return _post(
        request,
        uow,
        actor,
        alliance_id,
        values,
        "plot_twist",
        plot_twists.do_raise_plot_twist,
        payload,
        PlotTwistInput.model_fields,
        lambda made: emergence_url(alliance_id, "plot-twists", made.id),
    )


@router.post("/a/{alliance_id}/emergence/tensions")
def surface_tension(
    request: Request, alliance_id: str, actor: SignedIn, values: Posted, uow: UowDep
) -> Response:
    payload = _text_fields(values, ("about", "description")) | {
        "partner_ids": _listed(values, "partner_ids")
    }
    payload.setdefault("about", "")
    return _post(
        request,
        uow,
        actor,
        alliance_id,
        values,
        "tension",
        tensions.do_surface_tension,
        payload,
        TensionInput.model_fields,
        lambda made: emergence_url(alliance_id, "tensions", made.id),
    )


@router.post("/a/{alliance_id}/emergence/experiments")
def propose_experiment(
    request: Request, alliance_id: str, actor: SignedIn, values: Posted, uow: UowDep
) -> Response:
    names = ("hypothesis", "action", "signal", "review_on", "prompted_by")
    payload = {"hypothesis": "", "action": "", "signal": ""} | _text_fields(values, names)
    return _post(
        request,
        uow,
        actor,
        alliance_id,
        values,
        "experiment",
        experiments.do_propose_experiment,
        payload,
        ExperimentInput.model_fields,
        lambda made: emergence_url(alliance_id, "experiments", made.id),
    )


@router.post("/a/{alliance_id}/emergence/learnings")
def record_learning(
    request: Request, alliance_id: str, actor: SignedIn, values: Posted, uow: UowDep
) -> Response:
    payload = {"text": ""} | _text_fields(values, ("text", "source", "experiment_id"))
    return _post(
        request,
        uow,
        actor,
        alliance_id,
        values,
        "learning",
        learnings.do_record_learning,
        payload,
        LearningInput.model_fields,
        lambda made: emergence_url(alliance_id) + "#learnings",
    )
