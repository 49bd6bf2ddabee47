"""`yiyang init`, `yiyang demo`, `yiyang users …` and `yiyang orgs …`."""

from __future__ import annotations

import importlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session, select

from accounts import operations as ops
from accounts import organisations as orgs
from accounts.models import ORG_KINDS, ROLE_LABELS, Organisation, User
from accounts.passwords import password_problems
from core.db import get_engine, session_scope, upgrade_database


class InputError(click.ClickException):
    """Bad input on the command line: one line of Chinese and English, exit status 2."""

    exit_code = 2


DEMO_USERS = [
    ("admin", "系统管理员", ["admin"], "city"),
    ("assessor1", "评估员 张敏", ["assessor"], "district1"),
    ("assessor2", "评估员 李强", ["assessor"], "district1"),
    ("reviewer1", "审核员 王芳", ["reviewer"], "city"),
    ("inspector1", "检查员 赵磊", ["inspector"], "city"),
    ("inspector2", "检查员 陈静", ["inspector"], "city"),
    ("other_assessor", "他机构评估员 周洋", ["assessor"], "other"),
]


@dataclass
class DemoContext:
    """What the accounts seed made, handed to each domain's demo seeder."""

    organisations: dict[str, Organisation]
    users: dict[str, User]
    extra: dict[str, Any] = field(default_factory=dict)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """创建或迁移数据库到最新版本 / create or migrate the database to head."""
    url = current_app.config["DATABASE_URL"]
    upgrade_database(url)
    click.echo(f"数据库已就绪 / database ready: {_safe_url(url)}")
    from instruments.registry import seed_builtin

    with session_scope(get_engine()) as session:
        for definition_id, version, what in seed_builtin(session):
            click.echo(f"内置定义 / built-in definition {definition_id} {version}: {what}")


def _safe_url(url: str) -> str:
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def demo_password(instance_path: Path) -> tuple[str, bool]:
    """(password, newly generated). Generated once and kept in the instance folder."""
    configured = os.environ.get("YIYANG_DEMO_PASSWORD")
    if configured:
        return configured, False
    path = instance_path / "demo_password.txt"
    if path.exists():
        return path.read_text().strip(), False
    password = "yy-" + secrets.token_urlsafe(9)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password)
    path.chmod(0o600)
    return password, True


def seed_accounts(session: Session, password: str) -> tuple[DemoContext, bool]:
    """Create the demo organisations and users unless they exist; returns (context, created)."""
    existing = session.exec(select(Organisation).where(Organisation.name == "示例省")).first()
    if existing:
        orgs = {o.name: o for o in session.exec(select(Organisation))}
        context = DemoContext(
            organisations={
                "province": orgs["示例省"], "city": orgs["示例市"], "district1": orgs["示例市东城区"],
                "district2": orgs["示例市西城区"], "other": orgs["另一评估机构"],
            },
            users={u.username: u for u in session.exec(select(User))},
        )
        return context, False
    province = ops.create_organisation(session=session, name="示例省", kind="province")
    city = ops.create_organisation(session=session, name="示例市", kind="city", parent=province)
    district1 = ops.create_organisation(session=session, name="示例市东城区", kind="district", parent=city)
    district2 = ops.create_organisation(session=session, name="示例市西城区", kind="district", parent=city)
    ops.create_organisation(session=session, name="和平街道", kind="street", parent=district1)
    other = ops.create_organisation(session=session, name="另一评估机构", kind="agency")
    orgs = {"province": province, "city": city, "district1": district1, "district2": district2, "other": other}
    users = {}
    for username, name, roles, org_key in DEMO_USERS:
        users[username] = ops.create_user(session=session, username=username, password=password,
                                          organisation=orgs[org_key], roles=roles, display_name=name)
        users[username].email = f"{username}@example.org"
    return DemoContext(organisations=orgs, users=users), True


def run_domain_seeders(session: Session, context: DemoContext) -> list[str]:
    """Each domain package may offer demo.seed_demo(session=, context=); run those present."""
    done = []
    for package in ("assessment", "rating"):
        try:
            module = importlib.import_module(f"{package}.demo")
        except ModuleNotFoundError as exc:
            if exc.name in (package, f"{package}.demo"):
                continue
            raise
        module.seed_demo(session=session, context=context)
        done.append(package)
    return done


@click.command("demo")
@click.option("--elders", type=click.IntRange(min=1), default=None,
              help="再批量生成一座城市：N 位老人及相应的评估、机构与审计记录 / also fill a city of N elders")
