"""Rules: registered, composable strategies that turn scores into levels and grades.

Each rule type is a frozen model plus a `compile` function returning a step that mutates the
per-call `State`. New rule types register with `@register(Model)`; definitions name them by
`type`. Fields may hold `{policy: NAME}` to take their value from a named pack policy.

`core` holds the machinery (State, Context, the registry); each other module holds one family
of rules and registers it on import.
"""

from __future__ import annotations

from . import adjustments, bands, limits, relative, tables  # noqa: F401  (they register)
from .core import (
    RULES,
    Context,
    PolicyRef,
    PolicySwitch,
    State,
    Step,
    build_rule,
    fmt,
    known_rule_types,
    level_names,
    policy_mention,
    register,
    scalar_text,
    target_of,
)

__all__ = [
    "RULES",
    "Context",
    "PolicyRef",
    "PolicySwitch",
    "State",
    "Step",
    "build_rule",
    "fmt",
    "known_rule_types",
    "level_names",
    "policy_mention",
    "register",
    "scalar_text",
    "target_of",
]
