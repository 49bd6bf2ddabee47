"""`POST /api/v1/imports/{elders|facilities|users}`: multipart field `file` (XLSX or CSV), form
field `dry_run` (true by default). A dry run answers `{"rows", "valid", "errors"}`; with
`dry_run=false` the valid rows are imported in the request's one transaction and the answer is
`{"imported", "duplicates", "errors"}`. Every problem is listed (row, column, message)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from core.api import ApiError, api_route
from core.auth import current_actor
from core.db import get_session
from core.i18n import N_
from core.idempotency import answer_holds_secret
from imports.runner import run_import

PROBLEM = {"type": "object", "properties": {"row": {"type": "integer"}, "column": {"type": "string"},
                                            "message": {"type": "string"}}}
REPORT = {"type": "object", "properties": {
    "rows": {"type": "integer"}, "valid": {"type": "integer"}, "imported": {"type": "integer"},
    "duplicates": {"type": "integer"}, "checksum": {"type": "string"},
    "errors": {"type": "array", "items": PROBLEM}}}
UPLOAD = {"type": "object", "required": ["file"], "properties": {
    "file": {"type": "string", "format": "binary", "description": "XLSX 或 CSV（UTF-8 或 GBK）"},
    "dry_run": {"type": "string", "enum": ["true", "false"], "default": "true"}}}
TRUE_WORDS, FALSE_WORDS = {"", "1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def dry_run_flag(value: Any) -> bool:
    text = str(value if value is not None else "").strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ApiError(422, "invalid_input", N_("dry_run 应为 true 或 false。"),
                   [{"item": "dry_run", "message": N_("dry_run 应为 true 或 false。")}])


@api_route("/imports/<kind>", methods=["POST"], roles=("admin",),
           summary="批量导入老年人、机构或用户（multipart：file，dry_run 默认 true）/ bulk import "
                   "elders, facilities or users (multipart: file; dry_run, true by default)",
           body=UPLOAD, consumes="multipart/form-data", responses={200: REPORT})
def import_file(kind: str) -> Any:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(422, "invalid_input", N_("请上传 XLSX 或 CSV 文件（multipart 字段 file）。"),
                       [{"item": "file", "message": N_("缺少文件。")}])
    dry_run = dry_run_flag(request.form.get("dry_run"))
    data = upload.read()
    report = run_import(session=get_session(), actor=current_actor(), kind=kind, source=data,
                        filename=upload.filename, commit=not dry_run)
    body = report.as_json()
    if dry_run:
        body.pop("imported", None)
    if report.extra.get("passwords"):
        answer_holds_secret()  # generated passwords are shown once, never kept under an Idempotency-Key
    return jsonify(body), 200
