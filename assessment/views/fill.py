"""The assessment form, one section per page: fill, autosave, review."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import HiddenField

from assessment import documents, queries, saving
from assessment import operations as ops
from assessment.models import DRAWN_ROLES, REASONS, Assessment, Elder
from assessment.operations import drawn, evidence
from assessment.views.common import WRITE, _lang, _user, bp
from core.auth import require_roles
from core.db import get_session
from core.i18n import Labels
from forms.definition import (
    answers_from_form,
    attach_errors,
    build_form_class,
    field_name,
    form_data_from_answers,
)
from forms.items import answer_text as item_answer_text
from forms.items import client_items
from forms.save import SaveResult
from scoring import Definition, validate_answers

# --- the form, one section per page ---------------------------------------------------------


class PageState(FlaskForm):
    version = HiddenField()
    section = HiddenField()


_FORM_CLASSES: dict[tuple[str, str, str, str], type] = {}


def _section_form_class(definition: Definition, section_id: str, lang: str) -> type:
    key = (definition.id, definition.version, section_id, lang)
    if key not in _FORM_CLASSES:
        _FORM_CLASSES[key] = build_form_class(definition.section(section_id).items, lang=lang, base=PageState)
    return _FORM_CLASSES[key]


def _visible_sections(definition: Definition) -> list[Any]:
    return [s for s in definition.sections if s.items]


def _section_or_default(definition: Definition, assessment: Assessment, wanted: str | None) -> Any:
    sections = _visible_sections(definition)
    for section in sections:
        if section.id == (wanted or assessment.current_section):
            return section
    return sections[0]


def _client_logic(definition: Definition, assessment: Assessment) -> dict[str, Any]:
    """What form.js needs to apply skip logic live: expressions as JSON and answer typing."""
    return {"logic": definition.skip_logic(), "items": client_items(definition.items.values(), field_name),
            "answers": assessment.answers, "relevant": sorted(definition.relevant_items(assessment.answers))}


def _save(assessment: Assessment, definition: Definition, answers: dict[str, Any], version: int,
          section: str | None) -> SaveResult:
    return saving.save(session=get_session(), actor=_user(), assessment=assessment, definition=definition,
                       answers=answers, version=version, section=section)


def _theirs(definition: Definition, items: Any, mine: dict[str, Any], theirs: dict[str, Any]) -> list[dict[str, Any]]:
    """The server's answers that differ from what the person typed, as people read them."""
    lang = _lang()
    return [{"item": item.id, "title": item.title.get(lang),
             "value": item_answer_text(item, theirs.get(item.id), lang) or _("（未作答）")}
            for item in items if theirs.get(item.id) != mine.get(item.id)]


def _render_fill(assessment: Assessment, definition: Definition, section: Any, form: Any,
                 status: int = 200, conflict: dict[str, Any] | None = None) -> Any:
    db = get_session()
    person = db.get(Elder, assessment.elder_id)
    sections = _visible_sections(definition)
    index = next(i for i, s in enumerate(sections) if s.id == section.id)
    answered = {s.id: sum(1 for i in s.items if i.id in assessment.answers) for s in sections}
    relevant = definition.relevant_items(assessment.answers)
    return render_template(
        "assessment/fill.html", assessment=assessment, definition=definition, section=section,
        sections=sections, index=index, form=form, elder=person, answered=answered, relevant=relevant,
        client_logic=_client_logic(definition, assessment), conflict=conflict, lang=_lang(),
        reasons=REASONS, returns=queries.returns_of(db, assessment)[:1],
        photos=evidence.photos_by_item(db, assessment), field_name=field_name), status


