"""The rating schemes the app loaded (app.extensions["yiyang.definitions"]), looked up by id."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context

from scoring import Definition

# Which facility kinds a scheme's `applies_to` covers: community schemes grade both
# 街道养老服务中心 and 社区养老服务站.
APPLIES_TO = {
    "institution": ("institution",),
    "community_center": ("community_center", "station"),
    "station": ("station",),
}


class UnknownSchemeError(LookupError):
    """No loaded rating scheme has this id."""


def _packs() -> dict[str, Definition]:
    if has_app_context():
        packs = current_app.extensions.get("yiyang.definitions")
        if packs:
            return dict(packs)
    import instruments

    return dict(instruments.builtin())


def rating_schemes() -> list[Definition]:
    """Every loaded definition of kind rating, by id."""
    return sorted((d for d in _packs().values() if d.kind == "rating"), key=lambda d: d.id)


def get_scheme(scheme_id: str) -> Definition:
    """The rating scheme with this id (UnknownSchemeError otherwise)."""
    definition = _packs().get(scheme_id)
    if definition is None or definition.kind != "rating":
        known = ", ".join(d.id for d in rating_schemes())
        raise UnknownSchemeError(f"未知的评定方案 {scheme_id}；可用：{known}")
    return definition


def facility_kinds_for(definition: Definition) -> tuple[str, ...]:
    """Facility kinds a scheme may grade (all kinds when the scheme does not say)."""
    if not definition.applies_to:
        return tuple(APPLIES_TO)
    return APPLIES_TO.get(definition.applies_to, (definition.applies_to,))


def scheme_choices() -> list[tuple[str, Any]]:
    """(id, title) pairs for select fields."""
    return [(d.id, d.title.zh) for d in rating_schemes()]
