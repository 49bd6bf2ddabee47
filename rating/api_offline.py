"""The inspection checklist offline ("带到离线"): GET /api/v1/inspections/{id}/offline returns
everything needed to complete it without a network (the scheme version as the browser uses it,
answers, notes, facts, version, what the page shows of the facility, the page to keep), and
POST /api/v1/inspections/{id}/photos takes one evidence photo as the request body, so the
outbox can resend it with its Idempotency-Key and the photo is stored once. Scoped: another
organisation's inspection is a 404.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import jsonify, request, url_for

from core.api import ApiError, api_route
from core.auth import current_actor
from core.db import get_session
from core.i18n import N_
from core.storage import get_storage
from forms.checklist import checklist_sections, note_name
from forms.definition import field_name
from forms.offline import definition_bundle, text
from rating import operations as ops
from rating import queries
from rating.models import Facility, Inspection

STAFF = ("admin", "inspector")
BUNDLE = {"type": "object", "description": "kind, id, version, status, answers, notes, facts, auto_facts "
          "(the facts the server knew, for the offline preview), title, "
          "definition (sections, items, labels zh/en, logic), pages, save, submit, photos",
          "properties": {"kind": {"type": "string"}, "id": {"type": "integer"}, "version": {"type": "integer"},
                         "answers": {"type": "object"}, "notes": {"type": "object"}, "facts": {"type": "object"},
                         "definition": {"type": "object"}, "pages": {"type": "array", "items": {"type": "string"}}}}
PHOTO = {"type": "object", "properties": {"id": {"type": "integer"}, "item": {"type": "string"},
                                          "url": {"type": "string"}}}


def _inspection(inspection_id: int) -> Inspection:
    found: Inspection = queries.get_or_404(get_session(), Inspection, inspection_id, current_actor())
    return found


@api_route("/inspections/<int:inspection_id>/offline", methods=["GET"], roles=STAFF,
           summary="带到离线：完成一次检查所需的全部内容 / an inspection's offline bundle", responses={200: BUNDLE})
def inspection_offline(inspection_id: int) -> Any:
    inspection = _inspection(inspection_id)
    if inspection.status not in ("planned", "in_progress"):
        raise ApiError(409, "not_editable", N_("检查已提交，不能再带到离线填写。"))
    definition = ops.definition_of(inspection)
    facility = get_session().get(Facility, inspection.facility_id)
    assert facility is not None
    sections = [SimpleNamespace(id=s.section.id, title=s.section.title, items=(s.direct, *s.items))
                for s in checklist_sections(definition)]
    bundle = definition_bundle(definition, sections, field_name)
    bundle["notes"] = {i.id: note_name(i.id) for s in checklist_sections(definition) for i in s.items}
    bundle["veto_codes"] = {code: text(label) for code, label in (definition.veto_codes or {}).items()}
    page = url_for("rating.inspection", inspection_id=inspection.id)
    title = text(definition.title) or {"zh": "", "en": ""}
    return jsonify({
        "kind": "inspection", "id": inspection.id, "version": inspection.version, "status": inspection.status,
        "answers": inspection.answers or {}, "notes": inspection.notes or {}, "facts": inspection.facts or {},
        "auto_facts": inspection.auto_facts or {},
        "title": {"zh": f"{facility.name} · {title['zh']}", "en": f"{facility.name} · {title['en']}"},
        "person": {"name": facility.name},
        "definition": bundle, "pages": [page], "review": page, "detail": page,
        "record": url_for("api.get_inspection", inspection_id=inspection.id),
        "save": url_for("api.save_answers", inspection_id=inspection.id),
        "submit": url_for("api.submit_inspection", inspection_id=inspection.id),
        "photos": url_for("api.inspection_photo_upload", inspection_id=inspection.id),
    })


@api_route("/inspections/<int:inspection_id>/photos", methods=["POST"], roles=STAFF,
           summary="上传检查项证据照片（请求体为图片，?item=检查项）/ add an evidence photo (body: the image)",
           responses={201: PHOTO})
def inspection_photo_upload(inspection_id: int) -> Any:
    inspection = _inspection(inspection_id)
    item_id = request.args.get("item", "")
    if not item_id:
        raise ApiError(422, "invalid_input", N_("输入有误"), [{"item": "item", "message": N_("请指定检查项")}])
    photo = ops.save_photo(session=get_session(), actor=current_actor(), storage=get_storage(),
                           organisation_id=inspection.organisation_id, data=request.get_data(),
                           content_type=(request.mimetype or ""), inspection=inspection, item_id=item_id)
    return jsonify({"id": photo.id, "item": photo.item_id,
                    "url": url_for("rating.photo", photo_id=photo.id)}), 201
