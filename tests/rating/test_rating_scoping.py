"""Another organisation's inspector (or admin) gets 404 on every rating object."""

from __future__ import annotations

from rating import operations as ops
from tests.conftest import api_token, login

SAFETY_PASS = {k: "pass" for k in ("choking", "ingestion", "pressure_ulcer", "scald", "fall_from_bed", "fall",
                                   "wandering", "injury", "activity_accident")}


def test_outsider_gets_404_on_every_object(client, rating_world, db_session):
    world = rating_world
    app = world["app"]
    with app.app_context():
        plan = ops.create_plan(session=db_session, actor=world["admin"], organisation_id=world["city"].id,
                               name="抽查", scheme="community-star", method="manual",
                               facility_ids=[world["station"].id])
        inspection = ops.start_inspection(session=db_session, actor=world["inspector"], facility=world["station"],
                                          scheme="community-star", plan=plan)
        ops.save_answers(session=db_session, actor=world["inspector"], inspection=inspection,
                         answers={"facilities": 28, "operations": 28, "services": 20}, version=inspection.version)
        ops.submit_inspection(session=db_session, actor=world["inspector"], inspection=inspection)
        grade = ops.approve_inspection(session=db_session, actor=world["admin"], inspection=inspection)
        certificate, _ = ops.issue_certificate(session=db_session, actor=world["admin"], grade=grade)
        other = ops.start_inspection(session=db_session, actor=world["inspector"], facility=world["home"],
                                     scheme="gb38600-safety")
        ops.save_answers(session=db_session, actor=world["inspector"], inspection=other,
                         answers={**SAFETY_PASS, "choking": "fail", "wandering": "na"}, version=other.version)
        ops.submit_inspection(session=db_session, actor=world["inspector"], inspection=other)
    action = ops.escalate_overdue(session=db_session, actor=None, organisation_ids=[])  # nothing overdue yet
    assert action == []
    from sqlmodel import select

    from rating.models import CorrectiveAction

    action_id = db_session.exec(select(CorrectiveAction.id)).first()
    assert action_id is not None
    fid, iid, cid, aid = world["station"].id, inspection.id, certificate.id, action_id

    headers = api_token(client, world["outsider"])
    api_calls = [
        ("get", f"/api/v1/facilities/{fid}", None),
        ("get", f"/api/v1/plans/{plan.id}", None),
        ("post", "/api/v1/inspections", {"facility_id": fid, "scheme": "community-star"}),
        ("get", f"/api/v1/inspections/{iid}", None),
        ("put", f"/api/v1/inspections/{other.id}/answers", {"answers": {}, "version": 1}),
        ("post", f"/api/v1/inspections/{iid}/submit", None),
        ("post", f"/api/v1/inspections/{iid}/approve", None),
        ("post", f"/api/v1/inspections/{iid}/reinspection", None),
        ("get", f"/api/v1/inspections/{iid}/notice.pdf", None),
        ("get", f"/api/v1/actions/{aid}", None),
        ("post", f"/api/v1/actions/{aid}/evidence", {"note": "x"}),
        ("post", f"/api/v1/actions/{aid}/verify", {}),
        ("post", "/api/v1/certificates", {"inspection_id": iid}),
        ("get", f"/api/v1/certificates/{cid}", None),
        ("get", f"/api/v1/certificates/{cid}/pdf", None),
        ("post", f"/api/v1/certificates/{cid}/revoke", {"reason": "x"}),
    ]
    for method, url, body in api_calls:
        response = getattr(client, method)(url, json=body, headers=headers) if body is not None else \
            getattr(client, method)(url, headers=headers)
        assert response.status_code == 404, (method, url, response.status_code)
    assert client.get("/api/v1/facilities", headers=headers).get_json()["facilities"] == []
    assert client.get("/api/v1/actions?which=all", headers=headers).get_json()["actions"] == []

    login(client, world["outsider"])
    pages = [f"/rating/facilities/{fid}", f"/rating/facilities/{fid}/edit", f"/rating/plans/{plan.id}",
             f"/rating/inspections/{iid}", f"/rating/inspections/{iid}/notice.pdf", f"/rating/actions/{aid}",
             f"/rating/certificates/{cid}", f"/rating/certificates/{cid}/pdf"]
    for url in pages:
        assert client.get(url).status_code == 404, url
    posts = [f"/rating/facilities/{fid}/inspect", f"/rating/plans/{plan.id}/start", f"/rating/plans/{plan.id}/issue",
             f"/rating/inspections/{iid}/save", f"/rating/inspections/{iid}/submit", f"/rating/inspections/{iid}/approve",
             f"/rating/inspections/{iid}/reinspect", f"/rating/inspections/{iid}/photos", f"/rating/actions/{aid}/evidence",
             f"/rating/actions/{aid}/verify", f"/rating/certificates/{cid}/revoke", f"/rating/grades/{grade.id}/certificate",
             f"/rating/plans/{plan.id}/publish"]
    for url in posts:
        assert client.post(url, data={"reason": "x", "note": "x"}).status_code == 404, url
    # the public verification page stays public
    assert client.get(f"/verify/{certificate.code}").status_code == 200
