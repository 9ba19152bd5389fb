"""A deliberation's results as people read them: one presenter for pages, API and exports.

The service publishes releases of anonymised facts
(``services/deliberation/results.py``); this module turns the latest one into
the :class:`ResultsDocument` that the results page renders and the API
returns as it is, so a share is rounded once and reads the same everywhere.
Statements are numbered in the order they were written; groups are lettered
A, B, C… in the order of their ids, each with a colour series.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from coauthor.domain import model as m

SERIES = 8
OTHER_PARTNERS_LABEL = "Other partners"


class StatementView(BaseModel):
    id: str
    number: int
    text: str
    voters: int | None = Field(
        description="People who voted on it; null when fewer than the anonymity threshold."
    )
    agree_percent: int | None = None
    disagree_percent: int | None = None
    pass_percent: int | None = None
    position: tuple[float, float] | None = Field(
        default=None, description="Where it sits on the opinion map (its projection)."
    )
    group_informed_consensus: float | None = None


class Reason(BaseModel):
    """A statement that sets a group apart, and how."""

    statement_id: str
    number: int
    text: str
    direction: str = Field(description='"agree" or "disagree".')
    percent: int = Field(description="Share of the group's voters on it who vote that way.")
    voters: int
    others_percent: int | None = Field(
        description="The same share among everyone else; null when too few others voted."
    )
    sentence: str = Field(description="What the group stands for, in words.")


class GroupView(BaseModel):
    id: int
    label: str
    series: int
    size: int | None = Field(description="Null for a group smaller than the anonymity threshold.")
    center: tuple[float, float] | None = None
    reasons: list[Reason] = Field(default_factory=list)


class ConsensusItem(BaseModel):
    statement_id: str
    number: int
    text: str
    percent: int
    voters: int


class Rate(BaseModel):
    label: str
    series: int | None = None
    percent: int
    voters: int


class Split(BaseModel):
    """A statement with its agree share per group or per partner."""

    statement_id: str
    number: int
    text: str
    rates: list[Rate]
    strength: float = 0.0


class AlignmentRow(BaseModel):
    group: str
    series: int
    counts: list[int | None] = Field(description="People per partner; null below the threshold.")


class Alignment(BaseModel):
    partners: list[str]
    rows: list[AlignmentRow]
    cramers_v: float
    p_value: float
    permutations: int
    n: int
    follows_partner_lines: bool
    summary: str


class PartnersView(BaseModel):
    merged: bool = Field(description="Whether small partners were merged into one column.")
    alignment: Alignment | None = None
    bridging: list[Split] = Field(default_factory=list)
    fault_lines: list[Split] = Field(default_factory=list)


class Point(BaseModel):
    x: float
    y: float
    group: int | None


class ResultsDocument(BaseModel):
    """What a deliberation's latest release shows; every figure describes enough people."""

    deliberation_id: str
    status: m.DeliberationStatus
    release: int | None = Field(description="The release shown; null before the first.")
    released_at: datetime | None = None
    anonymity_threshold: int
    participants: int | None
    votes: int | None
    k: int | None = Field(description="How many opinion groups the analysis found.")
    statements: list[StatementView]
    groups: list[GroupView]
    consensus_agree: list[ConsensusItem]
    consensus_disagree: list[ConsensusItem]
    divisive: list[Split]
    partners: PartnersView
    points: list[Point]
    version: str = Field(description="Changes whenever anything shown here changes.")


def percent(part: int, whole: int) -> int:
    """A share as a whole percent, halves rounded up (the one rounding rule of the results)."""
    return (200 * part + whole) // (2 * whole) if whole else 0


def group_label(position: int) -> str:
    """Groups are named by letter, in the order of their ids: A, B, C, … then A2, B2, …"""
    letters = string.ascii_uppercase
    turn, index = divmod(position, len(letters))
    return letters[index] + (str(turn + 1) if turn else "")


def reason_sentence(label: str, direction: str, share: int, others: int | None) -> str:
    """What a group stands for, said so that a person reads it right.

    Pol.is calls a statement representative of a group when the group answers
    it differently from the others, which can mean "17% disagree" while most
    of the group agrees: then the comparison is the point, and it is said.
    """
    verb = "agree" if direction == "agree" else "disagree"
    if others is None:
        if share >= 50:
            return f"{share}% of group {label} {verb}."
        return f"More of group {label} {verb} than of everyone else ({share}% of the group)."
    if share >= 50:
        return f"{share}% of group {label} {verb}, against {others}% of everyone else."
    return f"More of group {label} {verb} than of everyone else: {share}% against {others}%."


