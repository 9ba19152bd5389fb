"""Importing a wave collected with another survey tool: upload the CSV, map its columns.

Two steps without JavaScript: the first reads the file and proposes a target
for each column (a column named like an item or a role maps itself); the
second carries the file's text in the form and imports it, all or nothing.
Every problem comes back with the line and column it is in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import UploadFile

from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.errors import FieldError, ValidationFailed
from coauthor.domain.pulse import STANDARD_ITEMS
from coauthor.interop.pulse_csv import MAX_CHARACTERS, read_table
from coauthor.services.mechanics.alliances import open_for_edit
from coauthor.services.pulse import imports
from coauthor.services.pulse.imports import CsvTable
from coauthor.services.pulse.inputs import IMPORT_ROLES
from coauthor.services.pulse.items import active_items
from coauthor.web.auth import UowDep
from coauthor.web.pages.deps import Posted, SignedIn
from coauthor.web.pages.forms import Form
from coauthor.web.pages.layout import alliance_page
from coauthor.web.pages.pulse.home import SECTION, pulse_url, thresholds
from coauthor.web.pages.rendering import see_other

router = APIRouter()
ROLE_LABELS = {
    "partner": "Partner (organization name)",
    "role_band": "Role band (leadership or team)",
    "respondent": "Respondent id (checked for duplicates, not stored)",
    "comment": "Open comment",
    "ignore": "Ignore this column",
}


async def uploaded_text(request: Request) -> str | None:
    """The text of the uploaded file, if the form carries one (None: no file chosen)."""
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    raw = await upload.read(MAX_CHARACTERS * 4 + 1)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ""


Uploaded = Annotated[str | None, Depends(uploaded_text)]


@dataclass(frozen=True)
class ColumnChoice:
    index: int
    name: str
    target: str
    samples: list[str]


def _targets(uow: UnitOfWork, alliance_id: str) -> list[tuple[str, str]]:
    """Every target a column may take, as (value, label) for a select."""
    choices = [(role, ROLE_LABELS[role]) for role in IMPORT_ROLES]
    choices += [(item.key, f"{item.key}: {item.text}") for item in STANDARD_ITEMS]
    choices += [(own.id, f"Own: {own.text}") for own in active_items(uow, alliance_id)]
    return choices


def _columns(
    table: CsvTable, chosen: Mapping[str, str], targets: list[tuple[str, str]]
) -> list[ColumnChoice]:
    known = {value.casefold(): value for value, _ in targets}
    found = []
    for index, name in enumerate(table.header):
        guess = known.get(name.strip().casefold().replace(" ", "_"), "")
        samples = [row[index] for _, row in table.rows[:3] if index < len(row)]
        found.append(ColumnChoice(index, name, chosen.get(name, guess), samples))
    return found


def _page(
    request: Request,
    uow: UnitOfWork,
    actor: m.Person,
    alliance_id: str,
    *,
    form: Form | None = None,
    table: CsvTable | None = None,
    csv_text: str = "",
    chosen: Mapping[str, str] | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> Response:
    access = open_for_edit(uow, actor, alliance_id)
    targets = _targets(uow, alliance_id)
    context: dict[str, Any] = {
        "form": form or Form({"closed_on": uow.clock.now().date().isoformat()}),
        "table": table,
        "csv_text": csv_text,
        "columns": _columns(table, chosen or {}, targets) if table else [],
        "targets": targets,
        "problems": problems or [],
        "threshold": thresholds(request).anonymity,
        "urls": {"home": pulse_url(alliance_id), "import": pulse_url(alliance_id, "import")},
    }
    return alliance_page(request, access, "pulse_import.html", SECTION, context, status)


@router.get("/a/{alliance_id}/pulse/import")
def import_page(request: Request, alliance_id: str, actor: SignedIn, uow: UowDep) -> Response:
    return _page(request, uow, actor, alliance_id)


def where(error: FieldError) -> str:
    """A problem of the file as a person reads it: line, column, reason."""
    loc = error.loc
    if loc[:1] == ("csv",):
        line = f"line {loc[1]}" if len(loc) > 1 else "the file"
        column = f", column “{loc[2]}”" if len(loc) > 2 and loc[2] else ""
        return f"{line[0].upper()}{line[1:]}{column}: {error.message}"
    if loc[:1] == ("columns",):
        column = f"Column “{loc[1]}”" if len(loc) > 1 else "The columns"
        return f"{column}: {error.message}"
    return f"{error.field or 'input'}: {error.message}"


def _read(text: str | None) -> tuple[CsvTable | None, list[str]]:
    if text is None:
        return None, ["Choose a CSV file to import, or paste its text."]
    if text == "":
        return None, ["The file is not UTF-8 text (save it as CSV, UTF-8)."]
    try:
        return read_table(text), []
    except ValidationFailed as exc:
        return None, [where(e) for e in exc.errors]


@router.post("/a/{alliance_id}/pulse/import")
def upload(
    request: Request,
    alliance_id: str,
    actor: SignedIn,
    values: Posted,
    uploaded: Uploaded,
    uow: UowDep,
) -> Response:
    """Step 1: read the file (or the text pasted instead) and propose a mapping of its columns.

    Nothing is stored yet.
    """
    form = Form({k: v for k, v in values.items() if k in ("title", "closed_on")})
    pasted = values.get("pasted", "").strip()
    text = uploaded if uploaded is not None else (pasted or None)
    table, problems = _read(text)
    status = 200 if table else 422
    text = text or ""
    return _page(
        request,
        uow,
        actor,
        alliance_id,
        form=form,
        table=table,
        csv_text=text if table else "",
        problems=problems,
        status=status,
    )


@router.post("/a/{alliance_id}/pulse/import/map")
def import_mapped(
    request: Request, alliance_id: str, actor: SignedIn, values: Posted, uow: UowDep
) -> Response:
    """Step 2: import the file with the columns mapped as chosen; all or nothing."""
    text = values.get("csv", "")
    table, problems = _read(text)
    form = Form({k: v for k, v in values.items() if k in ("title", "closed_on")})
    if table is None:
        return _page(request, uow, actor, alliance_id, form=form, problems=problems, status=422)
    chosen = {name: values.get(f"column-{index}", "") for index, name in enumerate(table.header)}
    payload = {
        "title": values.get("title", ""),
        "closed_on": values.get("closed_on", ""),
        "columns": {name: target for name, target in chosen.items() if target},
    }
    limit = thresholds(request).anonymity
    try:
        wave = uow.write(
            lambda _: imports.do_import_wave(uow, actor, alliance_id, table, payload, limit)
        )
    except ValidationFailed as exc:
        fields = [e for e in exc.errors if e.loc[:1] in (("title",), ("closed_on",))]
        form = form.failed(fields, ("title", "closed_on"))
        rest = [where(e) for e in exc.errors if e not in fields]
        return _page(
            request,
            uow,
            actor,
            alliance_id,
            form=form,
            table=table,
            csv_text=text,
            chosen=chosen,
            problems=rest,
            status=422,
        )
    return see_other(pulse_url(alliance_id, "waves", wave.id))
