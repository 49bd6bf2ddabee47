"""Certificates: list, issue, PDF, revoke; the public register and the public verification page."""

from __future__ import annotations

from typing import Any

from flask import (
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlmodel import select

from accounts.queries import visible_org_ids
from core.auth import public, require_roles
from core.db import get_session
from core.ratelimit import limit_public
from rating import lists, queries
from rating import operations as ops
from rating.documents import (
    certificate_pdf_response,
    verify_url,
)
from rating.models import (
    Certificate,
    Facility,
    Grade,
    InspectionPlan,
)
from rating.views.common import ALL, _actor, bp, flash_problems, paged_list


@bp.route("/rating/certificates")
@require_roles("admin")
def certificates() -> Any:
    session = get_session()
    page, count, problem, code = paged_list(lists.certificates_page)
    rows = [c for c, _g, _f in page.items]
    info = {c.id: (fac, grade, ops.certificate_status(certificate=c, grade=grade, facility=fac))
            for c, grade, fac in page.items}
    issuable = ops.issuable_grades(session=session, organisation_ids=visible_org_ids(session, _actor()))
    return render_template("rating/certificates.html", certificates=rows, info=info, issuable=issuable,
                           page=page, count=count, problem=problem), code


@bp.route("/rating/certificates/issue-all", methods=["POST"])
@require_roles("admin")
def certificates_issue_all() -> Any:
    session = get_session()
    grades = ops.issuable_grades(session=session, organisation_ids=visible_org_ids(session, _actor()))
    issued = ops.issue_batch(session=session, actor=_actor(), grades=grades,
                             separation_of_duties=queries.separation_of_duties())
    flash(_("已发放 %(n)d 张证书（已发过的不会重复发放）。", n=len(issued)))
    return redirect(url_for("rating.certificates"))


@bp.route("/rating/grades/<int:grade_id>/certificate", methods=["POST"])
@require_roles("admin")
def grade_certificate(grade_id: int) -> Any:
    session = get_session()
    grade = queries.get_or_404(session, Grade, grade_id, _actor())
    try:
        certificate, _created = ops.issue_certificate(session=session, actor=_actor(), grade=grade,
                                                      separation_of_duties=queries.separation_of_duties())
    except ops.RatingError as exc:
        flash_problems(exc)
        return redirect(url_for("rating.inspection", inspection_id=grade.inspection_id))
    return redirect(url_for("rating.certificate", certificate_id=certificate.id))


@bp.route("/rating/certificates/<int:certificate_id>")
@require_roles(*ALL)
def certificate(certificate_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, Certificate, certificate_id, _actor())
    grade, fac = session.get(Grade, item.grade_id), session.get(Facility, item.facility_id)
    status, reason = ops.certificate_status(certificate=item, grade=grade, facility=fac)  # type: ignore[arg-type]
    return render_template("rating/certificate.html", certificate=item, grade=grade, facility=fac,
                           status=status, reason=reason, verify_url=verify_url(item))


@bp.route("/rating/certificates/<int:certificate_id>/pdf")
@require_roles(*ALL)
def certificate_pdf(certificate_id: int) -> Any:
    session = get_session()
    return certificate_pdf_response(session, queries.get_or_404(session, Certificate, certificate_id, _actor()))


@bp.route("/rating/certificates/<int:certificate_id>/revoke", methods=["POST"])
@require_roles("admin")
def certificate_revoke(certificate_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, Certificate, certificate_id, _actor())
    try:
        ops.revoke_certificate(session=session, actor=_actor(), certificate=item, reason=request.form.get("reason", ""))
    except ops.RatingError as exc:
        flash_problems(exc)
    else:
        flash(_("证书已撤销。"))
    return redirect(url_for("rating.certificate", certificate_id=item.id))


# --- published plans (双随机一公开) --------------------------------------------------------


@bp.route("/rating/published")
@public
def published() -> Any:
    """Published plans: the seed, the draw and, once published, the results. No login. Newest
    first, keyset-paged (10 plans a page)."""
    from core.paging import Page, PagingError, Sort, page_params, paginate

    limit_public("published")
    session = get_session()
    try:
        page = paginate(session, select(InspectionPlan).where(InspectionPlan.is_published == True),  # noqa: E712
                        [Sort(InspectionPlan.id, desc=True)], key=lambda p: (p.id,),
                        params=page_params(request.args, default_limit=10), scalars=True)
    except PagingError:
        page, status = Page(items=[]), 422
    else:
        status = 200
    rows = page.items
    ids = {fid for p in rows for fid in p.target_ids}
    names = {f.id: f.name for f in session.exec(select(Facility).where(Facility.id.in_(ids)))}  # type: ignore[union-attr]
    grades = {g.facility_id: g for g in session.exec(select(Grade).where(Grade.plan_id.in_([p.id for p in rows])))}  # type: ignore[union-attr]
    return render_template("rating/published.html", plans=rows, names=names, grades=grades, page=page), status


# --- public verification ------------------------------------------------------------------


@bp.route("/verify/<code>")
@public
def verify(code: str) -> Any:
    """Anyone can check a certificate: unknown code → 404 "查无此证书"; a payload that is not ours
    → not genuine. Public key only: this page never creates a key."""
    limit_public("verify")
    status_code, body = ops.verification(get_session(), code, request.args.get("d"))
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        return jsonify(ops.public_verification(body)), status_code
    return render_template("rating/verify.html", **body), status_code
