"""The pulse: waves, links, answering through a link, results (aggregates only), imports.

No route returns an answer, a response id, or who answered: results are the
aggregates the anonymity rules let through, response rates are counts per
partner (a count below the threshold is null), and a running wave has no
results at all. ``answer_router`` holds the two routes of a pulse link, which
need no sign-in: the signed link is the credential.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import Field

from coauthor.analysis.pulse_results import GroupKey, MeasureGap, Score
from coauthor.domain.pulse import SCALE_LABELS, SCALE_POINTS, CustomItem, Dimension, WaveSource
from coauthor.interop.pulse_csv import read_table
from coauthor.services.pulse import answering, imports, items, results, waves
from coauthor.services.pulse.access import Thresholds, wave_items
from coauthor.services.pulse.inputs import (
    AnswerInput,
    CustomItemInput,
    ImportInput,
    ReminderInput,
    WaveInput,
    WaveStatusInput,
)
from coauthor.web.api.deps import PersonDep, set_location
from coauthor.web.api.pagination import Paged, PageDep, paged_list
from coauthor.web.api.schemas import Output
from coauthor.web.auth import UowDep, get_runtime

router = APIRouter(tags=["pulse"])
answer_router = APIRouter(tags=["pulse"])

PULSE = "/alliances/{alliance_id}/pulse"
WAVES = f"{PULSE}/waves"
WAVE = f"{WAVES}/{{wave_id}}"
CREATED = status.HTTP_201_CREATED
ANSWER_PAGE = "pulse_answer_page"
"""The name of the page route a link opens (web/pages/pulse/answer.py)."""


def thresholds(request: Request) -> Thresholds:
    settings = get_runtime(request).settings
    return Thresholds(settings.anonymity_threshold, settings.pulse_comment_threshold)


ThresholdsDep = Annotated[Thresholds, Depends(thresholds)]


def secret_key(request: Request) -> str:
    return get_runtime(request).secret_key


SecretDep = Annotated[str, Depends(secret_key)]


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


class PulseItem(Output):
    key: str
    dimension: Dimension | None = Field(description="Null for one of the alliance's own items.")
    text: str
    reverse: bool = Field(description="Agreeing means things are worse; scored 8 − answer.")


class PulseOwnItem(Output):
    id: str
    text: str
    reverse: bool
    created_at: datetime
    retired_at: datetime | None


class PulsePartnerRate(Output):
    partner_id: str
    name: str
    invited: int
    answered: int | None = Field(
        description="Null when 1 to threshold − 1 people answered: so few are not counted aloud."
    )


class PulseRates(Output):
    threshold: int
    invited: int
    answered: int | None = Field(
        description="Null when it would reveal the counts that are hidden per partner."
    )
    partners: list[PulsePartnerRate]


class PulseWave(Output):
    id: str
    title: str
    instrument_version: str
    source: WaveSource
    opened_at: datetime
    closes_at: datetime
    reminded_at: datetime | None
    reminder_note: str
    is_open: bool
    rates: PulseRates


class PulseWaveDetail(PulseWave):
    items: list[PulseItem]


class PulseLink(Output):
    name: str
    email: str
    partner: str
    url: str


class PulseMine(Output):
    """My own place in the running wave (shown to me only)."""

    wave_id: str | None
    answered: bool
    url: str | None = Field(description="My link, while I have not answered.")


class PulseScore(Output):
    measure: str
    n: int
    mean: float | None
    sd: float | None
    ci_low: float | None
    ci_high: float | None
    rwg: float | None = Field(description="Within-group agreement rwg(j) over the items.")
    ad: float | None = Field(description="AD index (average deviation).")
    ad_within_ceiling: bool | None


class PulseGroup(Output):
    label: str
    partner: str | None = Field(description="Null for all partners together.")
    role_band: str | None
    n: int
    scores: list[PulseScore]


class PulseReliability(Output):
    measure: str
    n: int
    items: int
    alpha: float | None
    omega: float | None
    icc1: float | None
    icc2: float | None


class PulseMeasureGap(Output):
    measure: str
    n_a: int
    n_b: int
    mean_a: float | None
    mean_b: float | None
    difference: float | None
    hedges_g: float | None
    t: float | None
    df: float | None
    p: float | None
    p_holm: float | None
    rank_biserial: float | None
    p_mann_whitney_holm: float | None
    tost_p: float | None
    significant: bool | None
    equivalent: bool | None


class PulseGap(Output):
    a: str
    b: str
    equivalent: bool | None = Field(description="Whether a and b agree (TOST) on every measure.")
    measures: list[PulseMeasureGap]


class PulseMeasure(Output):
    key: str
    label: str
    items: list[str]


class PulseResults(Output):
    wave_id: str
    available: bool = Field(description="False while the wave runs: results come once it closes.")
    anonymity_threshold: int
    measures: list[PulseMeasure]
    groups: list[PulseGroup]
    reliability: list[PulseReliability]
    gaps: list[PulseGap]
    merged_partners: bool = Field(description='Whether "Other partners" merges small partners.')
    comments: list[str]
    comments_withheld: bool = Field(
        description="True when there are comments but too few answers to show any."
    )


class PulseTrendPoint(Output):
    wave_id: str
    wave_title: str
    closes_at: datetime
    n: int
    mean: float | None
    ci_low: float | None
    ci_high: float | None


class PulseTrendSeries(Output):
    label: str
    partner: str | None
    points: list[PulseTrendPoint]


class PulseTrend(Output):
    dimension: Dimension
    label: str
    series: list[PulseTrendSeries]


class PulseImportRequest(ImportInput):
    csv: str = Field(description="The survey file, as CSV text with a header row.")


class PulseLinkPage(Output):
    """What a pulse link opens: the questions, and whether answers are taken."""

    alliance: str
    wave: str
    closes_at: datetime
    state: answering.LinkState
    scale_points: int = SCALE_POINTS
    scale: list[str] = Field(default_factory=lambda: list(SCALE_LABELS))
    items: list[PulseItem]


def _rates(rates: waves.ResponseRates) -> PulseRates:
    return PulseRates(
        threshold=rates.threshold,
        invited=rates.invited,
        answered=rates.answered,
        partners=[PulsePartnerRate.model_validate(p) for p in rates.partners],
    )


def _wave(summary: waves.WaveSummary) -> PulseWave:
    w = summary.wave
    return PulseWave(
        id=w.id,
        title=w.title,
        instrument_version=w.instrument_version,
        source=w.source,
        opened_at=w.opened_at,
        closes_at=w.closes_at,
        reminded_at=w.reminded_at,
        reminder_note=w.reminder_note,
        is_open=summary.is_open,
        rates=_rates(summary.rates),
    )


def _newest_first(summary: waves.WaveSummary) -> tuple[float, str]:
    return (-summary.wave.opened_at.timestamp(), summary.wave.id)


@router.get(WAVES, response_model=Paged[PulseWave])
def list_waves(
    alliance_id: str,
    request: Request,
    uow: UowDep,
    person: PersonDep,
    page: PageDep,
    limits: ThresholdsDep,
) -> Paged[PulseWave]:
    """Newest first, each with its response rates."""
    found = waves.waves(uow, person, alliance_id, limits.anonymity)
    return paged_list(request, found, _newest_first, page, _wave)


@router.post(WAVES, response_model=PulseWave, status_code=CREATED)
def open_wave(
    alliance_id: str,
    data: WaveInput,
    request: Request,
    response: Response,
    uow: UowDep,
    person: PersonDep,
    limits: ThresholdsDep,
) -> PulseWave:
    """Open a wave now for every member (managers); it closes at the end of `closes_on`, UTC."""
    created = uow.write(waves.do_open_wave, person, alliance_id, data, get_runtime(request).site)
    set_location(request, response, "read_wave", alliance_id=alliance_id, wave_id=created.id)
    return _wave(waves.wave_summary(uow, person, alliance_id, created.id, limits.anonymity))


@router.get(WAVE, response_model=PulseWaveDetail)
def read_wave(
    alliance_id: str, wave_id: str, uow: UowDep, person: PersonDep, limits: ThresholdsDep
) -> PulseWaveDetail:
    summary = waves.wave_summary(uow, person, alliance_id, wave_id, limits.anonymity)
    asked = wave_items(uow, summary.wave)
    return PulseWaveDetail(
        **dict(_wave(summary)), items=[PulseItem.model_validate(item) for item in asked]
    )


@router.post(f"{WAVE}/status", response_model=PulseWave)
def close_wave(
    alliance_id: str,
    wave_id: str,
    data: WaveStatusInput,
    uow: UowDep,
    person: PersonDep,
    limits: ThresholdsDep,
) -> PulseWave:
    """Close a running wave now (managers): its links stop working, its results can show."""
    uow.write(waves.do_close_wave, person, alliance_id, wave_id)
    return _wave(waves.wave_summary(uow, person, alliance_id, wave_id, limits.anonymity))


@router.post(f"{WAVE}/reminders", response_model=PulseWave)
def remind(
    alliance_id: str,
    wave_id: str,
    data: ReminderInput,
    request: Request,
    uow: UowDep,
    person: PersonDep,
    limits: ThresholdsDep,
) -> PulseWave:
    """Record a reminder with an optional note (managers); members who have not answered see
    it on their Pulse page."""
    uow.write(waves.do_remind, person, alliance_id, wave_id, data, get_runtime(request).site)
    return _wave(waves.wave_summary(uow, person, alliance_id, wave_id, limits.anonymity))


def link_url(request: Request, token: str) -> str:
    return str(request.url_for(ANSWER_PAGE, token=token))


@router.get(f"{WAVE}/links", response_model=Paged[PulseLink])
def list_links(
    alliance_id: str,
    wave_id: str,
    request: Request,
    uow: UowDep,
    person: PersonDep,
    page: PageDep,
    secret: SecretDep,
) -> Paged[PulseLink]:
    """Every member's link to a running wave, to send them (managers); never whether it was used."""
    found = waves.links(uow, person, alliance_id, wave_id, secret)
    return paged_list(
        request,
        found,
        lambda link: (link.partner, link.name, link.email),
        page,
        lambda link: PulseLink(
            name=link.name,
            email=link.email,
            partner=link.partner,
            url=link_url(request, link.token),
        ),
    )


