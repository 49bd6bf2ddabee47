"""Job kinds: one registration each.

    @register("exports.elders", title=_l("导出老年人"), roles=("admin",), validate=check_params)
    def export_elders(ctx: JobContext) -> dict: ...

`validate(params, actor, session)` returns the cleaned parameters or raises ParamError naming
the field; `run(ctx)` does the work and returns the result (counts, errors) as a JSON object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.auth import ROLES


class ParamError(ValueError):
    """A parameter is wrong: the API answers 422 naming it."""

    def __init__(self, item: str, message: str) -> None:
        super().__init__(message)
        self.item, self.message = item, message


class JobFailed(RuntimeError):
    """The job cannot succeed however often it is tried (nothing to retry)."""


@dataclass(frozen=True)
class Kind:
    name: str
    run: Callable[[Any], dict[str, Any]]
    title: Any
    roles: tuple[str, ...]
    validate: Callable[[dict[str, Any], Any, Any], dict[str, Any]] | None = None
    max_attempts: int = 3


KINDS: dict[str, Kind] = {}


def register(name: str, *, title: Any, roles: tuple[str, ...] = ("admin",),
             validate: Callable[[dict[str, Any], Any, Any], dict[str, Any]] | None = None,
             max_attempts: int = 3) -> Callable[[Callable[[Any], dict[str, Any]]], Callable[[Any], dict[str, Any]]]:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def decorator(run: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
        KINDS[name] = Kind(name, run, title, tuple(roles), validate, max_attempts)
        return run

    return decorator


def no_params(params: dict[str, Any], _actor: Any, _session: Any) -> dict[str, Any]:
    """For kinds that take nothing: any key is an error."""
    for key in params:
        raise ParamError(f"params.{key}", f"不接受的参数 {key}")
    return {}
