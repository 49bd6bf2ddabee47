"""Pages for assessor qualifications: the administrator records and corrects them on the user's
page, and the list of certificates that expired or expire soon (the home card links to it).
Same blueprint as accounts."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accounts import qualifications as quals
from accounts.models import AssessorQualification, User
from accounts.queries import get_scoped_or_404, managed_org_ids
from accounts.views import bp
from core.auth import require_roles
from core.db import EditConflict, get_session, valid_id
from core.inbox import register_inbox
from core.paging import PageParams, PagingError, page_params
from core.timeutil import local_today

FORM_FIELDS = ("certificate_number", "issuer", "valid_until", "note")


def _expiring_count(session: Any, user: Any) -> tuple[int, bool]:
    _page, count = quals.expiring(session, managed_org_ids(session, user), PageParams(limit=1), today=local_today(),
                                  within_days=current_app.config["QUALIFICATION_WARN_DAYS"])
    return count


register_inbox("accounts.qualifications_expiring", _l("资格证书已过期或即将到期"), roles=("admin",), order=60,
               count=_expiring_count, link=lambda user: ("accounts.qualifications_expiring", {}))


def _messages(error: quals.QualificationError) -> list[str]:
    labels = {"certificate_number": _("证书编号"), "issuer": _("发证机构"), "valid_until": _("有效期至"),
              "note": _("备注")}
    return [f"{labels.get(e['item'], e['item'])}：{_(str(e['message']))}" for e in error.errors]


@bp.route("/admin/users/<int:user_id>/qualifications", methods=["POST"])
@require_roles("admin")
def add_qualification(user_id: int) -> Any:
    db = get_session()
    user = get_scoped_or_404(db, User, user_id, current_user)
    typed = {k: request.form.get(k, "") for k in FORM_FIELDS}
    try:
        quals.record_qualification(session=db, user=user, actor=current_user, data=typed)
    except quals.QualificationError as error:
        return _user_page(user, _messages(error), typed=typed)
    flash(_("资格证书已登记。"), "success")
    return redirect(url_for("accounts.edit_user", user_id=user.id, _anchor="qualifications"))


@bp.route("/admin/users/<int:user_id>/qualifications/<int:qualification_id>", methods=["POST"])
@require_roles("admin")
def edit_qualification(user_id: int, qualification_id: int) -> Any:
    db = get_session()
    user = get_scoped_or_404(db, User, user_id, current_user)
    row = db.get(AssessorQualification, qualification_id)
    if row is None or row.user_id != user.id:
        abort(404)
    typed = {k: request.form.get(k, "") for k in FORM_FIELDS}
    try:
        quals.update_qualification(session=db, qualification=row, actor=current_user, data=typed,
                                   version=valid_id(request.form.get("version")))
    except quals.QualificationError as error:
        return _user_page(user, _messages(error), editing=row.id, typed=typed)
    except EditConflict:
        message = _("资格证书刚被其他管理员修改过，已显示最新内容；您填写的内容保留在下面，请核对后再保存。")
        return _user_page(user, [message], editing=row.id, typed=typed, status=409)
    flash(_("资格证书已保存。"), "success")
    return redirect(url_for("accounts.edit_user", user_id=user.id, _anchor="qualifications"))


def _user_page(user: User, problems: list[str], *, editing: int | None = None, typed: dict[str, str],
               status: int = 422) -> Any:
    from accounts.views import user_page

    return user_page(user, status=status, qualification_problems=problems, editing=editing, typed=typed)


@bp.route("/admin/qualifications")
@require_roles("admin")
def qualifications_expiring() -> Any:
    db = get_session()
    within = current_app.config["QUALIFICATION_WARN_DAYS"]
    try:
        page, count = quals.expiring(db, managed_org_ids(db, current_user), page_params(request.args),
                                     today=local_today(), within_days=within)
    except PagingError as error:
        return render_template("accounts/qualifications.html", page=None, count=None, within=within,
                               problem=error.message, today=local_today()), 422
    return render_template("accounts/qualifications.html", page=page, count=count, within=within, problem=None,
                           today=local_today())
