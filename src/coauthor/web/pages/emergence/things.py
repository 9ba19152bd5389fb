"""One plot twist, tension or experiment: its course, its links, and the forms that move it.

A plot twist's page links a commitment, declaration or experiment of the
alliance to it (one select listing them, newest first) and closes it with how
it was met; a tension's page takes the next step of its course; an
experiment's page starts, concludes or abandons it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.commitments import Commitment
from coauthor.domain.emergence import (
    EXPERIMENT_STEPS,
    TENSION_STEPS,
    EmergenceLink,
    Experiment,
    LinkKind,
)
from coauthor.domain.errors import Conflict, FieldError, ValidationFailed
from coauthor.services.emergence import experiments, links, plot_twists, tensions
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.web.auth import UowDep
from coauthor.web.pages.deps import Posted, SignedIn
from coauthor.web.pages.emergence.log import SECTION, emergence_url, partner_names
from coauthor.web.pages.forms import Form
from coauthor.web.pages.layout import alliance_page
from coauthor.web.pages.rendering import see_other

router = APIRouter()
FORM_FIELDS = frozenset(
    {"target_kind", "target_id", "resolution", "to", "note", "outcome", "meeting_id"}
    | {"result", "adjustment", "learning"}
)
"""The fields of the forms on these pages: their errors are shown beside them."""
CHOICES = 100
"""How many of the newest commitments, declarations and experiments the link form offers."""


@dataclass(frozen=True)
class Described:
    """A link with the words and page of what it points to."""

    link: EmergenceLink
    text: str
    href: str


def _targets(uow: UnitOfWork, alliance_id: str) -> dict[LinkKind, dict[str, str]]:
    """id → words, for each kind a plot twist or tension may be linked to (newest first)."""

    def newest(cls: Any, text: Any, at: Any) -> dict[str, str]:
        query = (
            sa.select(cls.id, text).where(cls.alliance_id == alliance_id).order_by(at.desc())
        ).limit(CHOICES)
        return {item_id: words for item_id, words in uow.session.execute(query)}

    return {
        LinkKind.COMMITMENT: newest(Commitment, Commitment.what, Commitment.opened_at),
        LinkKind.DECLARATION: newest(m.Declaration, m.Declaration.text, m.Declaration.declared_at),
        LinkKind.EXPERIMENT: newest(Experiment, Experiment.hypothesis, Experiment.created_at),
        LinkKind.MEETING: newest(m.Meeting, m.Meeting.title, m.Meeting.starts_at),
    }


HREFS: dict[LinkKind, Callable[[str, str], str]] = {
    LinkKind.COMMITMENT: lambda a, i: f"/a/{a}/ledger/{i}",
    LinkKind.DECLARATION: lambda a, i: f"/a/{a}/declarations/{i}",
    LinkKind.EXPERIMENT: lambda a, i: emergence_url(a, "experiments", i),
    LinkKind.MEETING: lambda a, i: f"/a/{a}/governance#{i}",
}


def _described(
    alliance_id: str, found: list[EmergenceLink], targets: Mapping[LinkKind, Mapping[str, str]]
) -> list[Described]:
    return [
        Described(
            link,
            targets[link.target_kind].get(link.target_id, link.target_id),
            HREFS[link.target_kind](alliance_id, link.target_id),
        )
        for link in found
    ]


def _link_choices(
    targets: Mapping[LinkKind, Mapping[str, str]], kinds: tuple[LinkKind, ...]
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Option groups for the link form; each value is "kind:id"."""
    return [
        (kind.value, [(f"{kind.value}:{i}", text[:90]) for i, text in targets[kind].items()])
        for kind in kinds
        if targets[kind]
    ]


def _fail(values: Mapping[str, str], prefix: str, exc: ValidationFailed | Conflict) -> Form:
    if not exc.errors:
        return Form(dict(values), prefix=prefix).with_message(exc.detail)
    errors = [FieldError(e.loc[:1], e.message) for e in exc.errors]
    return Form(dict(values), prefix=prefix).failed(errors, FORM_FIELDS)


def _split_target(value: str) -> dict[str, str]:
    kind, _, target_id = value.partition(":")
    return {"target_kind": kind, "target_id": target_id}


# -------------------------------------------------------------- plot twists


def _twist_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    plot_twist_id: str,
    forms: Mapping[str, Form] | None = None,
    status: int = 200,
) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    view = plot_twists.plot_twist(uow, actor, alliance_id, plot_twist_id)
    targets = _targets(uow, alliance_id)
    kinds = (LinkKind.COMMITMENT, LinkKind.DECLARATION, LinkKind.EXPERIMENT, LinkKind.MEETING)
    forms = dict(forms or {})
    context = {
        "view": view,
        "twist": view.plot_twist,
        "described": _described(alliance_id, view.links, targets),
        "link_choices": _link_choices(targets, kinds),
        "link_form": forms.get("link") or Form(prefix="link"),
        "resolve_form": forms.get("resolve") or Form(prefix="resolve"),
        "can_take_part": permissions.can_take_part(actor, access.membership),
        "url": emergence_url(alliance_id, "plot-twists", plot_twist_id),
        "partners": partner_names(uow, alliance_id),
    }
    return alliance_page(request, access, "plot_twist.html", SECTION, context, status)


@router.get("/a/{alliance_id}/emergence/plot-twists/{plot_twist_id}")
def plot_twist(
    request: Request, alliance_id: str, plot_twist_id: str, actor: SignedIn, uow: UowDep
) -> Response:
    return _twist_page(request, uow, actor, alliance_id, plot_twist_id)


