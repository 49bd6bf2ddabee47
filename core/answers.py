"""The shape of a set of answers, checked the same way for assessments and inspections before
any definition rule runs: every key names an item of the definition, every value is plain JSON,
text has a bounded length."""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any

from flask_babel import gettext as _

MAX_ANSWER_TEXT = 4000


def answer_problems(known: Container[str], answers: Mapping[str, Any],
                    max_text: int = MAX_ANSWER_TEXT) -> list[dict[str, Any]]:
    """Every problem with the answers' keys and value types, as [{"item", "message"}]."""
    problems: list[dict[str, Any]] = []
    for key, value in answers.items():
        if key not in known:
            problems.append({"item": key, "message": _("未知的题目编号 %(key)s", key=_printable(key))})
        elif isinstance(value, str) and len(value) > max_text:
            problems.append({"item": key, "message": _("文本过长（最多 %(n)s 字）", n=max_text)})
        elif isinstance(value, list) and not all(isinstance(v, str | int | float | bool) for v in value) or not isinstance(value, str | int | float | bool | list | type(None)):
            problems.append({"item": key, "message": _("答案类型无效")})
    return problems


def _printable(key: str) -> str:
    """The key as a person can read it in a message (control characters shown as escapes)."""
    return key[:64].encode("unicode_escape").decode("ascii") if not key.isprintable() else key[:64]
