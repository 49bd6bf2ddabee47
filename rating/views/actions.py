"""Corrective actions: list, evidence, verification."""

from __future__ import annotations

from typing import Any

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlmodel import select

from core.auth import require_roles
from core.db import get_session
from rating import lists, queries
from rating import operations as ops
from rating.models import (
    CorrectiveAction,
    EvidencePhoto,
    Facility,
)
from rating.views.common import (
    ALL,
    STAFF,
    _actor,
    _photo_dir,
    bp,
    flash_problems,
    paged_list,
)


@bp.route("/rating/actions")
@require_roles(*ALL)
def actions() -> Any:
    page, count, problem, code = paged_list(lists.actions_page)
    names = {a.facility_id: name for a, name in page.items}
    return render_template("rating/actions.html", actions=[a for a, _n in page.items],
                           which=request.args.get("which", "open"), names=names, status_of=ops.display_status,
                           page=page, count=count, problem=problem), code


@bp.route("/rating/actions/<int:action_id>")
@require_roles(*ALL)
def action(action_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, CorrectiveAction, action_id, _actor())
    photos = list(session.exec(select(EvidencePhoto).where(EvidencePhoto.action_id == item.id)))
    return render_template("rating/action.html", action=item, facility=session.get(Facility, item.facility_id),
                           status=ops.display_status(item), photos=photos)


@bp.route("/rating/actions/<int:action_id>/evidence", methods=["POST"])
@require_roles(*ALL)
def action_evidence(action_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, CorrectiveAction, action_id, _actor())
    try:
        ops.submit_evidence(session=session, actor=_actor(), action=item, note=request.form.get("note", ""))
        upload = request.files.get("photo")
        if upload is not None and upload.filename:
            ops.save_photo(session=session, actor=_actor(), storage=_photo_dir(),
                           organisation_id=item.organisation_id, data=upload.read(),
                           content_type=upload.mimetype or "", action=item, item_id=item.item_id)
    except ops.RatingError as exc:
        flash_problems(exc)
    else:
        flash(_("整改材料已提交，等待核验。"))
    return redirect(url_for("rating.action", action_id=item.id))


@bp.route("/rating/actions/<int:action_id>/verify", methods=["POST"])
@require_roles(*STAFF)
def action_verify(action_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, CorrectiveAction, action_id, _actor())
    try:
        ops.verify_action(session=session, actor=_actor(), action=item,
                          accept=request.form.get("accept") != "0", reason=request.form.get("reason"))
    except ops.RatingError as exc:
        flash_problems(exc)
    else:
        flash(_("已处理。"))
    return redirect(url_for("rating.action", action_id=item.id))


# --- certificates -------------------------------------------------------------------------


