"""The assessment workflow as people meet it: return with a reason, the buttons a page draws,
separation of duties."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from tests.assessment.conftest import full_answers
from tests.conftest import TEST_PASSWORD, api_token, login
from tests.factories import UserFactory


@pytest.fixture()
def headers(client, people) -> dict[str, dict[str, str]]:
    return {name: api_token(client, people[name]) for name in ("assessor1", "assessor2", "reviewer")}


def _signed(client: Any, headers: dict[str, Any], elder: Any, gbt: Any) -> int:
    """An assessment submitted and signed by both assessors, waiting for the reviewer."""
    created = client.post("/api/v1/assessments", headers=headers["assessor1"],
                          json={"elder_id": elder.id, "instrument": "gbt42195-2022", "reason": "首次评估"})
    aid = created.get_json()["id"]
    client.put(f"/api/v1/assessments/{aid}/answers", json={"answers": full_answers(gbt), "version": 1},
               headers=headers["assessor1"])
    assert client.post(f"/api/v1/assessments/{aid}/submit", headers=headers["assessor1"]).status_code == 200
    for who in ("assessor1", "assessor2"):
        signed = client.post(f"/api/v1/assessments/{aid}/sign", json={"password": TEST_PASSWORD}, headers=headers[who])
        assert signed.status_code == 200, signed.get_json()
    return int(aid)


def test_reviewer_returns_with_a_reason_signatures_lapse_reason_kept(client, headers, elder, gbt, db_session):
    from audit.models import AuditEvent

    aid = _signed(client, headers, elder, gbt)
    for blank in ("", "   ", "\u200b\u200b", " \ufeff "):
        refused = client.post(f"/api/v1/assessments/{aid}/return", json={"reason": blank}, headers=headers["reviewer"])
        assert refused.status_code == 422, blank
        assert refused.get_json()["errors"][0]["item"] == "reason"
    assert client.post(f"/api/v1/assessments/{aid}/return", json={}, headers=headers["reviewer"]).status_code == 422
    assert client.post(f"/api/v1/assessments/{aid}/return", json={"reason": ["x"]},
                       headers=headers["reviewer"]).status_code == 422
    by_assessor = client.post(f"/api/v1/assessments/{aid}/return", json={"reason": "自己退回"},
                              headers=headers["assessor1"])
    assert by_assessor.status_code == 403
    returned = client.post(f"/api/v1/assessments/{aid}/return", json={"reason": "B.2.3 与现场不符，请复核"},
                           headers=headers["reviewer"])
    assert returned.status_code == 200, returned.get_json()
    body = returned.get_json()
    assert body["status"] == "draft" and body["signatures"] == []
    events = db_session.exec(select(AuditEvent).where(AuditEvent.action == "assessment.return",
                                                      AuditEvent.target_id == str(aid))).all()
    assert [e.reason for e in events] == ["B.2.3 与现场不符，请复核"]
    again = client.post(f"/api/v1/assessments/{aid}/return", json={"reason": "再退一次"}, headers=headers["reviewer"])
    assert again.status_code == 409  # a draft cannot be returned
    # The assessors see why, on the form they edit again, and can resubmit.
    elder_assessor = elder_owner(db_session, aid)
    login(client, elder_assessor)
    page = client.get(f"/assessments/{aid}/fill", follow_redirects=True)
    assert page.status_code == 200 and "B.2.3 与现场不符，请复核" in page.get_data(as_text=True)
    assert elder_assessor.has_role("assessor")
    saved = client.put(f"/api/v1/assessments/{aid}/answers", json={"answers": {}, "version": body["version"]},
                       headers=headers["assessor1"])
    assert saved.status_code == 200


def elder_owner(session: Any, aid: int) -> Any:
    from accounts.models import User
    from assessment.models import Assessment

    return session.get(User, session.get(Assessment, aid).created_by_id)


def test_detail_page_draws_exactly_the_allowed_buttons(app, client, headers, people, elder, gbt):
    aid = _signed(client, headers, elder, gbt)
    login(client, people["reviewer"])
    page = client.get(f"/assessments/{aid}").get_data(as_text=True)
    assert 'id="sign-button"' in page and f"/assessments/{aid}/return" in page
    assert f"/assessments/{aid}/reopen" not in page and f"/assessments/{aid}/amend" not in page
    assert 'id="answers"' in page and "data-confirm" in page  # the answers are there before locking
    other = app.test_client()
    login(other, people["assessor1"])
    page = other.get(f"/assessments/{aid}").get_data(as_text=True)
    assert 'id="sign-button"' not in page  # already signed
    assert f"/assessments/{aid}/reopen" in page and f"/assessments/{aid}/return" not in page


def test_return_page_error_stays_next_to_the_form(client, headers, people, elder, gbt):
    aid = _signed(client, headers, elder, gbt)
    login(client, people["reviewer"])
    response = client.post(f"/assessments/{aid}/return", data={"reason": "\u200b"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'action="/assessments/{aid}/return#return"' in html and "退回必须说明原因" in html
    done = client.post(f"/assessments/{aid}/return", data={"reason": "照片缺失"}, follow_redirects=True)
    assert done.status_code == 200 and "照片缺失" in done.get_data(as_text=True)


def test_separation_of_duties_keeps_an_assessor_from_reviewing_their_own_work(app, client, people, elder, gbt):
    both = UserFactory(username="both_roles", roles="assessor reviewer", organisation=people["district"])
    headers = {"assessor1": api_token(client, both), "assessor2": api_token(client, people["assessor2"]),
               "reviewer": api_token(client, people["reviewer"])}
    aid = _signed(client, headers, elder, gbt)
    refused = client.post(f"/api/v1/assessments/{aid}/sign", json={"password": TEST_PASSWORD},
                          headers=headers["assessor1"])
    assert refused.status_code in (403, 409)
    returned = client.post(f"/api/v1/assessments/{aid}/return", json={"reason": "自己退回自己"},
                           headers=headers["assessor1"])
    assert returned.status_code == 403 and "职责分离" in returned.get_json()["message"]
    login(client, both)
    page = client.get(f"/assessments/{aid}").get_data(as_text=True)
    assert "职责分离" in page and f"/assessments/{aid}/return" not in page
    app.config["SEPARATION_OF_DUTIES"] = False
    try:
        allowed = client.post(f"/api/v1/assessments/{aid}/return", json={"reason": "设置关闭时可以"},
                              headers=headers["assessor1"])
        assert allowed.status_code == 200
    finally:
        app.config["SEPARATION_OF_DUTIES"] = True


def test_a_submitter_with_both_roles_cannot_approve(app, client, people, elder, gbt, db_session):
    from assessment import operations as ops

    both = UserFactory(username="submitter_reviewer", roles="assessor reviewer", organisation=people["district"])
    with app.test_request_context():
        assessment = ops.start_assessment(session=db_session, actor=both, elder=elder, definition=gbt,
                                          reason="initial")
        ops.save_answers(session=db_session, actor=both, assessment=assessment, definition=gbt,
                         answers=full_answers(gbt), version=assessment.version)
        ops.submit_assessment(session=db_session, actor=both, assessment=assessment, definition=gbt)
        for who in ("assessor1", "assessor2"):
            ops.sign_assessment(session=db_session, actor=people[who], assessment=assessment,
                                password=TEST_PASSWORD, required_signatures=2)
        with pytest.raises(ops.AssessmentError) as refused:
            ops.sign_assessment(session=db_session, actor=both, assessment=assessment, password=TEST_PASSWORD,
                                required_signatures=2)
        assert refused.value.status == 403 and refused.value.code == "separation_of_duties"
        assert assessment.status == "signed"
        ops.sign_assessment(session=db_session, actor=people["reviewer"], assessment=assessment,
                            password=TEST_PASSWORD, required_signatures=2)
        assert assessment.status == "approved"


def test_start_twice_opens_the_same_assessment(client, people, elder):
    login(client, people["assessor1"])
    first = client.post(f"/elders/{elder.id}/assessments", data={"instrument": "gbt42195-2022", "reason": "initial"})
    second = client.post(f"/elders/{elder.id}/assessments", data={"instrument": "gbt42195-2022", "reason": "initial"})
    again = client.post(f"/elders/{elder.id}/reassess")
    assert first.status_code == second.status_code == again.status_code == 302
    assert first.headers["Location"] == second.headers["Location"] == again.headers["Location"]
    page = client.get(second.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "该老人已有一份进行中的评估，已为您打开。" in page
    headers = api_token(client, people["assessor2"])
    api = client.post("/api/v1/assessments", headers=headers, json={"elder_id": elder.id,
                                                                    "instrument": "gbt42195-2022"})
    assert api.status_code == 200 and f"/assessments/{api.get_json()['id']}/" in first.headers["Location"]


def test_the_database_refuses_a_second_amendment_and_a_second_open_draft(app, db_session, people, elder, gbt):
    from sqlalchemy.exc import IntegrityError

    from assessment.models import Assessment

    def row(**extra: Any) -> Assessment:
        return Assessment(organisation_id=elder.organisation_id, elder_id=elder.id, instrument_id=gbt.id,
                          instrument_version=gbt.version, reason="initial", **extra)

    locked = row(status="approved")
    db_session.add(locked)
    db_session.flush()
    for first, second in ((row(amends_id=locked.id), row(amends_id=locked.id)), (row(), row(status="submitted"))):
        db_session.add(first)
        db_session.flush()
        savepoint = db_session.begin_nested()
        db_session.add(second)
        with pytest.raises(IntegrityError):
            db_session.flush()
        savepoint.rollback()


def test_a_signing_or_amending_error_lands_next_to_its_form(client, headers, people, elder, gbt):
    aid = _signed(client, headers, elder, gbt)
    login(client, people["reviewer"])
    wrong = client.post(f"/assessments/{aid}/sign", data={"password": "nope"})
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 403
    # the form posts to its own anchor, so the answer opens scrolled to the form and its message
    form = html[html.index(f'action="/assessments/{aid}/sign#signing"'):]
    assert form.index('role="alert"') < form.index("</form>")
    client.post(f"/assessments/{aid}/sign", data={"password": TEST_PASSWORD})
    refused = client.post(f"/assessments/{aid}/amend", data={"reason": "\u200b "})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and f'action="/assessments/{aid}/amend#amend"' in html
    assert html.index('id="amend"') < html.index("更正必须填写原因")
