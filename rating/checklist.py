"""What an inspection asks beyond its checklist items (those are built by `forms.checklist`, the
one form runtime of both domains): the veto facts asked explicitly and the first application."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from scoring import Definition


def parse_facts(definition: Definition, form: MultiDict[str, str]) -> dict[str, Any]:
    """The facts a posted checklist states (veto codes ticked, first application)."""
    facts: dict[str, Any] = {"veto": [c for c in form.getlist("veto") if c in definition.veto_codes]}
    if form.get("first_application"):
        facts["first_application"] = True
    return facts
