"""The words a person reads for the model's codes: ``joint_venture`` → "Joint venture".

Pages, reports and error messages all name enum values through ``label``, so
a kind of agreement reads the same in a form, in a chart and in an error.
"""

from __future__ import annotations

from typing import Any

SPECIAL_LABELS = {
    "mou": "MOU",
    "jv_agreement": "JV agreement",
    "jv_board": "JV board",
    "sow": "SOW",
    "nda": "NDA",
    "ip": "IP",
    "ad_hoc": "Ad hoc",
    "in": "Contributed",
    "value": "Value received",
}


def label(value: Any) -> str:
    """An enum value as words: ``joint_venture`` → ``Joint venture``."""
    text = str(getattr(value, "value", value))
    return SPECIAL_LABELS.get(text, text.replace("_", " ").capitalize())


def in_words(values: list[str], last: str = "or") -> str:
    """``["a", "b", "c"]`` → ``a, b or c``."""
    if len(values) <= 1:
        return "".join(values)
    return f"{', '.join(values[:-1])} {last} {values[-1]}"
