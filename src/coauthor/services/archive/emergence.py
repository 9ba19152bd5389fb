"""The emergence log in ``coauthor-archive/1``: plot twists, tensions with their course,
experiments, learnings and the links between them and the other pillars.

People are named by email (as everywhere in the archive); links are checked on
import to point at things of the archive itself, so an archive cannot link to
another alliance's commitment.
"""

from __future__ import annotations

from typing import Any

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.emergence import (
    EmergenceLink,
    Experiment,
    Learning,
    LinkKind,
    PlotTwist,
    Tension,
    TensionPartner,
    TensionStep,
)
from coauthor.domain.errors import FieldError
from coauthor.services.archive.document import (
    EmergenceLinkRecord,
    ExperimentRecord,
    LearningRecord,
    PlotTwistRecord,
    TensionRecord,
    TensionStepRecord,
)

SECTIONS = ("plot_twists", "tensions", "experiments", "learnings", "emergence_links")


def _by_id(uow: UnitOfWork, entity: type, alliance_id: str) -> list[Any]:
    return sorted(uow.find(entity, alliance_id=alliance_id), key=lambda item: item.id)


def person_ids(uow: UnitOfWork, alliance_id: str) -> set[str]:
    """Everyone the emergence log names, so that the archive's people hold them."""
    found: set[str | None] = set()
    found |= {t.raised_by_person_id for t in uow.find(PlotTwist, alliance_id=alliance_id)}
    found |= {t.surfaced_by_person_id for t in uow.find(Tension, alliance_id=alliance_id)}
    found |= {s.person_id for s in uow.find(TensionStep, alliance_id=alliance_id)}
    found |= {e.created_by_person_id for e in uow.find(Experiment, alliance_id=alliance_id)}
    found |= {x.recorded_by_person_id for x in uow.find(Learning, alliance_id=alliance_id)}
    found |= {x.linked_by_person_id for x in uow.find(EmergenceLink, alliance_id=alliance_id)}
    return {person_id for person_id in found if person_id is not None}


def _fields(entity: object, model: type, **extra: Any) -> dict[str, Any]:
    names = (name for name in model.model_fields if name not in extra)
    return {name: getattr(entity, name) for name in names} | extra


def records(uow: UnitOfWork, alliance_id: str, emails: dict[str, str]) -> dict[str, list]:
    """The five sections, each sorted by id (links by their key)."""

    def email(person_id: str | None) -> str | None:
        return emails.get(person_id) if person_id else None

    partners: dict[str, list[str]] = {}
    for row in uow.find(TensionPartner, alliance_id=alliance_id):
        partners.setdefault(row.tension_id, []).append(row.partner_id)
    steps: dict[str, list[dict[str, Any]]] = {}
    for step in sorted(uow.find(TensionStep, alliance_id=alliance_id), key=lambda s: s.seq):
        steps.setdefault(step.tension_id, []).append(
            _fields(step, TensionStepRecord, by_email=email(step.person_id))
        )
    links = sorted(
        uow.find(EmergenceLink, alliance_id=alliance_id),
        key=lambda x: (x.source_id, x.target_kind.value, x.target_id),
    )
    return {
        "plot_twists": [
            _fields(t, PlotTwistRecord, raised_by_email=email(t.raised_by_person_id))
            for t in _by_id(uow, PlotTwist, alliance_id)
        ],
        "tensions": [
            _fields(
                t,
                TensionRecord,
                surfaced_by_email=email(t.surfaced_by_person_id),
                partner_ids=sorted(partners.get(t.id, [])),
                steps=steps.get(t.id, []),
            )
            for t in _by_id(uow, Tension, alliance_id)
        ],
        "experiments": [
            _fields(e, ExperimentRecord, created_by_email=email(e.created_by_person_id))
            for e in _by_id(uow, Experiment, alliance_id)
        ],
        "learnings": [
            _fields(x, LearningRecord, recorded_by_email=email(x.recorded_by_person_id))
            for x in _by_id(uow, Learning, alliance_id)
        ],
        "emergence_links": [
            _fields(x, EmergenceLinkRecord, linked_by_email=email(x.linked_by_person_id))
            for x in links
        ],
    }


