"""The inspection workflow as people meet it: return with a reason, what the approver sees,
separation of duties, "已提交", no empty rectification notice."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from audit.models import AuditEvent
from rating.models import CorrectiveAction
from tests.conftest import api_token, login
from tests.factories import UserFactory
from tests.rating.factories import GBT_LEVEL4, STAR_FAIL


def _submitted(client: Any, headers: dict[str, str], facility: Any, scheme: str, answers: dict[str, Any],
               notes: dict[str, str] | None = None) -> int:
    started = client.post("/api/v1/inspections", json={"facility_id": facility.id, "scheme": scheme}, headers=headers)
    body = started.get_json()
    saved = client.put(f"/api/v1/inspections/{body['id']}/answers", headers=headers, json={
        "answers": answers, "facts": {"veto": []}, "notes": notes or {}, "version": body["version"]})
    assert saved.status_code == 200, saved.get_json()
    submitted = client.post(f"/api/v1/inspections/{body['id']}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.get_json()
    return int(body["id"])


def test_approver_returns_with_a_reason_inspector_edits_again(client, rating_world, db_session):
    inspector = api_token(client, rating_world["inspector"])
    admin = api_token(client, rating_world["admin"])
    iid = _submitted(client, inspector, rating_world["station"], "community-star", STAR_FAIL)
    assert db_session.exec(select(CorrectiveAction).where(CorrectiveAction.inspection_id == iid)).all()
    for blank in ("", "  ", "\u200b", "\ufeff\u2060"):
        refused = client.post(f"/api/v1/inspections/{iid}/return", json={"reason": blank}, headers=admin)
        assert refused.status_code == 422, blank
        assert refused.get_json()["errors"][0]["item"] == "reason"
    assert client.post(f"/api/v1/inspections/{iid}/return", json={"reason": 3}, headers=admin).status_code == 422
    assert client.post(f"/api/v1/inspections/{iid}/return", json={"reason": "x"},
                       headers=inspector).status_code == 403
    returned = client.post(f"/api/v1/inspections/{iid}/return", json={"reason": "F1 照片看不清，请补拍"},
                           headers=admin)
    assert returned.status_code == 200, returned.get_json()
    assert returned.get_json()["status"] == "in_progress"
    assert not db_session.exec(select(CorrectiveAction).where(CorrectiveAction.inspection_id == iid)).all()
    events = db_session.exec(select(AuditEvent).where(AuditEvent.action == "rating.inspection.return",
                                                      AuditEvent.target_id == str(iid))).all()
    assert [e.reason for e in events] == ["F1 照片看不清，请补拍"]
    assert client.post(f"/api/v1/inspections/{iid}/approve", headers=admin).status_code == 409
    assert client.post(f"/api/v1/inspections/{iid}/return", json={"reason": "again"}, headers=admin).status_code == 409
    login(client, rating_world["inspector"])
    page = client.get(f"/rating/inspections/{iid}").get_data(as_text=True)
    assert "F1 照片看不清，请补拍" in page and 'id="checklist"' in page
    current = client.get(f"/api/v1/inspections/{iid}", headers=inspector).get_json()
    resubmit = client.put(f"/api/v1/inspections/{iid}/answers", headers=inspector, json={
        "answers": current["answers"], "facts": {"veto": []}, "version": current["version"]})
    assert resubmit.status_code == 200
    assert client.post(f"/api/v1/inspections/{iid}/submit", headers=inspector).status_code == 200
    assert db_session.exec(select(CorrectiveAction).where(CorrectiveAction.inspection_id == iid)).all()


def test_approver_sees_the_answers_notes_and_the_allowed_buttons(client, rating_world):
    inspector = api_token(client, rating_world["inspector"])
    iid = _submitted(client, inspector, rating_world["station"], "community-star", STAR_FAIL,
                     notes={"facilities.F1": "消防通道堆放杂物"})
    login(client, rating_world["admin"])
    page = client.get(f"/rating/inspections/{iid}").get_data(as_text=True)
    assert "checklist-answers" in page and "消防通道堆放杂物" in page
    assert f"/rating/inspections/{iid}/approve" in page and f"/rating/inspections/{iid}/return" in page
    assert page.count("data-confirm") >= 2
    bad = client.post(f"/rating/inspections/{iid}/return", data={"reason": "\u200b"})
    assert bad.status_code == 422 and "退回必须说明原因" in bad.get_data(as_text=True)
    assert f'action="/rating/inspections/{iid}/return#return"' in bad.get_data(as_text=True)


def test_submit_on_the_page_says_submitted(client, rating_world):
    inspector = api_token(client, rating_world["inspector"])
    started = client.post("/api/v1/inspections", json={"facility_id": rating_world["home"].id,
                                                       "scheme": "gbt37276-2018"}, headers=inspector).get_json()
    login(client, rating_world["inspector"])
    form = {f"q_{k}": str(v) for k, v in GBT_LEVEL4.items()} | {"version": str(started["version"]), "then": "submit"}
    response = client.post(f"/rating/inspections/{started['id']}/save", data=form, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "已提交" in html and "已保存" not in html


def test_no_rectification_notice_without_items(client, rating_world):
    inspector = api_token(client, rating_world["inspector"])
    iid = _submitted(client, inspector, rating_world["home"], "gbt37276-2018", GBT_LEVEL4)
    api = client.get(f"/api/v1/inspections/{iid}/notice.pdf", headers=inspector)
    assert api.status_code == 409 and api.get_json()["error"] == "nothing_to_rectify"
    login(client, rating_world["inspector"])
    page = client.get(f"/rating/inspections/{iid}")
    assert f"/rating/inspections/{iid}/notice.pdf" not in page.get_data(as_text=True)
    response = client.get(f"/rating/inspections/{iid}/notice.pdf", follow_redirects=True)
    assert response.mimetype == "text/html" and "不出具整改通知书" in response.get_data(as_text=True)


def test_separation_of_duties_inspector_with_admin_role(app, client, rating_world, org_tree):
    both = UserFactory(organisation=org_tree["city"], roles="admin inspector")
    own = api_token(client, both)
    other_admin = api_token(client, rating_world["admin"])
    iid = _submitted(client, own, rating_world["home"], "gbt37276-2018", GBT_LEVEL4)
    refused = client.post(f"/api/v1/inspections/{iid}/approve", headers=own)
    assert refused.status_code == 403 and "职责分离" in refused.get_json()["message"]
    assert client.post(f"/api/v1/inspections/{iid}/return", json={"reason": "自己退回"}, headers=own).status_code == 403
    login(client, both)
    page = client.get(f"/rating/inspections/{iid}").get_data(as_text=True)
    assert "职责分离" in page and f"/rating/inspections/{iid}/approve" not in page
    assert client.post(f"/api/v1/inspections/{iid}/approve", headers=other_admin).status_code == 200
    cert = client.post("/api/v1/certificates", json={"inspection_id": iid}, headers=own)
    assert cert.status_code == 403 and "职责分离" in cert.get_json()["message"]
    assert client.post("/api/v1/certificates", json={"inspection_id": iid}, headers=other_admin).status_code == 201
    app.config["SEPARATION_OF_DUTIES"] = False
    try:
        iid2 = _submitted(client, own, rating_world["station"], "community-star", STAR_FAIL)
        assert client.post(f"/api/v1/inspections/{iid2}/approve", headers=own).status_code == 200
    finally:
        app.config["SEPARATION_OF_DUTIES"] = True


def test_approving_an_older_inspection_late_never_supersedes_the_newer_grade(app, db_session, rating_world):
    from datetime import timedelta

    from core.timeutil import utcnow
    from rating import operations as ops
    from tests.rating.factories import GBT_LEVEL5

    home, inspector, admin = rating_world["home"], rating_world["inspector"], rating_world["admin"]

    def inspected(answers: dict, days_ago: int) -> object:
        inspection = ops.start_inspection(session=db_session, actor=inspector, facility=home, scheme="gbt37276-2018")
        ops.save_answers(session=db_session, actor=inspector, inspection=inspection, answers=answers,
                         facts={"veto": []}, version=inspection.version)
        return ops.submit_inspection(session=db_session, actor=inspector, inspection=inspection,
                                     now=utcnow() - timedelta(days=days_ago))

    with app.test_request_context():
        older, newer = inspected(GBT_LEVEL4, days_ago=30), inspected(GBT_LEVEL5, days_ago=2)
        new_grade = ops.approve_inspection(session=db_session, actor=admin, inspection=newer)
        old_grade = ops.approve_inspection(session=db_session, actor=admin, inspection=older)
        db_session.refresh(new_grade)
        assert new_grade.superseded_by_id is None and new_grade.code == 5
        assert old_grade.superseded_by_id == new_grade.id
        newest = inspected(GBT_LEVEL4, days_ago=0)
        latest = ops.approve_inspection(session=db_session, actor=admin, inspection=newest)
        db_session.refresh(new_grade)
        assert new_grade.superseded_by_id == latest.id and latest.superseded_by_id is None
        assert ops.approve_inspection(session=db_session, actor=admin, inspection=newest).id == latest.id
