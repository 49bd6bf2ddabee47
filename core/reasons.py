"""Reasons the system writes itself (a facility disqualified after a failed re-inspection, an
action escalated when overdue...), stored in Chinese as the official wording, shown in the page's
language. A reason a person typed is data: shown as typed.

A stored reason is the Chinese message of one of the entries below, with its placeholders filled
in; `reason_text` recognises it (older rows too; `_EARLIER` maps the few older wordings) and translates it
through the catalog with the same values. Anything else comes back unchanged.

    record_event(..., reason=system_reason(REINSPECTION_FAILED, inspection=12))
    {{ facility.disqualified_reason|reason_text }}
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from flask_babel import gettext as _

from core.i18n import N_

REINSPECTION_FAILED = N_("复查（检查 #%(inspection)s）仍不合格：取消服务提供资格")
REINSPECTION_PASSED = N_("复查（检查 #%(inspection)s）合格")
FACILITY_DISQUALIFIED = N_("机构已被取消服务提供资格")
OVERDUE = N_("逾期未整改，已升级处理")
OLDER_INSPECTION = N_("该检查早于已审批的较新检查，较新的等级继续有效")
NOT_GENUINE = N_("签名无效或内容被篡改：这不是本系统签发的证书内容")
UNKNOWN_CERTIFICATE = N_("没有这个编号的证书：请核对链接或二维码。")

SYSTEM_REASONS = (REINSPECTION_FAILED, REINSPECTION_PASSED, FACILITY_DISQUALIFIED, OVERDUE, OLDER_INSPECTION,
                  NOT_GENUINE, UNKNOWN_CERTIFICATE)
# Stored by earlier versions in other words: read as today's reason.
_EARLIER = {"逾期未整改": OVERDUE}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def system_reason(message: str, **values: Any) -> str:
    """The stored (Chinese) text of a system reason; `message` is one of SYSTEM_REASONS."""
    if message not in SYSTEM_REASONS:
        raise ValueError(f"not a system reason: {message}")
    return message % values if values else message


@cache
def _patterns() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for message in SYSTEM_REASONS:
        parts = _PLACEHOLDER.split(message)  # text, name, text, name, ..., text
        regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
        out.append((re.compile(f"^{regex}$"), message))
    return out


def reason_text(stored: str | None) -> str:
    """A stored reason in the request's language: a system reason translated, anything else as stored."""
    if not stored:
        return ""
    stored = _EARLIER.get(stored, stored)
    for pattern, message in _patterns():
        found = pattern.match(stored)
        if found:
            return _(message, **found.groupdict())
    return stored
