"""Emergence: plot twists, tensions, experiments, learnings, their links, and the figures.

Every list is a page (``limit``, ``cursor``, ``items``, ``next``), latest
first. Writes are for the alliance's members who take part (not observers);
refusals name their field (docs/emergence.md, "Bad input").
"""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Request, Response, status

from coauthor.analysis.emergence_metrics import EmergenceMetrics
from coauthor.domain.emergence import (
    EmergenceLink,
    Experiment,
    ExperimentState,
    Learning,
    LearningSource,
    LinkKind,
    PlotTwistKind,
    Severity,
    TensionState,
)
from coauthor.services.emergence import experiments, facts, learnings, links, plot_twists, tensions
from coauthor.services.emergence.inputs import (
    ExperimentInput,
    ExperimentStepInput,
    LearningInput,
    LinkInput,
    PlotTwistInput,
    ResolveInput,
    TensionInput,
    TensionStepInput,
)
from coauthor.services.mechanics.alliances import open_alliance
from coauthor.web.api.deps import PersonDep, set_location
from coauthor.web.api.pagination import Paged, PageDep, paged
from coauthor.web.api.schemas import Output
from coauthor.web.auth import UowDep

router = APIRouter(tags=["emergence"])

ALLIANCE = "/alliances/{alliance_id}"
TWISTS = f"{ALLIANCE}/plot-twists"
TWIST = f"{TWISTS}/{{plot_twist_id}}"
TENSIONS = f"{ALLIANCE}/tensions"
TENSION = f"{TENSIONS}/{{tension_id}}"
EXPERIMENTS = f"{ALLIANCE}/experiments"
EXPERIMENT = f"{EXPERIMENTS}/{{experiment_id}}"
CREATED = status.HTTP_201_CREATED


class LinkOut(Output):
    target_kind: LinkKind
    target_id: str
    linked_at: datetime
    linked_by_person_id: str | None


class PlotTwistOut(Output):
    id: str
    title: str
    kind: PlotTwistKind
    severity: Severity
    occurred_on: date
    description: str
    raised_at: datetime
    raised_by_person_id: str | None
    raised_by: str
    raised_by_partner_id: str | None
    resolved_at: datetime | None
    resolution: str
    links: list[LinkOut]


class StepOut(Output):
    seq: int
    state: TensionState
    at: datetime
    person_id: str | None
    note: str


class TensionOut(Output):
    id: str
    about: str
    description: str
    state: TensionState
    partner_ids: list[str]
    surfaced_at: datetime
    surfaced_by_person_id: str | None
    engaged_at: datetime | None
    closed_at: datetime | None
    outcome: str
    age_days: int
    steps: list[StepOut]
    links: list[LinkOut]


class ExperimentOut(Output):
    id: str
    hypothesis: str
    action: str
    signal: str
    review_on: date
    state: ExperimentState
    created_at: datetime
    created_by_person_id: str | None
    started_at: datetime | None
    closed_at: datetime | None
    result: str
    adjustment: str


class LearningOut(Output):
    id: str
    text: str
    source: LearningSource
    experiment_id: str | None
    recorded_at: datetime
    recorded_by_person_id: str | None


def _links(found: list[EmergenceLink]) -> list[LinkOut]:
    return [LinkOut.model_validate(link) for link in found]


def _twist(view: plot_twists.PlotTwistView) -> PlotTwistOut:
    t = view.plot_twist
    own = set(PlotTwistOut.model_fields) - {"raised_by", "links"}
    fields = {name: getattr(t, name) for name in own}
    return PlotTwistOut(**fields, raised_by=view.raised_by, links=_links(view.links))


def _tension(view: tensions.TensionView, now: datetime) -> TensionOut:
    t = view.tension
    own = set(TensionOut.model_fields) - {"partner_ids", "age_days", "steps", "links"}
    fields = {name: getattr(t, name) for name in own}
    return TensionOut(
        **fields,
        partner_ids=view.partner_ids,
        age_days=t.age_days(now),
        steps=[StepOut.model_validate(s) for s in view.steps],
        links=_links(view.links),
    )


