"""The registry over the JSON API: list versions, get one, import a YAML or XLSX file (multipart)."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

from flask import Response, jsonify, request
from sqlmodel import col, select

from core.api import MULTIPART_FILE, ApiError, api_route
from core.auth import current_actor
from core.db import get_session
from core.i18n import N_
from scoring import DefinitionError
from scoring.compiled import FORMAT, compile_definition

from . import UnknownDefinitionError, registry
from .models import DefinitionVersion
from .operations import RegistryAccessError, import_upload, visible_row

ADMIN = ("admin",)
READ = ("admin", "assessor", "reviewer", "inspector")
MAX_UPLOAD = 5 * 1024 * 1024
VERSION = {"type": "object", "properties": {
    "id": {"type": "integer"}, "definition_id": {"type": "string"}, "version": {"type": "string"},
    "kind": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "string"},
    "checksum": {"type": "string"}, "change_note": {"type": "string"}}}


def _public(row: DefinitionVersion) -> dict[str, Any]:
    return {"id": row.id, "definition_id": row.definition_id, "version": row.version, "kind": row.kind,
            "title": row.title, "status": row.status, "checksum": row.checksum, "builtin": row.builtin,
            "change_note": row.change_note,
            "created_at": row.created_at.isoformat() if row.created_at else None,
            "published_at": row.published_at.isoformat() if row.published_at else None,
            "retired_at": row.retired_at.isoformat() if row.retired_at else None}


@api_route("/instruments", methods=["GET"], roles=READ,
           summary="问卷与评定方案的全部版本及状态 / every definition version with its status",
           responses={200: {"type": "object", "properties": {"versions": {"type": "array", "items": VERSION}}}})
def list_definitions() -> Any:
    session, user = get_session(), current_actor()
    registry.seed_builtin(session)
    rows = session.exec(select(DefinitionVersion).order_by(col(DefinitionVersion.definition_id),
                                                           col(DefinitionVersion.id)))
    visible = []
    for row in rows:
        try:
            visible.append(_public(visible_row(session, row.id or 0, user, row=row)))
        except RegistryAccessError:
            continue
    return jsonify({"versions": visible})


@api_route("/instruments/<int:definition_version_id>", methods=["GET"], roles=READ,
           summary="一个版本：状态、定义与 YAML 源文本 / one version: status, definition and YAML source",
           responses={200: VERSION, 404: {"type": "object"}})
def get_definition(definition_version_id: int) -> Any:
    session = get_session()
    try:
        row = visible_row(session, definition_version_id, current_actor())
    except RegistryAccessError:
        raise ApiError(404, "not_found", "没有这个版本") from None
    definition = registry.definition_of(registry.get_entry(session, row.definition_id, row.version))
    data = definition.model_dump(mode="json", exclude_none=True, exclude={"rules"})
    data["rules"] = [r.model_dump(mode="json", exclude_none=True) for r in definition.rules]
    return jsonify({**_public(row), "definition": data, "source": row.source})


@api_route("/instruments", methods=["POST"], roles=ADMIN,
           summary="导入 YAML 或 XLSX（multipart：file，可选 note、publish=true）；有错时列出全部问题，"
                   "不保存 / import a YAML or XLSX file (multipart: file, optional note, publish)",
           consumes="multipart/form-data",
           body={"type": "object", "required": ["file"],
                 "properties": {"file": MULTIPART_FILE, "note": {"type": "string", "maxLength": 1000},
                                "publish": {"type": "string", "enum": ["true", "false"]}}},
           responses={201: VERSION, 409: {"type": "object"}, 413: {"type": "object"}, 422: {"type": "object"}})
def import_definition() -> Any:
    file = request.files.get("file")
    if file is None or not file.filename:
        raise ApiError(422, "invalid_input", "请上传文件（multipart 字段 file）",
                       [{"item": "file", "message": "缺少文件"}])
    data = file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise ApiError(413, "too_large", "文件超过 5 MB", [{"item": "file", "message": "文件超过 5 MB"}])
    publish = str(request.form.get("publish", "")).lower() in ("1", "true", "yes")
    session = get_session()
    try:
        row = import_upload(session, data, file.filename, actor=current_actor(),
                            note=str(request.form.get("note", ""))[:1000], publish=publish)
    except DefinitionError as exc:
        return jsonify({"error": "invalid_definition", "message": f"文件有 {len(exc.errors)} 处问题，未保存",
                        "errors": exc.errors}), 422
    except registry.RegistryError as exc:
        raise ApiError(exc.status, "conflict", exc.message, [{"item": "version", "message": exc.message}]) from None
    return jsonify(_public(row)), 201


_COMPILED: OrderedDict[tuple[str, str, str], tuple[bytes, str]] = OrderedDict()
COMPILED_CACHE = 64
COMPILED = {"type": "object", "description": "scoring.compiled 的文档 / the compiled definition "
            "(docs/forms.md, client-side evaluation)", "properties": {
                "format": {"type": "integer", "enum": [FORMAT]}, "id": {"type": "string"},
                "version": {"type": "string"}, "checksum": {"type": "string"},
                "kind": {"type": "string"}, "sections": {"type": "array"}, "items": {"type": "array"},
                "rules": {"type": "array"}, "needs_server": {"type": "array"}}}


def _compiled(entry: registry.Entry) -> tuple[bytes, str]:
    """The compiled document's bytes and ETag, cached per (id, version, checksum)."""
    key = (entry.id, entry.version, entry.checksum)
    hit = _COMPILED.get(key)
    if hit is not None:
        _COMPILED.move_to_end(key)
        return hit
    document = compile_definition(registry.definition_of(entry), checksum=entry.checksum or None)
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    etag = entry.checksum or hashlib.sha256(body).hexdigest()
    _COMPILED[key] = (body, f"{etag}.{FORMAT}")
    while len(_COMPILED) > COMPILED_CACHE:
        _COMPILED.popitem(last=False)
    return _COMPILED[key]


@api_route("/definitions/<definition_id>/<version>/compiled", methods=["GET"],
           summary="为离线表单编译的定义：题目、跳题、约束、计算与评分规则（JSON，带 ETag）/ "
                   "the definition compiled for the browser's engine (skip logic, constraints, "
                   "scoring rules; cache with the ETag)",
           responses={200: COMPILED, 304: {"type": "object"}, 404: {"type": "object"}})
def compiled_definition(definition_id: str, version: str) -> Any:
    session, user = get_session(), current_actor()
    try:
        entry = registry.get_entry(session, definition_id, version)
        if entry.row is not None:
            visible_row(session, entry.row.id or 0, user, row=entry.row)
    except (UnknownDefinitionError, RegistryAccessError):
        raise ApiError(404, "not_found", N_("没有这个版本")) from None
    body, etag = _compiled(entry)
    if etag in request.if_none_match:
        response = Response(status=304)
    else:
        response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response
