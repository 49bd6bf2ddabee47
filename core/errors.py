"""One family of refusals and one place that answers them.

Every refused request raises a `DomainError` (or a subclass a package owns: AssessmentError,
RatingError, AccountError, ApiError, EditConflict, InputTooLong, RenderError): an HTTP `status`, a
machine `code`, a `message` people read and per-field `errors` [{"item", "message"}]. `register`
maps the whole family once: JSON `{"error", "message", "errors"}` under /api/ (and for requests
that ask for JSON), the Chinese error page otherwise; a view that wants to show the form again
catches the error and renders it itself. Messages are translated when they are shown, so an
English page or an API call with `Accept-Language: en` reads English.

Raising a DomainError also fails the request's unit of work (core/unitofwork.py): nothing the
request wrote is committed unless the view says `keep_writes()`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, has_request_context, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
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
    422: (N_("输入有误"), N_("提交的内容有误，请按提示修改。")),
    429: (N_("尝试次数过多"), N_("请稍等一分钟后再试。")),
    500: (N_("系统出错"), N_("系统出现了意外错误，已经记录。请稍后再试。")),
    503: (N_("服务暂时不可用"), N_("数据库暂时无法连接，请稍后重试。您已保存的内容不会丢失。")),
}
DUPLICATE = N_("这条记录与已有的记录重复（可能刚被其他人同时提交），没有保存。请刷新页面查看最新内容。")


def translate(message: Any) -> str:
    """A message in the request's language: lazy strings evaluate, plain msgids are looked up
    in the catalog (a string that is not a msgid comes back unchanged)."""
    if message is None:
        return ""
    if not isinstance(message, str):
        return str(message)
    return str(_(message)) if has_request_context() else message


def _is_english() -> bool:
    from core.i18n import page_lang

    return page_lang() == "en"


class DomainError(Exception):
    """A refused request: `status`, `code`, `message` and per-field `errors` [{"item",
    "message"}]. Messages are msgids (N_) or lazy strings (_l); reading `message` or `errors`
    gives them in the request's language. When `message` is None it is the fields' joined."""

    status: int = 422
    code: str = "invalid_input"
    separator: str = "；"
    headers: dict[str, str] = {}

    def __init__(self, message: Any = None, *, status: int | None = None, code: str | None = None,
                 errors: list[dict[str, Any]] | None = None) -> None:
        self._errors: list[dict[str, Any]] = list(errors or [])
        self._message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        super().__init__(self.message)
        if has_request_context():
            g.unit_refused = True  # the request's writes roll back (see core/unitofwork.py)

    @property
    def message(self) -> str:
        """The message in the request's language."""
        if self._message is not None:
            return translate(self._message)
        return self.separator.join(item["message"] for item in self.errors)

    @message.setter
    def message(self, value: Any) -> None:
        self._message = value

    @property
    def errors(self) -> list[dict[str, Any]]:
        """The per-field errors in the request's language (`message_en` when a field has one)."""
        english = _is_english()
        return [{**e, "message": str(e["message_en"]) if english and e.get("message_en") else translate(e.get("message"))}
                for e in self._errors]

    @errors.setter
    def errors(self, value: list[dict[str, Any]]) -> None:
        self._errors = list(value or [])

    def public_message(self) -> str:
        """The message in the request's language (a subclass may say more)."""
        return self.message

    def public_errors(self) -> list[dict[str, Any]]:
        return [{"item": e.get("item"), "message": e["message"]} for e in self.errors]

    def extra(self) -> dict[str, Any]:
        """Further fields of the JSON answer (a conflict adds the current version)."""
        return {}

    def page_title(self) -> str:
        return translate(PAGES.get(self.status, PAGES[422 if self.status < 500 else 500])[0])


class EditConflict(DomainError):
    """Somebody saved the record since this edit began; nothing was written. Carries the
    record's current version and, for answer sets, the server's answers."""

    status = 409
    code = "conflict"

    def __init__(self, current_version: int, message: Any = None) -> None:
        super().__init__(message if message is not None else PAGES[409][1])
        self.current_version = current_version
        self.answers: dict[str, Any] | None = None

    def extra(self) -> dict[str, Any]:
        found: dict[str, Any] = {"version": self.current_version}
        if self.answers is not None:
            found["answers"] = self.answers
        return found


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(error: DomainError) -> Any:
    """The one mapping of a DomainError to an answer: JSON or the error page."""
    if wants_json():
        body = {"error": error.code, "message": error.public_message(), "errors": error.public_errors(),
                **error.extra()}
        return jsonify(body), error.status, error.headers
    return render_template("errors.html", status=error.status, title=error.page_title(),
                           message=error.public_message(),
                           problems=[e["message"] for e in error.public_errors()
                                     if e["message"] != error.public_message()]), error.status, error.headers


def _render(status: int, detail: str | None = None) -> Any:
    title, message = PAGES.get(status, PAGES[500])
    if request.path.startswith("/api/"):
        return jsonify({"error": title, "message": translate(detail or message), "errors": []}), status
    return render_template("errors.html", status=status, title=_(title),
                           message=translate(detail or message)), status


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
    message = N_("输入中含有不可见的控制字符（NUL），请删除后重新提交。")
    if request.path.startswith("/api/"):
        return error_response(DomainError(message, errors=[{"item": f, "message": message} for f in fields]))
    return _render(400, message)


def is_unique_violation(error: IntegrityError) -> bool:
    """A unique constraint refused the row (PostgreSQL 23505, SQLite "UNIQUE constraint failed")."""
    original = getattr(error, "orig", None)
    return (getattr(original, "sqlstate", None) == "23505"
            or "UNIQUE constraint failed" in str(original)
            or "duplicate key value" in str(original))


def duplicate_error() -> DomainError:
    return DomainError(DUPLICATE, status=409, code="duplicate")


def _discard_session() -> None:
    # A failed flush leaves the session unusable until it rolls back; the page still has to render.
    session = g.get("db")
    if session is not None:
        session.rollback()


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> Any:
        if error.status >= 500:
            app.logger.error("%s (%s) on %s", type(error).__name__, error.code, request.path)
        return error_response(error)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Any:
        return _render(400, N_("页面已过期或来源无法验证（CSRF），请刷新页面后重新提交。"))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Any:
        if request.path.startswith("/api/") and error.code and error.code < 500:
            from core.api import _http_error

            return _http_error(error)
        return _render(error.code or 500)

    @app.errorhandler(IntegrityError)
    def _integrity(error: IntegrityError) -> Any:
        _discard_session()
        if is_unique_violation(error):  # two requests created the same thing at once
            app.logger.info("unique constraint refused a concurrent write on %s", request.path)
            return error_response(duplicate_error())
        return _unexpected(error)

    @app.errorhandler(OperationalError)
    def _database_down(error: Exception) -> Any:
        from core.unitofwork import retry_if_busy

        _discard_session()
        retry_if_busy(error)  # SQLite was busy: the whole request runs again (bounded)
        app.logger.error("database unavailable: %s", type(error).__name__)
        response = _render(503)
        body, status = response
        return body, status, {"Retry-After": "30"}

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        if isinstance(error, HTTPException):
            return _http(error)
        app.logger.exception("unhandled error")
        if app.config.get("PROPAGATE_UNEXPECTED"):
            raise error
        return _render(500)
