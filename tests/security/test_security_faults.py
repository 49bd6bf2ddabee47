"""Faults injected in the middle of multi-step actions leave nothing half-written.

Each multi-step action (sign → lock → audit; approve → grade → supersede → audit; issue →
certificate → audit) ends with an audit write. The fault is injected there, after the other
writes were flushed: the request must fail as a whole, and the database must look exactly as
before the request."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import func, select

import audit.operations
from assessment.models import Assessment, AssessmentSignature
from audit.models import AuditEvent
from rating.models import Certificate, Grade, Inspection
from tests.assessment.conftest import full_answers
from tests.conftest import TEST_PASSWORD, api_token
from tests.rating.factories import GBT_LEVEL4


class InjectedFault(RuntimeError):
    pass


def fail_on(monkeypatch: pytest.MonkeyPatch, action: str) -> None:
    """Make the audit write of `action` raise, wherever operations import record_event from."""
    original = audit.operations.record_event

    def failing(**kwargs: Any) -> Any:
        if kwargs.get("action") == action:
            raise InjectedFault(action)
        return original(**kwargs)

    import assessment.operations.assessments
    import assessment.operations.elders
    import rating.operations.certificates
    import rating.operations.inspections

    for module in (audit, audit.operations, assessment.operations.assessments, assessment.operations.elders,
                   rating.operations.inspections, rating.operations.certificates):
        if hasattr(module, "record_event"):
            monkeypatch.setattr(module, "record_event", failing)


def _count(db_session: Any, model: Any, *where: Any) -> int:
    return db_session.exec(select(func.count()).select_from(model).where(*where)).one()


def _submitted_assessment(client: Any, people: dict[str, Any], elder: Any, gbt: Any) -> tuple[int, dict]:
    headers = api_token(client, people["assessor1"])
    created = client.post("/api/v1/assessments", headers=headers,
                          json={"elder_id": elder.id, "instrument": "gbt42195-2022", "reason": "initial"}).get_json()
    saved = client.put(f"/api/v1/assessments/{created['id']}/answers", headers=headers,
                       json={"answers": full_answers(gbt), "version": created["version"]}).get_json()
    submitted = client.post(f"/api/v1/assessments/{created['id']}/submit", headers=headers,
                            json={"version": saved["version"]})
    assert submitted.status_code == 200, submitted.get_json()
    return created["id"], headers


def test_fault_in_sign_lock_audit_leaves_nothing(client, db_session, people, elder, gbt, monkeypatch):
    assessment_id, first = _submitted_assessment(client, people, elder, gbt)
    second = api_token(client, people["assessor2"])
    reviewer = api_token(client, people["reviewer"])
    assert client.post(f"/api/v1/assessments/{assessment_id}/sign", headers=first,
                       json={"password": TEST_PASSWORD}).status_code == 200
    assert client.post(f"/api/v1/assessments/{assessment_id}/sign", headers=second,
                       json={"password": TEST_PASSWORD}).status_code == 200
    before = (_count(db_session, AssessmentSignature, AssessmentSignature.assessment_id == assessment_id),
              _count(db_session, AuditEvent), db_session.get(Assessment, assessment_id).version)

    fail_on(monkeypatch, "assessment.approve")
    with pytest.raises(InjectedFault):
        client.post(f"/api/v1/assessments/{assessment_id}/sign", headers=reviewer, json={"password": TEST_PASSWORD})
    db_session.expire_all()
    assessment = db_session.get(Assessment, assessment_id)
    assert assessment.status == "signed" and assessment.reviewer_id is None
    after = (_count(db_session, AssessmentSignature, AssessmentSignature.assessment_id == assessment_id),
             _count(db_session, AuditEvent), assessment.version)
    assert after == before

    monkeypatch.undo()
    done = client.post(f"/api/v1/assessments/{assessment_id}/sign", headers=reviewer, json={"password": TEST_PASSWORD})
    assert done.status_code == 200 and done.get_json()["status"] == "approved"


def _submitted_inspection(client: Any, world: dict[str, Any]) -> tuple[int, dict]:
    inspector = api_token(client, world["inspector"])
    created = client.post("/api/v1/inspections", headers=inspector,
                          json={"facility_id": world["home"].id, "scheme": "gbt37276-2018"}).get_json()
    saved = client.put(f"/api/v1/inspections/{created['id']}/answers", headers=inspector,
                       json={"answers": GBT_LEVEL4, "facts": {"veto": []}, "version": created["version"]})
    assert saved.status_code == 200, saved.get_json()
    assert client.post(f"/api/v1/inspections/{created['id']}/submit", headers=inspector).status_code == 200
    return created["id"], api_token(client, world["admin"])


def test_fault_in_approve_grade_audit_leaves_nothing(client, db_session, rating_world, monkeypatch):
    inspection_id, admin = _submitted_inspection(client, rating_world)
    before = (_count(db_session, Grade), _count(db_session, AuditEvent))
    fail_on(monkeypatch, "rating.inspection.approve")
    with pytest.raises(InjectedFault):
        client.post(f"/api/v1/inspections/{inspection_id}/approve", headers=admin)
    db_session.expire_all()
    assert (_count(db_session, Grade), _count(db_session, AuditEvent)) == before
    assert db_session.get(Inspection, inspection_id).status == "submitted"
    monkeypatch.undo()
    assert client.post(f"/api/v1/inspections/{inspection_id}/approve", headers=admin).status_code == 200


def test_fault_in_certificate_issue_leaves_nothing(client, db_session, rating_world, monkeypatch):
    inspection_id, admin = _submitted_inspection(client, rating_world)
    assert client.post(f"/api/v1/inspections/{inspection_id}/approve", headers=admin).status_code == 200
    before = (_count(db_session, Certificate), _count(db_session, AuditEvent))
    fail_on(monkeypatch, "rating.certificate.issue")
    with pytest.raises(InjectedFault):
        client.post("/api/v1/certificates", json={"inspection_id": inspection_id}, headers=admin)
    db_session.expire_all()
    assert (_count(db_session, Certificate), _count(db_session, AuditEvent)) == before
    monkeypatch.undo()
    issued = client.post("/api/v1/certificates", json={"inspection_id": inspection_id}, headers=admin)
    assert issued.status_code == 201


def test_a_failing_pdf_render_does_not_lose_the_record(client, db_session, people, elder, gbt, monkeypatch):
    assessment_id, headers = _submitted_assessment(client, people, elder, gbt)

    def broken(*_args: Any, **_kwargs: Any) -> bytes:
        from reports import RenderError

        raise RenderError("PDF 生成失败（测试注入）")

    monkeypatch.setattr("reports.render_pdf", broken)
    response = client.get(f"/api/v1/assessments/{assessment_id}/report.pdf", headers=headers)
    assert response.status_code == 503 and "记录已保存" in response.get_json()["message"]
    db_session.expire_all()
    assessment = db_session.get(Assessment, assessment_id)
    assert assessment.status == "submitted" and assessment.result is not None