@router.get(f"{PULSE}/me", response_model=PulseMine)
def my_invitation(
    alliance_id: str, request: Request, uow: UowDep, person: PersonDep, secret: SecretDep
) -> PulseMine:
    """Whether I still have the running wave to answer, and my link if so."""
    mine = waves.my_invitation(uow, person, alliance_id, secret)
    if mine is None:
        return PulseMine(wave_id=None, answered=False, url=None)
    url = link_url(request, mine.token) if mine.token else None
    return PulseMine(wave_id=mine.wave.id, answered=mine.answered, url=url)


def _score(score: Score) -> PulseScore:
    return PulseScore(
        measure=score.measure,
        n=score.n,
        mean=_number(score.mean),
        sd=_number(score.sd),
        ci_low=_number(score.low),
        ci_high=_number(score.high),
        rwg=_number(score.rwg),
        ad=_number(score.ad),
        ad_within_ceiling=score.ad_within_ceiling,
    )


def _group(key: GroupKey, n: int, scores: dict[str, Score]) -> PulseGroup:
    return PulseGroup(
        label=key.label,
        partner=key.partner,
        role_band=key.band,
        n=n,
        scores=[_score(s) for s in scores.values()],
    )


def _plain(values: dict[str, object]) -> dict[str, object]:
    """A figure's fields for JSON: NaN (undefined) becomes null."""
    return {k: _number(v) if isinstance(v, float) else v for k, v in values.items()}


