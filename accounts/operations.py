"""Writes for accounts. Keyword-only, take the session, flush, never commit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlmodel import Session, select

from accounts.checks import (
    display_name_problems,
    role_problems,
    taken_usernames,
    user_input_problems,
)
from accounts.models import ApiToken, LoginSession, Organisation, User
from accounts.organisations import create_organisation  # noqa: F401  (the demo and tests create through ops)
from accounts.passwords import DUMMY_HASH, hash_password, password_problems, verify_password
from accounts.queries import managed_org_ids
from audit import record_event
from core.db import bump_version
from core.errors import DomainError
from core.timeutil import utcnow

API_TOKEN_DAYS = 30
API_TOKEN_IDLE_HOURS = 72  # the default of YIYANG_API_TOKEN_IDLE_HOURS


class AccountError(DomainError, ValueError):
    """A refused account change; `problems` lists every reason in the request's language."""

    separator = "; "

    def __init__(self, problems: list[str], items: list[str | None] | None = None) -> None:
        items = items or [None] * len(problems)
        DomainError.__init__(self, None, errors=[{"item": i, "message": p} for i, p in zip(items, problems, strict=True)])
        self.problems = problems

    @classmethod
    def of(cls, problems: list[tuple[str, str]]) -> AccountError:
        """From (field, message) pairs, as accounts.checks gives them."""
        return cls([message for _field, message in problems], [field for field, _message in problems])


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    *,
    session: Session,
    username: str,
    password: str,
    organisation: Organisation,
    roles: list[str] | set[str],
    display_name: str = "",
    actor: User | None = None,
) -> User:
    """Create a user after the checks every way of making one shares (accounts.checks)."""
    from accounts.organisations import lock_organisations

    lock_organisations(session, organisation)  # a deactivation in progress finishes first
    managed = managed_org_ids(session, actor) if actor is not None else None
    problems = user_input_problems(username=username, roles=roles, organisation=organisation,
                                   display_name=display_name, password=password, managed=managed)
    if not any(field == "username" for field, _message in problems) and taken_usernames(session, [username]):
        problems.append(("username", _("用户名已被使用。")))
    if problems:
        raise AccountError.of(problems)
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        organisation_id=organisation.id,  # type: ignore[arg-type]
        roles=" ".join(sorted(set(roles))),
    )
    session.add(user)
    session.flush()
    record_event(
        session=session,
        action="user.create",
        target=user,
        changes={"username": username, "roles": user.roles, "organisation_id": organisation.id},
        actor=actor,
    )
    return user


def set_roles(*, session: Session, user: User, roles: list[str] | set[str], actor: User | None) -> None:
    """Replace the user's roles (see update_user for an edit that checks the version)."""
    update_user(session=session, user=user, actor=actor, roles=roles)


def set_active(*, session: Session, user: User, is_active: bool, actor: User | None) -> None:
    """Deactivate (no login; every session and token ends) or activate a user again."""
    update_user(session=session, user=user, actor=actor, is_active=is_active)


