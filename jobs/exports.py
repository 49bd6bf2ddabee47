"""Exports of the lists (docs/exports.md): `GET /api/v1/exports/{kind}.{csv|xlsx}` with the
list's filters, the `export` background job for a large one when workers are configured, and
`yiyang export KIND --format csv|xlsx [--filter NAME=VALUE …] -o FILE`.

The rows and columns come from the domains' specs (assessment/exports.py, rating/exports.py,
core/exports.py). ID numbers and phones are masked unless an administrator asks for
`unmasked=true` with a `reason`; every export is audited (`export.run`) with its filters, its
format and the reason, never with a value from the rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from flask import Response, current_app, g, jsonify, redirect, stream_with_context, url_for
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l

import assessment.exports  # noqa: F401  (registers elders and assessments)
import rating.exports  # noqa: F401  (registers inspections, actions and certificates)
from audit import record_event
from core.api import ApiError, api_route, query_param
from core.exports import (
    FORMATS,
    SPECS,
    ExportOptions,
    ExportSpec,
    file_name,
    filters_of,
    header_of,
    iter_rows,
    stream_file,
    temp_path,
    write_file,
)
from core.exports import csv_chunks as _csv_chunks
from core.i18n import N_
from core.paging import PagingError, query_params
from jobs.registry import JobFailed, ParamError, register

MAX_REASON = 500
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no", "")


@dataclass(frozen=True)
class ExportRequest:
    spec: ExportSpec
    fmt: str
    filters: dict[str, str]  # what the caller asked (audited, carried by a job)
    args: Mapping[str, Any]  # the filters the list runs with (a variant may fix some)
    variant: str
    unmasked: bool
    reason: str | None


def parse_request(spec: ExportSpec, fmt: str, raw: Mapping[str, Any], user: Any) -> ExportRequest:
    """Check an export request; every problem at once (422), an unmasked export by a
    non-administrator is a 403."""
    errors: list[dict[str, Any]] = []
    variant = str(raw.get("format") or "list")
    if variant not in spec.variants:
        errors.append({"item": "format", "message": _l("format 可选：%(v)s", v=" / ".join(spec.variants))})
    flag = str(raw.get("unmasked") or "").strip().lower()
    if flag not in TRUE + FALSE:
        errors.append({"item": "unmasked", "message": N_("unmasked 应为 true 或 false")})
    unmasked = flag in TRUE
    reason = str(raw.get("reason") or "").strip() or None
    if unmasked and not user.has_role("admin"):
        raise ApiError(403, "forbidden", N_("只有管理员可以导出未脱敏的数据。"))
    if unmasked and reason is None:
        errors.append({"item": "reason", "message": N_("导出未脱敏的数据必须填写原因。")})
    if reason is not None and len(reason) > MAX_REASON:
        errors.append({"item": "reason", "message": _l("原因最多 %(n)s 个字", n=MAX_REASON)})
    filters = {k: v for k, v in filters_of(raw).items() if k in spec.filters}
    if spec.name == "elders" and filters.get("q"):
        from assessment.queries import is_full_id_number

        if is_full_id_number(filters["q"]):
            errors.append({"item": "q", "message": N_("完整身份证号不能放在网址里；请用脱敏号码或姓名查找。")})
    args: Mapping[str, Any] = filters
    if not errors and spec.prepare is not None:
        try:
            args = spec.prepare(filters, ExportOptions(unmasked=unmasked, variant=variant))
        except PagingError as error:
            errors.append({"item": error.item, "message": error.message})
    if errors:
        raise ApiError(422, "invalid_input", N_("输入有误"), errors)
    return ExportRequest(spec, fmt, filters, args, variant, unmasked, reason)


def build_options(session: Any, request: ExportRequest) -> ExportOptions:
    """Masking, the variant and the name look-ups (organisations and users, remembered per export)."""
    from accounts.models import Organisation, User
    from core.crypto import cipher

    orgs: dict[int | None, str] = {None: ""}
    users: dict[int | None, str] = {None: ""}

    def org_name(key: int | None) -> str:
        if key not in orgs:
            found = session.get(Organisation, key)
            orgs[key] = found.name if found else ""
        return orgs[key]

    def user_name(key: int | None) -> str:
        if key not in users:
            found = session.get(User, key)
            users[key] = (found.display_name or found.username) if found else ""
        return users[key]

    return ExportOptions(unmasked=request.unmasked, variant=request.variant,
                         decrypt=cipher().decrypt if request.unmasked else None,
                         org_name=org_name, user_name=user_name, lang=current_lang())


def current_lang() -> str:
    """The language the file is written in: the request's, or the one a job or command forces."""
    return str(get_locale() or "zh")


