"""Grades and system-written reasons in the page's language: every page that prints a grade names
it through rating.schemes.grade_name (the `grade_text` filter); a reason the system wrote (a
disqualification after a failed re-inspection, an escalation, a certificate that is not genuine)
reads in English on English pages and in the API, while a reason a person typed stays as typed."""

from __future__ import annotations

from sqlmodel import select

from core.reasons import OVERDUE, REINSPECTION_FAILED, reason_text, system_reason
from rating import operations as ops
from rating.models import Certificate
from rating.state import refresh_facility_state
from tests.conftest import api_token, login
from tests.rating.factories import FacilityFactory
from tests.rating.test_rating_register import STARS5, _graded

HAN = "\u4e00", "\u9fff"


def test_every_page_that_prints_a_grade_names_it_in_english(client, rating_world, db_session):
    facility = FacilityFactory(organisation=rating_world["district1"], name="Harmony Station", kind="station")
    grade = _graded(db_session, rating_world, facility, STARS5)
    login(client, rating_world["admin"])
    pages = ["/rating/facilities", f"/rating/facilities/{facility.id}", "/rating/certificates",
             "/rating/dashboard", "/stats", "/rating/register"]
    for path in pages:
        english = client.get(f"{path}?lang=en").get_data(as_text=True)
        assert "Five stars" in english and "五星级" not in english, path
        assert "五星级" in client.get(f"{path}?lang=zh").get_data(as_text=True), path
    certificate = db_session.exec(select(Certificate).where(Certificate.grade_id == grade.id)).one()
    client.get("/logout")
    verify = client.get(f"/verify/{certificate.code}?lang=en").get_data(as_text=True)
    assert "Five stars" in verify  # the public verification page named the grade "" before


def test_a_system_reason_reads_in_the_page_language_and_a_typed_one_as_typed(client, rating_world, db_session):
    app = rating_world["app"]
    by_system, by_person = rating_world["station"], rating_world["home"]
    with app.app_context():
        ops.disqualify_facility(session=db_session, actor=rating_world["admin"], facility=by_system,
                                reason=system_reason(REINSPECTION_FAILED, inspection=41))
        ops.disqualify_facility(session=db_session, actor=rating_world["admin"], facility=by_person,
                                reason="消防通道堵塞，拒不整改")
    for facility in (by_system, by_person):
        refresh_facility_state(db_session, facility.id)
    assert by_system.disqualified_reason == "复查（检查 #41）仍不合格：取消服务提供资格"  # stored: the official wording
    login(client, rating_world["admin"])
    english = client.get(f"/rating/facilities/{by_system.id}?lang=en").get_data(as_text=True)
    assert "Re-inspection (inspection #41) still unqualified" in english and "复查" not in english
    assert "复查（检查 #41）仍不合格" in client.get(f"/rating/facilities/{by_system.id}?lang=zh").get_data(as_text=True)
    typed = client.get(f"/rating/facilities/{by_person.id}?lang=en").get_data(as_text=True)
    assert "消防通道堵塞，拒不整改" in typed
    register = client.get("/rating/register?lang=en&status=disqualified").get_data(as_text=True)
    assert "Re-inspection (inspection #41)" in register and "消防通道堵塞，拒不整改" in register
    headers = {**api_token(client, rating_world["admin"]), "Accept-Language": "en"}
    body = client.get(f"/api/v1/facilities/{by_system.id}", headers=headers).get_json()
    assert body["disqualified_reason"].startswith("Re-inspection (inspection #41)")


def test_system_reasons_in_the_audit_log_and_their_earlier_wording(client, rating_world, app, db_session):
    from flask_babel import force_locale

    from audit import record_event

    with app.test_request_context("/"):
        with force_locale("en"):
            assert reason_text(system_reason(OVERDUE)) == "Not rectified by the deadline: escalated"
            assert reason_text("逾期未整改") == "Not rectified by the deadline: escalated"  # stored before
            assert reason_text("复查（检查 #7）合格") == "Re-inspection (inspection #7) passed"
            assert reason_text("客户投诉 #7") == "客户投诉 #7"
            assert reason_text(None) == ""
        assert reason_text("逾期未整改") == "逾期未整改，已升级处理"
    with app.app_context():
        record_event(session=db_session, action="rating.action.escalate", target_type="rating_action", target_id=9,
                     actor=rating_world["admin"], reason=system_reason(OVERDUE))
    db_session.flush()
    login(client, rating_world["admin"])
    english = client.get("/admin/audit/?lang=en").get_data(as_text=True)
    assert "Not rectified by the deadline: escalated" in english and "逾期未整改" not in english
