"""Login, logout, the home page per role, password change and user administration."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from accounts import gate, picker, throttle
from accounts import operations as ops
from accounts.forms import LoginForm, PasswordChangeForm, UserCreateForm, UserEditForm
from accounts.models import ROLE_LABELS, User
from accounts.passwords import verify_password
from accounts.qualifications import qualifications_of
from accounts.queries import get_scoped_or_404, users_page
from audit import record_event
from core.auth import public, require_login, require_roles
from core.db import EditConflict, get_session, valid_id
from core.navigation import register_home_card, register_nav
from core.paging import Page, PagingError, page_params
from core.timeutil import local_today
from core.unitofwork import keep_writes

bp = Blueprint("accounts", __name__)
bp.before_app_request(gate.page_gate)

register_nav("accounts.home", _l("首页"), order=0)
register_nav("accounts.users", _l("用户"), roles=("admin",), order=90)
register_home_card("accounts.users", _l("用户管理"), _l("添加评估员、检查员，分配角色"), roles=("admin",), order=90)
register_home_card("accounts.tokens", _l("API 令牌"), _l("查看和注销程序使用的 API 令牌"), order=98)
register_home_card("accounts.change_password", _l("修改密码"), _l("定期更换密码，保护老人信息"), order=99)


def _fresh_session() -> None:
    """Start a clean cookie session (no fixation), keeping only the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _safe_next(target: str | None) -> str:
    """A path on this site to go to after signing in; anything else goes home.

    Browsers drop tabs and newlines and read a backslash as a slash, so a slash, a tab and a
    slash, or a slash and a backslash, would leave the site: refuse every control character
    and every backslash."""
    if (target and target.startswith("/") and not target.startswith("//")
            and not any(ord(c) < 0x20 or c in "\\\x7f" for c in target)):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("accounts.home")


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("accounts.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        db = get_session()
        username = form.username.data.strip()
        wait = throttle.retry_after(username, request.remote_addr)
        if wait:
            record_event(session=db, action="login.rate_limited", target_type="user",
                         target_id=username, changes={"username": username})
            keep_writes()  # the audit record of a failed sign-in stays
            return render_template("accounts/login.html", form=form,
                                   error=throttle.message(wait)), 429, {"Retry-After": str(wait)}
        user = ops.authenticate(session=db, username=username, password=form.password.data)
        if user is None:
            throttle.note_failure(username, request.remote_addr)
            record_event(session=db, action="login.failed", target_type="user",
                         target_id=username, changes={"username": username})
            keep_writes()  # the audit record of a failed sign-in stays
            form.password.data = ""
            return render_template("accounts/login.html", form=form,
                                   error=_("用户名或密码不正确。")), 401
        throttle.clear(username)
        ops.start_login_session(session=db, user=user, client_address=request.remote_addr)
        record_event(session=db, action="login", target=user, actor=user)
        _fresh_session()
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    if request.method == "POST":
        status = 422
    return render_template("accounts/login.html", form=form, error=None), status


@bp.route("/logout", methods=["POST"])
@require_login
def logout() -> Any:
    db = get_session()
    token = current_user.get_id()
    if token:
        ops.end_login_session(session=db, token=token)
    record_event(session=db, action="logout", target=current_user._get_current_object())
    logout_user()
    _fresh_session()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/")
@require_login
def home() -> Any:
    return render_template("accounts/home.html", role_labels=ROLE_LABELS)


@bp.route("/lang/<code>", methods=["POST"])
@public
def set_language(code: str) -> Any:
    if code in ("zh", "en"):
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/account/password", methods=["GET", "POST"])
@require_login
def change_password() -> Any:
    form = PasswordChangeForm()
    problems: list[str] = []
    if form.validate_on_submit():
        db = get_session()
        user = current_user._get_current_object()
        wait = throttle.retry_after(user.username, request.remote_addr)
        if wait:
            return render_template("accounts/password.html", form=form,
                                   problems=[throttle.message(wait)]), 429, {"Retry-After": str(wait)}
        if not verify_password(user.password_hash, form.old_password.data or ""):
            throttle.note_failure(user.username, request.remote_addr)
        try:
            ops.change_password(session=db, user=user, old_password=form.old_password.data,
                                new_password=form.new_password.data)
        except ops.AccountError as error:
            problems = error.problems
        else:
            logout_user()
            _fresh_session()
            flash(_("密码已修改，请用新密码重新登录。"), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/password.html", form=form, problems=problems,
                           must_change=current_user.must_change_password), (
        422 if problems else 200
    )


@bp.route("/account/tokens")
@require_login
def tokens() -> Any:
    return render_template("accounts/tokens.html", tokens=ops.api_tokens_of(get_session(), current_user),
                           days=ops.API_TOKEN_DAYS, idle_hours=current_app.config["API_TOKEN_IDLE_HOURS"])


@bp.route("/account/tokens/revoke", methods=["POST"])
@require_login
def revoke_tokens() -> Any:
    db = get_session()
    raw = request.form.get("token_id", "")
    token_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    if raw and token_id is None:
        abort(400)
    ended = ops.revoke_api_tokens(session=db, user=current_user._get_current_object(), token_id=token_id)
    flash(_("已注销 %(n)d 个令牌。", n=ended), "success")
    return redirect(url_for("accounts.tokens"))


@bp.route("/admin/users")
@require_roles("admin")
def users() -> Any:
    """Users, keyset-paged and filtered like every list (accounts.queries.users_page)."""
    db = get_session()
    page, count, problem, status = Page(items=[]), None, None, 200
    try:
        target = picker.filter_target(db, current_user, request.args)
        if target is not None:
            return redirect(url_for("accounts.users", **target))
        page, count = users_page(db, current_user, request.args, page_params(request.args))
    except PagingError as error:
        problem, status = error.message, 422
    org = picker.build(db, current_user, name="org", selected=request.args.get("org"), blank=_("全部"),
                       typed=request.args.get("org_text") if problem else None)
    return render_template("accounts/users.html", users=page.items, page=page, count=count, problem=problem,
                           role_labels=ROLE_LABELS, org_picker=org), status


# Where an administrator may put a user: active organisations of their own subtree (and, editing,
# the user's current one whatever its state), for the pages, the API and the import alike.
ASSIGNABLE = picker.Scope(managed=True, active=True)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@require_roles("admin")
def create_user() -> Any:
    db = get_session()
    form = UserCreateForm()
    org_picker = picker.bind(db, current_user, form.organisation_id, ASSIGNABLE, formdata=request.form)
    problems: list[str] = []
    if form.validate_on_submit():
        org = picker.allowed(db, current_user, ASSIGNABLE, form.organisation_id.data)
        if org is None:  # the field's choices are the same scope: not reached
            abort(400)
        try:
            ops.create_user(session=db, username=form.username.data.strip(),
                            password=form.password.data, organisation=org, roles=form.roles.data,
                            display_name=form.display_name.data or "", actor=current_user)
        except ops.AccountError as error:
            problems = error.problems
        else:
            flash(_("用户已创建。"), "success")
            return redirect(url_for("accounts.users"))
    elif request.method == "POST":
        problems = [f"{form[name].label.text}：{'；'.join(errs)}" for name, errs in form.errors.items()]
    return render_template("accounts/user_new.html", form=form, problems=problems, org_picker=org_picker), (
        422 if problems else 200
    )


def _assignable(user: User) -> picker.Scope:
    """Organisations the user may be placed in: active ones the administrator manages, or theirs."""
    return picker.Scope(managed=True, active=True, keep=user.organisation_id)


def user_page(user: User, *, form: UserEditForm | None = None, status: int = 200,
              org_picker: picker.Picker | None = None, **extra: Any) -> Any:
    """The user's administration page: the edit form, qualifications and password reset."""
    db = get_session()
    if form is None:
        form = UserEditForm(formdata=None, roles=sorted(user.role_set), is_active=user.is_active,
                            display_name=user.display_name, organisation_id=user.organisation_id,
                            version=str(user.version))
        org_picker = None
    if org_picker is None:
        org_picker = picker.bind(db, current_user, form.organisation_id, _assignable(user))
    return render_template("accounts/user_edit.html", form=form, user=user, today=local_today(),
                           qualifications=qualifications_of(db, user), org_picker=org_picker, **extra), status


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@require_roles("admin")
def edit_user(user_id: int) -> Any:
    db = get_session()
    user = get_scoped_or_404(db, User, user_id, current_user)
    if request.method == "GET":
        return user_page(user)
    # A field the form leaves out keeps the stored value (an older page posts roles and is_active only).
    form = UserEditForm(display_name=user.display_name, organisation_id=user.organisation_id)
    scope = _assignable(user)
    org_picker = picker.bind(db, current_user, form.organisation_id, scope, formdata=request.form)
    if not form.validate_on_submit():
        problems = [f"{form[name].label.text}：{'；'.join(errs)}" for name, errs in form.errors.items()]
        return user_page(user, form=form, status=422, problems=problems, org_picker=org_picker)
    organisation = picker.allowed(db, current_user, scope, form.organisation_id.data)
    if organisation is None:  # the field's choices are the same scope: not reached
        abort(400)
    try:
        ops.update_user(session=db, user=user, actor=current_user, version=valid_id(form.version.data),
                        roles=form.roles.data, is_active=form.is_active.data,
                        display_name=form.display_name.data or "",
                        organisation=organisation)
    except ops.AccountError as error:
        return user_page(user, form=form, status=422, problems=error.problems, org_picker=org_picker)
    except EditConflict:
        form.version.data = str(user.version)  # what they typed stays; saving again overrides
        return user_page(user, form=form, status=409, org_picker=org_picker, problems=[
            _("用户刚被其他管理员修改过，已显示最新内容；您填写的内容保留在下面，请核对后再保存。")])
    flash(_("已保存。"), "success")
    return redirect(url_for("accounts.edit_user", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/reset-password", methods=["POST"])
@require_roles("admin")
def reset_password(user_id: int) -> Any:
    db = get_session()
    user = get_scoped_or_404(db, User, user_id, current_user)
    try:
        password = ops.reset_password(session=db, user=user, actor=current_user,
                                      new_password=request.form.get("password", "").strip() or None)
    except ops.AccountError as error:
        return user_page(user, status=422, reset_problems=error.problems)
    # Shown on this answer only: never in a flash message, a URL or a log line.
    return render_template("accounts/password_reset.html", user=user, password=password)


from accounts import organisation_views, qualification_views  # noqa: E402,F401  (register their pages on bp)
