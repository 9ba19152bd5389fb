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
from coauthor.services.pulse.inputs import AnswerInput, CustomItemInput, ImportInput, WaveInput
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


class Item(Output):
    key: str
    dimension: Dimension | None = Field(description="Null for one of the alliance's own items.")
    text: str
    reverse: bool = Field(description="Agreeing means things are worse; scored 8 − answer.")


class OwnItem(Output):
    id: str
    text: str
    reverse: bool
    created_at: datetime
    retired_at: datetime | None


class PartnerRate(Output):
    partner_id: str
    name: str
    invited: int
    answered: int | None = Field(
        description="Null when 1 to threshold − 1 people answered: so few are not counted aloud."
    )


class Rates(Output):
    threshold: int
    invited: int
    answered: int | None = Field(
        description="Null when it would reveal the counts that are hidden per partner."
    )
    partners: list[PartnerRate]


class Wave(Output):
    id: str
    title: str
    instrument_version: str
    source: WaveSource
    opened_at: datetime
    closes_at: datetime
    reminded_at: datetime | None
    is_open: bool
    rates: Rates


class WaveDetail(Wave):
    items: list[Item]


class Link(Output):
    name: str
    email: str
    partner: str
    url: str


class Mine(Output):
    """My own place in the running wave (shown to me only)."""

    wave_id: str | None
    answered: bool
    url: str | None = Field(description="My link, while I have not answered.")


class ScoreOut(Output):
    measure: str
    n: int
    mean: float | None
    sd: float | None
    ci_low: float | None
    ci_high: float | None
    rwg: float | None = Field(description="Within-group agreement rwg(j) over the items.")
    ad: float | None = Field(description="AD index (average deviation).")
    ad_within_ceiling: bool | None


class GroupOut(Output):
    label: str
    partner: str | None = Field(description="Null for all partners together.")
    role_band: str | None
    n: int
    scores: list[ScoreOut]


class ReliabilityOut(Output):
    measure: str
    n: int
    items: int
    alpha: float | None
    omega: float | None
    icc1: float | None
    icc2: float | None


class MeasureGapOut(Output):
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


class GapOut(Output):
    a: str
    b: str
    equivalent: bool | None = Field(description="Whether a and b agree (TOST) on every measure.")
    measures: list[MeasureGapOut]


class MeasureOut(Output):
    key: str
    label: str
    items: list[str]


class Results(Output):
    wave_id: str
    available: bool = Field(description="False while the wave runs: results come once it closes.")
    anonymity_threshold: int
    measures: list[MeasureOut]
    groups: list[GroupOut]
    reliability: list[ReliabilityOut]
    gaps: list[GapOut]
    merged_partners: bool = Field(description='Whether "Other partners" merges small partners.')
    comments: list[str]
    comments_withheld: bool = Field(
        description="True when there are comments but too few answers to show any."
    )


class TrendPointOut(Output):
    wave_id: str
    wave_title: str
    closes_at: datetime
    n: int
    mean: float | None
    ci_low: float | None
    ci_high: float | None


class TrendSeriesOut(Output):
    label: str
    partner: str | None
    points: list[TrendPointOut]


class TrendOut(Output):
    dimension: Dimension
    label: str
    series: list[TrendSeriesOut]


class ImportRequest(ImportInput):
    csv: str = Field(description="The survey file, as CSV text with a header row.")


class LinkPage(Output):
    """What a pulse link opens: the questions, and whether answers are taken."""

    alliance: str
    wave: str
    closes_at: datetime
    state: answering.LinkState
    scale_points: int = SCALE_POINTS
    scale: list[str] = Field(default_factory=lambda: list(SCALE_LABELS))
    items: list[Item]


def _rates(rates: waves.ResponseRates) -> Rates:
    return Rates(
        threshold=rates.threshold,
        invited=rates.invited,
        answered=rates.answered,
        partners=[PartnerRate.model_validate(p) for p in rates.partners],
    )


def _wave(summary: waves.WaveSummary) -> Wave:
    w = summary.wave
    return Wave(
        id=w.id,
        title=w.title,
        instrument_version=w.instrument_version,
        source=w.source,
        opened_at=w.opened_at,
        closes_at=w.closes_at,
        reminded_at=w.reminded_at,
        is_open=summary.is_open,
        rates=_rates(summary.rates),
    )


def _newest_first(summary: waves.WaveSummary) -> tuple[float, str]:
    return (-summary.wave.opened_at.timestamp(), summary.wave.id)