def _experiment(found: Experiment) -> ExperimentOut:
    return ExperimentOut.model_validate(found)


def _learning(found: Learning) -> LearningOut:
    return LearningOut.model_validate(found)


# -------------------------------------------------------------- plot twists


@router.get(TWISTS, response_model=Paged[PlotTwistOut])
def list_plot_twists(
    alliance_id: str, request: Request, uow: UowDep, person: PersonDep, page: PageDep
) -> Paged[PlotTwistOut]:
    """Plot twists, latest raised first, each with its links (its responses and meetings)."""
    return paged(request, plot_twists.plot_twists(uow, person, alliance_id, page), _twist)


@router.post(TWISTS, response_model=PlotTwistOut, status_code=CREATED)
def raise_plot_twist(
    alliance_id: str,
    data: PlotTwistInput,
    request: Request,
    response: Response,
    uow: UowDep,
    person: PersonDep,
) -> PlotTwistOut:
    """Raise a plot twist (``occurred_on`` defaults to today, never in the future)."""
    created = uow.write(plot_twists.do_raise_plot_twist, person, alliance_id, data)
    set_location(
        request, response, "read_plot_twist", alliance_id=alliance_id, plot_twist_id=created.id
    )
    return _twist(plot_twists.plot_twist(uow, person, alliance_id, created.id))


@router.get(TWIST, response_model=PlotTwistOut)
def read_plot_twist(
    alliance_id: str, plot_twist_id: str, uow: UowDep, person: PersonDep
) -> PlotTwistOut:
    return _twist(plot_twists.plot_twist(uow, person, alliance_id, plot_twist_id))


@router.post(f"{TWIST}/resolve", response_model=PlotTwistOut)
def resolve_plot_twist(
    alliance_id: str, plot_twist_id: str, data: ResolveInput, uow: UowDep, person: PersonDep
) -> PlotTwistOut:
    """Close a plot twist with how the alliance met it (409 when it is closed already)."""
    uow.write(plot_twists.do_resolve_plot_twist, person, alliance_id, plot_twist_id, data)
    return _twist(plot_twists.plot_twist(uow, person, alliance_id, plot_twist_id))


@router.post(f"{TWIST}/links", response_model=PlotTwistOut, status_code=CREATED)
def link_plot_twist(
    alliance_id: str, plot_twist_id: str, data: LinkInput, uow: UowDep, person: PersonDep
) -> PlotTwistOut:
    """Link a commitment, declaration, experiment or meeting of the same alliance."""
    plot_twists.plot_twist(uow, person, alliance_id, plot_twist_id)
    uow.write(links.do_link, person, alliance_id, plot_twist_id, data)
    return _twist(plot_twists.plot_twist(uow, person, alliance_id, plot_twist_id))


# ----------------------------------------------------------------- tensions


@router.get(TENSIONS, response_model=Paged[TensionOut])
def list_tensions(
    alliance_id: str, request: Request, uow: UowDep, person: PersonDep, page: PageDep
) -> Paged[TensionOut]:
    """Tensions, latest surfaced first, with their partners, course, age and links."""
    now = uow.clock.now()
    found = tensions.tensions(uow, person, alliance_id, page)
    return paged(request, found, lambda view: _tension(view, now))


@router.post(TENSIONS, response_model=TensionOut, status_code=CREATED)
def surface_tension(
    alliance_id: str,
    data: TensionInput,
    request: Request,
    response: Response,
    uow: UowDep,
    person: PersonDep,
) -> TensionOut:
    """Name a tension between two or more partners of the alliance."""
    created = uow.write(tensions.do_surface_tension, person, alliance_id, data)
    set_location(request, response, "read_tension", alliance_id=alliance_id, tension_id=created.id)
    return _tension(tensions.tension(uow, person, alliance_id, created.id), uow.clock.now())


@router.get(TENSION, response_model=TensionOut)
def read_tension(alliance_id: str, tension_id: str, uow: UowDep, person: PersonDep) -> TensionOut:
    return _tension(tensions.tension(uow, person, alliance_id, tension_id), uow.clock.now())


