"""Importing elders through the API and the CLI: a dry run lists exactly the planted bad rows,
the commit adds the valid ones (encrypted, with their state rows, one audit event), and the same
file again adds nothing. UTF-8, GBK, XLSX and English headers."""

from __future__ import annotations

import io
from typing import Any

from sqlmodel import select

from assessment.models import Elder, ElderState
from audit.models import AuditEvent
from tests.conftest import api_token
from tests.factories import make_id_number
from tests.imports.conftest import planted_rows, registered_row, to_csv, to_xlsx


def post(client: Any, headers: dict[str, str], data: bytes, name: str = "elders.csv", dry_run: str | None = None,
         kind: str = "elders") -> Any:
    form: dict[str, Any] = {"file": (io.BytesIO(data), name)}
    if dry_run is not None:
        form["dry_run"] = dry_run
    return client.post(f"/api/v1/imports/{kind}", data=form, headers=headers, content_type="multipart/form-data")


def cells(body: dict[str, Any]) -> set[tuple[int, str]]:
    return {(e["row"], e["column"]) for e in body["errors"]}


def names(db_session: Any) -> set[str]:
    return set(db_session.exec(select(Elder.name)).all())


def test_dry_run_commit_and_reimport(client, db_session, importer):
    headers = api_token(client, importer["admin"])
    first = post(client, headers, to_csv([registered_row()]), dry_run="false")
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["imported"] == 1
    rows, expected = planted_rows()
    data = to_csv(rows)

    dry = post(client, headers, data)
    body = dry.get_json()
    assert dry.status_code == 200, body
    assert cells(body) == expected, body["errors"]
    assert body["rows"] == 9 and body["valid"] == 2 and "imported" not in body
    assert all(e["message"] for e in body["errors"])
    assert names(db_session) == {"王八"}  # the dry run wrote nothing

    done = post(client, headers, data, dry_run="false")
    body = done.get_json()
    assert done.status_code == 200, body
    assert body["imported"] == 2 and body["duplicates"] == 2 and cells(body) == expected
    assert names(db_session) == {"王八", "王一", "王七"}
    elders = {e.name: e for e in db_session.exec(select(Elder)).all()}
    assert elders["王一"].organisation_id == importer["community"].id
    assert elders["王七"].organisation_id == importer["district2"].id
    assert elders["王七"].gender == "female"
    number = rows[0][2]
    assert number not in elders["王一"].id_number_enc and elders["王一"].id_number_masked == number[:6] + "********" + number[-4:]
    assert elders["王一"].phone_masked == "138****0001"
    from core.crypto import FieldCipher

    assert FieldCipher("test-data-key").decrypt(elders["王一"].id_number_enc) == number
    for elder in elders.values():
        state = db_session.get(ElderState, elder.id)
        assert state is not None and state.organisation_id == elder.organisation_id and state.assessment_count == 0
    events = db_session.exec(select(AuditEvent).where(AuditEvent.action == "elder.import")).all()
    assert len(events) == 2
    assert events[-1].changes["imported"] == 2 and len(events[-1].changes["sha256"]) == 64
    assert number not in str(events[-1].changes)

    again = post(client, headers, data, dry_run="false").get_json()
    assert again["imported"] == 0 and again["duplicates"] == 4
    assert names(db_session) == {"王八", "王一", "王七"}


def test_gbk_csv_and_utf8_bom(client, importer):
    headers = api_token(client, importer["admin"])
    rows = [["李四", "男", make_id_number("1944-04-04", 41), "", "", "", "幸福社区"]]
    for data in (to_csv(rows, encoding="gbk"), b"\xef\xbb\xbf" + to_csv(rows), to_csv(rows, encoding="gb18030")):
        body = post(client, headers, data).get_json()
        assert body["rows"] == 1 and body["valid"] == 1, body


