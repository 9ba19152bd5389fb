"""A bounded schemathesis run over every operation of the API: no 5xx, responses as documented.

Schemathesis reads the app's own OpenAPI document and generates requests for
each operation, valid and invalid, with a fixed seed (``derandomize``) and a
fixed number of examples, so a run is repeatable and takes about a minute on
two cores. Every request carries a bearer token of a manager of the seeded
alliance, and the ids in its path are those of the seeded alliance's
partners, members, items and deliberation, so requests reach the services
and the database instead of stopping at "no such alliance". It fails on any
server error and on any response whose body does not match the schema the
OpenAPI document declares for its status.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_fixtures import World, WorldTemplate, app_on_copy, extended_template
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from coauthor.domain.model import Person
from coauthor.services.deliberation import acts
from coauthor.services.mechanics.registers import KINDS
from coauthor.web.api.mechanics.items import collection_of
from tests.e2e.conftest import World as SeededWorld

EXAMPLES_PER_OPERATION = 12
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_template(
    seeded: tuple[Path, SeededWorld], tmp_path_factory: pytest.TempPathFactory
) -> WorldTemplate:
    return extended_template(seeded, tmp_path_factory.mktemp("schemathesis-world"))


@pytest.fixture(scope="module")
def fuzz_app(
    fuzz_template: WorldTemplate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FastAPI]:
    """One app for the whole run: what one operation writes, the next may read or change."""
    with app_on_copy(fuzz_template, tmp_path_factory.mktemp("schemathesis-app")) as app:
        yield app


@pytest.fixture(scope="module")
def path_ids(fuzz_app: FastAPI, fuzz_template: WorldTemplate) -> dict[str, Any]:
    """The seeded ids to put in paths, with a deliberation and a statement added."""
    world: World = fuzz_template.world
    runtime = fuzz_app.state.runtime
    with runtime.uow() as uow:
        manager = uow.get(Person, id=world.people["manager"].id)
        question = {"question": "Where should we pilot?", "strict_moderation": False}
        deliberation = acts.do_create_deliberation(uow, manager, world.alliance_id, question)
        text = {"text": "Start with one region."}
        statement = acts.do_submit_statement(uow, manager, world.alliance_id, deliberation.id, text)
        uow.session.commit()
        return {
            "alliance_id": world.alliance_id,
            "partner_id": world.partner_ids["other"],
            "member_id": world.deletable_ids["member"],
            "token_id": world.people["member"].token_id,
            "deliberation_id": deliberation.id,
            "statement_id": statement.id,
            "items": {collection_of(kind): world.item_ids[kind] for kind in KINDS},
            "bearer": world.bearer("manager"),
        }


def path_parameters(operation: Any, ids: dict[str, Any]) -> dict[str, str]:
    """The seeded alliance's ids for the operation's path parameters."""
    names = [parameter.name for parameter in operation.path_parameters]
    collection = operation.path.split("/")[-2] if "item_id" in names else ""
    fixed = {name: ids[name] for name in names if name in ids and name != "items"}
    if "kind" in names:
        fixed |= {"kind": "risk", "item_id": ids["items"][collection_of("risk")]}
    elif "item_id" in names:
        fixed["item_id"] = ids["items"][collection]
    return fixed


def failures_of(operation: Any, mode: GenerationMode, ids: dict[str, Any]) -> list[str]:
    """Run ``EXAMPLES_PER_OPERATION`` generated requests; the first failure, if any.

    Negative mode makes the request invalid (a wrong type, a missing field, a
    value out of range): for an operation whose only inputs are the fixed
    path ids there is nothing to make invalid, which hypothesis reports as
    Unsatisfiable.
    """
    strategy = operation.as_strategy(
        generation_mode=mode, path_parameters=path_parameters(operation, ids)
    )

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def answers_as_documented(case: Any) -> None:
        case.call_and_validate(headers=ids["bearer"], checks=CHECKS)

    try:
        answers_as_documented()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE, operation.label
        return []  # nothing of the request is left to make invalid: its ids are fixed
    except Exception as failure:
        return [f"{operation.label} ({mode}): {failure}"]
    return []


def test_every_operation_answers_without_5xx_and_as_documented(
    fuzz_app: FastAPI, path_ids: dict[str, Any]
) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", fuzz_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 60
    failures = [
        failure
        for operation in operations
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for failure in failures_of(operation, mode, path_ids)
    ]
    assert not failures, "\n\n".join(failures)