def _unknown(value: Any, known: set[Any], loc: tuple, where: str) -> list[FieldError]:
    if value is None or value in known:
        return []
    return [FieldError(loc, f"{value!r} is not in {where}")]


def _targets(archive: Any) -> dict[LinkKind, set[str]]:
    return {
        LinkKind.COMMITMENT: {c.id for c in archive.commitments},
        LinkKind.DECLARATION: {d.id for d in archive.declarations},
        LinkKind.EXPERIMENT: {e.id for e in archive.experiments},
        LinkKind.MEETING: {x.id for x in archive.meetings},
    }


def link_errors(archive: Any, emails: set[str]) -> list[FieldError]:
    """People, partners, experiments and link targets named here are the archive's own."""
    partners = {p.id for p in archive.partners}
    errors: list[FieldError] = []
    for i, t in enumerate(archive.plot_twists):
        errors += _unknown(
            t.raised_by_email, emails, ("plot_twists", i, "raised_by_email"), "people"
        )
        errors += _unknown(
            t.raised_by_partner_id, partners, ("plot_twists", i, "raised_by_partner_id"), "partners"
        )
    for i, t in enumerate(archive.tensions):
        for j, partner_id in enumerate(t.partner_ids):
            errors += _unknown(partner_id, partners, ("tensions", i, "partner_ids", j), "partners")
        for j, step in enumerate(t.steps):
            errors += _unknown(
                step.by_email, emails, ("tensions", i, "steps", j, "by_email"), "people"
            )
            if step.seq != j + 1:
                errors.append(FieldError(("tensions", i, "steps", j, "seq"), f"should be {j + 1}"))
    experiments = {e.id for e in archive.experiments}
    for i, x in enumerate(archive.learnings):
        errors += _unknown(
            x.experiment_id, experiments, ("learnings", i, "experiment_id"), "experiments"
        )
    sources = {t.id for t in archive.plot_twists} | {t.id for t in archive.tensions}
    targets = _targets(archive)
    for i, link in enumerate(archive.emergence_links):
        loc = ("emergence_links", i)
        errors += _unknown(link.source_id, sources, (*loc, "source_id"), "plot_twists or tensions")
        errors += _unknown(
            link.target_id, targets[link.target_kind], (*loc, "target_id"), f"{link.target_kind}s"
        )
        errors += _unknown(link.linked_by_email, emails, (*loc, "linked_by_email"), "people")
    return errors


def write(uow: UnitOfWork, alliance_id: str, archive: Any, people: dict[str, m.Person]) -> None:
    """The emergence log as archived, after every section it links to."""

    def person(email: str | None) -> str | None:
        return people[email].id if email else None

    scope = {"alliance_id": alliance_id}
    for t in archive.plot_twists:
        values = t.model_dump(exclude={"raised_by_email"})
        uow.add(PlotTwist(**scope, **values, raised_by_person_id=person(t.raised_by_email)))
    for e in archive.experiments:
        values = e.model_dump(exclude={"created_by_email"})
        uow.add(Experiment(**scope, **values, created_by_person_id=person(e.created_by_email)))
    for t in archive.tensions:
        values = t.model_dump(exclude={"surfaced_by_email", "partner_ids", "steps"})
        uow.add(Tension(**scope, **values, surfaced_by_person_id=person(t.surfaced_by_email)))
    uow.flush()
    for t in archive.tensions:
        uow.add_all(TensionPartner(alliance_id, t.id, p) for p in t.partner_ids)
        uow.add_all(
            TensionStep(alliance_id, t.id, s.seq, s.state, s.at, person(s.by_email), s.note)
            for s in t.steps
        )
    for x in archive.learnings:
        values = x.model_dump(exclude={"recorded_by_email"})
        uow.add(Learning(**scope, **values, recorded_by_person_id=person(x.recorded_by_email)))
    for link in archive.emergence_links:
        values = link.model_dump(exclude={"linked_by_email"})
        uow.add(EmergenceLink(**scope, **values, linked_by_person_id=person(link.linked_by_email)))
    uow.flush()
