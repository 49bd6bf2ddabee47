"""Context builders for the documents (templates/documents/): the report and the blank form.

Only masked personal data goes into a document: the ID number is masked before it reaches the
template, so no template change can print it in full.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from accounts.models import Organisation
from assessment import queries
from assessment.models import GENDERS, REASONS, Assessment, Elder
from assessment.presenters import domain_rows, entitlement_public, user_name
from scoring import NA, Definition


def answer_text(item: Any, value: Any) -> str:
    """An answer as people read it: option labels, 是/否, 不适用, — when unanswered."""
    if value is None:
        return "—"
    if value == NA:
        return "不适用"
    if item.type == "boolean" and not item.options:
        return "是" if value else "否"
    labels = {o.value: (o.label.zh if o.label else str(o.value)) for o in item.options}
    if isinstance(value, list):
        return "、".join(str(labels.get(v, v)) for v in value) or "无"
    return str(labels.get(value, value))


def _item_points(item: Any, value: Any) -> Any:
    if not item.is_scored or value is None or value == NA:
        return None
    for option in item.options:
        if option.value == value:
            return option.points
    return None


def _adjustment_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for adj in result.get("adjustments") or []:
        if adj.get("effect") == "raise":
            effect = f"提高 {adj.get('by', 1)} 级"
        elif adj.get("effect") in ("set", "cap"):
            effect = f"{'定为' if adj.get('effect') == 'set' else '最高'} {adj.get('to')} 级"
        else:
            effect = str(adj.get("effect", ""))
        rows.append({"basis": str(adj.get("label") or adj.get("id") or ""), "effect": effect})
    return rows


def item_thumbnails(session: Session, assessment: Assessment, storage: Any = None) -> dict[str, list[str]]:
    """Item id → the item's photos as small JPEG data: URLs, for the PDF (core.photos)."""
    from assessment.operations.evidence import photos_by_item
    from core.photos import thumbnail_data_url

    if storage is None:
        from core.storage import get_storage

        storage = get_storage()
    out: dict[str, list[str]] = {}
    for item_id, photos in photos_by_item(session, assessment).items():
        urls = [thumbnail_data_url(storage, p.storage_key) for p in photos]
        out[item_id] = [u for u in urls if u]
    return out


def drawn_marks(session: Session, assessment: Assessment, storage: Any = None) -> dict[str, dict[str, str]]:
    """Signer key (elder, guardian, user:ID) → {"name", "src": PNG data: URL} of the drawings that
    cover the current answers; a drawing made before an answer changed is void and left out."""
    import base64

    from assessment.operations.drawn import drawn_signatures_of, is_current

    if storage is None:
        from core.storage import get_storage

        storage = get_storage()
    out: dict[str, dict[str, str]] = {}
    for drawing in drawn_signatures_of(session, assessment):
        if not is_current(drawing, assessment):
            continue
        try:
            png = storage.get(drawing.storage_key)
        except FileNotFoundError:
            continue
        out[drawing.signer_key] = {"name": drawing.signer_name,
                                   "src": "data:image/png;base64," + base64.b64encode(png).decode("ascii")}
    return out


def report_context(session: Session, assessment: Assessment, definition: Definition, *,
                   storage: Any = None) -> dict[str, Any]:
    """Everything templates/documents/assessment_report.html needs (ID number masked)."""
    elder = session.get(Elder, assessment.elder_id)
    assert elder is not None
    organisation = session.get(Organisation, assessment.organisation_id)
    result = assessment.result or {}
    signatures = queries.signatures_with_users(session, assessment)
    entitlement = entitlement_public(queries.entitlement_for(session, assessment))
    thumbs = item_thumbnails(session, assessment, storage)
    marks = drawn_marks(session, assessment, storage)
    person = marks.get("elder") or marks.get("guardian")
    sections = []
    for section in definition.sections:
        answers = [{"item_id": item.id, "title": item.title.zh,
                    "answer": answer_text(item, assessment.answers.get(item.id)),
                    "score": _item_points(item, assessment.answers.get(item.id)),
                    "photos": thumbs.get(item.id, [])}
                   for item in section.items]
        sections.append({"title": section.title.zh, "answers": answers})
    empty_level = {"code": "—", "label": "未评定"}
    return {
        "report_no": f"PG{assessment.id:08d}-{assessment.revision}",
        "organisation": organisation.name if organisation else "",
        "instrument_title": definition.title.zh,
        "reason": REASONS.get(assessment.reason, assessment.reason),
        "assessed_at": (assessment.submitted_at or assessment.created_at).date().isoformat(),
        "place": assessment.place or "",
        "elder": {"name": elder.name, "gender": GENDERS.get(elder.gender, elder.gender),
                  "birth_date": elder.birth_date.isoformat(), "id_number": elder.id_number_masked,
                  "address": elder.address, "phone": elder.phone_masked or "", "show_full_id": False,
                  "contact_name": elder.contact_name, "contact_phone": elder.contact_phone_masked or ""},
        "domains": domain_rows(result),
        "total": result.get("total", "—"),
        "max_total": result.get("max_total", "—"),
        "preliminary_level": result.get("preliminary_level") or empty_level,
        "adjustments": _adjustment_rows(result),
        "level": result.get("level") or empty_level,
        "explanation": list(result.get("explanation") or []),
        "warnings": list(result.get("warnings") or []),
        "entitlements": {"services": entitlement["services"] if entitlement else [],
                         "monthly_subsidy": entitlement["monthly_subsidy"] if entitlement else "未配置",
                         "note": entitlement["note"] if entitlement else
                         "本机构尚未配置等级对应的服务与补贴。"},
        "assessors": [{"name": u.display_name or u.username, "signed_at": s.signed_at.isoformat(),
                       "drawn": marks.get(f"user:{u.id}", {}).get("src")}
                      for s, u in signatures if s.role == "assessor"],
        "reviewer": ({"name": user_name(session, assessment.reviewer_id),
                      "signed_at": assessment.approved_at.isoformat(),
                      "drawn": marks.get(f"user:{assessment.reviewer_id}", {}).get("src")}
                     if assessment.reviewer_id and assessment.approved_at else None),
        "elder_signature": ({"role": "老年人" if "elder" in marks else "代理人", "name": person["name"],
                             "drawn": person["src"]} if person else None),
        "sections": sections,
    }


def blank_form_context(definition: Definition) -> dict[str, Any]:
    """Everything templates/documents/blank_form.html needs for a paper fallback."""
    sections = []
    for section in definition.sections:
        items = []
        for item in section.items:
            options = [{"value": o.value, "label": o.label.zh if o.label else str(o.value)}
                       for o in item.options]
            if item.type == "boolean" and not options:
                options = [{"value": "是", "label": "是"}, {"value": "否", "label": "否"}]
            hint = item.hint.zh if item.hint else ""
            if item.not_applicable_allowed:
                options.append({"value": NA, "label": "不适用"})
            items.append({"id": item.id, "title": item.title.zh, "hint": hint, "options": options})
        sections.append({"id": section.id, "title": section.title.zh, "max": section.max,
                         "items": items})
    return {
        "instrument": {"id": definition.id, "version": definition.version, "title": definition.title.zh},
        "header_fields": ["姓名", "身份证号", "评估日期", "评估地点", "评估原因", "评估员"],
        "sections": sections,
    }