@with_appcontext
def demo_command(elders: int | None) -> None:
    """添加示例机构、用户和记录（可重复运行）/ add demo organisations, users and records."""
    password, generated = demo_password(Path(current_app.instance_path))
    problems = password_problems(password, username="admin")
    if problems:
        raise InputError("YIYANG_DEMO_PASSWORD 不符合密码要求 / does not meet the password policy: "
                         + "；".join(problems))
    with session_scope(get_engine()) as session:
        context, created = seed_accounts(session, password)
        if created:
            run_domain_seeders(session, context)
        if elders:
            from core.city import fill_city

            counts = fill_city(session, context, elders, progress=lambda m: click.echo(f"  {m}", err=True))
            click.echo("城市数据 / city: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    if elders:
        from core.city import vacuum_after_fill

        click.echo("  vacuum analyze", err=True)
        vacuum_after_fill(get_engine())
    if created:
        click.echo("示例数据已创建 / demo data created.")
    else:
        click.echo("示例数据已存在，未重复添加 / demo data already present, nothing added.")
    click.echo("示例账号 / demo logins:")
    for username, name, _roles, _org in DEMO_USERS:
        click.echo(f"  {username:<15} {name}")
    if generated:
        click.echo(f"  密码 / password: {password}   （仅显示这一次 / shown once）")
    elif os.environ.get("YIYANG_DEMO_PASSWORD"):
        click.echo("  密码 / password: YIYANG_DEMO_PASSWORD 的值 / the value of YIYANG_DEMO_PASSWORD")
    else:
        click.echo(f"  密码保存在 / password kept in: {Path(current_app.instance_path) / 'demo_password.txt'}")


@click.group("users")
def users_group() -> None:
    """管理用户 / manage users."""


@users_group.command("create")
@click.argument("username")
@click.option("--org", "org_name", required=True, help="机构名称 / organisation name")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(list(ROLE_LABELS)))
@click.password_option()
@with_appcontext
def create_user_command(username: str, org_name: str, roles: tuple[str, ...], password: str) -> None:
    """创建用户 / create a user."""
    with session_scope(get_engine()) as session:
        org = _org(session, org_name)
        try:
            ops.create_user(session=session, username=username, password=password,
                            organisation=org, roles=list(roles))
        except ops.AccountError as error:
            raise InputError("；".join(error.problems)) from None
    click.echo(f"已创建用户 {username}")


def _user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise InputError(f"找不到用户：{username} / no user named {username}")
    return user


@users_group.command("reset-password")
@click.argument("username")
@click.option("--password", "password", default=None,
              help="临时密码；不给则自动生成并只显示一次 / temporary password (generated when absent)")
@with_appcontext
def reset_password_command(username: str, password: str | None) -> None:
    """重置密码：用户下次登录须先修改，令牌全部失效 / reset a password (changed at next login)."""
    with session_scope(get_engine()) as session:
        try:
            temporary = ops.reset_password(session=session, user=_user(session, username), actor=None,
                                           new_password=password)
        except ops.AccountError as error:
            raise InputError("；".join(error.problems)) from None
    click.echo(f"已重置 {username} 的密码；下次登录须先修改 / password reset; must be changed at next login")
    if not password:
        click.echo(f"  临时密码 / temporary password: {temporary}   （仅显示这一次 / shown once）")


_ACTIVITY_WORDS = {True: (("已启用", "activated"), ("已是启用状态", "already active")),
                   False: (("已停用", "deactivated"), ("已是停用状态", "already inactive"))}


def _set_active(usernames: tuple[str, ...], is_active: bool) -> None:
    """The one body of `users activate` and `users deactivate`: every username is found before any
    change (an unknown one changes nothing), then each is set in one transaction; a user already in
    that state is said so, not changed again."""
    done, already = _ACTIVITY_WORDS[is_active]
    with session_scope(get_engine()) as session:
        users = [_user(session, username) for username in usernames]
        lines = []
        for user in users:
            if user.is_active == is_active:
                lines.append(f"{user.username}: {already[0]} / {already[1]}")
                continue
            try:
                ops.set_active(session=session, user=user, is_active=is_active, actor=None)
            except ops.AccountError as error:
                raise InputError(f"{user.username}: " + "；".join(error.problems)) from None
            lines.append(f"{done[0]} {user.username} / {done[1]}")
    for line in lines:
        click.echo(line)


@users_group.command("deactivate")
@click.argument("usernames", nargs=-1, required=True)
@with_appcontext
def deactivate_user_command(usernames: tuple[str, ...]) -> None:
    """停用用户：不能再登录，令牌失效 / deactivate users (no login, tokens end)."""
    _set_active(usernames, False)


