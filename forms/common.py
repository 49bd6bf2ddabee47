"""Helpers shared by every form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wtforms.fields.choices import SelectChoice


def choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms 3.3+ choices (plain tuples are deprecated). A lazy label
    (lazy_gettext) stays lazy, so it is translated when the form is shown."""
    return [SelectChoice(value, label) for value, label in pairs]