def _measure_gap(gap: MeasureGap) -> PulseMeasureGap:
    return PulseMeasureGap(**_plain(vars(gap)))


def results_document(found: results.WaveResults) -> PulseResults:
    figures = found.figures
    measures = [
        PulseMeasure(key=m.key, label=m.label, items=[found.items[c].key for c in m.columns])
        for m in found.measures
    ]
    return PulseResults(
        wave_id=found.wave.id,
        available=figures is not None,
        anonymity_threshold=found.thresholds.anonymity,
        measures=measures,
        groups=[_group(g.key, g.n, g.scores) for g in figures.groups] if figures else [],
        reliability=[PulseReliability(**_plain(vars(r))) for r in figures.reliability]
        if figures
        else [],
        gaps=[
            PulseGap(
                a=g.a,
                b=g.b,
                equivalent=g.equivalent,
                measures=[_measure_gap(m) for m in g.measures],
            )
            for g in figures.gaps
        ]
        if figures
        else [],
        merged_partners=figures.merged if figures else False,
        comments=found.comments,
        comments_withheld=found.comments_withheld,
    )


@router.get(f"{WAVE}/results", response_model=PulseResults)
def wave_results(
    alliance_id: str, wave_id: str, uow: UowDep, person: PersonDep, limits: ThresholdsDep
) -> PulseResults:
    """The wave's figures, aggregates only, once it has closed; `available` is false before."""
    return results_document(results.wave_results(uow, person, alliance_id, wave_id, limits))


