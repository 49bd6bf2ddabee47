"""Static forms of the accounts pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from accounts.models import ROLE_LABELS
from forms.common import choices


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名")), Length(max=80)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码"))])


class PasswordChangeForm(FlaskForm):
    old_password = PasswordField(_l("原密码"), validators=[DataRequired(_l("请输入原密码"))])
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(_l("请输入新密码"))])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserCreateForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名")), Length(max=80)])
    display_name = StringField(_l("姓名"), validators=[Length(max=120)])
    password = PasswordField(_l("初始密码"), validators=[DataRequired(_l("请输入初始密码"))])
    organisation_id = SelectField(_l("所属机构"), coerce=int)
    roles = MultiCheckboxField(_l("角色"), choices=choices((k, _l(v)) for k, v in ROLE_LABELS.items()))


class UserEditForm(FlaskForm):
    display_name = StringField(_l("姓名"), validators=[Length(max=120)])
    organisation_id = SelectField(_l("所属机构"), coerce=int)
    roles = MultiCheckboxField(_l("角色"), choices=choices((k, _l(v)) for k, v in ROLE_LABELS.items()),
                               validators=[DataRequired(_l("至少选择一个角色"))])
    is_active = BooleanField(_l("启用（取消勾选即停用：不能再登录，所有令牌失效）"))
    version = HiddenField()