@users_group.command("activate")
@click.argument("usernames", nargs=-1, required=True)
@with_appcontext
def activate_user_command(usernames: tuple[str, ...]) -> None:
    """重新启用用户 / activate users again."""
    _set_active(usernames, True)


@click.group("orgs")
def orgs_group() -> None:
    """管理机构树 / manage the organisation tree."""


def _org_by_name(session: Session, name: str) -> Organisation:
    found = list(session.exec(select(Organisation).where(Organisation.name == name).limit(2)))
    if not found:
        raise InputError(f"找不到机构：{name} / no organisation named {name}")
    if len(found) > 1:
        raise InputError(f"有多个机构名为 {name}，请用编号（#ID）/ several organisations are named {name}: use #ID")
    return found[0]


def _org(session: Session, ref: str) -> Organisation:
    if ref.startswith("#") and ref[1:].isdigit():
        org = session.get(Organisation, int(ref[1:]))
        if org is None:
            raise InputError(f"找不到机构 {ref} / no organisation {ref}")
        return org
    return _org_by_name(session, ref)


@orgs_group.command("create")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(sorted(ORG_KINDS)), help="机构类型 / kind")
@click.option("--parent", "parent_ref", default=None, help="上级机构名称或 #编号 / parent name or #ID")
@with_appcontext
def create_org_command(name: str, kind: str, parent_ref: str | None) -> None:
    """新建机构 / create an organisation."""
    with session_scope(get_engine()) as session:
        parent = _org(session, parent_ref) if parent_ref else None
        try:
            org = orgs.create_organisation(session=session, name=name, kind=kind, parent=parent)
        except orgs.OrganisationError as error:
            raise InputError("；".join(str(e["message"]) for e in error.errors)) from None
        click.echo(f"已新建机构 / created: #{org.id} {org.name}")


@orgs_group.command("list")
@with_appcontext
def list_orgs_command() -> None:
    """列出机构树 / print the organisation tree."""
    with session_scope(get_engine()) as session:
        for org in session.exec(select(Organisation).order_by(Organisation.path)):  # type: ignore[arg-type]
            depth = org.path.count("/") - 2
            state = "" if org.is_active else "  (停用 / inactive)"
            click.echo(f"{'  ' * depth}#{org.id} {org.name} [{org.kind}]{state}")


@orgs_group.command("contract")
@click.argument("agency")
@click.argument("area")
@click.option("--until", "until", default=None, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="结束日期 / last day (YYYY-MM-DD)")
@with_appcontext
def contract_command(agency: str, area: str, until: Any) -> None:
    """第三方评估机构签约服务区域 / let an agency work in an area."""
    with session_scope(get_engine()) as session:
        try:
            contract = orgs.grant_contract(session=session, actor=None, agency=_org(session, agency),
                                           organisation=_org(session, area),
                                           valid_until=until.date() if until else None)
        except orgs.OrganisationError as error:
            raise InputError("；".join(str(e["message"]) for e in error.errors)) from None
        click.echo(f"已签约 / contract #{contract.id}")


@orgs_group.command("update")
@click.argument("ref")
@click.option("--name", default=None, help="新名称 / new name")
@click.option("--kind", default=None, type=click.Choice(sorted(ORG_KINDS)), help="机构类型 / kind")
@click.option("--parent", "parent_ref", default=None,
              help="移到此上级机构之下（名称或 #编号；'-' 表示顶级）/ move under this parent ('-' for a root)")
@click.option("--deactivate", "active", flag_value=False, default=None, help="停用 / deactivate")
@click.option("--activate", "active", flag_value=True, help="重新启用 / activate again")
@with_appcontext
def update_org_command(ref: str, name: str | None, kind: str | None, parent_ref: str | None,
                       active: bool | None) -> None:
    """改名、移动、停用或启用机构（下级随之移动）/ rename, move, deactivate or activate an organisation."""
    with session_scope(get_engine()) as session:
        org = _org(session, ref)
        moving = parent_ref is not None
        parent = _org(session, parent_ref) if moving and parent_ref != "-" else None
        try:
            orgs.update_organisation(session=session, actor=None, organisation=org, name=name, kind=kind,
                                     parent=parent, move=moving, is_active=active)
        except orgs.OrganisationError as error:
            raise InputError("；".join(str(e["message"]) for e in error.errors)) from None
        state = "" if org.is_active else "（停用 / inactive）"
        click.echo(f"已保存 / saved: #{org.id} {org.name} [{org.kind}]{state}")
