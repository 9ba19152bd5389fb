"""What the API sends back: one response model per resource.

Requests use the services' input models (``coauthor.services.inputs``) as
they are. A mechanics item is answered with its ``id`` and exactly the fields
its input model accepts, so those response models are generated from the
input models instead of being written out a second time.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from coauthor.domain import model as m
from coauthor.services.inputs import Input
from coauthor.services.mechanics.registers import KINDS, Kind


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class FieldProblem(BaseModel):
    field: str = Field(description='Dotted path of the bad input, e.g. "shares.1.percent".')
    message: str


class Problem(BaseModel):
    """An error, as an RFC 9457 problem document (media type application/problem+json)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = Field(
        default=None, description="One entry per bad input field, when the input was at fault."
    )
    field: str | None = Field(default=None, description="The first bad field, if any.")


PROBLEM_STATUSES = {
    401: "Not signed in, or the API token is unknown or revoked",
    403: "Not allowed (or a cookie-authenticated write without X-CSRF-Token)",
    404: "No such resource, or not visible to you",
    409: "Conflicts with what is stored",
    422: "Invalid input; `errors` names each bad field",
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {
        "model": Problem,
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
    for code, description in PROBLEM_STATUSES.items()
}


class Me(Output):
    id: str
    email: str
    name: str
    is_admin: bool


class TokenCreate(Input):
    name: Annotated[str, Field(max_length=100)] = ""


class Token(Output):
    id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


class NewToken(Token):
    secret: str = Field(description="The token itself; shown this once, only its hash is kept.")


class Alliance(Output):
    id: str
    name: str
    kind: m.AllianceKind
    stage: m.AllianceStage
    purpose: str
    created_at: datetime


class Partner(Output):
    id: str
    organization_id: str
    organization_name: str
    joined_on: date | None
    description: str


class Member(Output):
    id: str
    person_id: str
    email: str
    name: str
    partner_id: str
    role: m.Role
    title: str


class PartnerNote(Output):
    id: str
    partner_id: str
    author_person_id: str
    body: str
    created_at: datetime


def _item_model(kind: Kind) -> type[BaseModel]:
    """``id`` followed by the fields of the kind's input model, named after the kind."""
    fields = {name: (info.annotation, info) for name, info in kind.input.model_fields.items()}
    return create_model(  # type: ignore[call-overload, no-any-return]
        kind.input.__name__.removesuffix("Input"),
        __base__=Output,
        __doc__=f"A {kind.name.replace('_', ' ')} as stored: its id and its input's fields.",
        id=(str, ...),
        **fields,
    )


ITEM_MODELS: dict[str, type[BaseModel]] = {name: _item_model(kind) for name, kind in KINDS.items()}
