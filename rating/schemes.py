"""Rating schemes from the definition registry (instruments.registry), by id and version."""

from __future__ import annotations

from typing import Any

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


def rating_schemes() -> list[Definition]:
    """The newest published version of every rating scheme, by id."""
    from instruments import registry

    with registry.lookup_session() as session:
        return list(registry.published(session, kind="rating").values())


def get_scheme(scheme_id: str, version: str | None = None, session: Any = None) -> Definition:
    """The rating scheme (id, version); no version = the newest published (UnknownSchemeError)."""
    from instruments import UnknownDefinitionError, registry

    try:
        with registry.lookup_session(session) as found:
            return registry.get_definition(found, scheme_id, version, kind="rating")
    except UnknownDefinitionError:
        known = ", ".join(d.id for d in rating_schemes())
        what = f"{scheme_id} 第 {version} 版" if version else scheme_id
        raise UnknownSchemeError(f"未知的评定方案 {what}；可用：{known}") from None


def facility_kinds_for(definition: Definition) -> tuple[str, ...]:
    """Facility kinds a scheme may grade (all kinds when the scheme does not say)."""
    if not definition.applies_to:
        return tuple(APPLIES_TO)
    return APPLIES_TO.get(definition.applies_to, (definition.applies_to,))


def scheme_choices() -> list[tuple[str, Any]]:
    """(id, title) pairs for select fields."""
    return [(d.id, d.title.zh) for d in rating_schemes()]


def grade_name(scheme: str | None, code: int | None, label: str | None, lang: str,
               levels: dict[str, dict[int, Any]] | None = None) -> str:
    """The one rule for a grade's name: the stored label (as awarded) in Chinese; in English the
    scheme's English name for its code, or the stored label when the scheme no longer has that code.
    `levels` is rating.rewards.scheme_grades(), passed in when naming many grades."""
    label = str(label or (code if code is not None else ""))
    if lang != "en" or code is None:
        return label
    if levels is None:
        from rating.rewards import scheme_grades

        levels = scheme_grades()
    level = levels.get(scheme or "", {}).get(code)
    return str(level.label.get("en") or label) if level is not None else label