@bp.route("/assessments/<int:assessment_id>/fill", methods=["GET", "POST"])
@require_roles(*WRITE)
def fill(assessment_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    if not assessment.is_editable:
        return redirect(url_for("assessment.detail", assessment_id=assessment.id))
    definition = queries.definition_for(assessment)
    section = _section_or_default(definition, assessment, request.values.get("section"))
    form_class = _section_form_class(definition, section.id, _lang())
    if request.method == "GET":
        if request.args.get("section") is None:  # resume where the assessor was
            return redirect(url_for("assessment.fill", assessment_id=assessment.id, section=section.id))
        form = form_class(formdata=None, data=form_data_from_answers(section.items, assessment.answers))
        form.version.data, form.section.data = str(assessment.version), section.id
        errors = validate_answers(definition, assessment.answers, partial=True)
        attach_errors(form, [e for e in errors if e["item"] in assessment.answers], lang=_lang())
        return _render_fill(assessment, definition, section, form)
    form = form_class()
    if not form.validate():
        abort(400)
    answers = answers_from_form(form)
    try:
        version = int(form.version.data or 0)
    except ValueError:
        abort(400)
    go = request.form.get("go", "next")
    sections = _visible_sections(definition)
    index = next(i for i, s in enumerate(sections) if s.id == section.id)
    target = {"next": min(index + 1, len(sections) - 1), "prev": max(index - 1, 0)}.get(go, index)
    if go.startswith("section:"):
        target = next((i for i, s in enumerate(sections) if s.id == go[8:]), index)
    try:
        saved = _save(assessment, definition, answers, version, sections[target].id)
    except ops.AssessmentError as error:
        attach_errors(form, error.errors, lang=_lang())
        return _render_fill(assessment, definition, section, form, status=422)
    if saved.conflict is not None:
        form.version.data = str(saved.version)
        return _render_fill(assessment, definition, section, form, status=409,
                            conflict={"message": saved.conflict,
                                      "theirs": _theirs(definition, section.items, answers, saved.answers)})
    mine = [p for p in saved.problems if p["item"] in {i.id for i in section.items}
            and answers.get(p["item"]) is not None]
    if mine and go in ("next", "review"):
        # Stay on the page so the assessor sees the message next to the item; nothing is lost.
        form.version.data = str(assessment.version)
        attach_errors(form, mine, lang=_lang())
        return _render_fill(assessment, definition, section, form, status=422)
    if go == "review" or (go == "next" and index == len(sections) - 1):
        return redirect(url_for("assessment.review", assessment_id=assessment.id))
    return redirect(url_for("assessment.fill", assessment_id=assessment.id, section=sections[target].id))


@bp.route("/assessments/<int:assessment_id>/autosave", methods=["POST"])
@require_roles(*WRITE)
def autosave(assessment_id: int) -> Any:
    """The page's background save (fetch, CSRF header or field): JSON in, JSON out."""
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    if not assessment.is_editable:
        return jsonify({"error": "not_draft", "message": _("评估已提交，不能再修改。"),
                        "version": assessment.version, "status": assessment.status}), 409
    definition = queries.definition_for(assessment)
    section = _section_or_default(definition, assessment, request.form.get("section"))
    form = _section_form_class(definition, section.id, _lang())()
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        return jsonify({"error": "invalid", "message": "version"}), 422
    try:
        saved = _save(assessment, definition, answers_from_form(form), version, section.id)
    except ops.AssessmentError as error:
        return jsonify({"error": error.code, "message": error.message, "errors": error.errors}), error.status
    body = saved.body(_lang())
    if saved.conflict is not None:
        body["shown"] = {item.id: item_answer_text(item, saved.answers.get(item.id), _lang()) or _("（未作答）")
                         for item in section.items}
    return jsonify(body), saved.http_status


@bp.route("/assessments/<int:assessment_id>/review", methods=["GET"])
@require_roles(*WRITE)
def review(assessment_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    if not assessment.is_editable:
        return redirect(url_for("assessment.detail", assessment_id=assessment.id))
    definition = queries.definition_for(assessment)
    errors = validate_answers(definition, assessment.answers)
    return _render_review(assessment, definition, errors)


def _render_review(assessment: Assessment, definition: Definition, errors: list[dict[str, Any]],
                   status: int = 200) -> Any:
    db = get_session()
    by_item: dict[str, list[str]] = {}
    for error in errors:
        by_item.setdefault(str(error["item"]), []).append(error["message"])
    relevant = definition.relevant_items(assessment.answers)
    return render_template("assessment/review.html", assessment=assessment, definition=definition,
                           elder=db.get(Elder, assessment.elder_id), errors=errors, by_item=by_item,
                           relevant=relevant, answer_text=answer_text,
                           sections=_visible_sections(definition),
                           photos=evidence.photos_by_item(db, assessment),
                           drawings=drawn.drawn_signatures_of(db, assessment), digest=ops.answers_digest(assessment),
                           drawn_roles=Labels(DRAWN_ROLES)), status


def answer_text(item: Any, value: Any) -> str:
    return "" if value is None else documents.answer_text(item, value)


