"""What people send to the pulse: a wave to open, an item of their own, answers, an import."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from coauthor.domain.pulse import COMMENT_MAX_LENGTH, REMINDER_MAX_LENGTH
from coauthor.services.inputs import Input, Name

ItemText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=500)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=COMMENT_MAX_LENGTH)]
ColumnRole = Literal["partner", "role_band", "respondent", "comment", "ignore"]
IMPORT_ROLES: tuple[str, ...] = ("partner", "role_band", "respondent", "comment", "ignore")


class WaveInput(Input):
    """Open a wave: it closes at the end of ``closes_on`` (UTC)."""

    title: Name
    closes_on: date


ReminderNote = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=REMINDER_MAX_LENGTH)
]


class ReminderInput(Input):
    """A reminder to everyone who has not answered yet, with a note from the managers."""

    note: ReminderNote = ""


class WaveStatusInput(Input):
    """Close a running wave now (a closed wave never opens again)."""

    status: Literal["closed"]


class CustomItemInput(Input):
    """An alliance's own statement, answered on the same 7-point agreement scale."""

    text: ItemText
    reverse: bool = Field(
        default=False,
        description="True when agreeing means things are worse (the answer is turned around).",
    )


class AnswerInput(Input):
    """Answers through a link: every item of the wave, 1 to 7, and an optional comment."""

    answers: dict[str, int]
    comment: Comment = ""


class ImportInput(Input):
    """A wave collected with another tool: its CSV's columns mapped onto the pulse.

    ``columns`` maps a column of the file to an item key of the instrument
    (``to1`` …, or an own item's id), or to ``partner``, ``role_band``,
    ``respondent``, ``comment`` or ``ignore``. A column named like an item
    key or one of these roles maps itself.
    """

    title: Name
    closed_on: date
    columns: dict[str, str] = Field(default_factory=dict)
