"""Administrator pages for the definition registry: list, upload, try, diff, publish, retire,
export, the spreadsheet template, and re-scoring a record under another version."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlmodel import col, select

from core.auth import require_roles
from core.db import get_session
from core.i18n import page_lang as _lang
from core.navigation import register_nav
from forms.definition import answers_from_form, attach_errors, build_form_class
from scoring import AnswerError, Definition, DefinitionError, score

from . import UnknownDefinitionError, registry
from .diff import diff
from .files import export_bytes
from .models import DefinitionVersion
from .operations import (
    RegistryAccessError,
    import_upload,
    rescore_record,
    set_status,
    visible_row,
)

bp = Blueprint("instruments", __name__, url_prefix="/admin/instruments")
ADMIN = ("admin",)
MAX_UPLOAD = 5 * 1024 * 1024
register_nav("instruments.index", _l("问卷与方案"), roles=ADMIN, order=90)


def _row_or_404(definition_version_id: int) -> DefinitionVersion:
    try:
        return visible_row(get_session(), definition_version_id, current_user)
    except RegistryAccessError:
        abort(404)


def _index(errors: list[dict[str, Any]] | None = None, status: int = 200) -> Any:
    session = get_session()
    registry.seed_builtin(session)  # what `yiyang init` does, for a database set up before it
    rows = list(session.exec(select(DefinitionVersion).order_by(
        col(DefinitionVersion.definition_id), col(DefinitionVersion.id).desc())))
    rows = [r for r in rows if _visible(r)]
    return render_template("instruments/index.html", rows=rows, errors=errors or []), status


def _visible(row: DefinitionVersion) -> bool:
    try:
        visible_row(get_session(), row.id or 0, current_user, row=row)
    except RegistryAccessError:
        return False
    return True


@bp.route("/")
@require_roles(*ADMIN)
def index() -> Any:
    return _index()


@bp.route("/upload", methods=["POST"])
@require_roles(*ADMIN)
def upload() -> Any:
    file = request.files.get("file")
    if file is None or not file.filename:
        return _index([{"item": "file", "message": _("请选择一个 YAML 或 XLSX 文件")}], 422)
    data = file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return _index([{"item": "file", "message": _("文件超过 5 MB")}], 422)
    session = get_session()
    try:
        row = import_upload(session, data, file.filename, actor=current_user,
                            note=request.form.get("note", "")[:1000])
    except DefinitionError as exc:
        return _index(exc.errors, 422)
    except registry.RegistryError as exc:
        return _index([{"item": "file", "message": exc.message}], 409)
    flash(_("已导入为草稿，请先试填再发布。"), "success")
    return redirect(url_for("instruments.detail", definition_version_id=row.id))


def _published_other(row: DefinitionVersion) -> Definition | None:
    try:
        current = registry.get_entry(get_session(), row.definition_id)
    except UnknownDefinitionError:
        return None
    if current.version == row.version:
        return None
    return registry.definition_of(current)


def _detail(row: DefinitionVersion, *, answers: dict[str, Any] | None = None, status: int = 200) -> Any:
    definition = registry.definition_of(registry.get_entry(get_session(), row.definition_id, row.version))
    form_class = build_form_class(definition.items.values(), lang=_lang())
    form = form_class(formdata=request.form if answers is not None else None)
    result: dict[str, Any] | None = None
    problems: list[Any] = []
    if answers is not None:
        try:
            result = score(definition, answers).to_dict()
        except AnswerError as exc:
            problems = attach_errors(form, exc.errors, lang=_lang())
            if not problems and not result:
                problems = [{"item": None, "message": _("请按提示修改标出的题目")}]
    published = _published_other(row)
    return render_template("instruments/detail.html", row=row, definition=definition, form=form,
                           result=result, problems=problems, published=published,
                           changes=diff(published, definition) if published else [],
                           lang=_lang()), status


@bp.route("/<int:definition_version_id>")
@require_roles(*ADMIN)
def detail(definition_version_id: int) -> Any:
    return _detail(_row_or_404(definition_version_id))


@bp.route("/<int:definition_version_id>/try", methods=["POST"])
@require_roles(*ADMIN)
def try_answers(definition_version_id: int) -> Any:
    row = _row_or_404(definition_version_id)
    definition = registry.definition_of(registry.get_entry(get_session(), row.definition_id, row.version))
    form = build_form_class(definition.items.values(), lang=_lang())(formdata=request.form)
    answers = {k: v for k, v in answers_from_form(form).items() if v is not None and v != []}
    return _detail(row, answers=answers)


def _change_status(definition_version_id: int, status: str) -> Any:
    row = _row_or_404(definition_version_id)
    if request.form.get("confirm") != "yes":
        flash(_("请勾选确认后再提交。"), "error")
        return redirect(url_for("instruments.detail", definition_version_id=row.id))
    session = get_session()
    try:
        set_status(session, row, status, actor=current_user)
    except registry.RegistryError as exc:
        flash(exc.message, "error")
        return redirect(url_for("instruments.detail", definition_version_id=row.id))
    flash(_("已发布：新的记录将使用此版本，已有记录保持原版本。") if status == "published"
          else _("已停用：新的记录不再使用此版本，已有记录不受影响。"), "success")
    return redirect(url_for("instruments.detail", definition_version_id=row.id))


@bp.route("/<int:definition_version_id>/publish", methods=["POST"])
@require_roles(*ADMIN)
def publish(definition_version_id: int) -> Any:
    return _change_status(definition_version_id, "published")


@bp.route("/<int:definition_version_id>/retire", methods=["POST"])
@require_roles(*ADMIN)
def retire(definition_version_id: int) -> Any:
    return _change_status(definition_version_id, "retired")


@bp.route("/<int:definition_version_id>/export.yaml")
@require_roles(*ADMIN)
def export_yaml(definition_version_id: int) -> Any:
    return _export(definition_version_id, "yaml")


@bp.route("/<int:definition_version_id>/export.xlsx")
@require_roles(*ADMIN)
def export_xlsx(definition_version_id: int) -> Any:
    return _export(definition_version_id, "xlsx")


def _export(definition_version_id: int, fmt: str) -> Any:
    row = _row_or_404(definition_version_id)
    entry = registry.get_entry(get_session(), row.definition_id, row.version)
    data = export_bytes(registry.definition_of(entry), registry.source_of(entry), fmt)
    mimetype = "application/yaml" if fmt == "yaml" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = f"{row.definition_id}-{row.version}.{fmt}"
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/template.xlsx")
@require_roles(*ADMIN)
def template() -> Any:
    from .template import template_xlsx

    return Response(template_xlsx(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="yiyang-definition-template.xlsx"'})


def _record_or_404(kind: str, record_id: int) -> tuple[Any, str, str, Any]:
    """The record (scoped: another organisation's is a 404), its definition id, its version and
    its own result."""
    session = get_session()
    if kind == "assessment":
        from assessment import queries as assessment_queries

        assessment = assessment_queries.get_assessment(session, record_id, current_user)
        return assessment, assessment.instrument_id, assessment.instrument_version, assessment.result
    from rating import queries as rating_queries
    from rating.models import Inspection

    inspection = rating_queries.get_or_404(session, Inspection, record_id, current_user)
    return inspection, inspection.scheme, inspection.scheme_version, inspection.result


@bp.route("/rescore/assessments/<int:assessment_id>", methods=["GET", "POST"])
@require_roles(*ADMIN)
def rescore_assessment(assessment_id: int) -> Any:
    return _rescore("assessment", assessment_id)


@bp.route("/rescore/inspections/<int:inspection_id>", methods=["GET", "POST"])
@require_roles(*ADMIN)
def rescore_inspection(inspection_id: int) -> Any:
    return _rescore("inspection", inspection_id)


def _rescore(kind: str, record_id: int) -> Any:
    """The record's own result beside its re-scores under other versions; POST adds one."""
    from .models import Rescore

    session = get_session()
    record, definition_id, own_version, own_result = _record_or_404(kind, record_id)
    versions = [e for e in registry.entries(session, definition_id)
                if e.status != "retired" and e.version != own_version]
    if request.method == "POST":
        version = request.form.get("version", "")
        if version not in {e.version for e in versions}:
            flash(_("请选择要重新计分的版本"), "error")
        elif own_result is None:
            flash(_("记录尚未计分，无法重新计分"), "error")
        else:
            rescore_record(session, kind, record, version, actor=current_user)
            flash(_("已按新版本重新计分；原结果保持不变。"), "success")
        return redirect(request.path)
    rescores = list(session.exec(select(Rescore).where(
        Rescore.record_kind == kind, Rescore.record_id == record_id).order_by(col(Rescore.id).desc())))
    back = (url_for("assessment.detail", assessment_id=record_id) if kind == "assessment"
            else url_for("rating.inspection", inspection_id=record_id))
    return render_template("instruments/rescore.html", kind=kind, record_id=record_id, back=back,
                           definition_id=definition_id, own_version=own_version, own_result=own_result,
                           versions=versions, rescores=rescores)


__all__ = ["bp"]