@router.get(WAVES, response_model=Paged[Wave])
def list_waves(
    alliance_id: str,
    request: Request,
    uow: UowDep,
    person: PersonDep,
    page: PageDep,
    limits: ThresholdsDep,
) -> Paged[Wave]:
    """Newest first, each with its response rates."""
    found = waves.waves(uow, person, alliance_id, limits.anonymity)
    return paged_list(request, found, _newest_first, page, _wave)


@router.post(WAVES, response_model=Wave, status_code=CREATED)
def open_wave(
    alliance_id: str,
    data: WaveInput,
    request: Request,
    response: Response,
    uow: UowDep,
    person: PersonDep,
    limits: ThresholdsDep,
) -> Wave:
    """Open a wave now for every member (managers); it closes at the end of `closes_on`, UTC."""
    created = uow.write(waves.do_open_wave, person, alliance_id, data)
    set_location(request, response, "read_wave", alliance_id=alliance_id, wave_id=created.id)
    return _wave(waves.wave_summary(uow, person, alliance_id, created.id, limits.anonymity))


@router.get(WAVE, response_model=WaveDetail)
def read_wave(
    alliance_id: str, wave_id: str, uow: UowDep, person: PersonDep, limits: ThresholdsDep
) -> WaveDetail:
    summary = waves.wave_summary(uow, person, alliance_id, wave_id, limits.anonymity)
    asked = wave_items(uow, summary.wave)
    return WaveDetail(**dict(_wave(summary)), items=[Item.model_validate(item) for item in asked])


@router.post(f"{WAVE}/close", response_model=Wave)
def close_wave(
    alliance_id: str, wave_id: str, uow: UowDep, person: PersonDep, limits: ThresholdsDep
) -> Wave:
    """Close a running wave now (managers): its links stop working, its results can show."""
    uow.write(waves.do_close_wave, person, alliance_id, wave_id)
    return _wave(waves.wave_summary(uow, person, alliance_id, wave_id, limits.anonymity))


@router.post(f"{WAVE}/reminders", response_model=Wave)
def remind(
    alliance_id: str, wave_id: str, uow: UowDep, person: PersonDep, limits: ThresholdsDep
) -> Wave:
    """Record a reminder (managers); members who have not answered see it on their pulse page."""
    uow.write(waves.do_remind, person, alliance_id, wave_id)
    return _wave(waves.wave_summary(uow, person, alliance_id, wave_id, limits.anonymity))


def link_url(request: Request, token: str) -> str:
    return str(request.url_for(ANSWER_PAGE, token=token))


@router.get(f"{WAVE}/links", response_model=Paged[Link])
def list_links(
    alliance_id: str,
    wave_id: str,
    request: Request,
    uow: UowDep,
    person: PersonDep,
    page: PageDep,
    secret: SecretDep,
) -> Paged[Link]:
    """Every member's link to a running wave, to send them (managers); never whether it was used."""
    found = waves.links(uow, person, alliance_id, wave_id, secret)
    return paged_list(
        request,
        found,
        lambda link: (link.partner, link.name, link.email),
        page,
        lambda link: Link(
            name=link.name,
            email=link.email,
            partner=link.partner,
            url=link_url(request, link.token),
        ),
    )


@router.get(f"{PULSE}/me", response_model=Mine)
def my_invitation(
    alliance_id: str, request: Request, uow: UowDep, person: PersonDep, secret: SecretDep
) -> Mine:
    """Whether I still have the running wave to answer, and my link if so."""
    mine = waves.my_invitation(uow, person, alliance_id, secret)
    if mine is None:
        return Mine(wave_id=None, answered=False, url=None)
    url = link_url(request, mine.token) if mine.token else None
    return Mine(wave_id=mine.wave.id, answered=mine.answered, url=url)


