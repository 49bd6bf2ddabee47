"""Workflows as data: which step moves a record from which state to which, and who may take it.

A domain describes its records' life as a table and registers it for its model:

    ASSESSMENT = Workflow("assessment", states=STATUSES,
                          transitions={("draft", "submit"): "submitted", ...},
                          roles={"submit": ("assessor",), ...},
                          guards={"approve": [not_the_author]})
    register(Assessment, ASSESSMENT)

Operations call `workflow.require(...)` before they write, so a step the table does not allow is
refused (409) before anything changes; pages call `allowed_actions(record, user)` and draw
exactly those buttons; the tests take the same table as the truth. Guards are the conditions a
table cannot express (enough signatures, separation of duties): each returns None or a Refusal.
Nothing here knows a domain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _


@dataclass(frozen=True)
class Refusal:
    """Why a step is not possible now: the HTTP status and a Chinese message for people."""

    message: str
    status: int = 409
    code: str = "not_allowed"


@dataclass
class Context:
    """What guards may look at besides the record and the user (session, settings)."""

    session: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.extra.get(key, default)


Guard = Callable[[Any, Any, Context], Refusal | None]


class Workflow:
    """A transition table {(state, action): next state}, the roles allowed to take each action
    and the guards that must pass."""

    def __init__(self, name: str, *, states: Mapping[str, str], transitions: Mapping[tuple[str, str], str],
                 roles: Mapping[str, tuple[str, ...]], labels: Mapping[str, str] | None = None,
                 guards: Mapping[str, Iterable[Guard]] | None = None,
                 state: Callable[[Any], str] | None = None,
                 refusals: Mapping[tuple[str, str], str] | None = None) -> None:
        unknown = {s for pair in transitions for s in (pair[0], transitions[pair])} - set(states)
        if unknown:
            raise ValueError(f"{name}: states not declared: {sorted(unknown)}")
        actions = {action for _state, action in transitions}
        if actions - set(roles):
            raise ValueError(f"{name}: actions without roles: {sorted(actions - set(roles))}")
        self.name = name
        self.states = dict(states)
        self.transitions = dict(transitions)
        self.roles = {action: tuple(r) for action, r in roles.items()}
        self.labels = dict(labels or {})
        self.guards = {action: list(g) for action, g in (guards or {}).items()}
        self.refusals = dict(refusals or {})  # (state, action) -> a clearer message than the default
        self._state = state or (lambda record: str(record.status))

    @property
    def actions(self) -> list[str]:
        return list(dict.fromkeys(action for _state, action in self.transitions))

    @property
    def edges(self) -> set[tuple[str, str]]:
        """Every (state before, state after) a step may produce, staying put included."""
        return {(state, after) for (state, _action), after in self.transitions.items()} | {
            (state, state) for state in self.states}

    def sources(self, action: str) -> list[str]:
        """The states `action` may start from."""
        return [state for (state, name) in self.transitions if name == action]

    def next_state(self, state: str, action: str) -> str | None:
        return self.transitions.get((state, action))

    def state_of(self, record: Any) -> str:
        return self._state(record)

    def refusal(self, record: Any, user: Any, action: str, context: Context | None = None,
                *, check_roles: bool = True) -> Refusal | None:
        """None when `user` may take `action` on `record` now, else why not."""
        state = self.state_of(record)
        if (state, action) not in self.transitions:
            label = self.labels.get(action, action)
            message = self.refusals.get((state, action)) or self.refusals.get(("*", action))
            return Refusal(message or _("当前状态为“%(state)s”，不能执行“%(action)s”。",
                                        state=_(self.states.get(state, state)), action=_(label)),
                           409, "wrong_state")
        if check_roles and user is not None and not user.has_any_role(self.roles.get(action, ())):
            return Refusal(_("您的角色不能执行“%(action)s”。", action=_(self.labels.get(action, action))),
                           403, "forbidden")
        for guard in self.guards.get(action, ()):
            refused = guard(record, user, context or Context())
            if refused is not None:
                return refused
        return None

    def require(self, record: Any, user: Any, action: str, *, error: Callable[[Refusal], Exception],
                context: Context | None = None, check_roles: bool = True) -> str:
        """The state after `action`, or raise `error(refusal)` before anything is written."""
        refused = self.refusal(record, user, action, context, check_roles=check_roles)
        if refused is not None:
            raise error(refused)
        return self.transitions[(self.state_of(record), action)]

    def allowed(self, record: Any, user: Any, context: Context | None = None) -> list[str]:
        """The actions `user` may take on `record` now, in table order."""
        state = self.state_of(record)
        return [action for action in self.actions if (state, action) in self.transitions
                and self.refusal(record, user, action, context) is None]


_REGISTRY: dict[type, tuple[Workflow, Callable[[Any], Context] | None]] = {}


def register(model: type, workflow: Workflow, context: Callable[[Any], Context] | None = None) -> None:
    """Let `allowed_actions` find the workflow of `model`; `context(record)` builds what its
    guards need (called on page rendering only)."""
    _REGISTRY[model] = (workflow, context)


def workflow_for(record: Any) -> Workflow:
    return _REGISTRY[type(record)][0]


def allowed_actions(record: Any, user: Any) -> set[str]:
    """What `user` may do with `record` now: the buttons a page draws."""
    if record is None or user is None or type(record) not in _REGISTRY:
        return set()
    workflow, make_context = _REGISTRY[type(record)]
    return set(workflow.allowed(record, user, make_context(record) if make_context else Context()))


def registered() -> list[Workflow]:
    return [workflow for workflow, _context in _REGISTRY.values()]


REASON_MAX = 1000


def clean_reason(text: Any) -> str:
    """A reason as people typed it, trimmed; "" when it holds nothing visible (blank, or only
    zero-width and other format characters), so such a reason counts as missing."""
    import unicodedata

    if not isinstance(text, str):
        return ""
    visible = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cc", "Zs", "Zl", "Zp"))
    return text.strip()[:REASON_MAX] if visible.strip() else ""


def separation_of_duties() -> bool:
    """Whether whoever assessed or inspected a record is kept from reviewing, approving or
    certifying it (YIYANG_SEPARATION_OF_DUTIES, on by default): the one reading of the setting."""
    from flask import current_app

    return bool(current_app.config.get("SEPARATION_OF_DUTIES", True))