def _trend(d: results.DimensionTrend) -> PulseTrend:
    return PulseTrend(
        dimension=d.dimension,
        label=d.label,
        series=[
            PulseTrendSeries(
                label=s.group.label,
                partner=s.group.partner,
                points=[
                    PulseTrendPoint(
                        wave_id=p.wave.id,
                        wave_title=p.wave.title,
                        closes_at=p.wave.closes_at,
                        n=p.n,
                        mean=_number(p.mean),
                        ci_low=_number(p.low),
                        ci_high=_number(p.high),
                    )
                    for p in s.points
                ],
            )
            for s in d.series
        ],
    )


@router.get(f"{PULSE}/trend", response_model=Paged[PulseTrend])
def trend(
    alliance_id: str,
    request: Request,
    uow: UowDep,
    person: PersonDep,
    page: PageDep,
    limits: ThresholdsDep,
) -> Paged[PulseTrend]:
    """Each dimension across the closed waves, for all partners and each reported partner,
    in the instrument's order of the dimensions."""
    found = results.trend(uow, person, alliance_id, limits.anonymity).dimensions
    order = {d.dimension: i for i, d in enumerate(found)}
    return paged_list(request, found, lambda d: (order[d.dimension],), page, _trend)


@router.post(f"{PULSE}/imports", response_model=PulseWave, status_code=CREATED)
def import_wave(
    alliance_id: str,
    data: PulseImportRequest,
    request: Request,
    response: Response,
    uow: UowDep,
    person: PersonDep,
    limits: ThresholdsDep,
) -> PulseWave:
    """A wave collected with another tool, as a new closed wave (managers); all or nothing."""
    table = read_table(data.csv)
    payload = data.model_dump(exclude={"csv"})
    created = uow.write(
        imports.do_import_wave, person, alliance_id, table, payload, limits.anonymity
    )
    set_location(request, response, "read_wave", alliance_id=alliance_id, wave_id=created.id)
    return _wave(waves.wave_summary(uow, person, alliance_id, created.id, limits.anonymity))


@router.get(f"{PULSE}/items", response_model=Paged[PulseOwnItem])
def list_own_items(
    alliance_id: str, request: Request, uow: UowDep, person: PersonDep, page: PageDep
) -> Paged[PulseOwnItem]:
    """The alliance's own items, oldest first (retired ones too)."""
    found = items.own_items(uow, person, alliance_id)
    return paged_list(request, found, _oldest_first, page, PulseOwnItem.model_validate)


def _oldest_first(item: CustomItem) -> tuple[str, str]:
    return (item.created_at.isoformat(), item.id)


@router.post(f"{PULSE}/items", response_model=PulseOwnItem, status_code=CREATED)
def add_own_item(
    alliance_id: str, data: CustomItemInput, uow: UowDep, person: PersonDep
) -> PulseOwnItem:
    """Add a question of the alliance's own to the waves opened from now on (managers)."""
    return PulseOwnItem.model_validate(uow.write(items.do_add_item, person, alliance_id, data))


@router.delete(f"{PULSE}/items/{{pulse_item_id}}", status_code=status.HTTP_204_NO_CONTENT)
def retire_own_item(
    alliance_id: str, pulse_item_id: str, uow: UowDep, person: PersonDep
) -> Response:
    """Retire an own question (managers): new waves stop asking it; waves that asked it keep it,
    and the list still shows it, with ``retired_at``."""
    uow.write(items.do_retire_item, person, alliance_id, pulse_item_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@answer_router.get("/pulse/{token}", response_model=PulseLinkPage)
def read_link(token: str, uow: UowDep, secret: SecretDep) -> PulseLinkPage:
    """What a pulse link asks; no sign-in (the link is the credential)."""
    view = answering.open_link(uow, secret, token)
    return PulseLinkPage(
        alliance=view.alliance.name,
        wave=view.wave.title,
        closes_at=view.wave.closes_at,
        state=view.state,
        items=[PulseItem.model_validate(item) for item in view.items],
    )


@answer_router.post("/pulse/{token}/answers", status_code=status.HTTP_204_NO_CONTENT)
def answer(token: str, data: AnswerInput, uow: UowDep, secret: SecretDep) -> Response:
    """Answer every item (1–7) once; nothing identifying is returned or stored."""
    uow.write(answering.do_answer, secret, token, data)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
