"""Error pages in Chinese (JSON under /api/), never a traceback."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from core.i18n import N_

PAGES = {
    400: (N_("请求无效"), N_("提交的内容无法处理，请返回重试。")),
    401: (N_("需要登录"), N_("请先登录。")),
    403: (N_("没有权限"), N_("您的角色不能执行此操作。如需权限，请联系管理员。")),
    404: (N_("页面不存在"), N_("您要找的页面或记录不存在，或者您无权查看。")),
    405: (N_("不支持的操作"), N_("请通过页面上的按钮操作。")),
    409: (N_("内容已被修改"), N_("这条记录刚被其他人修改，请刷新后再试，您输入的内容不会丢失。")),
    413: (N_("文件太大"), N_("上传的文件超过了大小限制。")),
    429: (N_("尝试次数过多"), N_("请稍等一分钟后再试。")),
    500: (N_("系统出错"), N_("系统出现了意外错误，已经记录。请稍后再试。")),
    503: (N_("服务暂时不可用"), N_("数据库暂时无法连接，请稍后重试。您已保存的内容不会丢失。")),
}


def _render(status: int, detail: str | None = None) -> Any:
    title, message = PAGES.get(status, PAGES[500])
    if request.path.startswith("/api/"):
        return jsonify({"error": title, "message": detail or message, "errors": []}), status
    return render_template("errors.html", status=status, title=_(title),
                           message=_(detail or message)), status


def _paths_with_nul(value: Any, path: str = "") -> list[str]:
    if isinstance(value, str):
        return [path or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        found = []
        for key, inner in value.items():
            found += [f"{path}.{key}" if path else str(key)] if "\x00" in str(key) else []
            found += _paths_with_nul(inner, f"{path}.{key}" if path else str(key))
        return found
    if isinstance(value, list):
        return [p for n, inner in enumerate(value) for p in _paths_with_nul(inner, f"{path}[{n}]")]
    return []


def nul_fields() -> list[str]:
    """Names of the submitted fields that contain a NUL character."""
    if request.is_json:
        return _paths_with_nul(request.get_json(silent=True))
    return [name for name, value in request.form.items(multi=True) if "\x00" in value]


def refuse_nul(fields: list[str]) -> Any:
    message = "输入中含有不可见的控制字符（NUL），请删除后重新提交。"
    if request.path.startswith("/api/"):
        errors = [{"item": f, "message": message} for f in fields]
        return jsonify({"error": "invalid_input", "message": message, "errors": errors}), 422
    return _render(400, message)


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Any:
        return _render(400, "页面已过期或来源无法验证（CSRF），请刷新页面后重新提交。")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Any:
        if request.path.startswith("/api/") and error.code and error.code < 500:
            from core.api import _http_error

            return _http_error(error)
        return _render(error.code or 500)

    @app.errorhandler(OperationalError)
    def _database_down(error: Exception) -> Any:
        app.logger.error("database unavailable: %s", type(error).__name__)
        response = _render(503)
        if isinstance(response, tuple):
            body, status = response
            return body, status, {"Retry-After": "30"}
        return response

    from core.validation import InputTooLong
    from reports.errors import RenderError

    @app.errorhandler(InputTooLong)
    def _too_long(error: InputTooLong) -> Any:
        message = "输入内容过长：" + "；".join(e["message"] for e in error.errors)
        if request.path.startswith("/api/"):
            return jsonify({"error": "invalid_input", "message": message, "errors": error.errors}), 422
        return render_template("errors.html", status=422, title=_("输入内容过长"), message=message), 422

    @app.errorhandler(RenderError)
    def _render_failed(error: RenderError) -> Any:
        # The record is already stored; only its document failed. Say so and let them retry.
        app.logger.error("PDF render failed: %s", type(error).__name__)
        response = _render(503, f"文档生成失败：{error}。记录已保存，不受影响，请稍后重试。")
        body, status = response
        return body, status, {"Retry-After": "10"}

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        if isinstance(error, HTTPException):
            return _http(error)
        app.logger.exception("unhandled error")
        if app.config.get("PROPAGATE_UNEXPECTED"):
            raise error
        return _render(500)
