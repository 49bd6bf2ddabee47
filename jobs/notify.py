"""Reminders: who must do what soon, as in-app notices and one digest per user and run.

A notice is unique per user, subject and day, so running the job twice a day sends nothing
twice. Notices are written first (one commit), then each user's digest goes out on the
channels the user chose (email, group bot) and is marked sent; a crash in between sends the
rest on the retry, at most one digest again.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from flask import Flask
from sqlmodel import Session, col, select

from accounts.models import Organisation, User
from core.timeutil import utcnow
from jobs.models import Notice

GRADE_EXPIRY_DAYS = 60
CATEGORIES = {
    "reassessment": "复评到期",
    "action": "整改期限",
    "approval": "待审批",
    "grade": "等级到期",
    "audit": "审计",
}


@dataclass(frozen=True)
class Item:
    subject: str
    category: str
    text: str
    link: str


def _today() -> date:
    from zoneinfo import ZoneInfo

    return utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()


class Directory:
    """Users and which organisations each one oversees (its subtree)."""

    def __init__(self, session: Session) -> None:
        self.paths = {o.id: o.path for o in session.exec(select(Organisation))}
        self.users = [u for u in session.exec(select(User).where(User.is_active == True))]  # noqa: E712

    def covering(self, organisation_id: int | None, role: str) -> list[User]:
        path = self.paths.get(organisation_id)
        if path is None:
            return []
        return [u for u in self.users if u.has_role(role) and path.startswith(self.paths.get(u.organisation_id, "~"))]

    def members(self, organisation_id: int | None, role: str) -> list[User]:
        return [u for u in self.users if u.organisation_id == organisation_id and u.has_role(role)]


def collect(session: Session, org_ids: list[int], today: date) -> dict[int, list[Item]]:
    """Everything due, by user id."""
    from assessment.models import Assessment
    from assessment.queries import reassessment_due
    from rating import operations as rating_ops
    from rating.models import CorrectiveAction, Facility, Grade, Inspection

    people = Directory(session)
    wanted = set(org_ids)
    found: dict[int, list[Item]] = {}

    def add(users: list[User], item: Item) -> None:
        for user in users:
            if user.id is not None and item.subject not in {i.subject for i in found.get(user.id, [])}:
                found.setdefault(user.id, []).append(item)

    for assessor in [u for u in people.users if u.has_role("assessor") and u.organisation_id in wanted]:
        soon, overdue = reassessment_due(session, assessor, today)
        for entry in soon + overdue:
            state = "已逾期" if entry.days_left < 0 else f"还有 {entry.days_left} 天"
            add([assessor], Item(f"reassess:{entry.assessment.id}", "reassessment",
                                 f"{entry.elder.name} 的能力复评应于 {entry.due_on.isoformat()} 前完成（{state}）",
                                 f"/elders/{entry.elder.id}"))

    now = utcnow()
    actions = session.exec(select(CorrectiveAction).where(
        col(CorrectiveAction.organisation_id).in_(org_ids),
        col(CorrectiveAction.status).in_(("open", "escalated"))))
    for action in actions:
        if action.status == "escalated":
            state, label = "escalated", "逾期已升级"
        elif rating_ops.is_overdue(action, now):
            state, label = "overdue", "已逾期"
        elif rating_ops.is_due_soon(action, now):
            state, label = "soon", "7 天内到期"
        else:
            continue
        facility = session.get(Facility, action.facility_id)
        inspection = session.get(Inspection, action.inspection_id)
        users = people.members(facility.operator_organisation_id if facility else None, "operator")
        users += [u for u in people.users if inspection and u.id in (inspection.inspector_ids or [])]
        add(users, Item(f"action:{action.id}:{state}", "action",
                        f"{facility.name if facility else ''}整改项「{action.description[:60]}」{label}"
                        f"（期限 {action.due_at.date().isoformat()}）", f"/rating/actions/{action.id}"))

    for assessment in session.exec(select(Assessment).where(col(Assessment.organisation_id).in_(org_ids),
                                                            Assessment.status == "signed")):
        add(people.covering(assessment.organisation_id, "reviewer"),
            Item(f"review:assessment:{assessment.id}", "approval",
                 f"评估 {assessment.id} 已签名，等待审核", f"/assessments/{assessment.id}"))
    for inspection in session.exec(select(Inspection).where(col(Inspection.organisation_id).in_(org_ids),
                                                            Inspection.status == "submitted")):
        facility = session.get(Facility, inspection.facility_id)
        add(people.covering(inspection.organisation_id, "admin"),
            Item(f"approve:inspection:{inspection.id}", "approval",
                 f"{facility.name if facility else ''}的检查已提交，等待审批", f"/rating/inspections/{inspection.id}"))

    horizon = today + timedelta(days=GRADE_EXPIRY_DAYS)
    for grade in session.exec(select(Grade).where(col(Grade.organisation_id).in_(org_ids), Grade.code > 0,
                                                  col(Grade.superseded_by_id).is_(None),
                                                  Grade.valid_until >= today, Grade.valid_until <= horizon)):
        facility = session.get(Facility, grade.facility_id)
        if facility is None or facility.is_disqualified:
            continue
        users = people.members(facility.operator_organisation_id, "operator")
        users += people.covering(grade.organisation_id, "admin")
        add(users, Item(f"grade:{grade.id}", "grade",
                        f"{facility.name}的等级「{grade.label}」将于 {grade.valid_until.isoformat()} 到期，请安排复评",
                        f"/rating/facilities/{facility.id}"))
    return found


def record_notices(session: Session, found: dict[int, list[Item]], today: date) -> int:
    """Write the notices not already sent today; returns how many are new (flushes only)."""
    existing = {(n.user_id, n.subject) for n in session.exec(select(Notice).where(Notice.sent_on == today))}
    new = 0
    for user_id, items in found.items():
        for item in items:
            if (user_id, item.subject) in existing:
                continue
            session.add(Notice(user_id=user_id, subject=item.subject[:120], sent_on=today, category=item.category,
                               text=item.text[:500], link=item.link[:300]))
            new += 1
    session.flush()
    return new


def notify_admins(session: Session, *, subject: str, category: str, text: str, link: str = "") -> None:
    """An in-app notice to every administrator (once a day per subject)."""
    today = _today()
    admins = [u for u in session.exec(select(User).where(User.is_active == True)) if u.has_role("admin")]  # noqa: E712
    record_notices(session, {u.id: [Item(subject, category, text, link)] for u in admins if u.id}, today)


def digest_text(user: User, notices: list[Notice], public_url: str) -> tuple[str, str]:
    """(subject, body) of one user's digest: counts per kind, then the lines, then a link."""
    counts: dict[str, int] = {}
    for notice in notices:
        counts[notice.category] = counts.get(notice.category, 0) + 1
    summary = "，".join(f"{CATEGORIES.get(k, k)} {n} 项" for k, n in counts.items())
    lines = [f"{user.display_name or user.username}，您好：", "", f"今天有 {len(notices)} 项需要您关注：{summary}。", ""]
    lines += [f"· {n.text}" for n in notices[:50]]
    if len(notices) > 50:
        lines.append(f"……另有 {len(notices) - 50} 项，请登录查看。")
    lines += ["", f"登录颐养查看详情：{public_url}/notices", "", "（此邮件由系统每日汇总发送，请勿直接回复。）"]
    return f"颐养提醒：{len(notices)} 项待办（{summary}）", "\n".join(lines)