@router.post("/a/{alliance_id}/emergence/plot-twists/{plot_twist_id}/links")
def link_plot_twist(
    request: Request,
    alliance_id: str,
    plot_twist_id: str,
    actor: SignedIn,
    values: Posted,
    uow: UowDep,
) -> Response:
    """Link a commitment, declaration, experiment or meeting ("kind:id", or the two fields)."""
    payload = (
        _split_target(values["target"])
        if values.get("target")
        else {name: values.get(name, "") for name in ("target_kind", "target_id")}
    )
    plot_twists.plot_twist(uow, actor, alliance_id, plot_twist_id)
    try:
        uow.write(links.do_link, actor, alliance_id, plot_twist_id, payload)
    except (ValidationFailed, Conflict) as exc:
        form = _fail(values, "link", exc)
        return _twist_page(
            request, uow, actor, alliance_id, plot_twist_id, {"link": form}, exc.status
        )
    return see_other(emergence_url(alliance_id, "plot-twists", plot_twist_id) + "#responses")


@router.post("/a/{alliance_id}/emergence/plot-twists/{plot_twist_id}/resolve")
def resolve_plot_twist(
    request: Request,
    alliance_id: str,
    plot_twist_id: str,
    actor: SignedIn,
    values: Posted,
    uow: UowDep,
) -> Response:
    payload = {"resolution": values.get("resolution", "")}
    try:
        uow.write(plot_twists.do_resolve_plot_twist, actor, alliance_id, plot_twist_id, payload)
    except (ValidationFailed, Conflict) as exc:
        form = _fail(values, "resolve", exc)
        return _twist_page(
            request, uow, actor, alliance_id, plot_twist_id, {"resolve": form}, exc.status
        )
    return see_other(emergence_url(alliance_id, "plot-twists", plot_twist_id))


# ----------------------------------------------------------------- tensions


def _tension_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    tension_id: str,
    form: Form | None = None,
    status: int = 200,
) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    view = tensions.tension(uow, actor, alliance_id, tension_id)
    targets = _targets(uow, alliance_id)
    context = {
        "view": view,
        "tension": view.tension,
        "described": _described(alliance_id, view.links, targets),
        "next_states": sorted(TENSION_STEPS[view.tension.state]),
        "meetings": list(targets[LinkKind.MEETING].items()),
        "form": form or Form(prefix="step"),
        "can_take_part": permissions.can_take_part(actor, access.membership),
        "url": emergence_url(alliance_id, "tensions", tension_id),
        "partners": partner_names(uow, alliance_id),
        "names": _names(uow, {s.person_id for s in view.steps if s.person_id}),
        "now": uow.clock.now(),
    }
    return alliance_page(request, access, "tension.html", SECTION, context, status)


def _names(uow: UnitOfWork, person_ids: set[str]) -> dict[str, str]:
    if not person_ids:
        return {}
    query = sa.select(m.Person.id, m.Person.name).where(m.Person.id.in_(person_ids))
    return {person_id: name for person_id, name in uow.session.execute(query)}


@router.get("/a/{alliance_id}/emergence/tensions/{tension_id}")
def tension(
    request: Request, alliance_id: str, tension_id: str, actor: SignedIn, uow: UowDep
) -> Response:
    return _tension_page(request, uow, actor, alliance_id, tension_id)


@router.post("/a/{alliance_id}/emergence/tensions/{tension_id}/steps")
def move_tension(
    request: Request,
    alliance_id: str,
    tension_id: str,
    actor: SignedIn,
    values: Posted,
    uow: UowDep,
) -> Response:
    payload = {name: values.get(name, "").strip() for name in ("to", "note", "outcome")}
    if values.get("meeting_id"):
        payload["meeting_id"] = values["meeting_id"]
    try:
        uow.write(tensions.do_move_tension, actor, alliance_id, tension_id, payload)
    except (ValidationFailed, Conflict) as exc:
        form = _fail(values, "step", exc)
        return _tension_page(request, uow, actor, alliance_id, tension_id, form, exc.status)
    return see_other(emergence_url(alliance_id, "tensions", tension_id))


# -------------------------------------------------------------- experiments


def _experiment_page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    experiment_id: str,
    form: Form | None = None,
    status: int = 200,
) -> Response:
    access = open_alliance(uow, actor, alliance_id)
    found = experiments.experiment(uow, actor, alliance_id, experiment_id)
    context = {
        "experiment": found,
        "next_states": sorted(EXPERIMENT_STEPS[found.state]),
        "form": form or Form(prefix="step"),
        "can_take_part": permissions.can_take_part(actor, access.membership),
        "url": emergence_url(alliance_id, "experiments", experiment_id),
    }
    return alliance_page(request, access, "experiment.html", SECTION, context, status)


@router.get("/a/{alliance_id}/emergence/experiments/{experiment_id}")
def experiment(
    request: Request, alliance_id: str, experiment_id: str, actor: SignedIn, uow: UowDep
) -> Response:
    return _experiment_page(request, uow, actor, alliance_id, experiment_id)


@router.post("/a/{alliance_id}/emergence/experiments/{experiment_id}/steps")
def move_experiment(
    request: Request,
    alliance_id: str,
    experiment_id: str,
    actor: SignedIn,
    values: Posted,
    uow: UowDep,
) -> Response:
    names = ("to", "result", "adjustment", "learning")
    payload = {name: values.get(name, "").strip() for name in names}
    try:
        uow.write(experiments.do_move_experiment, actor, alliance_id, experiment_id, payload)
    except (ValidationFailed, Conflict) as exc:
        form = _fail(values, "step", exc)
        return _experiment_page(request, uow, actor, alliance_id, experiment_id, form, exc.status)
    return see_other(emergence_url(alliance_id, "experiments", experiment_id))
