"""The one save contract of both domains' forms (pages' autosave and the API alike).

A save answers 200 with `{version, status, problems, relevant, saved_at}`; a save whose version is
stale answers 409 with `{error: "conflict", message, version, status, answers}`, the current
version and the server's answers (and what else the record saves beside them, e.g. an
inspection's `facts` and `notes`), so the client can show them and let the person choose.

A save that arrives after its own earlier save is not a conflict when it changes nothing: if the
answers it carries already are the stored ones (a retried or flushed copy of a save that landed),
it answers 200 with the current version and writes nothing. That is decided here, once, for every
editable record that the forms save (`save_answers`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scoring import Definition


def same_answers(stored: Mapping[str, Any], submitted: Mapping[str, Any], *, whole: bool) -> bool:
    """Whether saving `submitted` would change nothing. `whole`: the submitted answers replace the
    stored set (the checklist); otherwise they are merged, None clearing an answer (a page)."""
    def norm(answers: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in answers.items() if v is not None and v != "" and v != []}

    if not isinstance(stored, Mapping) or not isinstance(submitted, Mapping):
        return False
    if whole:
        return _equal(norm(stored), norm(submitted))
    return all(_equal(stored.get(key), None if value in ("", []) else value)
               for key, value in submitted.items())


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@dataclass
class SaveResult:
    """What a save came to: `conflict` is None on success, else the refusal's message."""

    version: int
    status: str
    answers: dict[str, Any]
    problems: list[dict[str, Any]] = field(default_factory=list)
    relevant: list[str] = field(default_factory=list)
    saved_at: datetime | None = None
    conflict: str | None = None
    written: bool = True
    extra: dict[str, Any] = field(default_factory=dict)  # a conflict's other stored values (facts, notes)

    def body(self, lang: str = "zh") -> dict[str, Any]:
        """The response body of the contract."""
        if self.conflict is not None:
            return {**self.extra, "error": "conflict", "message": self.conflict, "errors": [],
                    "version": self.version, "status": self.status, "answers": self.answers}
        return {"version": self.version, "status": self.status, "relevant": self.relevant,
                "problems": [problem_json(p, lang) for p in self.problems],
                "saved_at": self.saved_at.isoformat() if self.saved_at else None}

    @property
    def http_status(self) -> int:
        return 409 if self.conflict is not None else 200


def problem_json(problem: Mapping[str, Any], lang: str = "zh") -> dict[str, Any]:
    """One problem as the client shows it: item and message in the page's language."""
    message = problem.get("message")
    if lang == "en" and problem.get("message_en"):
        message = problem["message_en"]
    return {"item": problem.get("item"), "message": message}


def save_answers(*, session: Any, record: Any, definition: Definition, submitted: Mapping[str, Any],
                 whole: bool, write: Callable[[], list[dict[str, Any]]],
                 conflicts: tuple[type[Exception], ...], conflict_message: str,
                 check: Callable[[], list[dict[str, Any]]],
                 same_extra: Callable[[], bool] | None = None,
                 stored_extra: Callable[[], dict[str, Any]] | None = None) -> SaveResult:
    """Run `write` (the domain's save operation, which checks the version) and commit; on a stale
    version roll back and answer the conflict, unless the submitted answers (and `same_extra`,
    e.g. notes) already are the stored ones. `check` lists the current problems of the record;
    `stored_extra` the other stored values a conflict shows beside the answers."""
    try:
        problems = write()
    except conflicts:
        session.rollback()
        session.refresh(record)
        if not (same_answers(record.answers or {}, submitted, whole=whole)
                and (same_extra is None or same_extra())):
            return SaveResult(version=record.version, status=record.status, answers=dict(record.answers or {}),
                              conflict=conflict_message, written=False,
                              extra=stored_extra() if stored_extra is not None else {})
        problems = check()
        written = False
    else:
        # Committed here, not at the end of the request: a page that saves and then submits keeps
        # the answers even when the submission is refused (the unit of work rolls that back).
        session.commit()
        written = True
    answers = dict(record.answers or {})
    return SaveResult(version=record.version, status=record.status, answers=answers,
                      problems=shown_problems(problems, answers),
                      relevant=sorted(definition.relevant_items(answers)), saved_at=record.updated_at,
                      written=written)


def shown_problems(problems: Iterable[Mapping[str, Any]], answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The problems worth showing while filling in: those of answered items (missing answers are
    not problems until the record is submitted)."""
    return [dict(p) for p in problems if p.get("item") in answers]
