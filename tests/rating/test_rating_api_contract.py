"""The issue's API contract is in /api/v1/openapi.json; the overdue escalation runs from the CLI."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from core.timeutil import utcnow
from rating import operations as ops
from rating.cli import rating_group
from rating.models import CorrectiveAction
from tests.rating.factories import STAR_FAIL

CONTRACT = [
    ("post", "/api/v1/facilities"),
    ("post", "/api/v1/inspections"),
    ("put", "/api/v1/inspections/{inspection_id}/answers"),
    ("post", "/api/v1/inspections/{inspection_id}/submit"),
    ("post", "/api/v1/inspections/{inspection_id}/approve"),
    ("post", "/api/v1/actions/{action_id}/evidence"),
    ("post", "/api/v1/actions/{action_id}/verify"),
    ("post", "/api/v1/certificates"),
    ("get", "/api/v1/certificates/{certificate_id}/pdf"),
    ("post", "/api/v1/certificates/{certificate_id}/revoke"),
]


def test_contract_endpoints_are_documented(client, rating_world):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for method, path in CONTRACT:
        assert method in paths.get(path, {}), (method, path)
    assert "application/pdf" in paths["/api/v1/certificates/{certificate_id}/pdf"]["get"]["responses"]["200"]["content"]


def test_unauthenticated_api_is_401(client, rating_world):
    assert client.post("/api/v1/facilities", json={"name": "x", "kind": "station"}).status_code == 401


def test_escalate_command(app, runner, rating_world, db_session):
    with app.app_context():
        inspection = ops.start_inspection(session=db_session, actor=rating_world["inspector"],
                                          facility=rating_world["station"], scheme="community-star")
        ops.save_answers(session=db_session, actor=rating_world["inspector"], inspection=inspection,
                         answers=STAR_FAIL, version=inspection.version)
        ops.submit_inspection(session=db_session, actor=rating_world["inspector"], inspection=inspection,
                              now=utcnow() - timedelta(days=10))
    result = runner.invoke(rating_group, ["escalate"])
    assert result.exit_code == 0, result.output
    statuses = {a.severity: a.status for a in db_session.exec(select(CorrectiveAction)) if not a.is_rectification}
    assert statuses["critical"] == "escalated" and statuses["minor"] == "open"
    assert "已升级 0 项" in runner.invoke(rating_group, ["escalate"]).output
