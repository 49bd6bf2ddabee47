"""Pages: the job list and a job's progress (administrators), webhook subscriptions and their
delivery log (administrators), and everyone's notices and notification settings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import col, select

from accounts.queries import visible_org_ids
from audit import record_event
from core.api import ApiError
from core.auth import current_actor, require_login, require_roles
from core.db import get_session
from core.i18n import Labels
from core.navigation import register_nav
from core.timeutil import utcnow
from jobs.access import job_or_404, scoped_or_404, visible_jobs
from jobs.events import EVENTS
from jobs.models import (
    DELIVERY_STATUSES,
    JOB_STATUSES,
    Notice,
    WebhookDelivery,
    WebhookSubscription,
)
from jobs.registry import KINDS

bp = Blueprint("jobs", __name__)

register_nav("jobs.index", _l("后台任务"), roles=("admin",), order=92)

PAGE_KINDS = ("certificates.issue", "escalate", "reminders", "audit.verify")
CHANNELS = {"email": _l("电子邮件"), "bot": _l("群机器人（企业微信、钉钉、飞书）")}


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"JOB_STATUSES": Labels(JOB_STATUSES), "DELIVERY_STATUSES": Labels(DELIVERY_STATUSES),
            "EVENT_LABELS": Labels(EVENTS)}


def kind_title(kind: str) -> str:
    spec = KINDS.get(kind)
    return str(spec.title) if spec else kind


@bp.route("/admin/jobs/")
@require_roles("admin")
def index() -> Any:
    session = get_session()
    return render_template("jobs/index.html", jobs=visible_jobs(session, current_actor()),
                           kinds=[(k, kind_title(k)) for k in PAGE_KINDS if k in KINDS], kind_title=kind_title)


@bp.route("/admin/jobs/", methods=["POST"])
@require_roles("admin")
def start() -> Any:
    from jobs.runner import submit

    kind = request.form.get("kind", "")
    if kind not in PAGE_KINDS or kind not in KINDS:
        flash(_("请选择任务类型。"), "error")
        return redirect(url_for("jobs.index"))
    job = submit(current_app._get_current_object(), get_session(), kind=kind, params={},  # type: ignore[attr-defined]
                 actor=current_actor())
    flash(_("任务已提交。"))
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.route("/admin/jobs/<int:job_id>")
@require_login
def show(job_id: int) -> Any:
    # The user who started the job (an export, a report batch) follows it here; administrators
    # see their organisations' jobs (jobs.access).
    session = get_session()
    job = job_or_404(session, job_id, current_actor())
    from jobs.api import job_json

    return render_template("jobs/show.html", job=job, data=job_json(job), kind_title=kind_title)


@bp.route("/admin/webhooks/", methods=["GET", "POST"])
@require_roles("admin")
def webhooks() -> Any:
    from jobs.api import create_subscription, new_secret

    session = get_session()
    user = current_actor()
    problems: list[str] = []
    shown_secret = None
    if request.method == "POST":
        secret = request.form.get("secret", "").strip() or new_secret()
        try:
            create_subscription(session, user, request.form.get("url", ""), request.form.getlist("events"), secret)
        except ApiError as exc:
            problems = [f"{e['item']}：{e['message']}" for e in exc.errors] or [exc.message]
        else:
            shown_secret = secret
            flash(_("订阅已添加。"))
    rows = list(session.exec(select(WebhookSubscription).where(
        col(WebhookSubscription.organisation_id).in_(visible_org_ids(session, user)))
        .order_by(col(WebhookSubscription.id))))
    return render_template("jobs/webhooks.html", subscriptions=rows, events=EVENTS, problems=problems,
                           shown_secret=shown_secret, form=request.form), 422 if problems else 200


@bp.route("/admin/webhooks/<int:webhook_subscription_id>/toggle", methods=["POST"])
@require_roles("admin")
def webhook_toggle(webhook_subscription_id: int) -> Any:
    session = get_session()
    row = scoped_or_404(session, WebhookSubscription, webhook_subscription_id, current_actor())
    row.is_active = not row.is_active
    session.add(row)
    record_event(session=session, action="webhook.toggle", target=row, changes={"new": {"is_active": row.is_active}})
    return redirect(url_for("jobs.webhooks"))


@bp.route("/admin/webhooks/deliveries")
@require_roles("admin")
def deliveries() -> Any:
    session = get_session()
    status = request.args.get("status", "")
    stmt = select(WebhookDelivery).where(
        col(WebhookDelivery.organisation_id).in_(visible_org_ids(session, current_actor())))
    if status in DELIVERY_STATUSES:
        stmt = stmt.where(WebhookDelivery.status == status)
    rows = list(session.exec(stmt.order_by(col(WebhookDelivery.id).desc()).limit(200)))
    urls = {s.id: s.url for s in session.exec(select(WebhookSubscription))}
    return render_template("jobs/deliveries.html", deliveries=rows, urls=urls, status=status)


@bp.route("/admin/webhooks/deliveries/<int:webhook_delivery_id>/resend", methods=["POST"])
@require_roles("admin")
def resend(webhook_delivery_id: int) -> Any:
    from jobs.events import PENDING
    from jobs.webhooks import resend as reset

    session = get_session()
    row = scoped_or_404(session, WebhookDelivery, webhook_delivery_id, current_actor())
    reset(session, row)
    record_event(session=session, action="webhook.resend", target=row)
    session.info.setdefault(PENDING, []).append(row.id)  # sent once the request's unit of work commits
    flash(_("已重新发送。"))
    return redirect(url_for("jobs.deliveries"))


@bp.route("/notices")
@require_login
def notices() -> Any:
    session = get_session()
    user = current_actor()
    rows = list(session.exec(select(Notice).where(Notice.user_id == user.id)
                             .order_by(col(Notice.id).desc()).limit(200)))
    return render_template("jobs/notices.html", notices=rows)


@bp.route("/notices/read", methods=["POST"])
@require_login
def notices_read() -> Any:
    session = get_session()
    user = current_actor()
    for notice in session.exec(select(Notice).where(Notice.user_id == user.id, col(Notice.read_at).is_(None))):
        notice.read_at = utcnow()
        session.add(notice)
    return redirect(url_for("jobs.notices"))


@bp.route("/notices/settings", methods=["GET", "POST"])
@require_login
def notice_settings() -> Any:
    from jobs.webhooks import UrlRefused, check_url

    session = get_session()
    user = current_actor()
    problems: list[str] = []
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        channels = [c for c in request.form.getlist("channels") if c in CHANNELS]
        bot_url = request.form.get("bot_url", "").strip()
        if email and (len(email) > 200 or "@" not in email.strip("@") or any(c.isspace() for c in email)):
            problems.append(_("电子邮箱：格式不正确"))
        if bot_url:
            try:
                check_url(bot_url, current_app._get_current_object())  # type: ignore[attr-defined]
            except UrlRefused as exc:
                problems.append(_("群机器人地址：") + str(exc))
        if "bot" in channels and not bot_url:
            problems.append(_("群机器人地址：选择群机器人时必须填写"))
        if not problems:
            old = {"email": user.email, "channels": user.notify_channels, "bot": bool(user.bot_url)}
            user.email, user.notify_channels, user.bot_url = email, " ".join(channels), bot_url
            session.add(user)
            record_event(session=session, action="user.notify_settings", target=user,
                         changes={"old": old, "new": {"email": email, "channels": user.notify_channels,
                                                      "bot": bool(bot_url)}})
            flash(_("通知设置已保存。"))
            return redirect(url_for("jobs.notice_settings"))
    return render_template("jobs/settings.html", user=user, channels=CHANNELS, problems=problems,
                           form=request.form if request.method == "POST" else None), 422 if problems else 200


def unread_count() -> int:
    user = current_actor()
    if user is None:
        return 0
    from sqlalchemy import func
    from sqlalchemy.exc import SQLAlchemyError

    session = get_session()
    try:
        return int(session.exec(select(func.count()).select_from(Notice).where(
            Notice.user_id == user.id, col(Notice.read_at).is_(None))).one())
    except SQLAlchemyError:  # an error page must still render when the database is the error
        session.rollback()
        return 0