def _alignment_summary(follows: bool, v: float, p: float, permutations: int) -> str:
    if follows:
        return (
            f"Opinion groups follow partner lines: Cramér's V = {v:.2f}, and only "
            f"{100 * p:.1f}% of {permutations} random reshuffles of partners were as strong."
        )
    return (
        f"Opinion groups cut across partners: Cramér's V = {v:.2f} is no stronger than "
        f"chance often gives ({100 * p:.0f}% of {permutations} reshuffles were as strong)."
    )


class _Names:
    """Statement numbers and texts, group letters and colours, partner names."""

    def __init__(
        self,
        statements: Sequence[Any],
        groups: Sequence[dict[str, Any]],
        partner_names: Mapping[str, str],
    ) -> None:
        self.statements = {s.id: (number, s.text) for number, s in enumerate(statements, 1)}
        ids = sorted(int(g["id"]) for g in groups)
        self.groups = {gid: (group_label(i), i % SERIES) for i, gid in enumerate(ids)}
        self.partners = dict(partner_names) | {"other": OTHER_PARTNERS_LABEL}

    def said(self, statement_id: str) -> tuple[int, str] | None:
        return self.statements.get(statement_id)


def _statements(facts: dict[str, Any], names: _Names) -> list[StatementView]:
    views = []
    for sid, (number, text) in names.statements.items():
        fact = facts["statements"].get(sid, {"voters": None})
        voters = fact.get("voters")
        counted = voters if "agree" in fact else None
        views.append(
            StatementView(
                id=sid,
                number=number,
                text=text,
                voters=voters,
                agree_percent=percent(fact["agree"], counted) if counted else None,
                disagree_percent=percent(fact["disagree"], counted) if counted else None,
                pass_percent=percent(fact["pass"], counted) if counted else None,
                position=tuple(fact["position"]) if "position" in fact else None,
                group_informed_consensus=fact.get("group_informed_consensus"),
            )
        )
    return views


def _groups(facts: dict[str, Any], names: _Names) -> list[GroupView]:
    views = []
    for group in facts["groups"]:
        label, series = names.groups[int(group["id"])]
        reasons = []
        for reason in group["representative"]:
            said = names.said(reason["statement_id"])
            if said is None:
                continue
            share = percent(reason["n_success"], reason["n_trials"])
            others = (
                percent(reason["others_success"], reason["others_trials"])
                if reason["others_trials"]
                else None
            )
            reasons.append(
                Reason(
                    statement_id=reason["statement_id"],
                    number=said[0],
                    text=said[1],
                    direction=reason["direction"],
                    percent=share,
                    voters=reason["n_trials"],
                    others_percent=others,
                    sentence=reason_sentence(label, reason["direction"], share, others),
                )
            )
        center = tuple(group["center"]) if group["center"] else None
        views.append(
            GroupView(
                id=group["id"],
                label=label,
                series=series,
                size=group["size"],
                center=center,
                reasons=reasons,
            )
        )
    return views


def _consensus(items: list[dict[str, Any]], names: _Names) -> list[ConsensusItem]:
    listed = []
    for item in items:
        said = names.said(item["statement_id"])
        if said is not None:
            listed.append(
                ConsensusItem(
                    statement_id=item["statement_id"],
                    number=said[0],
                    text=said[1],
                    percent=percent(item["n_success"], item["n_trials"]),
                    voters=item["n_trials"],
                )
            )
    return listed


def _split(item: dict[str, Any], names: _Names, rates: list[Rate], strength: float) -> Split | None:
    said = names.said(item["statement_id"])
    if said is None:
        return None
    return Split(
        statement_id=item["statement_id"],
        number=said[0],
        text=said[1],
        rates=rates,
        strength=strength,
    )