def test_xlsx_and_long_numbers(client, importer):
    headers = api_token(client, importer["admin"])
    number = make_id_number("1943-03-03", 31)
    rows = [["赵一", "女", number, "1943-03-03", "", "", ""],
            ["赵二", "男", int(make_id_number("1942-02-02", 32)[:17] + "1"), "", "", "", ""]]
    body = post(client, headers, to_xlsx(rows), name="elders.xlsx").get_json()
    assert body["rows"] == 2 and body["valid"] == 1, body
    assert [(e["row"], e["column"]) for e in body["errors"]][0] == (3, "身份证号")
    assert any("文本" in e["message"] for e in body["errors"])


def test_english_headers(client, importer):
    headers = api_token(client, importer["admin"])
    header = ["Name", "gender", "ID Number", "birth_date", "Community"]
    rows = [["Li Wu", "M", make_id_number("1944-05-05", 51), "1944-05-05", "幸福社区"]]
    body = post(client, headers, to_csv(rows, header=header)).get_json()
    assert body["valid"] == 1, body


def test_bad_files_are_clear_4xx(client, importer):
    headers = api_token(client, importer["admin"])
    not_sheet = post(client, headers, b"%PDF-1.4 not a sheet", name="x.pdf")
    assert not_sheet.status_code == 422 and "XLSX" in not_sheet.get_json()["message"]
    broken = post(client, headers, b"PK\x03\x04broken", name="x.xlsx")
    assert broken.status_code == 422 and "XLSX" in broken.get_json()["message"]
    missing = post(client, headers, to_csv([["a"]], header=["姓名"]))
    body = missing.get_json()
    assert missing.status_code == 200 and {(e["row"], e["column"]) for e in body["errors"]} >= {(1, "身份证号"), (1, "性别")}
    unknown = post(client, headers, b"x", kind="cats")
    assert unknown.status_code == 404
    no_file = client.post("/api/v1/imports/elders", data={}, headers=headers, content_type="multipart/form-data")
    assert no_file.status_code == 422
    flag = post(client, headers, to_csv([]), dry_run="maybe")
    assert flag.status_code == 422
    large = client.application.config["IMPORT_MAX_ROWS"]
    client.application.config["IMPORT_MAX_ROWS"] = 1
    try:
        too_many = post(client, headers, to_csv(planted_rows()[0]))
    finally:
        client.application.config["IMPORT_MAX_ROWS"] = large
    assert too_many.status_code == 413 and "行" in too_many.get_json()["message"]


def test_only_administrators_import(client, importer):
    headers = api_token(client, importer["assessor"])
    assert post(client, headers, to_csv([])).status_code == 403


def test_cli_exit_codes(runner, db_session, importer, tmp_path):
    rows, expected = planted_rows()
    path = tmp_path / "elders.csv"
    path.write_bytes(to_csv(rows))
    dry = runner.invoke(args=["import", "elders", str(path), "--user", "import_admin"])
    assert dry.exit_code == 2, dry.output
    assert "3\t身份证号\t" in dry.output and "10\t所属机构\t" in dry.output
    assert names(db_session) == set()
    done = runner.invoke(args=["import", "elders", str(path), "--user", "import_admin", "--commit"])
    assert done.exit_code == 0, done.output
    assert names(db_session) == {"王一", "王七", "王八"}
    again = runner.invoke(args=["import", "elders", str(path), "--user", "import_admin", "--commit"])
    assert again.exit_code == 2 and "已导入 0" in again.output
    clean = tmp_path / "clean.csv"
    clean.write_bytes(to_csv([["钱一", "男", make_id_number("1939-09-09", 91), "", "", "", ""]]))
    assert runner.invoke(args=["import", "elders", str(clean), "--user", "import_admin"]).exit_code == 0
    bad = tmp_path / "bad.txt.pdf"
    bad.write_bytes(b"nothing")
    refused = runner.invoke(args=["import", "elders", str(bad), "--user", "import_admin"])
    assert refused.exit_code == 2 and "XLSX" in refused.output
