"""GET /api/v1/assessments/{id}/offline: everything a tablet needs to finish a draft without a
network ("带到离线"): the definition version as the browser uses it, the answers and version,
what the form shows of the elder (masked as online) and the pages to keep. Scoped: another
organisation's assessment is a 404; a record that is no longer a draft is a 409.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from flask_babel import force_locale, gettext

from assessment import queries
from assessment.models import REASONS, Elder
from core.api import ApiError, api_route
from core.auth import current_actor
from core.db import get_session
from core.i18n import N_
from forms.definition import field_name
from forms.offline import definition_bundle

BUNDLE = {"type": "object", "description": "kind, id, version, status, answers, title, person, "
          "definition (sections, items, labels zh/en, logic), pages, review, submit, save",
          "properties": {"kind": {"type": "string"}, "id": {"type": "integer"}, "version": {"type": "integer"},
                         "answers": {"type": "object"}, "definition": {"type": "object"},
                         "pages": {"type": "array", "items": {"type": "string"}}}}


def both(msgid: str) -> dict[str, str]:
    """A catalog string in both languages (the tablet may switch language offline)."""
    with force_locale("en"):
        return {"zh": msgid, "en": str(gettext(msgid))}


@api_route("/assessments/<int:assessment_id>/offline", methods=["GET"], roles=("assessor",),
           summary="带到离线：填完一份评估所需的全部内容 / an assessment's offline bundle", responses={200: BUNDLE})
def assessment_offline(assessment_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, current_actor())
    if not assessment.is_editable:
        raise ApiError(409, "not_draft", N_("评估已提交，不能再带到离线填写。"))
    definition = queries.definition_for(assessment)
    sections = [s for s in definition.sections if s.items]
    elder = db.get(Elder, assessment.elder_id)
    assert elder is not None
    pages = [url_for("assessment.fill", assessment_id=assessment.id, section=s.id) for s in sections]
    return jsonify({
        "kind": "assessment", "id": assessment.id, "version": assessment.version, "status": assessment.status,
        "answers": assessment.answers or {},
        "title": {"zh": f"{elder.name} · {definition.title.zh}", "en": f"{elder.name} · {definition.title.en or definition.title.zh}"},
        "person": {"name": elder.name, "id_number": elder.id_number_masked, "gender": elder.gender,
                   "reason": both(REASONS.get(assessment.reason, assessment.reason))},
        "definition": definition_bundle(definition, sections, field_name),
        "pages": pages,
        "review": url_for("assessment.review", assessment_id=assessment.id),
        "detail": url_for("assessment.detail", assessment_id=assessment.id),
        "save": url_for("api.put_answers", assessment_id=assessment.id),
        "submit": url_for("api.submit_assessment", assessment_id=assessment.id),
    })
