"""Static forms of the assessment pages (the questionnaire itself is built by forms.definition)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from assessment.models import GENDERS, LEGAL_BASES, REASONS
from forms.common import choices


class ElderForm(FlaskForm):
    name = StringField(_l("姓名"), validators=[Length(max=100)])
    gender = RadioField(_l("性别"), choices=choices((k, _l(v)) for k, v in GENDERS.items()), validate_choice=False)
    birth_date = DateField(_l("出生日期"), validators=[Optional()])
    id_number = StringField(_l("身份证号"), validators=[Length(max=30)],
                            render_kw={"autocomplete": "off", "spellcheck": "false"})
    phone = StringField(_l("联系电话"), validators=[Length(max=30)], render_kw={"inputmode": "tel"})
    address = StringField(_l("居住地址"), validators=[Length(max=300)])
    community = StringField(_l("所在社区"), validators=[Length(max=120)])
    organisation_id = SelectField(_l("所属机构"), coerce=int)
    contact_name = StringField(_l("联系人"), validators=[Length(max=100)])
    contact_phone = StringField(_l("联系人电话"), validators=[Length(max=30)], render_kw={"inputmode": "tel"})
    legal_basis = RadioField(_l("处理个人信息的法律依据"), choices=choices((k, _l(v)) for k, v in LEGAL_BASES.items()),
                             default="statutory", validate_choice=False)
    consent_by = StringField(_l("同意人"), validators=[Length(max=100)])
    consent_at = DateField(_l("同意日期"), validators=[Optional()])
    latitude = StringField(_l("住址纬度（可选）"), validators=[Length(max=20)], render_kw={"inputmode": "decimal"})
    longitude = StringField(_l("住址经度（可选）"), validators=[Length(max=20)], render_kw={"inputmode": "decimal"})


class StartForm(FlaskForm):
    instrument = SelectField(_l("评估工具"))
    reason = RadioField(_l("评估原因"), choices=choices((k, _l(v)) for k, v in REASONS.items()), default="initial",
                        validate_choice=False)
    place = StringField(_l("评估地点"), validators=[Length(max=200)])


class SignForm(FlaskForm):
    password = PasswordField(_l("请再次输入您的密码"))


class AmendForm(FlaskForm):
    reason = TextAreaField(_l("更正原因（必填）"), validators=[Length(max=1000)])


class ReturnForm(FlaskForm):
    reason = TextAreaField(_l("退回原因（必填，评估员会看到）"), validators=[Length(max=1000)])


class RevealForm(FlaskForm):
    field = HiddenField()
