"""Route protection: every view declares who may call it.

`@require_roles("assessor", "reviewer")` or `@require_login` or `@public`. The declaration is
kept on the function (`yiyang_access`) so a test can prove no route was left undeclared.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, request
from flask_login import current_user

F = TypeVar("F", bound=Callable[..., Any])

ROLES = ("admin", "assessor", "reviewer", "inspector", "operator")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_actor() -> Any:
    """The authenticated user of this request (session or bearer token), or None."""
    user = g.get("api_user")
    if user is not None:
        return user
    if current_user and current_user.is_authenticated and _cookie_may_act():
        return current_user._get_current_object()
    return None


def _cookie_may_act() -> bool:
    """The API is exempt from the forms' CSRF check because it authenticates with bearer tokens.
    A browser sends the session cookie with any cross-site request, so on the API the cookie
    counts for a write only with the page's CSRF token in `X-CSRFToken`; otherwise the caller is
    anonymous (401)."""
    if not request.path.startswith("/api/") or request.method in SAFE_METHODS:
        return True
    from flask_wtf.csrf import validate_csrf
    from wtforms.validators import ValidationError

    try:
        validate_csrf(request.headers.get("X-CSRFToken"))
    except ValidationError:
        return False
    return True


def _declare(view: F, access: tuple[str, ...] | str) -> F:
    view.yiyang_access = access  # type: ignore[attr-defined]
    return view


def public(view: F) -> F:
    """No login needed (login page, certificate verification, static)."""
    return _declare(view, "public")


def require_roles(*roles: str) -> Callable[[F], F]:
    """Only users holding one of these roles; others get 403, anonymous users the login page."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_actor()
            if user is None:
                return _unauthenticated()
            if roles and not user.has_any_role(roles):
                abort(403)
            return view(*args, **kwargs)

        return _declare(wrapped, tuple(roles) or "login")  # type: ignore[arg-type]

    return decorator


def require_login(view: F) -> F:
    """Any signed-in user, whatever the role."""
    return require_roles()(view)


def _unauthenticated() -> Any:
    from flask import current_app

    if request.path.startswith("/api/"):
        abort(401)
    return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
