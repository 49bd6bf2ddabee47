"""Assessor qualifications: recorded through the user page and the API, listed on the
administrator's home when they expire soon, and an expired one (or, with the setting, none)
keeps the assessor from signing, with a clear message."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import select

from accounts.models import AssessorQualification
from tests.assessment.conftest import full_answers
from tests.conftest import TEST_PASSWORD, api_token, login
from tests.factories import UserFactory, current_session


def _today() -> date:
    from core.timeutil import local_today

    return local_today()


def _record(client: Any, headers: dict[str, str], user_id: int, until: date, number: str = "PG-2026-001") -> Any:
    return client.post(f"/api/v1/users/{user_id}/qualifications", headers=headers,
                       json={"certificate_number": number, "issuer": "测试市民政局", "valid_until": until.isoformat()})


def _submitted(client: Any, headers: dict[str, str], elder: Any, gbt: Any) -> int:
    created = client.post("/api/v1/assessments", headers=headers,
                          json={"elder_id": elder.id, "instrument": "gbt42195-2022", "reason": "首次评估"})
    assert created.status_code == 201, created.get_json()
    aid = created.get_json()["id"]
    client.put(f"/api/v1/assessments/{aid}/answers", json={"answers": full_answers(gbt), "version": 1}, headers=headers)
    assert client.post(f"/api/v1/assessments/{aid}/submit", headers=headers).status_code == 200
    return int(aid)


def test_api_records_lists_and_corrects_a_qualification(client, people):
    admin = api_token(client, people["admin"])
    assessor = people["assessor1"]
    bad = client.post(f"/api/v1/users/{assessor.id}/qualifications", headers=admin,
                      json={"certificate_number": " ", "issuer": "", "valid_until": "明年"})
    assert bad.status_code == 422
    assert {e["item"] for e in bad.get_json()["errors"]} == {"certificate_number", "issuer", "valid_until"}
    made = _record(client, admin, assessor.id, _today() + timedelta(days=400))
    assert made.status_code == 201, made.get_json()
    row = made.get_json()
    assert row["is_expired"] is False and row["certificate_number"] == "PG-2026-001"
    listed = client.get(f"/api/v1/users/{assessor.id}/qualifications", headers=admin).get_json()["items"]
    assert [q["id"] for q in listed] == [row["id"]]
    renewed = client.patch(f"/api/v1/users/{assessor.id}/qualifications/{row['id']}", headers=admin,
                           json={"valid_until": (_today() + timedelta(days=800)).isoformat(), "version": row["version"]})
    assert renewed.status_code == 200 and renewed.get_json()["version"] == row["version"] + 1
    stale = client.patch(f"/api/v1/users/{assessor.id}/qualifications/{row['id']}", headers=admin,
                         json={"issuer": "别处", "version": row["version"]})
    assert stale.status_code == 409
    outsider = api_token(client, people["outsider"])
    assert client.get(f"/api/v1/users/{assessor.id}/qualifications", headers=outsider).status_code == 404
    other = people["assessor2"]
    assert client.patch(f"/api/v1/users/{other.id}/qualifications/{row['id']}", headers=admin,
                        json={"issuer": "x"}).status_code == 404
    assert client.get(f"/api/v1/users/{assessor.id}/qualifications",
                      headers=api_token(client, people["assessor2"])).status_code == 403


def test_an_expired_qualification_cannot_sign_and_says_why(client, people, elder, gbt):
    admin = api_token(client, people["admin"])
    assessor = api_token(client, people["assessor1"])
    expired_on = _today() - timedelta(days=1)
    assert _record(client, admin, people["assessor1"].id, expired_on).status_code == 201
    aid = _submitted(client, assessor, elder, gbt)
    refused = client.post(f"/api/v1/assessments/{aid}/sign", json={"password": TEST_PASSWORD}, headers=assessor)
    assert refused.status_code == 403, refused.get_json()
    assert refused.get_json()["error"] == "qualification_expired"
    assert f"已于 {expired_on.isoformat()} 过期" in refused.get_json()["message"]
    login(client, people["assessor1"])
    page = client.post(f"/assessments/{aid}/sign", data={"password": TEST_PASSWORD})
    assert page.status_code == 403 and "资格证书已于" in page.get_data(as_text=True)
    # Renewed: a newer certificate counts, the old one stays on record.
    assert _record(client, admin, people["assessor1"].id, _today(), number="PG-2027-002").status_code == 201
    signed = client.post(f"/api/v1/assessments/{aid}/sign", json={"password": TEST_PASSWORD}, headers=assessor)
    assert signed.status_code == 200, signed.get_json()


def test_without_any_qualification_signing_follows_the_setting(app, client, people, elder, gbt, monkeypatch):
    assessor = api_token(client, people["assessor2"])
    aid = _submitted(client, assessor, elder, gbt)
    monkeypatch.setitem(app.config, "QUALIFICATION_REQUIRED", True)
    refused = client.post(f"/api/v1/assessments/{aid}/sign", json={"password": TEST_PASSWORD}, headers=assessor)
    assert refused.status_code == 403 and "还没有登记评估员资格证书" in refused.get_json()["message"]
    monkeypatch.setitem(app.config, "QUALIFICATION_REQUIRED", False)
    signed = client.post(f"/api/v1/assessments/{aid}/sign", json={"password": TEST_PASSWORD}, headers=assessor)
    assert signed.status_code == 200, signed.get_json()


def test_pages_record_correct_and_list_expiring_on_the_home(client, people):
    login(client, people["admin"])
    assessor = people["assessor1"]
    page = client.get(f"/admin/users/{assessor.id}").get_data(as_text=True)
    assert "评估员资格证书" in page and "还没有登记资格证书" in page
    bad = client.post(f"/admin/users/{assessor.id}/qualifications",
                      data={"certificate_number": "PG-9", "issuer": "", "valid_until": "2026-13-40"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "发证机构" in html and "日期格式" in html and 'value="PG-9"' in html
    soon = _today() + timedelta(days=10)
    made = client.post(f"/admin/users/{assessor.id}/qualifications",
                       data={"certificate_number": "PG-9", "issuer": "测试市民政局", "valid_until": soon.isoformat()})
    assert made.status_code == 302
    row = current_session().exec(select(AssessorQualification).where(AssessorQualification.user_id == assessor.id)).one()
    home = client.get("/").get_data(as_text=True)
    assert "资格证书已过期或即将到期" in home and "/admin/qualifications" in home
    inbox = client.get("/api/v1/inbox", headers=api_token(client, people["admin"])).get_json()
    assert inbox["counts"]["accounts.qualifications_expiring"] == 1
    listing = client.get("/admin/qualifications").get_data(as_text=True)
    assert "PG-9" in listing and assessor.display_name in listing
    later = _today() + timedelta(days=900)
    first = client.post(f"/admin/users/{assessor.id}/qualifications/{row.id}",
                        data={"certificate_number": "PG-9", "issuer": "测试市民政局", "valid_until": later.isoformat(),
                              "note": "", "version": "1"})
    assert first.status_code == 302
    second = client.post(f"/admin/users/{assessor.id}/qualifications/{row.id}",
                         data={"certificate_number": "PG-9", "issuer": "改过的机构", "valid_until": later.isoformat(),
                               "note": "", "version": "1"})
    assert second.status_code == 409 and "改过的机构" in second.get_data(as_text=True)
    assert "PG-9" not in client.get("/admin/qualifications").get_data(as_text=True)


@pytest.mark.parametrize("days, listed", [(-30, True), (0, True), (59, True), (61, False)])
def test_the_expiring_list_takes_the_newest_certificate_and_the_window(client, people, days, listed):
    admin = api_token(client, people["admin"])
    user = UserFactory(organisation=people["district"], roles="assessor")
    assert _record(client, admin, user.id, _today() - timedelta(days=400), number="OLD").status_code == 201
    assert _record(client, admin, user.id, _today() + timedelta(days=days), number="NEW").status_code == 201
    login(client, people["admin"])
    page = client.get("/admin/qualifications").get_data(as_text=True)
    assert ("NEW" in page) is listed and "OLD" not in page
