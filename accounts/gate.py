"""A user whose password an administrator reset must change it before anything else: their pages
lead to the password form and their API calls are refused with 403, except the password change
and logging out. Pages and API share the rule here; neither imports the other."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, request, url_for
from flask_login import current_user

from core.api import ApiError
from core.i18n import N_

PAGE_EXEMPT = frozenset({"accounts.change_password", "accounts.logout", "static"})
API_EXEMPT = frozenset({"api.api_change_password", "api.api_logout"})
MESSAGE = N_("管理员已重置您的密码：请先修改密码（POST /api/v1/auth/password 或登录网页修改），然后才能继续使用。")


def refuse_api_call(user: Any) -> None:
    """Raise the 403 for a user who must change their password, unless this call is exempt."""
    if user is not None and user.must_change_password and request.endpoint not in API_EXEMPT:
        raise ApiError(403, "password_change_required", MESSAGE)


def page_gate() -> Any:
    """Before every page: send a user who must change their password to the password form."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in PAGE_EXEMPT:
        return None
    view = current_app.view_functions.get(endpoint)
    if getattr(view, "yiyang_access", None) == "public":
        return None
    if request.path.startswith("/api/"):
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return None  # the token's user is checked when the token resolves
        if current_user.is_authenticated:
            refuse_api_call(current_user)
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("accounts.change_password"))
    return None
