"""Importing user accounts from a spreadsheet (docs/import.md): username, name, organisation,
roles, optional e-mail and initial password. A row without a password gets a generated one
(accounts.operations.temporary_password), reported once in the import's answer and never kept
in clear. Every imported user must change the password at the first sign-in
(`User.must_change_password`).

A row is checked by accounts.checks.user_input_problems, the same checks as the page, the API and
`yiyang users create`; its organisation must be one the administrator manages
(accounts.queries.managed_org_ids, the pages' and the API's rule), not merely one they can see. A user is the one already registered when the username exists in any case
(usernames are unique across the whole installation, whatever their case).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from accounts.checks import taken_usernames, user_input_problems
from accounts.models import ROLE_LABELS, Organisation, User
from accounts.operations import temporary_password
from accounts.passwords import hash_password
from accounts.queries import OrganisationNames
from core.i18n import N_
from core.tabular import Column, Row, parse_choice
from core.timeutil import utcnow
from imports.registry import Checked, Importer, register

COLUMNS = (
    Column("username", N_("用户名"), "Username", ("账号", "登录名", "user", "login"), required=True, example="pinggu01"),
    Column("display_name", N_("姓名"), "Name", ("显示名", "full name"), example="李敏"),
    Column("organisation", N_("所属机构"), "Organisation", ("机构", "单位", "organization")),
    Column("roles", N_("角色"), "Roles", ("role",), required=True, example="评估员"),
    Column("email", N_("邮箱"), "Email", ("电子邮箱", "e-mail", "mail")),
    Column("password", N_("初始密码"), "Password", ("密码", "initial password")),
)
_SEPARATORS = re.compile(r"[\s,，、;；/]+")


@dataclass
class UserImport:
    session: Session
    actor: User
    orgs: OrganisationNames
    now: Any
    passwords: list[list[str]] = field(default_factory=list)


def parse_roles(text: str) -> tuple[list[str], list[str]]:
    """(roles, unknown words) from '评估员、审核员' or 'assessor reviewer'."""
    roles, unknown = [], []
    for word in (w for w in _SEPARATORS.split(text) if w):
        role = parse_choice(word, ROLE_LABELS)
        if role is None:
            unknown.append(word)
        elif role not in roles:
            roles.append(role)
    return roles, unknown


@register
class UserImporter(Importer):
    kind = "users"
    title = N_("用户")
    columns = COLUMNS
    audit_action = "user.import"
    duplicate_message = N_("该用户名已被使用，跳过。")

    def start(self, *, session: Session, actor: User, commit: bool) -> UserImport:
        return UserImport(session=session, actor=actor, orgs=OrganisationNames(session, actor, managed=True), now=utcnow())

    def check(self, context: UserImport, rows: list[Row]) -> list[Checked]:
        out: list[Checked] = []
        for row in rows:
            get, problems = row.values.get, []
            username = get("username", "")
            org_id = context.orgs.default_id
            if get("organisation"):
                org_id, reason = context.orgs.find(get("organisation", ""))
                if reason:
                    problems.append(("organisation", reason))
            roles, unknown = parse_roles(get("roles", ""))
            organisation = context.session.get(Organisation, org_id) if org_id is not None else None
            problems += user_input_problems(username=username, roles=roles + unknown, organisation=organisation,
                                            display_name=get("display_name", ""), email=get("email", ""),
                                            password=get("password") or None)
            record = None if problems else {"username": username, "display_name": get("display_name") or username,
                                            "organisation_id": org_id, "roles": " ".join(sorted(roles)),
                                            "email": get("email", ""), "password": get("password", "")}
            out.append(Checked(row=row, problems=problems, key=username.lower() if username else None,
                               key_column="username", record=record))
        taken = taken_usernames(context.session, [c.key for c in out if c.key])
        for item in out:
            item.exists = item.key in taken
        return out

    def insert(self, context: UserImport, records: list[Any]) -> list[int]:
        users = []
        for record in records:
            given = record.pop("password")
            password = given or temporary_password()
            user = User(**record, password_hash=hash_password(password), password_changed_at=context.now,
                        created_at=context.now, must_change_password=True)
            context.session.add(user)
            users.append(user)
            if not given:  # shown once in the answer, never stored in clear
                context.passwords.append([user.username, password])
        context.session.flush()
        return [user.id for user in users if user.id is not None]

    def summary(self, context: UserImport) -> dict[str, Any]:
        return {"passwords": context.passwords} if context.passwords else {}