def audit_export(session: Any, user: Any, request: ExportRequest, *, where: str, job_id: int | None = None) -> None:
    """One audit event per export: what, how, filtered how, masked or not, and why."""
    changes: dict[str, Any] = {"kind": request.spec.name, "format": request.fmt, "variant": request.variant,
                               "filters": request.filters, "unmasked": request.unmasked, "where": where}
    if job_id is not None:
        changes["job_id"] = job_id
    record_event(session=session, action="export.run", actor=user, target_type="export",
                 target_id=request.spec.name, changes=changes, reason=request.reason)


def workers_configured(app: Any) -> bool:
    """A background job only when workers take it (Redis); in-process work would hold the app."""
    from jobs.queue import get_queue

    return getattr(get_queue(app), "mode", "") == "redis"


def rows_for(session: Any, user: Any, request: ExportRequest, options: ExportOptions,
             progress: Any = None) -> Any:
    return iter_rows(session, request.spec, user, request.args, options, progress=progress)


# --- the API ------------------------------------------------------------------------------------


def respond(name: str, fmt: str) -> Any:
    """The export as a streamed file, or a job (202; a page is sent to the job's page)."""
    from flask import request as http

    from core.auth import current_actor
    from core.db import get_session

    spec = SPECS[name]
    session, user = get_session(), current_actor()
    export = parse_request(spec, fmt, http.args, user)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    background = workers_configured(app)
    # A capped count decides request or job; without workers a one-row probe still checks the
    # filters before the first byte is sent (a stream cannot turn into a 422 halfway).
    cap = int(app.config.get("EXPORT_INLINE_MAX_ROWS", 20000)) if background else 0
    try:
        _count, more = spec.count(session, user, export.args, cap)
    except PagingError as error:
        raise ApiError(422, "invalid_input", error.message, [{"item": error.item, "message": error.message}]) from None
    if more and background:
        return _submit_job(app, session, user, export)
    audit_export(session, user, export, where="request")
    options = build_options(session, export)
    header = header_of(spec.columns(options))
    rows = rows_for(session, user, export, options)
    name_out = file_name(spec, fmt, options, date.today())
    headers = {"Content-Disposition": f'attachment; filename="{name_out}"', "Cache-Control": "private, no-store"}
    if fmt == "csv":
        return Response(stream_with_context(_csv_chunks(header, rows)), mimetype=FORMATS["csv"], headers=headers)
    path = temp_path(".xlsx")  # XLSX is a ZIP: written whole to a temporary file, then streamed
    try:
        write_file(path, "xlsx", header, rows, title=str(spec.title))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Response(stream_file(path), mimetype=FORMATS["xlsx"], headers=headers)


def _submit_job(app: Any, session: Any, user: Any, export: ExportRequest) -> Any:
    from jobs.runner import submit

    params = {"kind": export.spec.name, "format": export.fmt, "variant": export.variant, "filters": export.filters,
              "unmasked": export.unmasked, "reason": export.reason, "lang": current_lang()}
    job = submit(app, session, kind="export", params=params, actor=user)
    session.refresh(job)
    audit_export(session, user, export, where="job", job_id=job.id)  # committed by the unit of work
    if g.get("api_user") is None:  # a page's export button: follow the job on its page
        return redirect(url_for("jobs.show", job_id=job.id))
    return jsonify({"id": job.id, "status": job.status, "kind": job.kind,
                    "url": url_for("api.job_show", job_id=job.id)}), 202


EXPORT_QUERY = [
    query_param("unmasked", "true：不脱敏（仅管理员，须填 reason，留审计）/ unmasked, administrators only, with a reason",
                {"type": "string", "enum": ["true", "false"]}),
    query_param("reason", "不脱敏导出的原因 / why the unmasked export is needed", {"type": "string", "maxLength": 500}),
]
JOB_ANSWER = {"type": "object", "properties": {"id": {"type": "integer"}, "status": {"type": "string"},
                                               "kind": {"type": "string"}, "url": {"type": "string"}}}


