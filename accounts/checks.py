"""The checks of a new user's fields, one place for every way a user is made: the page, the API,
`yiyang users create` (through accounts.operations.create_user) and the bulk import
(accounts.imports). Every problem at once, as (field, message in the request's language).

Usernames are unique whatever their case ("Admin" and "admin" would be two people who cannot tell
their accounts apart); `taken_usernames` looks a batch up in one query, for the import's 1,000
rows as for the page's one. Text lengths are the User model's column lengths, checked by the flush
guard's rule (core.validation.length_problems), so the messages cannot drift from the schema.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlmodel import Session

from accounts.models import ROLE_LABELS, User
from accounts.passwords import password_problems
from core.i18n import N_
from core.validation import length_problems

LABELS = {"username": N_("用户名"), "display_name": N_("姓名"), "email": N_("邮箱")}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def user_input_problems(*, username: str, roles: Collection[str], organisation: Any | None,
                        display_name: str = "", email: str = "",
                        password: str | None = None,
                        managed: Collection[int] | None = None) -> list[tuple[str, str]]:
    """Every problem of a new user's username, roles, organisation, name, e-mail and password (None:
    generated later, nothing to check). `roles` are role codes; anything else is an unknown role.
    `organisation` is the Organisation the user goes into (None: found by the caller, which says why not);
    `managed` the ids the administrator may put users in (accounts.queries.managed_org_ids; None: no
    administrator, the command line)."""
    problems: list[tuple[str, str]] = []
    too_long = dict(text_length_problems(username=username, email=email))
    if not username:
        problems.append(("username", _("请填写用户名。")))
    elif "username" in too_long:
        problems.append(("username", too_long["username"]))
    elif any(c.isspace() for c in username):
        problems.append(("username", _("用户名不能包含空格。")))
    if organisation is not None and managed is not None and organisation.id not in managed:
        problems.append(("organisation", _("机构“%(name)s”不在您管理的范围内，不能在其中添加用户。",
                                           name=organisation.name)))
    elif organisation is not None and not organisation.is_active:
        problems.append(("organisation", _("机构“%(name)s”已停用，不能添加用户。", name=organisation.name)))
    problems += role_problems(roles)
    problems += display_name_problems(display_name)
    if "email" in too_long:
        problems.append(("email", too_long["email"]))
    elif email and not EMAIL.match(email):
        problems.append(("email", _("邮箱格式不正确。")))
    if password is not None:
        problems += [("password", message) for message in password_problems(password, username=username)]
    return problems


def role_problems(roles: Collection[str]) -> list[tuple[str, str]]:
    """Roles of a new or edited user: at least one, each a known role code."""
    unknown = sorted({r for r in roles if r not in ROLE_LABELS})
    if unknown:
        comma = _("、")  # a list's separator in the request's language
        return [("roles", _("未知的角色：%(roles)s（可用：%(known)s）。", roles=comma.join(unknown),
                            known=comma.join(_(label) for label in ROLE_LABELS.values())))]
    return [] if roles else [("roles", _("至少需要一个角色。"))]


def display_name_problems(display_name: str) -> list[tuple[str, str]]:
    return text_length_problems(display_name=display_name.strip())


def text_length_problems(**values: str) -> list[tuple[str, str]]:
    """(field, message naming the field) for each of the User fields given that is longer than its
    column allows (the limits are read from the model, never written here)."""
    return [(name, _("%(field)s：%(problem)s", field=_(LABELS[name]), problem=str(message)))
            for name, message in length_problems(User, values, values)]


def taken_usernames(session: Session, usernames: Iterable[str]) -> set[str]:
    """The usernames (lower case) already registered, in any case, among `usernames`."""
    wanted = sorted({u.lower() for u in usernames if u})
    if not wanted:
        return set()
    return set(session.execute(select(func.lower(User.username))
                               .where(func.lower(User.username).in_(wanted))).scalars())
