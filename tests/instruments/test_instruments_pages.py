"""Administrator pages and API of the registry: upload, try, diff, publish, retire, re-score."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlmodel import select

import instruments
from instruments.models import DefinitionVersion, Rescore
from instruments.xlsx import rows_to_xlsx, workbook_rows, write_xlsx
from instruments.xlsx_read import read_xlsx
from scoring import parse_definition
from tests.conftest import api_token, login
from tests.factories import UserFactory
from tests.instruments.test_instruments_registry import NEW_TITLE, barthel_v2


@pytest.fixture()
def admin(org_tree: dict[str, Any]) -> Any:
    return UserFactory(username="defs_admin", roles="admin", organisation=org_tree["city"])


def _xlsx_of(text: str) -> bytes:
    import yaml

    return write_xlsx(parse_definition(yaml.safe_load(text)))


def _row(db_session: Any, version: str) -> DefinitionVersion:
    return db_session.exec(select(DefinitionVersion).where(
        DefinitionVersion.definition_id == "barthel", DefinitionVersion.version == version)).one()


def test_upload_try_diff_publish_retire(client: Any, db_session: Any, admin: Any) -> None:
    login(client, admin)
    assert client.get("/admin/instruments/").status_code == 200
    uploaded = client.post("/admin/instruments/upload", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(_xlsx_of(barthel_v2())), "barthel-2.xlsx"), "note": "新版"})
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)[:2000]
    row = _row(db_session, "2")
    assert row.status == "draft" and row.organisation_id == admin.organisation_id
    page = client.get(f"/admin/instruments/{row.id}").get_data(as_text=True)
    assert NEW_TITLE in page and "与已发布的第 1 版相比" in page  # the diff names the renamed item

    tried = client.post(f"/admin/instruments/{row.id}/try", data={"q_feeding": "10", "q_bathing": "5"})
    text = tried.get_data(as_text=True)
    assert tried.status_code == 200 and "必填项未作答" in text  # the other items are required
    answers = {f"q_{item.id}": str(item.options[0].value) for item in instruments.get("barthel").items.values()}
    tried = client.post(f"/admin/instruments/{row.id}/try", data=answers).get_data(as_text=True)
    assert "100 / 100" in tried and "日常生活活动能力 100/100" in tried

    client.post(f"/admin/instruments/{row.id}/publish", data={})
    db_session.refresh(row)
    assert row.status == "draft"  # no confirmation, no change
    client.post(f"/admin/instruments/{row.id}/publish", data={"confirm": "yes"})
    db_session.refresh(row)
    assert row.status == "published" and row.published_by_id == admin.id
    exported = client.get(f"/admin/instruments/{row.id}/export.xlsx")
    assert read_xlsx(exported.data)[0].item("feeding").title.zh == NEW_TITLE
    client.post(f"/admin/instruments/{row.id}/retire", data={"confirm": "yes"})
    db_session.refresh(row)
    assert row.status == "retired"


def test_upload_with_errors_lists_cells_and_stores_nothing(client: Any, db_session: Any, admin: Any) -> None:
    login(client, admin)
    import yaml

    sheets = workbook_rows(yaml.safe_load(barthel_v2()))
    sheets["survey"][1]["type"] = "select_won feeding"
    sheets["choices"][3]["score"] = "many"  # bathing, first option
    response = client.post("/admin/instruments/upload", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(rows_to_xlsx(sheets)), "bad.xlsx")})
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "select_won" in text and "survey 第 3 行" in text
    assert "choices 第 5 行" in text
    assert db_session.exec(select(DefinitionVersion).where(
        DefinitionVersion.definition_id == "barthel", DefinitionVersion.version == "2")).first() is None


def test_only_administrators(client: Any, org_tree: dict[str, Any]) -> None:
    user = UserFactory(username="defs_assessor", roles="assessor", organisation=org_tree["city"])
    login(client, user)
    assert client.get("/admin/instruments/").status_code == 403
    assert client.get("/admin/instruments/template.xlsx").status_code == 403


def test_template_imports_as_it_is(client: Any, admin: Any) -> None:
    login(client, admin)
    response = client.get("/admin/instruments/template.xlsx")
    assert response.status_code == 200
    definition, _ = read_xlsx(response.data)
    assert definition.id == "my-questionnaire" and len(definition.items) == 2


def test_api_import_list_get(client: Any, db_session: Any, admin: Any) -> None:
    headers = api_token(client, admin)
    bad = client.post("/api/v1/instruments", headers=headers, content_type="multipart/form-data",
                      data={"file": (io.BytesIO(barthel_v2().replace("type: single_choice", "type: x", 1).encode()),
                                     "b.yaml")})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["line"]
    created = client.post("/api/v1/instruments", headers=headers, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(barthel_v2().encode()), "b.yaml"), "publish": "true"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["definition_id"], body["version"], body["status"]) == ("barthel", "2", "published")
    listed = client.get("/api/v1/instruments", headers=headers).get_json()["versions"]
    assert {(v["definition_id"], v["version"]) for v in listed} >= {("barthel", "1"), ("barthel", "2")}
    one = client.get(f"/api/v1/instruments/{body['id']}", headers=headers).get_json()
    assert one["source"] == barthel_v2() and one["definition"]["id"] == "barthel"
    missing = client.post("/api/v1/instruments", headers=headers, content_type="multipart/form-data", data={})
    assert missing.status_code == 422


def test_rescore_keeps_both_results_side_by_side(client: Any, db_session: Any, admin: Any,
                                                 org_tree: dict[str, Any]) -> None:
    assessor = UserFactory(username="defs_assessor2", roles="assessor", organisation=org_tree["district1"])
    headers = api_token(client, assessor)
    elder = client.post("/api/v1/elders", headers=headers, json={
        "name": "钱淑芬", "gender": "female", "birth_date": "1949-12-31", "id_number": "11010519491231002X",
        "address": "和平街 3 号"}).get_json()
    created = client.post("/api/v1/assessments", headers=headers,
                          json={"elder_id": elder["id"], "instrument": "barthel", "reason": "首次评估"}).get_json()
    answers = {item.id: item.options[0].value for item in instruments.get("barthel").items.values()}
    saved = client.put(f"/api/v1/assessments/{created['id']}/answers", headers=headers,
                       json={"answers": answers, "version": 1}).get_json()
    submitted = client.post(f"/api/v1/assessments/{created['id']}/submit", headers=headers,
                            json={"version": saved["version"]}).get_json()
    original = submitted["result"]
    assert original["version"] == "1" and original["total"] == 100
    # version 2 names the top level differently: the same answers, another label
    text = barthel_v2().replace("{code: 0, label: {zh: 能力完好", "{code: 0, label: {zh: 完全自理", 1)
    assert "完全自理" in text
    from instruments import registry

    registry.store(db_session, text, publish=True)
    db_session.commit()
    login(client, admin)
    page = client.post(f"/admin/instruments/rescore/assessments/{created['id']}", data={"version": "2"},
                       follow_redirects=True).get_data(as_text=True)
    rescore = db_session.exec(select(Rescore).where(Rescore.record_id == created["id"])).one()
    assert (rescore.from_version, rescore.to_version) == ("1", "2")
    assert rescore.errors is None and rescore.result["level"]["label"] == "完全自理"
    assert original["level"]["label"] == "能力完好"
    assert "原结果（第 1 版）" in page and "重新计分（第 2 版）" in page
    assert page.index("能力完好") < page.index("完全自理")  # side by side: the original first
    from assessment.models import Assessment

    stored = db_session.get(Assessment, created["id"])
    db_session.refresh(stored)
    assert stored.result == original and stored.instrument_version == "1"
