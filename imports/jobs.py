"""The jobs `imports.commit`, a confirmed import run by a worker (docs/import.md), and
`imports.sweep`, which deletes uploads never confirmed (imports.uploads).

Two passes over the stored file: the checks again (the file may have been checked against a
registry that has changed since), reporting progress after each batch (each report commits the
job row, which is why this pass writes nothing else), then the import itself in one transaction,
which commits together with the job's result.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l

from core.storage import delete_after_commit
from jobs.registry import JobFailed, ParamError, no_params, register
from jobs.runner import JobContext

CHECKSUM = re.compile(r"^[0-9a-f]{64}$")


def _params(params: dict[str, Any], actor: Any, _session: Any) -> dict[str, Any]:
    from imports.views import EXTENSIONS, KINDS

    unknown = set(params) - {"kind", "checksum", "extension", "rows"}
    if unknown:
        name = sorted(unknown)[0]
        raise ParamError(f"params.{name}", f"不接受的参数 {name}")
    if params.get("kind") not in KINDS or params.get("kind") == "users":
        raise ParamError("params.kind", "kind 应为 elders 或 facilities")
    if not isinstance(params.get("checksum"), str) or not CHECKSUM.match(params["checksum"]):
        raise ParamError("params.checksum", "checksum 应为文件的 SHA-256（64 位十六进制）")
    if params.get("extension") not in EXTENSIONS:
        raise ParamError("params.extension", "extension 应为 xlsx 或 csv")
    rows = params.get("rows", 0)
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        raise ParamError("params.rows", "rows 应为非负整数")
    if actor is None:
        raise ParamError("params", "导入任务需要由用户发起")
    return {"kind": params["kind"], "checksum": params["checksum"], "extension": params["extension"], "rows": rows}


@register("imports.sweep", title=_l("清理未确认的导入文件"), roles=("admin",), validate=no_params)
def import_sweep(ctx: JobContext) -> dict[str, Any]:
    """Delete uploads whose import was never confirmed, older than YIYANG_IMPORT_UPLOAD_HOURS."""
    from core.storage import get_storage
    from core.timeutil import utcnow
    from imports.uploads import sweep_uploads, upload_age

    deleted = sweep_uploads(get_storage(), older_than=upload_age(ctx.app), now=utcnow())
    return {"deleted": len(deleted)}


@register("imports.commit", title=_l("批量导入"), roles=("admin",), validate=_params, max_attempts=1)
def import_commit(ctx: JobContext) -> dict[str, Any]:
    """Import the valid rows of a file checked before (kept in the storage)."""
    from core.storage import get_storage
    from imports.runner import FileRefused, run_import
    from imports.uploads import storage_key

    if ctx.actor is None:
        raise JobFailed("导入任务需要由用户发起")
    params = ctx.params
    key = storage_key(ctx.actor.id, params["checksum"], params["extension"])
    storage = get_storage()
    try:
        data = storage.get(key)
    except FileNotFoundError:
        raise JobFailed("找不到要导入的文件（可能已经导入）。") from None
    total = max(int(params.get("rows") or 0), 1)
    limit = int(ctx.app.config.get("IMPORT_REPORT_LIMIT") or 1000)
    filename = f"import.{params['extension']}"
    try:
        run_import(session=ctx.session, actor=ctx.actor, kind=params["kind"], source=data, filename=filename,
                   commit=False, checksum=params["checksum"], report_limit=0,
                   progress=lambda done: ctx.progress(0.5 * min(done / total, 1.0)))
        ctx.session.rollback()
        report = run_import(session=ctx.session, actor=ctx.actor, kind=params["kind"], source=data,
                            filename=filename, commit=True, checksum=params["checksum"], report_limit=limit)
    except FileRefused as error:
        raise JobFailed(str(error.message)) from None
    delete_after_commit(ctx.session, storage, key)  # once the job's transaction commits the import
    return report.as_json()
