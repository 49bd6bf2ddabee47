"""Exports of elders and assessments (jobs/exports.py, assessment/exports.py): the files open
with openpyxl and the csv module, hold the filtered rows only, masked ID numbers and phones
only; unmasked needs an administrator and a reason and is audited; formulas are defused;
another organisation's rows are absent; the platform record; the pages' buttons; the command."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.assessment.conftest import ID_NUMBER, OTHER_ID_NUMBER
from tests.conftest import api_token, login
from tests.factories import make_id_number

PHONE = "13812345678"
RESULT = {"instrument": "gbt42195-2022", "version": "1", "total": 57, "max_total": 90,
          "domains": {"B1": {"score": 20, "max": 32, "label": "自理能力", "label_en": "Self-care"},
                      "B2": {"score": 10, "max": 15, "label": "基础运动能力"},
                      "B3": {"score": 17, "max": 28, "label": "精神状态"},
                      "B4": {"score": 10, "max": 15, "label": "感知觉与社会参与"}},
          "preliminary_level": {"code": 2, "label": "能力中度受损"},
          "level": {"code": 3, "label": "能力重度受损", "label_en": "Severely impaired"},
          "adjustments": [{"id": "dementia_or_mental_disorder", "label": "确诊痴呆 F00-F03", "effect": "raise"}]}


def _elder(app: Any, session: Any, actor: Any, org: Any, name: str, id_number: str, **extra: Any) -> Any:
    from assessment import operations as ops
    from core.crypto import FieldCipher

    with app.test_request_context():
        return ops.register_elder(
            session=session, actor=actor, organisation=org,
            data=ops.ElderInput(name=name, gender="female", birth_date=date.fromisoformat(
                f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}"), id_number=id_number,
                phone=PHONE, **extra),
            cipher=FieldCipher(app.config["DATA_KEY"]), duplicate_scope=[org.id])


def _assessment(session: Any, elder: Any, actor: Any, *, status: str = "approved", result: Any = RESULT,
                answers: Any = None) -> Any:
    from assessment.models import Assessment
    from core.timeutil import utcnow

    row = Assessment(organisation_id=elder.organisation_id, elder_id=elder.id, instrument_id="gbt42195-2022",
                     instrument_version="1", reason="initial", status=status, result=result,
                     answers=answers or {"A.4.1": ["F00-F03"], "A.5.11": False}, created_by_id=actor.id,
                     submitted_at=utcnow(), approved_at=utcnow() if status == "approved" else None)
    session.add(row)
    session.flush()
    return row


@pytest.fixture()
def world(app, db_session, people) -> dict[str, Any]:
    wang = _elder(app, db_session, people["assessor1"], people["district"], "王秀英", ID_NUMBER,
                  community="和平社区", address="=HYPERLINK(\"http://evil.example\",\"点我\")")
    li = _elder(app, db_session, people["assessor1"], people["district"], "李建国", OTHER_ID_NUMBER,
                community="幸福社区")
    stranger = _elder(app, db_session, people["outsider"], people["other"], "外人甲",
                      make_id_number("1950-03-04", 7), community="和平社区")
    approved = _assessment(db_session, wang, people["assessor1"])
    draft = _assessment(db_session, li, people["assessor1"], status="draft", result=None)
    foreign = _assessment(db_session, stranger, people["outsider"])
    return {**people, "wang": wang, "li": li, "stranger": stranger, "approved": approved, "draft": draft,
            "foreign": foreign}


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    data = response.get_data()
    assert data.startswith("\ufeff".encode())  # Excel reads UTF-8 Chinese with the BOM
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _xlsx(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_elders_csv_is_filtered_masked_and_scoped(client, world):
    headers = api_token(client, world["assessor1"])
    rows = _csv(client.get("/api/v1/exports/elders.csv", headers=headers))
    assert sorted(r["姓名"] for r in rows) == ["李建国", "王秀英"]  # the other organisation's elder is absent
    assert {r["身份证号"] for r in rows} == {"110105********002X", "440524********0014"}
    assert {r["电话"] for r in rows} == {"138****5678"}
    filtered = _csv(client.get("/api/v1/exports/elders.csv", query_string={"community": "和平社区"}, headers=headers))
    assert [r["姓名"] for r in filtered] == ["王秀英"]
    # a formula in a cell is text, not a formula, when the file is opened
    assert filtered[0]["地址"].startswith("'=HYPERLINK")
    english = client.get("/api/v1/exports/elders.csv", headers={**headers, "Accept-Language": "en"})
    assert "Name" in english.get_data().decode("utf-8-sig").splitlines()[0]


def test_assessments_xlsx_has_scores_levels_and_versions(client, world):
    headers = api_token(client, world["assessor1"])
    rows = _xlsx(client.get("/api/v1/exports/assessments.xlsx", headers=headers))
    assert sorted(r["评估编号"] for r in rows) == sorted([world["approved"].id, world["draft"].id])
    row = next(r for r in rows if r["评估编号"] == world["approved"].id)
    assert row["身份证号"] == "110105********002X" and row["工具版本"] == "1"
    assert row["评估工具"] == "gbt42195-2022" and row["总分"] == 57 and row["满分"] == 90
    assert row["初步等级"] == "能力中度受损" and row["最终等级代码"] == 3 and row["最终等级"] == "能力重度受损"
    assert "B1 自理能力 20/32" in row["能力维度得分"]
    assert row["等级变更项数"] == 1 and "等级变更依据" not in row  # the basis names a diagnosis
    approved = _xlsx(client.get("/api/v1/exports/assessments.xlsx", query_string={"status": "approved"},
                                headers=headers))
    assert [r["评估编号"] for r in approved] == [world["approved"].id]
    by_level = _csv(client.get("/api/v1/exports/assessments.csv", query_string={"level": 3}, headers=headers))
    assert [int(r["评估编号"]) for r in by_level] == [world["approved"].id]
    data = client.get("/api/v1/exports/assessments.xlsx", headers=headers).get_data()
    assert ID_NUMBER.encode() not in data and OTHER_ID_NUMBER.encode() not in data


def test_formula_in_xlsx_is_text(client, world):
    headers = api_token(client, world["assessor1"])
    response = client.get("/api/v1/exports/elders.xlsx", query_string={"community": "和平社区"}, headers=headers)
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("地址") + 1)
    assert cell.data_type == "s" and cell.value.startswith("'=")


def test_unmasked_needs_an_administrator_and_a_reason_and_is_audited(client, world, db_session):
    from sqlmodel import select

    from audit.models import AuditEvent

    assessor = api_token(client, world["assessor1"])
    refused = client.get("/api/v1/exports/elders.csv", query_string={"unmasked": "true", "reason": "核对"},
                         headers=assessor)
    assert refused.status_code == 403
    admin = api_token(client, world["admin"])
    no_reason = client.get("/api/v1/exports/elders.csv", query_string={"unmasked": "true"}, headers=admin)
    assert no_reason.status_code == 422
    assert no_reason.get_json()["errors"][0]["item"] == "reason"
    assert "原因" in no_reason.get_json()["errors"][0]["message"]
    rows = _csv(client.get("/api/v1/exports/elders.csv", headers=admin,
                           query_string={"unmasked": "true", "reason": "移交民政局核对", "community": "和平社区"}))
    assert [(r["身份证号"], r["电话"]) for r in rows] == [(ID_NUMBER, PHONE)]
    events = db_session.exec(select(AuditEvent).where(AuditEvent.action == "export.run")).all()
    unmasked = [e for e in events if (e.changes or {}).get("unmasked")]
    assert len(unmasked) == 1 and unmasked[0].reason == "移交民政局核对"
    assert unmasked[0].changes["filters"] == {"community": "和平社区"} and unmasked[0].username == world["admin"].username
    assert all(ID_NUMBER not in str(e.changes) for e in events)
    # unmasked, the basis of a change of level is there too
    full = _xlsx(client.get("/api/v1/exports/assessments.xlsx", headers=admin,
                            query_string={"unmasked": "true", "reason": "复核"}))
    assert any(r["等级变更依据"] == "确诊痴呆 F00-F03" for r in full)


def test_bad_filters_are_422_listing_the_field(client, world):
    headers = api_token(client, world["assessor1"])
    bad = client.get("/api/v1/exports/assessments.csv", query_string={"from": "yesterday"}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["item"] == "from"
    full_id = client.get("/api/v1/exports/elders.csv", query_string={"q": ID_NUMBER}, headers=headers)
    assert full_id.status_code == 422 and full_id.get_json()["errors"][0]["item"] == "q"
    other_org = client.get("/api/v1/exports/elders.csv", query_string={"org": world["other"].id}, headers=headers)
    assert other_org.status_code == 422


def test_platform_record_holds_approved_gbt_assessments(client, world):
    headers = api_token(client, world["assessor1"])
    rows = _csv(client.get("/api/v1/exports/assessments.csv", query_string={"format": "platform"}, headers=headers))
    assert [r["yiyang_assessment_id"] for r in rows] == [str(world["approved"].id)]
    row = rows[0]
    assert row["A.1.1 评估编号"] == f"PG{world['approved'].id:08d}-1" and row["A.1.3 评估原因"] == "首次评估"
    assert row["A.2.8 公民身份证号码"] == "110105********002X" and row["A.2.2 性别"] == "女"
    assert (row["C.1.1 自理能力"], row["C.1.2 基础运动能力"], row["C.2 初步等级得分"]) == ("20", "10", "57")
    assert row["C.3 初步等级"] == "能力中度受损" and row["C.5 最终等级"] == "能力重度受损"
    assert row["A.4.1 疾病诊断"] == "" and row["C.4 能力等级变更依据"] == ""  # diagnoses are sensitive
    admin = api_token(client, world["admin"])
    full = _csv(client.get("/api/v1/exports/assessments.csv", headers=admin,
                           query_string={"format": "platform", "unmasked": "true", "reason": "上报省平台"}))
    assert [r["A.4.1 疾病诊断"] for r in full] == ["F00-F03"] and full[0]["A.2.8 公民身份证号码"] == ID_NUMBER
    wrong = client.get("/api/v1/exports/assessments.csv", query_string={"format": "platform", "status": "draft"},
                       headers=headers)
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["item"] == "status"


def test_list_pages_offer_the_export_with_their_filters(client, world):
    login(client, world["admin"])
    page = client.get("/assessments", query_string={"status": "approved"}).get_data(as_text=True)
    assert "/api/v1/exports/assessments.xlsx?status=approved" in page
    assert "/api/v1/exports/assessments.csv?status=approved" in page
    assert 'name="reason"' in page  # administrators: the unmasked export asks for a reason
    elders = client.get("/elders", query_string={"community": "和平社区"}).get_data(as_text=True)
    assert "/api/v1/exports/elders.csv?community=" in elders
    # the button works with the page's session
    rows = _csv(client.get("/api/v1/exports/assessments.csv", query_string={"status": "approved"}))
    assert [int(r["评估编号"]) for r in rows] == [world["approved"].id]


def test_assessor_page_has_no_unmasked_form(client, world):
    login(client, world["assessor1"])
    page = client.get("/assessments").get_data(as_text=True)
    assert "/api/v1/exports/assessments.csv" in page and 'name="reason"' not in page


def test_export_command_streams_a_file(app, world, runner, tmp_path, db_session):
    out = tmp_path / "elders.xlsx"
    result = runner.invoke(args=["export", "elders", "--format", "xlsx", "--as", world["assessor1"].username,
                                 "--filter", "community=和平社区", "-o", str(out)])
    assert result.exit_code == 0, (result.output, __import__("traceback").format_exception(result.exc_info[1]) if result.exc_info else None)
    sheet = load_workbook(out, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and "110105********002X" in rows[1]
    refused = runner.invoke(args=["export", "elders", "--as", world["assessor1"].username, "--unmasked",
                                  "--reason", "x", "-o", str(tmp_path / "x.csv")])
    assert refused.exit_code != 0


def test_lists_answer_the_contract_with_the_same_filters(client, world):
    headers = api_token(client, world["assessor1"])
    elders = client.get("/api/v1/elders", query_string={"community": "和平社区", "limit": 1}, headers=headers)
    assert elders.status_code == 200 and set(elders.get_json()) >= {"items", "next_cursor"}
    assert [e["name"] for e in elders.get_json()["items"]] == ["王秀英"] and elders.get_json()["next_cursor"] is None
    first = client.get("/api/v1/assessments", query_string={"limit": 1}, headers=headers).get_json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = client.get("/api/v1/assessments", query_string={"limit": 1, "cursor": first["next_cursor"]},
                        headers=headers).get_json()
    assert {first["items"][0]["id"], second["items"][0]["id"]} == {world["approved"].id, world["draft"].id}
    by_level = client.get("/api/v1/assessments", query_string={"level": 3, "reason": "initial", "current": "1"},
                          headers=headers).get_json()
    assert [a["id"] for a in by_level["items"]] == [world["approved"].id]
    by_community = client.get("/api/v1/assessments", query_string={"community": "幸福社区"}, headers=headers).get_json()
    assert [a["id"] for a in by_community["items"]] == [world["draft"].id]
    document = client.get("/api/v1/openapi.json").get_json()
    names = {p["name"] for p in document["paths"]["/api/v1/assessments"]["get"]["parameters"]}
    assert {"org", "status", "level", "from", "to", "instrument", "assessor", "cursor", "limit"} <= names
    export = {p["name"] for p in document["paths"]["/api/v1/exports/assessments.csv"]["get"]["parameters"]}
    assert {"org", "status", "level", "unmasked", "reason", "format"} <= export