def _route(spec: ExportSpec, fmt: str) -> None:
    def view() -> Any:
        return respond(spec.name, fmt)

    view.__name__ = f"export_{spec.name}_{fmt}"
    query = [*query_params(*spec.filters), *EXPORT_QUERY]
    if len(spec.variants) > 1:
        query.append(query_param("format", "platform：上报省级或国家平台的记录格式（docs/record-format.md）/ "
                                           "platform: the hand-over record", {"type": "string", "enum": list(spec.variants)}))
    api_route(f"/exports/{spec.name}.{fmt}", methods=["GET"], roles=spec.roles, produces=FORMATS[fmt].split(";")[0],
              summary=f"导出{spec.title}（{fmt.upper()}，与列表相同的筛选；身份证号和电话脱敏）/ export "
                      f"{spec.name} as {fmt.upper()} with the list's filters",
              query=query, responses={200: {"type": "string", "format": "binary"}, 202: JOB_ANSWER})(view)


for _spec in list(SPECS.values()):
    for _fmt in FORMATS:
        _route(_spec, _fmt)


# --- the background job -------------------------------------------------------------------------


def _job_params(params: dict[str, Any], actor: Any, _session: Any) -> dict[str, Any]:
    allowed = {"kind", "format", "variant", "filters", "unmasked", "reason", "lang"}
    for key in params:
        if key not in allowed:
            raise ParamError(f"params.{key}", f"不接受的参数 {key}")
    spec = SPECS.get(str(params.get("kind")))
    if spec is None:
        raise ParamError("params.kind", "kind 可选：" + " / ".join(SPECS))
    if actor is None or not actor.has_any_role(spec.roles):
        raise ParamError("params.kind", "您的角色不能导出这种数据")
    fmt = params.get("format")
    if fmt not in FORMATS:
        raise ParamError("params.format", "format 可选：csv / xlsx")
    filters = params.get("filters") or {}
    if not isinstance(filters, dict):
        raise ParamError("params.filters", "filters 应为对象")
    raw = {**{str(k): str(v) for k, v in filters.items()}, "format": params.get("variant") or "list",
           "unmasked": "true" if params.get("unmasked") else "", "reason": params.get("reason") or ""}
    try:
        export = parse_request(spec, fmt, raw, actor)
    except ApiError as error:
        first = (error.errors or [{"item": "params", "message": str(error.message)}])[0]
        raise ParamError(f"params.{first.get('item') or 'filters'}", str(first["message"])) from None
    return {"kind": spec.name, "format": fmt, "variant": export.variant, "filters": export.filters,
            "unmasked": export.unmasked, "reason": export.reason, "lang": str(params.get("lang") or "zh")}


@register("export", title=_l("导出列表"), roles=("admin", "assessor", "reviewer", "inspector", "operator"),
          validate=_job_params)
def export_job(ctx: Any) -> dict[str, Any]:
    """Write a large export to a temporary file, keep it in the storage, tell the user."""
    params = ctx.params
    spec = SPECS.get(params.get("kind"))
    if spec is None or ctx.actor is None:
        raise JobFailed("导出任务缺少类型或用户")
    raw = {**params.get("filters", {}), "format": params.get("variant") or "list",
           "unmasked": "true" if params.get("unmasked") else "", "reason": params.get("reason") or ""}
    with force_locale(params.get("lang") or "zh"):
        try:
            export = parse_request(spec, params["format"], raw, ctx.actor)
        except ApiError as error:
            raise JobFailed(str(error.message)) from None
        options = build_options(ctx.session, export)
        header = header_of(spec.columns(options))
        estimate, _more = spec.count(ctx.session, ctx.actor, export.args, 10_000_000)
        path = temp_path("." + export.fmt)
        written = {"rows": 0}

        def progress(done: int) -> None:
            ctx.progress(min(0.95, done / max(estimate, 1)))

        try:
            rows = _counted(rows_for(ctx.session, ctx.actor, export, options, progress), written)
            write_file(path, export.fmt, header, rows, title=str(spec.title))
            name = file_name(spec, export.fmt, options, date.today())
            ctx.attach_file(name, path, FORMATS[export.fmt].split(";")[0])
        finally:
            path.unlink(missing_ok=True)
        _notify(ctx, spec, name)
    return {"rows": written["rows"], "file": name}