def update_user(*, session: Session, user: User, actor: User | None, version: int | None = None,
                roles: list[str] | set[str] | None = None, is_active: bool | None = None,
                display_name: str | None = None, organisation: Organisation | None = None) -> User:
    """Change roles, name, organisation or active state in one checked edit (the optimistic lock:
    two administrators who began from the same version never both win). Deactivating ends every
    session and API token of the user at once."""
    problems = [message for _field, message in (role_problems(roles) if roles is not None else [])
                + (display_name_problems(display_name) if display_name is not None else [])]
    if organisation is not None and organisation.id != user.organisation_id and not organisation.is_active:
        problems.append(_("机构已停用，不能把用户调入。"))
    if actor is not None and actor.id == user.id:
        if is_active is False:
            problems.append(_("不能停用自己的账号。"))
        if roles is not None and "admin" in user.role_set and "admin" not in set(roles):
            problems.append(_("不能取消自己的管理员角色。"))
    if problems:
        raise AccountError(problems)
    bump_version(session, user, version)
    changes: dict[str, Any] = {}
    if roles is not None and " ".join(sorted(set(roles))) != user.roles:
        changes["roles"] = {"old": user.roles, "new": " ".join(sorted(set(roles)))}
        user.roles = changes["roles"]["new"]
    if display_name is not None and display_name.strip() and display_name.strip() != user.display_name:
        changes["display_name"] = {"old": user.display_name, "new": display_name.strip()}
        user.display_name = display_name.strip()
    if organisation is not None and organisation.id != user.organisation_id:
        changes["organisation_id"] = {"old": user.organisation_id, "new": organisation.id}
        user.organisation_id = organisation.id  # type: ignore[assignment]
    activity = is_active is not None and is_active != user.is_active
    if activity:
        user.is_active = bool(is_active)
        if not is_active:
            end_all_sessions(session=session, user=user)
    session.add(user)
    session.flush()
    if "roles" in changes:
        record_event(session=session, action="user.roles", target=user, actor=actor, changes={"roles": changes["roles"]})
    others = {k: v for k, v in changes.items() if k != "roles"}
    if others:
        record_event(session=session, action="user.update", target=user, actor=actor, changes=others)
    if activity:
        record_event(session=session, action="user.activate" if is_active else "user.deactivate",
                     target=user, actor=actor)
    return user


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    """The user when the password matches an active account; the same cost either way."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        verify_password(DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password) or not user.is_active:
        return None
    return user


def start_login_session(*, session: Session, user: User, client_address: str | None) -> str:
    """Open a server-side login session; the returned token goes into the signed cookie."""
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(token_hash=token_digest(token), user_id=user.id, client_address=client_address)  # type: ignore[arg-type]
    )
    user.last_login_at = utcnow()
    session.flush()
    user.bind_login_session(token)
    return token


def end_login_session(*, session: Session, token: str) -> None:
    found = session.exec(select(LoginSession).where(LoginSession.token_hash == token_digest(token))).first()
    if found and found.ended_at is None:
        found.ended_at = utcnow()
        session.flush()


def end_all_sessions(*, session: Session, user: User) -> None:
    """End every browser session and API token of the user (password change, deactivation)."""
    now = utcnow()
    for open_session in session.exec(
        select(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))  # type: ignore[union-attr]
    ):
        open_session.ended_at = now
    for token in session.exec(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
    ):
        token.revoked_at = now
    session.flush()


def change_password(*, session: Session, user: User, old_password: str, new_password: str) -> None:
    """Check the old password and the policy, store the new hash, end every other session."""
    problems = []
    if not verify_password(user.password_hash, old_password):
        problems.append(_("原密码不正确。"))
    problems += password_problems(new_password, username=user.username)
    if problems:
        raise AccountError(problems)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    cleared = user.must_change_password
    user.must_change_password = False
    end_all_sessions(session=session, user=user)
    record_event(session=session, action="user.password_change", target=user, actor=user,
                 changes={"must_change_password": {"old": True, "new": False}} if cleared else None)


TEMPORARY_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # nothing to misread


def temporary_password(length: int = 12) -> str:
    """A random password to hand over once; easy to type (no 0/O, 1/l/I)."""
    return "".join(secrets.choice(TEMPORARY_PASSWORD_ALPHABET) for _ in range(length))


def reset_password(*, session: Session, user: User, actor: User | None, new_password: str | None = None,
                   version: int | None = None) -> str:
    """An administrator sets a temporary password (given, or generated when None) and returns it:
    the user must change it at the next login; every session and API token of theirs ends."""
    generated = not new_password
    password = temporary_password() if generated else str(new_password)
    problems = password_problems(password, username=user.username)
    if problems:
        raise AccountError(problems)
    bump_version(session, user, version)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.must_change_password = True
    end_all_sessions(session=session, user=user)
    record_event(session=session, action="user.password_reset", target=user, actor=actor,
                 changes={"must_change_password": True, "generated": generated, "api_tokens_revoked": True})
    return password


def load_login_session(
    *, session: Session, token: str, idle_minutes: int, max_hours: int
) -> User | None:
    """The user of a live login session; ends it when idle too long or past its lifetime."""
    found = session.exec(select(LoginSession).where(LoginSession.token_hash == token_digest(token))).first()
    if found is None or found.ended_at is not None:
        return None
    now = utcnow()
    if now - found.last_seen_at > timedelta(minutes=idle_minutes) or now - found.created_at > timedelta(
        hours=max_hours
    ):
        found.ended_at = now
        session.flush()
        return None
    user = session.get(User, found.user_id)
    if user is None or not user.is_active:
        return None
    if now - found.last_seen_at > timedelta(seconds=30):  # keep writes rare
        found.last_seen_at = now
        session.flush()
    user.bind_login_session(token)
    return user


def issue_api_token(*, session: Session, user: User, client_address: str | None = None) -> str:
    """A new bearer token for `user`; only its digest is stored."""
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            token_hash=token_digest(token),
            user_id=user.id,  # type: ignore[arg-type]
            expires_at=utcnow() + timedelta(days=API_TOKEN_DAYS),
            client_address=(client_address or "")[:64] or None,
        )
    )
    session.flush()
    return token


def resolve_api_token(*, session: Session, token: str,
                      idle_hours: int = API_TOKEN_IDLE_HOURS) -> User | None:
    """The user of a live token; a token unused for `idle_hours` ends here."""
    found = session.exec(select(ApiToken).where(ApiToken.token_hash == token_digest(token))).first()
    now = utcnow()
    if found is None or found.revoked_at is not None or found.expires_at < now:
        return None
    if now - (found.last_used_at or found.created_at) > timedelta(hours=idle_hours):
        found.revoked_at = now
        session.flush()
        return None
    user = session.get(User, found.user_id)
    if user is None or not user.is_active:
        return None
    if found.last_used_at is None or now - found.last_used_at > timedelta(seconds=60):  # keep writes rare
        found.last_used_at = now
        session.flush()
    user.bind_api_token(found.id)
    return user


def api_tokens_of(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens that still work, newest first."""
    return list(session.exec(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),  # type: ignore[union-attr]
                               ApiToken.expires_at > utcnow())
        .order_by(ApiToken.id.desc())  # type: ignore[union-attr]
    ))


def revoke_api_tokens(*, session: Session, user: User, token_id: int | None = None) -> int:
    """End one of the user's tokens (or all of them with no `token_id`); returns how many ended."""
    ended = 0
    for token in api_tokens_of(session, user):
        if token_id is None or token.id == token_id:
            token.revoked_at = utcnow()
            ended += 1
    session.flush()
    if ended:
        record_event(session=session, action="api_token.revoke", target=user, actor=user,
                     changes={"tokens": ended, "token_id": token_id})
    return ended
