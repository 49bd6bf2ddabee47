"""The import pages for administrators: the template to download, the upload, the dry run's
report (every problem in a table), and the confirmation that imports the valid rows.

The uploaded file is kept server-side in the storage (core.storage) under
`imports/<user id>/<SHA-256>.<ext>` between the dry run and the confirmation; the form carries
only the checksum, never personal data (imports.uploads: a file never confirmed is swept after
YIYANG_IMPORT_UPLOAD_HOURS). The confirmation runs as a job (`imports.commit`, with
a progress bar that polls the job) when workers are configured (YIYANG_REDIS_URL), otherwise in
the request while the page shows that it is working. The file is deleted once imported.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.auth import current_actor, require_roles
from core.db import get_session
from core.i18n import page_lang
from core.navigation import register_home_card, register_nav
from core.storage import delete_after_commit, get_storage
from core.tabular import template
from imports.runner import FileRefused, file_checksum, importer_for, run_import
from imports.uploads import storage_key

bp = Blueprint("imports", __name__, url_prefix="/imports")

KINDS = ("elders", "facilities", "users")
CHECKSUM = re.compile(r"^[0-9a-f]{64}$")
EXTENSIONS = {"xlsx", "csv"}
register_nav("imports.index", _l("批量导入"), roles=("admin",), order=92)
register_home_card("imports.index", _l("批量导入"), _l("从 Excel 或 CSV 导入老年人、机构和用户"),
                   roles=("admin",), order=92)


def _kind(kind: str) -> Any:
    if kind not in KINDS:
        abort(404)
    try:
        return importer_for(kind)
    except FileRefused:
        abort(404)


def as_job() -> bool:
    """Workers configured: a confirmed import runs as a job (YIYANG_IMPORT_AS_JOB=1/0 decides instead)."""
    forced = current_app.config.get("IMPORT_AS_JOB")
    if forced is not None:
        return bool(forced)
    from jobs.queue import get_queue

    return get_queue(current_app).mode == "redis"  # type: ignore[no-any-return]


@bp.route("/")
@require_roles("admin")
def index() -> Any:
    from imports import IMPORTERS, load_importers

    load_importers()
    return render_template("imports/index.html", kinds=[(k, IMPORTERS[k]) for k in KINDS if k in IMPORTERS])


@bp.route("/<kind>", methods=["GET"])
@require_roles("admin")
def upload_page(kind: str) -> Any:
    return render_template("imports/kind.html", kind=kind, importer=_kind(kind), report=None, problems=[])


@bp.route("/<kind>/template.<fmt>")
@require_roles("admin")
def download_template(kind: str, fmt: str) -> Any:
    importer = _kind(kind)
    if fmt not in EXTENSIONS:
        abort(404)
    english = page_lang() == "en"
    data = template(importer.columns, fmt, labels=[c.english for c in importer.columns] if english else None)
    media = "text/csv; charset=utf-8" if fmt == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(data, mimetype=media, headers={
        "Content-Disposition": f"attachment; filename=yiyang-{kind}-template.{fmt}"})


@bp.route("/<kind>", methods=["POST"])
@require_roles("admin")
def check(kind: str) -> Any:
    """The dry run: keep the file, list every problem, write nothing."""
    importer = _kind(kind)
    upload = request.files.get("file")
    extension = Path(upload.filename or "").suffix.lower().lstrip(".") if upload else ""
    if upload is None or not upload.filename:
        return _again(kind, importer, [_("请选择要导入的 XLSX 或 CSV 文件。")])
    if extension not in EXTENSIONS:
        return _again(kind, importer, [_("只能导入 XLSX 或 CSV 文件（扩展名 .xlsx 或 .csv）。")])
    data = upload.read()
    checksum = file_checksum(data)
    try:
        report = run_import(session=get_session(), actor=current_actor(), kind=kind, source=data,
                            filename=upload.filename, commit=False, checksum=checksum,
                            report_limit=current_app.config["IMPORT_REPORT_LIMIT"])
    except FileRefused as error:
        return _again(kind, importer, [str(error.message)])
    user_id = current_actor().id
    if report.valid:
        get_storage().put(storage_key(user_id, checksum, extension), data)
    return render_template("imports/kind.html", kind=kind, importer=importer, report=report, problems=[],
                           extension=extension, filename=Path(upload.filename).name)


def _again(kind: str, importer: Any, problems: list[str]) -> Any:
    return render_template("imports/kind.html", kind=kind, importer=importer, report=None, problems=problems), 422


@bp.route("/<kind>/commit", methods=["POST"])
@require_roles("admin")
def commit(kind: str) -> Any:
    """The confirmation: import the valid rows of the file checked before, in one transaction."""
    importer = _kind(kind)
    checksum = request.form.get("checksum", "")
    extension = request.form.get("extension", "")
    user = current_actor()
    if not CHECKSUM.match(checksum) or extension not in EXTENSIONS:
        abort(404)
    key = storage_key(user.id, checksum, extension)
    storage = get_storage()
    if not storage.exists(key):
        return _again(kind, importer, [_("找不到刚才检查的文件（可能已经导入）。请重新上传。")])
    filename = f"import.{extension}"
    if as_job() and kind != "users":  # users' initial passwords are shown once, never kept in a job
        from jobs.runner import submit

        job = submit(current_app, get_session(), kind="imports.commit", actor=user,
                     params={"kind": kind, "checksum": checksum, "extension": extension,
                             "rows": request.form.get("rows", type=int) or 0})
        return redirect(url_for("imports.job", kind=kind, job_id=job.id))
    report = run_import(session=get_session(), actor=user, kind=kind, source=storage.get(key), filename=filename,
                        commit=True, checksum=checksum, report_limit=current_app.config["IMPORT_REPORT_LIMIT"])
    delete_after_commit(get_session(), storage, key)  # kept if the import does not commit: confirm again
    return render_template("imports/done.html", kind=kind, importer=importer, result=report.as_json(),
                           passwords=report.extra.get("passwords", []))


@bp.route("/<kind>/jobs/<int:job_id>")
@require_roles("admin")
def job(kind: str, job_id: int) -> Any:
    from jobs.access import job_or_404

    importer = _kind(kind)
    row = job_or_404(get_session(), job_id, current_actor())
    if row.kind != "imports.commit":
        abort(404)
    return render_template("imports/job.html", kind=kind, importer=importer, job=row,
                           result=row.result if row.status == "finished" else None)