def _score(score: Score) -> ScoreOut:
    return ScoreOut(
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


def _group(key: GroupKey, n: int, scores: dict[str, Score]) -> GroupOut:
    return GroupOut(
        label=key.label,
        partner=key.partner,
        role_band=key.band,
        n=n,
        scores=[_score(s) for s in scores.values()],
    )


def _plain(values: dict[str, object]) -> dict[str, object]:
    """A figure's fields for JSON: NaN (undefined) becomes null."""
    return {k: _number(v) if isinstance(v, float) else v for k, v in values.items()}


def _measure_gap(gap: MeasureGap) -> MeasureGapOut:
    return MeasureGapOut(**_plain(vars(gap)))


def results_document(found: results.WaveResults) -> Results:
    figures = found.figures
    measures = [
        MeasureOut(key=m.key, label=m.label, items=[found.items[c].key for c in m.columns])
        for m in found.measures
    ]
    return Results(
        wave_id=found.wave.id,
        available=figures is not None,
        anonymity_threshold=found.thresholds.anonymity,
        measures=measures,
        groups=[_group(g.key, g.n, g.scores) for g in figures.groups] if figures else [],
        reliability=[ReliabilityOut(**_plain(vars(r))) for r in figures.reliability]
        if figures
        else [],
        gaps=[
            GapOut(
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


@router.get(f"{WAVE}/results", response_model=Results)
def wave_results(
    alliance_id: str, wave_id: str, uow: UowDep, person: PersonDep, limits: ThresholdsDep
) -> Results:
    """The wave's figures, aggregates only, once it has closed; `available` is false before."""
    return results_document(results.wave_results(uow, person, alliance_id, wave_id, limits))


@router.get(f"{PULSE}/trend", response_model=list[TrendOut])
def trend(
    alliance_id: str, uow: UowDep, person: PersonDep, limits: ThresholdsDep
) -> list[TrendOut]:
    """Each dimension across the closed waves, for all partners and for each reported partner."""
    found = results.trend(uow, person, alliance_id, limits.anonymity)
    return [
        TrendOut(
            dimension=d.dimension,
            label=d.label,
            series=[
                TrendSeriesOut(
                    label=s.group.label,
                    partner=s.group.partner,
                    points=[
                        TrendPointOut(
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
        for d in found.dimensions
    ]


@router.post(f"{PULSE}/imports", response_model=Wave, status_code=CREATED)
def import_wave(
    alliance_id: str,
    data: ImportRequest,
    request: Request,
    response: Response,
    uow: UowDep,
    person: PersonDep,
    limits: ThresholdsDep,
) -> Wave:
    """A wave collected with another tool, as a new closed wave (managers); all or nothing."""
    table = read_table(data.csv)
    payload = data.model_dump(exclude={"csv"})
    created = uow.write(
        imports.do_import_wave, person, alliance_id, table, payload, limits.anonymity
    )
    set_location(request, response, "read_wave", alliance_id=alliance_id, wave_id=created.id)
    return _wave(waves.wave_summary(uow, person, alliance_id, created.id, limits.anonymity))


@router.get(f"{PULSE}/items", response_model=Paged[OwnItem])
def list_own_items(
    alliance_id: str, request: Request, uow: UowDep, person: PersonDep, page: PageDep
) -> Paged[OwnItem]:
    """The alliance's own items, oldest first (retired ones too)."""
    found = items.own_items(uow, person, alliance_id)
    return paged_list(request, found, _oldest_first, page, OwnItem.model_validate)


def _oldest_first(item: CustomItem) -> tuple[str, str]:
    return (item.created_at.isoformat(), item.id)


@router.post(f"{PULSE}/items", response_model=OwnItem, status_code=CREATED)
def add_own_item(
    alliance_id: str, data: CustomItemInput, uow: UowDep, person: PersonDep
) -> OwnItem:
    """Add a question of the alliance's own to the waves opened from now on (managers)."""
    return OwnItem.model_validate(uow.write(items.do_add_item, person, alliance_id, data))


@router.post(f"{PULSE}/items/{{pulse_item_id}}/retire", response_model=OwnItem)
def retire_own_item(
    alliance_id: str, pulse_item_id: str, uow: UowDep, person: PersonDep
) -> OwnItem:
    """Stop asking an own question in new waves (managers); past waves keep it."""
    retired = uow.write(items.do_retire_item, person, alliance_id, pulse_item_id)
    return OwnItem.model_validate(retired)


@answer_router.get("/pulse/{token}", response_model=LinkPage)
def read_link(token: str, uow: UowDep, secret: SecretDep) -> LinkPage:
    """What a pulse link asks; no sign-in (the link is the credential)."""
    view = answering.open_link(uow, secret, token)
    return LinkPage(
        alliance=view.alliance.name,
        wave=view.wave.title,
        closes_at=view.wave.closes_at,
        state=view.state,
        items=[Item.model_validate(item) for item in view.items],
    )


@answer_router.post("/pulse/{token}/answers", status_code=status.HTTP_204_NO_CONTENT)
def answer(token: str, data: AnswerInput, uow: UowDep, secret: SecretDep) -> Response:
    """Answer every item (1–7) once; nothing identifying is returned or stored."""
    uow.write(answering.do_answer, secret, token, data)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
