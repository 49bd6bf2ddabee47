"""/api/v1/jobs and /api/v1/webhooks."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Response, current_app, jsonify, url_for
from sqlmodel import col, select

from accounts.queries import visible_org_ids
from audit import record_event
from core.api import ApiError, api_route, json_body, require_fields
from core.auth import ROLES, current_actor
from core.db import get_session
from jobs.access import job_or_404
from jobs.events import EVENTS
from jobs.models import Job, WebhookSubscription
from jobs.registry import KINDS, ParamError

JOB_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "kind": {"type": "string"},
        "status": {"type": "string", "enum": ["queued", "started", "finished", "failed"]},
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "result": {"type": ["object", "null"]}, "error": {"type": ["string", "null"]},
        "download_url": {"type": ["string", "null"]},
    },
}
SUBSCRIPTION_SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "url": {"type": "string"},
                   "events": {"type": "array", "items": {"type": "string"}}, "is_active": {"type": "boolean"}},
}


def job_json(job: Job) -> dict[str, Any]:
    return {
        "id": job.id, "kind": job.kind, "status": job.status, "progress": job.progress,
        "result": job.result, "error": job.error, "attempts": job.attempts,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "download_url": url_for("api.job_download", job_id=job.id) if job.file_key and job.status == "finished" else None,
    }


@api_route("/jobs", methods=["POST"], roles=ROLES, summary="提交后台任务",
           body={"type": "object", "required": ["kind"],
                 "properties": {"kind": {"type": "string", "enum": sorted(KINDS) or ["reports.zip"]},
                                "params": {"type": "object"}}},
           responses={202: JOB_SCHEMA})
def job_create() -> Any:
    from jobs.runner import submit

    data = json_body()
    require_fields(data, {"kind", "params"}, {"kind"})
    user = current_actor()
    spec = KINDS.get(data["kind"]) if isinstance(data["kind"], str) else None
    if spec is None:
        raise ApiError(422, "invalid_input", "未知的任务类型",
                       [{"item": "kind", "message": f"可用的任务类型：{'、'.join(sorted(KINDS))}"}])
    if not user.has_any_role(spec.roles):
        raise ApiError(403, "forbidden", "您的角色不能提交这种任务。")
    params = data.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ApiError(422, "invalid_input", "params 应为 JSON 对象", [{"item": "params", "message": "应为对象"}])
    session = get_session()
    try:
        params = spec.validate(params, user, session) if spec.validate else params
    except ParamError as exc:
        raise ApiError(422, "invalid_input", exc.message, [{"item": exc.item, "message": exc.message}]) from None
    job = submit(current_app._get_current_object(), session, kind=spec.name, params=params,  # type: ignore[attr-defined]
                 actor=user)
    return jsonify({"id": job.id, "status": job.status, "kind": job.kind,
                    "url": url_for("api.job_show", job_id=job.id)}), 202


@api_route("/jobs/<int:job_id>", methods=["GET"], roles=ROLES, summary="查看后台任务",
           responses={200: JOB_SCHEMA})
def job_show(job_id: int) -> Any:
    session = get_session()
    job = job_or_404(session, job_id, current_actor())
    session.refresh(job)
    return jsonify(job_json(job))


@api_route("/jobs/<int:job_id>/download", methods=["GET"], roles=ROLES, summary="下载任务结果文件",
           produces="application/zip", responses={200: {"type": "string", "format": "binary"}})
def job_download(job_id: int) -> Any:
    from core.storage import get_storage

    session = get_session()
    job = job_or_404(session, job_id, current_actor())
    if job.status != "finished" or not job.file_key:
        raise ApiError(404, "not_found", "任务尚未完成或没有结果文件。")
    try:
        data = get_storage().iter_chunks(job.file_key)  # streamed: an export can be large
    except FileNotFoundError:
        raise ApiError(404, "not_found", "结果文件已不存在。") from None
    record_event(session=session, action="job.download", target_type="job", target_id=job.id,
                 changes={"kind": job.kind, "file": job.file_name})
    return Response(data, mimetype=job.file_type or "application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{job.file_name}"',
                             "Cache-Control": "private, no-store"})


def subscription_json(row: WebhookSubscription) -> dict[str, Any]:
    return {"id": row.id, "url": row.url, "events": row.events, "is_active": row.is_active,
            "created_at": row.created_at.isoformat()}


def create_subscription(session: Any, user: Any, url: Any, events: Any, secret: Any) -> WebhookSubscription:
    """Check and store a subscription (the API and the page share this); ApiError when wrong."""
    from core.crypto import cipher
    from jobs.webhooks import UrlRefused, check_url

    errors = []
    if not isinstance(url, str):
        errors.append({"item": "url", "message": "url 应为字符串"})
    else:
        try:
            url = check_url(url, current_app._get_current_object())  # type: ignore[attr-defined]
        except UrlRefused as exc:
            errors.append({"item": "url", "message": str(exc)})
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        errors.append({"item": "events", "message": f"events 应为事件名列表：{'、'.join(EVENTS)}"})
    else:
        unknown = sorted(set(events) - set(EVENTS))
        if unknown:
            errors.append({"item": "events", "message": f"未知的事件 {'、'.join(unknown)}"})
    if not isinstance(secret, str) or not 16 <= len(secret) <= 200:
        errors.append({"item": "secret", "message": "secret 应为 16 到 200 个字符"})
    if errors:
        raise ApiError(422, "invalid_input", "输入有误", errors)
    row = WebhookSubscription(organisation_id=user.organisation_id, url=url, events=sorted(set(events)),
                              secret_encrypted=cipher().encrypt(secret) or "", created_by_id=user.id)
    session.add(row)
    session.flush()
    record_event(session=session, action="webhook.subscribe", target=row, actor=user,
                 changes={"new": {"url": url, "events": row.events}})
    return row


@api_route("/webhooks", methods=["POST"], roles=("admin",), summary="订阅事件推送（Webhook）",
           body={"type": "object", "required": ["url", "events", "secret"],
                 "properties": {"url": {"type": "string", "format": "uri"},
                                "events": {"type": "array", "items": {"type": "string", "enum": sorted(EVENTS)}},
                                "secret": {"type": "string", "minLength": 16, "maxLength": 200}}},
           responses={201: SUBSCRIPTION_SCHEMA})
def webhook_create() -> Any:
    data = json_body()
    require_fields(data, {"url", "events", "secret"}, {"url", "events", "secret"})
    session = get_session()
    row = create_subscription(session, current_actor(), data["url"], data["events"], data["secret"])
    return jsonify(subscription_json(row)), 201


@api_route("/webhooks", methods=["GET"], roles=("admin",), summary="事件推送订阅列表",
           responses={200: {"type": "array", "items": SUBSCRIPTION_SCHEMA}})
def webhook_list() -> Any:
    session = get_session()
    rows = session.exec(select(WebhookSubscription).where(
        col(WebhookSubscription.organisation_id).in_(visible_org_ids(session, current_actor())))
        .order_by(col(WebhookSubscription.id)))
    return jsonify([subscription_json(r) for r in rows])


def new_secret() -> str:
    return secrets.token_urlsafe(24)
