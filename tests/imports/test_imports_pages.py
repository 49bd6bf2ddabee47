"""The import pages: templates, the dry run's table of problems, the confirmation (in the request
and as a job with its progress page), and the file kept server-side by checksum only."""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import load_workbook
from sqlmodel import select

from assessment.models import Elder
from jobs.models import Job
from tests.conftest import login
from tests.imports.conftest import planted_rows, registered_row, to_csv


def upload(client: Any, data: bytes, name: str = "elders.csv", kind: str = "elders") -> Any:
    return client.post(f"/imports/{kind}", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def confirm_fields(html: str) -> dict[str, str]:
    form = html[html.index('class="import-commit"'):]
    return dict(re.findall(r'name="(checksum|extension|rows)" value="([^"]*)"', form))


def test_templates_download_and_import_cleanly(client, importer):
    login(client, importer["admin"])
    page = client.get("/imports/elders")
    assert page.status_code == 200 and "template.xlsx" in page.get_data(as_text=True)
    for kind in ("elders", "facilities"):
        xlsx = client.get(f"/imports/{kind}/template.xlsx")
        assert xlsx.status_code == 200
        sheet = load_workbook(io.BytesIO(xlsx.data), read_only=True).worksheets[0]
        header, example = list(sheet.iter_rows(values_only=True))[:2]
        assert header[0] in ("姓名", "机构名称")
        csv = client.get(f"/imports/{kind}/template.csv")
        assert csv.data.startswith(b"\xef\xbb\xbf")
        for data, name in ((xlsx.data, "t.xlsx"), (csv.data, "t.csv")):
            html = upload(client, data, name, kind=kind).get_data(as_text=True)
            assert "1 行可以导入" in html, html[:3000]
    english = client.get("/imports/elders/template.csv?lang=en")
    assert english.data.decode("utf-8-sig").startswith("Name,Gender,ID number")
    assert client.get("/imports/cats").status_code == 404
    assert client.get("/imports/elders/template.pdf").status_code == 404


def test_dry_run_page_then_confirm(client, db_session, importer, app):
    login(client, importer["admin"])
    rows, expected = planted_rows()
    first = client.post("/imports/elders/commit", data=confirm_fields(
        upload(client, to_csv([registered_row()])).get_data(as_text=True)))
    assert "已导入 1 行" in first.get_data(as_text=True)
    response = upload(client, to_csv(rows))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    table = html[html.index("import-problems"):]
    found = set(re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td>", table))
    assert {(int(r), c) for r, c in found} == expected
    assert "data-confirm" in html and rows[0][2] not in html  # no ID number in the page's form
    fields = confirm_fields(html)
    assert len(fields["checksum"]) == 64 and fields["extension"] == "csv"
    done = client.post("/imports/elders/commit", data=fields)
    assert done.status_code == 200 and "已导入 2 行" in done.get_data(as_text=True)
    assert {e.name for e in db_session.exec(select(Elder)).all()} == {"王八", "王一", "王七"}
    again = client.post("/imports/elders/commit", data=fields)
    assert again.status_code == 422 and "重新上传" in again.get_data(as_text=True)
    assert client.post("/imports/elders/commit", data={**fields, "checksum": "../x"}).status_code == 404


def test_confirm_as_a_job_with_progress(client, db_session, importer, app):
    login(client, importer["admin"])
    rows, _expected = planted_rows()
    fields = confirm_fields(upload(client, to_csv(rows)).get_data(as_text=True))
    app.config["IMPORT_AS_JOB"] = True
    try:
        started = client.post("/imports/elders/commit", data=fields)
    finally:
        app.config["IMPORT_AS_JOB"] = None
    assert started.status_code == 302
    job = db_session.exec(select(Job).where(Job.kind == "imports.commit")).one()
    assert job.status == "finished" and job.result["imported"] == 3 and job.progress == 1.0
    assert set(job.params) == {"kind", "checksum", "extension", "rows"}
    page = client.get(started.headers["Location"])
    assert page.status_code == 200 and "已导入 3 行" in page.get_data(as_text=True)
    assert {e.name for e in db_session.exec(select(Elder)).all()} == {"王一", "王七", "王八"}


def test_not_a_spreadsheet_on_the_page(client, importer):
    login(client, importer["admin"])
    page = upload(client, b"%PDF", name="x.pdf")
    assert page.status_code == 422 and "XLSX" in page.get_data(as_text=True)
    broken = upload(client, b"PK\x03\x04", name="x.xlsx")
    assert broken.status_code == 422
    empty = client.post("/imports/elders", data={}, content_type="multipart/form-data")
    assert empty.status_code == 422


def test_links_from_the_lists(client, importer, app):
    login(client, importer["admin"])
    assert "/imports/elders" in client.get("/elders").get_data(as_text=True)
    assert "/imports/facilities" in client.get("/rating/facilities").get_data(as_text=True)
    assert "/imports/" in client.get("/").get_data(as_text=True)
    assessor = app.test_client()
    login(assessor, importer["assessor"])
    assert assessor.get("/imports/elders").status_code == 403
    assert "/imports/elders" not in assessor.get("/elders").get_data(as_text=True)


def test_users_page_shows_generated_passwords_once(client, db_session, importer, app):
    login(client, importer["admin"])
    assert "/imports/users" in client.get("/admin/users").get_data(as_text=True)
    data = to_csv([["page_user1", "页面用户", "", "评估员", ""]], header=["用户名", "姓名", "所属机构", "角色", "初始密码"])
    fields = confirm_fields(upload(client, data, name="users.csv", kind="users").get_data(as_text=True))
    app.config["IMPORT_AS_JOB"] = True  # users never go to a job: their passwords are shown once
    try:
        done = client.post("/imports/users/commit", data=fields)
    finally:
        app.config["IMPORT_AS_JOB"] = None
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "page_user1" in html and "只显示这一次" in html
    assert not db_session.exec(select(Job).where(Job.kind == "imports.commit")).all()
