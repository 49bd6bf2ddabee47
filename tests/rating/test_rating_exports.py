"""Exports of inspections (section scores, grade), corrective actions and certificates: the
files open with openpyxl and the csv module, hold the filtered rows only, and another
organisation's rows are absent."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.conftest import api_token, login
from tests.rating.factories import FacilityFactory

RESULT = {"scheme": "gbt37276-2018", "version": "1", "total": 905, "max_total": 1000,
          "sections": {"environment": {"score": 115, "max": 120, "label": "环境"},
                       "services": {"score": 580, "max": 600, "label": "服务"}},
          "grade": {"code": 5, "label": "五级", "stars": 5}, "vetoed": False}


def _inspection(session: Any, facility: Any, actor: Any, *, status: str = "approved", result: Any = RESULT) -> Any:
    from rating.models import Inspection

    row = Inspection(organisation_id=facility.organisation_id, facility_id=facility.id, scheme="gbt37276-2018",
                     scheme_version="1", status=status, result=result,
                     proposed_grade_code=(result or {}).get("grade", {}).get("code"), created_by_id=actor.id)
    session.add(row)
    session.flush()
    return row


def _action(session: Any, inspection: Any, description: str, days: int) -> Any:
    from core.timeutil import utcnow
    from rating.models import CorrectiveAction

    row = CorrectiveAction(organisation_id=inspection.organisation_id, facility_id=inspection.facility_id,
                           inspection_id=inspection.id, section="environment", description=description,
                           severity="major", due_at=utcnow() + timedelta(days=days))
    session.add(row)
    session.flush()
    return row


def _certificate(session: Any, inspection: Any, serial: str) -> Any:
    from rating.models import Certificate, Grade

    grade = Grade(organisation_id=inspection.organisation_id, facility_id=inspection.facility_id,
                  inspection_id=inspection.id, scheme="gbt37276-2018", scheme_version="1", code=5, label="五级",
                  stars=5, valid_from=date.today(), valid_until=date.today() + timedelta(days=3 * 365))
    session.add(grade)
    session.flush()
    row = Certificate(organisation_id=inspection.organisation_id, grade_id=grade.id,
                      facility_id=inspection.facility_id, serial=serial, code=f"code-{serial}", payload="{}",
                      signature="sig", issued_on=date.today(), valid_until=grade.valid_until)
    session.add(row)
    session.flush()
    return row


@pytest.fixture()
def world(rating_world: dict[str, Any], db_session: Any) -> dict[str, Any]:
    w = rating_world
    foreign_home = FacilityFactory(organisation=w["other"], name="外地养老院", district="外区")
    w["station"].district = "测试二区"
    db_session.flush()
    home = _inspection(db_session, w["home"], w["inspector"])
    station = _inspection(db_session, w["station"], w["inspector"], status="in_progress", result=None)
    foreign = _inspection(db_session, foreign_home, w["outsider"])
    return {**w, "insp_home": home, "insp_station": station, "insp_foreign": foreign,
            "act_soon": _action(db_session, home, "=CMD|' /C calc'!A0", 3),
            "act_later": _action(db_session, home, "消防通道堆放杂物", 30),
            "act_foreign": _action(db_session, foreign, "外地问题", 3),
            "cert": _certificate(db_session, home, "YY-2026-0001"),
            "cert_foreign": _certificate(db_session, foreign, "YY-2026-0999")}


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def _xlsx(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    rows = list(load_workbook(io.BytesIO(response.get_data()), read_only=True).active.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_inspections_export_has_section_scores_and_grade(client, world):
    headers = api_token(client, world["admin"])
    rows = _xlsx(client.get("/api/v1/exports/inspections.xlsx", headers=headers))
    assert sorted(r["检查编号"] for r in rows) == sorted([world["insp_home"].id, world["insp_station"].id])
    row = next(r for r in rows if r["检查编号"] == world["insp_home"].id)
    assert row["机构"] == "阳光养老院" and row["总分"] == 905 and row["等级"] == "五级" and row["等级代码"] == 5
    assert "environment 环境 115/120" in row["各部分得分"] and row["方案版本"] == "1"
    approved = _csv(client.get("/api/v1/exports/inspections.csv", query_string={"status": "approved"}, headers=headers))
    assert [int(r["检查编号"]) for r in approved] == [world["insp_home"].id]
    district = _csv(client.get("/api/v1/exports/inspections.csv", query_string={"district": "测试一区"},
                               headers=headers))
    assert {r["机构"] for r in district} == {"阳光养老院"}


def test_actions_export_is_filtered_scoped_and_defused(client, world):
    headers = api_token(client, world["inspector"])
    rows = _csv(client.get("/api/v1/exports/actions.csv", headers=headers))
    assert sorted(int(r["整改编号"]) for r in rows) == sorted([world["act_soon"].id, world["act_later"].id])
    soon = _csv(client.get("/api/v1/exports/actions.csv", query_string={"which": "due_soon"}, headers=headers))
    assert [int(r["整改编号"]) for r in soon] == [world["act_soon"].id]
    assert soon[0]["问题"].startswith("'=CMD")  # a DDE formula is text in the file
    sheet = load_workbook(io.BytesIO(client.get("/api/v1/exports/actions.xlsx", query_string={"which": "due_soon"},
                                                headers=headers).get_data())).active
    assert all(not str(c.value).startswith("=") for row in sheet.iter_rows() for c in row if c.value)


def test_certificates_export_and_scoping(client, world):
    headers = api_token(client, world["admin"])
    rows = _csv(client.get("/api/v1/exports/certificates.csv", headers=headers))
    assert [r["证书编号"] for r in rows] == ["YY-2026-0001"]
    assert rows[0]["等级"] == "五级" and rows[0]["状态"] == "有效" and rows[0]["区"] == "测试一区"
    outsider = api_token(client, world["outsider"])
    theirs = _csv(client.get("/api/v1/exports/certificates.csv", headers=outsider))
    assert [r["证书编号"] for r in theirs] == ["YY-2026-0999"]


def test_operator_cannot_export_inspections(client, world, db_session):
    from tests.factories import UserFactory

    operator = UserFactory(organisation=world["district1"], roles="operator")
    assert client.get("/api/v1/exports/inspections.csv", headers=api_token(client, operator)).status_code == 403


def test_rating_list_pages_offer_the_export(client, world):
    login(client, world["admin"])
    page = client.get("/rating/actions", query_string={"which": "all"}).get_data(as_text=True)
    assert "/api/v1/exports/actions.csv?which=all" in page
    assert 'name="reason"' not in page  # nothing to unmask in rating records
    assert "/api/v1/exports/certificates.xlsx" in client.get("/rating/certificates").get_data(as_text=True)
    assert "/api/v1/exports/inspections.csv" in client.get("/rating/inspections").get_data(as_text=True)


def test_rating_lists_answer_the_contract_with_the_district_filter(client, world):
    headers = api_token(client, world["admin"])
    for path in ("/api/v1/inspections", "/api/v1/actions?which=all", "/api/v1/certificates", "/api/v1/facilities"):
        body = client.get(path, headers=headers).get_json()
        assert set(body) >= {"items", "next_cursor"}, path
    inspections = client.get("/api/v1/inspections", query_string={"district": "测试二区"}, headers=headers).get_json()
    assert [i["id"] for i in inspections["items"]] == [world["insp_station"].id]
    actions = client.get("/api/v1/actions", query_string={"which": "all", "district": "测试二区"},
                         headers=headers).get_json()
    assert actions["items"] == []
    paged = client.get("/api/v1/actions", query_string={"which": "all", "limit": 1}, headers=headers).get_json()
    rest = client.get("/api/v1/actions", query_string={"which": "all", "limit": 1, "cursor": paged["next_cursor"]},
                      headers=headers).get_json()
    assert {paged["items"][0]["id"], rest["items"][0]["id"]} == {world["act_soon"].id, world["act_later"].id}


def test_operator_exports_only_its_facilities_actions(client, world, db_session):
    from tests.factories import OrganisationFactory, UserFactory

    company = OrganisationFactory(name="阳光运营公司", kind="operator")
    world["home"].operator_organisation_id = company.id
    db_session.flush()
    operator = UserFactory(organisation=company, roles="operator")
    rows = _csv(client.get("/api/v1/exports/actions.csv", query_string={"which": "all"},
                           headers=api_token(client, operator)))
    assert sorted(int(r["整改编号"]) for r in rows) == sorted([world["act_soon"].id, world["act_later"].id])