def _counted(rows: Any, written: dict[str, int]) -> Any:
    for row in rows:
        written["rows"] += 1
        yield row


def _notify(ctx: Any, spec: ExportSpec, name: str) -> None:
    """An in-app notice with the link to the job's page (where the file is downloaded)."""
    from jobs.models import Notice
    from jobs.notify import _today

    text = str(_l("导出已完成：%(name)s，请到任务页面下载。", name=name))
    ctx.session.add(Notice(user_id=ctx.actor.id, subject=f"export-{ctx.job.id}", sent_on=_today(),
                           category="export", text=text[:500], link=f"/admin/jobs/{ctx.job.id}"))
    ctx.session.flush()


# --- the command --------------------------------------------------------------------------------


def export_command_impl(*, kind: str, fmt: str, filters: dict[str, str], out: Path, username: str,
                        unmasked: bool, reason: str | None, variant: str, lang: str = "zh") -> int:
    """Stream an export to a file as a user would see it (scoped to that user); the row count."""
    with force_locale(lang):
        return _export_to_file(kind=kind, fmt=fmt, filters=filters, out=out, username=username,
                               unmasked=unmasked, reason=reason, variant=variant)


def _export_to_file(*, kind: str, fmt: str, filters: dict[str, str], out: Path, username: str,
                    unmasked: bool, reason: str | None, variant: str) -> int:
    from sqlmodel import select

    from accounts.models import User
    from jobs.runner import job_session

    spec = SPECS[kind]
    with job_session(current_app._get_current_object()) as session:  # type: ignore[attr-defined]
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None or not user.is_active:
            raise ValueError(f"找不到用户：{username}")
        if not user.has_any_role(spec.roles):
            raise ValueError(f"用户 {username} 的角色不能导出{spec.title}")
        raw = {**filters, "format": variant, "unmasked": "true" if unmasked else "", "reason": reason or ""}
        try:
            export = parse_request(spec, fmt, raw, user)
        except ApiError as error:
            problems = "；".join(f"{e.get('item')}: {e.get('message')}" for e in (error.errors or [])) or str(error.message)
            raise ValueError(problems) from None
        audit_export(session, user, export, where="cli")
        session.flush()
        options = build_options(session, export)
        header = header_of(spec.columns(options))
        written = {"rows": 0}
        try:
            write_file(out, fmt, header, _counted(rows_for(session, user, export, options), written),
                       title=str(spec.title))
        except PagingError as error:
            session.rollback()
            raise ValueError(f"{error.item}: {error.message}") from None
        session.commit()  # the audit event
    return written["rows"]


def register_cli(app: Any) -> None:
    import click

    @app.cli.command("export")
    @click.argument("kind", type=click.Choice(sorted(SPECS)))
    @click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="csv", show_default=True)
    @click.option("--filter", "filters", multiple=True, metavar="NAME=VALUE",
                  help="列表的筛选条件，可多次 / a list filter, repeatable (org=3, status=approved, from=2026-01-01)")
    @click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--as", "username", required=True, help="以该用户的范围导出 / export what this user sees")
    @click.option("--variant", default="list", show_default=True, help="list，或评估的 platform（上报记录格式）")
    @click.option("--unmasked", is_flag=True, help="不脱敏（仅管理员，须 --reason）/ unmasked, administrators only")
    @click.option("--reason", default=None, help="不脱敏导出的原因 / why")
    @click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                  help="表头语言 / language of the headers")
    def export_command(kind: str, fmt: str, filters: tuple[str, ...], out: Path, username: str, variant: str,
                       unmasked: bool, reason: str | None, lang: str) -> None:
        """把列表导出为 CSV 或 XLSX（流式，内存恒定）/ export a list as CSV or XLSX, streamed."""
        parsed: dict[str, str] = {}
        for item in filters:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise click.BadParameter(f"应为 NAME=VALUE：{item}", param_hint="--filter")
            parsed[name.strip()] = value.strip()
        try:
            rows = export_command_impl(kind=kind, fmt=fmt, filters=parsed, out=out, username=username,
                                       unmasked=unmasked, reason=reason, variant=variant, lang=lang)
        except ValueError as error:
            click.echo(f"错误 / error: {error}", err=True)
            raise SystemExit(2) from None
        click.echo(f"已导出 {rows} 行 / exported {rows} rows: {out}")