@router.post(f"{TENSION}/steps", response_model=TensionOut, status_code=CREATED)
def move_tension(
    alliance_id: str, tension_id: str, data: TensionStepInput, uow: UowDep, person: PersonDep
) -> TensionOut:
    """One step of the course (docs/emergence.md); ending it needs ``outcome``."""
    uow.write(tensions.do_move_tension, person, alliance_id, tension_id, data)
    return _tension(tensions.tension(uow, person, alliance_id, tension_id), uow.clock.now())


@router.post(f"{TENSION}/links", response_model=TensionOut, status_code=CREATED)
def link_tension(
    alliance_id: str, tension_id: str, data: LinkInput, uow: UowDep, person: PersonDep
) -> TensionOut:
    """Link a meeting where it was engaged, or a commitment, declaration or experiment."""
    tensions.tension(uow, person, alliance_id, tension_id)
    uow.write(links.do_link, person, alliance_id, tension_id, data)
    return _tension(tensions.tension(uow, person, alliance_id, tension_id), uow.clock.now())


# -------------------------------------------------------------- experiments


@router.get(EXPERIMENTS, response_model=Paged[ExperimentOut])
def list_experiments(
    alliance_id: str, request: Request, uow: UowDep, person: PersonDep, page: PageDep
) -> Paged[ExperimentOut]:
    return paged(request, experiments.experiments(uow, person, alliance_id, page), _experiment)


@router.post(EXPERIMENTS, response_model=ExperimentOut, status_code=CREATED)
def propose_experiment(
    alliance_id: str,
    data: ExperimentInput,
    request: Request,
    response: Response,
    uow: UowDep,
    person: PersonDep,
) -> ExperimentOut:
    """A planned experiment; ``prompted_by`` links it to a plot twist or tension."""
    created = uow.write(experiments.do_propose_experiment, person, alliance_id, data)
    set_location(
        request, response, "read_experiment", alliance_id=alliance_id, experiment_id=created.id
    )
    return _experiment(experiments.experiment(uow, person, alliance_id, created.id))


@router.get(EXPERIMENT, response_model=ExperimentOut)
def read_experiment(
    alliance_id: str, experiment_id: str, uow: UowDep, person: PersonDep
) -> ExperimentOut:
    return _experiment(experiments.experiment(uow, person, alliance_id, experiment_id))


@router.post(f"{EXPERIMENT}/steps", response_model=ExperimentOut, status_code=CREATED)
def move_experiment(
    alliance_id: str, experiment_id: str, data: ExperimentStepInput, uow: UowDep, person: PersonDep
) -> ExperimentOut:
    """Start, conclude (with ``result``) or abandon; a conclusion may record a ``learning``."""
    uow.write(experiments.do_move_experiment, person, alliance_id, experiment_id, data)
    return _experiment(experiments.experiment(uow, person, alliance_id, experiment_id))


# ---------------------------------------------------------------- learnings


@router.get(f"{ALLIANCE}/learnings", response_model=Paged[LearningOut])
def list_learnings(
    alliance_id: str, request: Request, uow: UowDep, person: PersonDep, page: PageDep
) -> Paged[LearningOut]:
    return paged(request, learnings.learnings(uow, person, alliance_id, page), _learning)


@router.post(f"{ALLIANCE}/learnings", response_model=LearningOut, status_code=CREATED)
def record_learning(
    alliance_id: str, data: LearningInput, uow: UowDep, person: PersonDep
) -> LearningOut:
    """A learning from a retrospective, or from an experiment that has ended."""
    return _learning(uow.write(learnings.do_record_learning, person, alliance_id, data))


@router.get(f"{ALLIANCE}/emergence-figures", response_model=EmergenceMetrics)
def emergence_figures(alliance_id: str, uow: UowDep, person: PersonDep) -> EmergenceMetrics:
    """The figures of docs/emergence.md ("Metrics"), for everyone in the alliance."""
    open_alliance(uow, person, alliance_id)
    return facts.alliance_metrics(uow, alliance_id)