def parse_smtp_url(url: str) -> dict[str, Any]:
    """smtp://user:password@host:port?starttls=1 (smtps:// for implicit TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("YIYANG_SMTP_URL 应形如 smtp://用户:密码@主机:端口?starttls=1")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return {"ssl": parts.scheme == "smtps", "host": parts.hostname,
            "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "user": unquote(parts.username or ""), "password": unquote(parts.password or ""),
            "starttls": query.get("starttls", "0") in ("1", "true", "yes")}


def send_email(app: Flask, to: str, subject: str, body: str) -> None:
    import os

    url = app.config.get("SMTP_URL") or os.environ.get("YIYANG_SMTP_URL")
    if not url:
        raise RuntimeError("YIYANG_SMTP_URL is not set")
    settings = parse_smtp_url(url)
    message = EmailMessage()
    message["From"] = app.config.get("MAIL_FROM") or os.environ.get("YIYANG_MAIL_FROM") or "yiyang@localhost"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    client_class = smtplib.SMTP_SSL if settings["ssl"] else smtplib.SMTP
    with client_class(settings["host"], settings["port"], timeout=20) as client:
        if settings["starttls"]:
            client.starttls()
        if settings["user"]:
            client.login(settings["user"], settings["password"])
        client.send_message(message)


def bot_payload(url: str, text: str) -> dict[str, Any]:
    """The text message each group bot accepts (Feishu/Lark differ from WeCom and DingTalk)."""
    host = (urlsplit(url).hostname or "").lower()
    if host.endswith(("feishu.cn", "larksuite.com")):
        return {"msg_type": "text", "content": {"text": text}}
    return {"msgtype": "text", "text": {"content": text}}


def send_bot(app: Flask, url: str, text: str) -> None:
    from jobs.webhooks import body_of, check_url, post_json

    status = post_json(check_url(url, app), body_of(bot_payload(url, text)), {})
    if not 200 <= status < 300:
        raise RuntimeError(f"群机器人返回 HTTP {status}")


def run_reminders(ctx: Any, org_ids: list[int], today: date | None = None) -> dict[str, Any]:
    """Step 1: notices (commit). Step 2: each user's digest, marked as sent per user."""
    import os

    today = today or _today()
    session, app = ctx.session, ctx.app
    if "notices" not in ctx.checkpoint:
        new = record_notices(session, collect(session, org_ids, today), today)
        ctx.save_checkpoint(notices=new)
    smtp = bool(app.config.get("SMTP_URL") or os.environ.get("YIYANG_SMTP_URL"))
    public_url = app.config.get("PUBLIC_URL", "")
    pending = session.exec(select(Notice).where(Notice.sent_on == today).order_by(col(Notice.id)))
    by_user: dict[int, list[Notice]] = {}
    for notice in pending:
        by_user.setdefault(notice.user_id, []).append(notice)
    emailed = pushed = 0
    errors: list[str] = []
    for user_id, notices in by_user.items():
        user = session.get(User, user_id)
        if user is None:
            continue
        channels = set(user.notify_channels.split())
        unsent = [n for n in notices if n.emailed_at is None]
        if "email" in channels and user.email and smtp and unsent:
            subject, body = digest_text(user, unsent, public_url)
            try:
                send_email(app, user.email, subject, body)
            except (OSError, smtplib.SMTPException, ValueError, RuntimeError) as exc:
                errors.append(f"{user.username}: 邮件发送失败 {exc}"[:200])
            else:
                for notice in unsent:
                    notice.emailed_at = utcnow()
                    session.add(notice)
                emailed += 1
        unpushed = [n for n in notices if n.pushed_at is None]
        if "bot" in channels and user.bot_url and unpushed:
            try:
                send_bot(app, user.bot_url, digest_text(user, unpushed, public_url)[1])
            except Exception as exc:  # a bot that refuses does not stop the others
                errors.append(f"{user.username}: 群机器人发送失败 {exc}"[:200])
            else:
                for notice in unpushed:
                    notice.pushed_at = utcnow()
                    session.add(notice)
                pushed += 1
        session.commit()
    return {"notices": ctx.checkpoint["notices"], "emails": emailed, "bot_messages": pushed,
            "errors": errors[:50]}
