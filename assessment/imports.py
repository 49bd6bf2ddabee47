"""Importing elders from a spreadsheet (docs/import.md): the columns, the checks of a row (the
same rules as registering one elder: assessment.operations.elders.elder_input_problems) and the
batch insert, encrypted exactly as `register_elder` encrypts, each new elder with its state row.

An elder is the same person as one already registered when the keyed hash of the ID number
(core.crypto) is registered in any organisation the importing user can see, as on the
registration page. The elder's organisation is the `organisation` column, or the community the
`community` column names (an organisation of the caller's subtree), or the caller's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session

from accounts.models import User
from accounts.queries import OrganisationNames
from assessment.idnumber import birth_date_of, normalise_id_number
from assessment.models import GENDERS, LEGAL_BASES, Elder, ElderState
from assessment.names import insert_grams
from assessment.operations.elders import ElderInput, elder_input_problems
from core.crypto import FieldCipher, cipher, mask_id_number, mask_phone
from core.i18n import N_
from core.tabular import Column, Row, parse_choice, parse_date
from core.timeutil import utcnow
from core.validation import length_problems
from imports.registry import Checked, Importer, register

COLUMNS = (
    Column("name", N_("姓名"), "Name", ("full name", "名字"), required=True, example="张三"),
    Column("gender", N_("性别"), "Gender", ("sex",), required=True, example="女"),
    Column("id_number", N_("身份证号"), "ID number", ("id", "身份证", "身份证号码", "公民身份号码", "id card"),
           required=True, example="11010519491231002X"),
    Column("birth_date", N_("出生日期"), "Birth date", ("date of birth", "birthday", "dob"),
           example="1949-12-31"),
    Column("phone", N_("电话"), "Phone", ("联系电话", "手机", "手机号", "mobile", "telephone"), example="13800000000"),
    Column("address", N_("住址"), "Address", ("地址", "居住地址", "家庭住址")),
    Column("organisation", N_("所属机构"), "Organisation", ("机构", "单位", "organization", "街道")),
    Column("community", N_("社区"), "Community", ("社区/村", "村", "居委会", "village")),
    Column("contact_name", N_("联系人"), "Contact name", ("紧急联系人", "监护人", "contact")),
    Column("contact_phone", N_("联系人电话"), "Contact phone", ("紧急联系人电话", "监护人电话")),
    Column("legal_basis", N_("法律依据"), "Legal basis", ("处理依据",), example="履行法定职责"),
    Column("consent_by", N_("同意人"), "Consent by", ("consented by",)),
    Column("consent_at", N_("同意日期"), "Consent date", ("consent at", "consented on")),
)
FIELD_COLUMNS = {"name": "name", "gender": "gender", "birth_date": "birth_date", "id_number": "id_number",
                 "phone": "phone", "contact_phone": "contact_phone", "legal_basis": "legal_basis",
                 "consent_by": "consent_by"}
GENDER_ALIASES = {"m": "male", "f": "female"}
LEGAL_ALIASES = {"法定职责": "statutory", "本人同意": "consent", "同意": "consent"}


@dataclass
class ElderImport:
    session: Session
    actor: User
    orgs: OrganisationNames
    cipher: FieldCipher
    visible: set[int]
    now: Any


def _row_input(row: Row, problems: list[tuple[str, Any]], context: ElderImport) -> tuple[ElderInput, int | None]:
    values = row.values
    get = values.get
    gender_text = get("gender", "")
    gender = parse_choice(gender_text, GENDERS) or GENDER_ALIASES.get(gender_text.lower(), gender_text)
    birth = None
    if get("birth_date"):
        birth = parse_date(get("birth_date", ""))
        if birth is None:
            problems.append(("birth_date", N_("日期格式应为 YYYY-MM-DD。")))
    elif get("id_number"):
        birth = birth_date_of(normalise_id_number(get("id_number", "")))  # the ID's own date
    consent_at = None
    if get("consent_at"):
        consent_at = parse_date(get("consent_at", ""))
        if consent_at is None:
            problems.append(("consent_at", N_("日期格式应为 YYYY-MM-DD。")))
    legal_text = get("legal_basis", "")
    legal = (parse_choice(legal_text, LEGAL_BASES) or LEGAL_ALIASES.get(legal_text, legal_text)) if legal_text \
        else "statutory"
    if "id_number" in row.long_numbers:
        problems.append(("id_number", N_("身份证号被存成了数字，后几位已丢失：请把该列设为“文本”格式后重新填写。")))
    org_id = context.orgs.default_id
    if get("organisation"):
        org_id, reason = context.orgs.find(get("organisation", ""))
        if reason:
            problems.append(("organisation", reason))
    if get("community") and org_id is not None:
        community_id, reason = context.orgs.find(get("community", ""), within=org_id)
        if reason:
            problems.append(("community", reason))
        org_id = community_id
    data = ElderInput(name=get("name", ""), gender=gender, birth_date=birth, id_number=get("id_number", ""),
                      phone=get("phone", ""), address=get("address", ""), community=get("community", ""),
                      contact_name=get("contact_name", ""), contact_phone=get("contact_phone", ""),
                      legal_basis=legal, consent_by=get("consent_by", ""),
                      consent_at=consent_at)
    for problem in elder_input_problems(data):
        column = FIELD_COLUMNS.get(problem["item"], problem["item"])
        if column == "birth_date" and not get("birth_date") and problem["message"].startswith("请填写"):
            continue  # no birth date column: the ID number's own problem says it already
        problems.append((column, problem["message"]))
    problems += length_problems(Elder, values, ("address", "contact_name", "community", "consent_by"))
    return data, org_id


@register
class ElderImporter(Importer):
    kind = "elders"
    title = N_("老年人")
    columns = COLUMNS
    audit_action = "elder.import"
    duplicate_message = N_("该身份证号已登记，跳过。")

    def start(self, *, session: Session, actor: User, commit: bool) -> ElderImport:
        orgs = OrganisationNames(session, actor)
        return ElderImport(session=session, actor=actor, orgs=orgs, cipher=cipher(), visible=set(orgs.paths),
                           now=utcnow())

    def check(self, context: ElderImport, rows: list[Row]) -> list[Checked]:
        out: list[Checked] = []
        for row in rows:
            problems: list[tuple[str, Any]] = []
            data, org_id = _row_input(row, problems, context)
            number = normalise_id_number(data.id_number)
            key = context.cipher.lookup_hash(number) if len(number) == 18 else None
            record = None if problems else (data, org_id, number, key)
            out.append(Checked(row=row, problems=problems, key=key, key_column="id_number", record=record))
        hashes = [c.key for c in out if c.key]
        if hashes:
            found = context.session.execute(
                select(Elder.id_number_hash, Elder.organisation_id)
                .where(Elder.id_number_hash.in_(hashes)))  # type: ignore[attr-defined]
            registered = {h for h, org in found if org in context.visible}
            for item in out:
                item.exists = item.key in registered
        return out

    def insert(self, context: ElderImport, records: list[Any]) -> list[int]:
        seal, digest = context.cipher.encrypt, context.cipher.lookup_hash
        rows = []
        for data, org_id, number, key in records:
            phone, contact = data.phone.strip(), data.contact_phone.strip()
            rows.append({
                "organisation_id": org_id, "name": data.name.strip(), "gender": data.gender,
                "birth_date": data.birth_date, "id_number_enc": seal(number), "id_number_hash": key,
                "id_number_masked": mask_id_number(number), "phone_enc": seal(phone),
                "phone_hash": digest(phone), "phone_masked": mask_phone(phone) or None,
                "address": data.address.strip(), "community": data.community.strip(),
                "contact_name": data.contact_name.strip(), "contact_phone_enc": seal(contact),
                "contact_phone_masked": mask_phone(contact) or None, "legal_basis": data.legal_basis,
                "consent_by": data.consent_by.strip() if data.legal_basis == "consent" else "",
                "consent_at": data.consent_at if data.legal_basis == "consent" else None,
                "created_by_id": context.actor.id, "created_at": context.now, "updated_at": context.now,
                "version": 1})
        table = Elder.__table__  # type: ignore[attr-defined]
        inserted = context.session.execute(insert(table).returning(table.c.id, table.c.organisation_id, table.c.name),
                                           rows).all()
        insert_grams(context.session, inserted)  # name search
        created = [(elder_id, org_id) for elder_id, org_id, _name in inserted]
        # A new elder's state: no assessment yet (what assessment.state.compute_states gives).
        context.session.execute(insert(ElderState.__table__), [  # type: ignore[attr-defined]
            {"elder_id": elder_id, "organisation_id": org_id, "latest_assessment_id": None, "instrument_id": None,
             "level_code": None, "level_label": None, "approved_at": None, "next_due_on": None,
             "open_assessment_id": None, "assessment_count": 0} for elder_id, org_id in created])
        return [elder_id for elder_id, _org in created]

    def summary(self, context: ElderImport) -> dict[str, Any]:
        return {}