def _divisive(facts: dict[str, Any], names: _Names) -> list[Split]:
    splits = []
    for item in facts["divisive"]:
        rates = [
            Rate(
                label=names.groups[int(gid)][0],
                series=names.groups[int(gid)][1],
                percent=percent(agrees, votes),
                voters=votes,
            )
            for gid, (agrees, votes) in sorted(item["agree"].items(), key=lambda kv: int(kv[0]))
        ]
        split = _split(item, names, rates, item["variance"])
        if split is not None:
            splits.append(split)
    return splits


def _partner_rates(agree: dict[str, list[int]], names: _Names) -> list[Rate]:
    rates = [
        Rate(label=names.partners.get(pid, pid), percent=percent(agrees, votes), voters=votes)
        for pid, (agrees, votes) in agree.items()
    ]
    return sorted(rates, key=lambda rate: rate.label)


def _partners(facts: dict[str, Any], names: _Names) -> PartnersView:
    partners = facts["partners"]
    found = partners["alignment"]
    alignment = None
    if found is not None and found["n"]:
        rows = [
            AlignmentRow(group=names.groups[g][0], series=names.groups[g][1], counts=counts)
            for g, counts in zip(found["groups"], found["table"], strict=True)
            if g in names.groups
        ]
        alignment = Alignment(
            partners=[names.partners.get(p, p) for p in found["partners"]],
            rows=rows,
            cramers_v=found["cramers_v"],
            p_value=found["p_value"],
            permutations=found["permutations"],
            n=found["n"],
            follows_partner_lines=found["follows_partner_lines"],
            summary=_alignment_summary(
                found["follows_partner_lines"],
                found["cramers_v"],
                found["p_value"],
                found["permutations"],
            ),
        )
    bridging = [
        _split(item, names, _partner_rates(item["agree"], names), 0.0)
        for item in partners["bridging"]
    ]
    fault_lines = [
        _split(item, names, _partner_rates(item["agree"], names), item["cramers_v"])
        for item in partners["fault_lines"]
    ]
    return PartnersView(
        merged=found is not None and "other" in found["partners"],
        alignment=alignment,
        bridging=[s for s in bridging if s is not None],
        fault_lines=[s for s in fault_lines if s is not None],
    )


class _Shown:
    """A statement as a release froze it: its id and text."""

    def __init__(self, statement_id: str, text: str) -> None:
        self.id = statement_id
        self.text = text


def present_results(
    deliberation: m.Deliberation,
    release: Any | None,
    statements: Sequence[m.Statement],
    partner_names: Mapping[str, str],
    threshold: int,
    *,
    extra_version: str = "",
) -> ResultsDocument:
    """The document for ``release`` (a ``Release`` of the results service, or None).

    ``statements`` are the accepted statements in the order they were written
    (a release shows those it was made with instead: moderation takes effect
    with the next release); ``partner_names`` maps partner ids to
    organization names.
    """
    facts = release.facts if release is not None else None
    version = f"{release.version if release else 'r0'}-{deliberation.status.value}{extra_version}"
    if release is None:
        version += f"-s{len(statements)}"
    if facts is None:
        names = _Names(statements, [], partner_names)
        return ResultsDocument(
            deliberation_id=deliberation.id,
            status=deliberation.status,
            release=None,
            anonymity_threshold=threshold,
            participants=None,
            votes=None,
            k=None,
            statements=_statements({"statements": {}}, names),
            groups=[],
            consensus_agree=[],
            consensus_disagree=[],
            divisive=[],
            partners=PartnersView(merged=False),
            points=[],
            version=version,
        )
    shown = facts.get("shown")
    if shown is not None:
        statements = [_Shown(sid, text) for sid, text in shown]
    names = _Names(statements, facts["groups"], partner_names)
    return ResultsDocument(
        deliberation_id=deliberation.id,
        status=deliberation.status,
        release=release.number,
        released_at=release.released_at,
        anonymity_threshold=release.threshold,
        participants=facts["participants"],
        votes=facts["votes"],
        k=facts["k"],
        statements=_statements(facts, names),
        groups=_groups(facts, names),
        consensus_agree=_consensus(facts["consensus"]["agree"], names),
        consensus_disagree=_consensus(facts["consensus"]["disagree"], names),
        divisive=_divisive(facts, names),
        partners=_partners(facts, names),
        points=[Point(x=x, y=y, group=g) for x, y, g in facts["points"]],
        version=version,
    )
