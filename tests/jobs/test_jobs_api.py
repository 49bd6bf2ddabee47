"""POST/GET /api/v1/jobs: a report batch end to end, the parameter and access checks."""

from __future__ import annotations

import io
import zipfile

from sqlmodel import select

from assessment import operations as aops
from jobs.models import Job
from tests.assessment.conftest import full_answers
from tests.conftest import api_token


def _submitted(app, db_session, people, elder, gbt, n=2):
    """n submitted assessments, of `elder` and of other elders (one open assessment per elder)."""
    from datetime import date

    from core.crypto import FieldCipher
    from tests.factories import make_id_number

    made = []
    with app.test_request_context():
        for number in range(n):
            person = elder if number == 0 else aops.register_elder(
                session=db_session, actor=people["assessor1"], organisation=people["district"],
                data=aops.ElderInput(name=f"批量老人{number}", gender="male", birth_date=date(1945, 3, 3),
                                     id_number=make_id_number("1945-03-03", 100 + number), phone="", address=""),
                cipher=FieldCipher(app.config["DATA_KEY"]), duplicate_scope=[people["district"].id])
            a = aops.start_assessment(session=db_session, actor=people["assessor1"], elder=person,
                                      definition=gbt, reason="initial")
            aops.save_answers(session=db_session, actor=people["assessor1"], assessment=a, definition=gbt,
                              answers=full_answers(gbt), version=a.version)
            aops.submit_assessment(session=db_session, actor=people["assessor1"], assessment=a, definition=gbt)
            made.append(a)
    db_session.commit()
    return made


def test_reports_zip_job_runs_and_downloads(app, client, db_session, people, elder, gbt):
    first, second = _submitted(app, db_session, people, elder, gbt)
    headers = api_token(client, people["assessor1"])
    answer = client.post("/api/v1/jobs", json={"kind": "reports.zip",
                                               "params": {"assessment_ids": [first.id, second.id, first.id]}},
                         headers=headers)
    assert answer.status_code == 202, answer.get_json()
    body = answer.get_json()
    assert body["status"] == "queued" and isinstance(body["id"], int)

    shown = client.get(f"/api/v1/jobs/{body['id']}", headers=headers).get_json()
    assert shown["status"] == "finished", shown
    assert shown["progress"] == 1 and shown["result"] == {"reports": 2}
    assert shown["download_url"] == f"/api/v1/jobs/{body['id']}/download"

    download = client.get(shown["download_url"], headers=headers)
    assert download.status_code == 200 and download.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    assert sorted(names) == sorted(f"PG{a.id:08d}-{a.revision}.pdf" for a in (first, second))
    assert zipfile.ZipFile(io.BytesIO(download.data)).read(names[0]).startswith(b"%PDF")

    # another organisation's user sees neither the job nor its file
    outsider = api_token(client, people["outsider"])
    assert client.get(f"/api/v1/jobs/{body['id']}", headers=outsider).status_code == 404
    assert client.get(shown["download_url"], headers=outsider).status_code == 404
    # the page for administrators lists it within their organisation
    admin = api_token(client, people["admin"])
    assert client.get(f"/api/v1/jobs/{body['id']}", headers=admin).status_code == 200


def test_job_requests_that_are_wrong_name_the_field(app, client, db_session, people, elder, gbt):
    (mine,) = _submitted(app, db_session, people, elder, gbt, n=1)
    headers = api_token(client, people["assessor1"])

    def post(body):
        return client.post("/api/v1/jobs", json=body, headers=headers)

    answer = post({"kind": "nope"})
    assert answer.status_code == 422 and answer.get_json()["errors"][0]["item"] == "kind"
    answer = post({"kind": "reports.zip", "params": {"assessment_ids": []}})
    assert answer.status_code == 422 and answer.get_json()["errors"][0]["item"] == "params.assessment_ids"
    answer = post({"kind": "reports.zip", "params": {"assessment_ids": [mine.id, "x"]}})
    assert answer.status_code == 422 and answer.get_json()["errors"][0]["item"] == "params.assessment_ids[1]"
    answer = post({"kind": "reports.zip", "params": {"assessment_ids": [mine.id], "extra": 1}})
    assert answer.status_code == 422 and answer.get_json()["errors"][0]["item"] == "params.extra"
    answer = post({"kind": "reports.zip", "params": []})
    assert answer.status_code == 422 and answer.get_json()["errors"][0]["item"] == "params"
    answer = post({"kind": "reports.zip", "params": {}, "more": True})
    assert answer.status_code == 422 and answer.get_json()["errors"][0]["item"] == "more"
    # an assessor may not start certificate issuance; another organisation's report is not there
    assert post({"kind": "certificates.issue"}).status_code == 403
    outsider = api_token(client, people["outsider"])
    answer = client.post("/api/v1/jobs", json={"kind": "reports.zip", "params": {"assessment_ids": [mine.id]}},
                         headers=outsider)
    assert answer.status_code == 422 and "无权" in answer.get_json()["message"]
    assert db_session.exec(select(Job)).all() == []
    assert client.get("/api/v1/jobs/99999", headers=headers).status_code == 404


def test_metrics_show_the_queue_depth_and_failures_of_each_job_kind(client, db_session):
    from jobs.models import Job

    db_session.add(Job(kind="reports.zip", status="queued", params={}))
    db_session.add(Job(kind="reports.zip", status="queued", params={}))
    db_session.add(Job(kind="escalate", status="failed", params={}, error="boom"))
    db_session.flush()
    text = client.get("/metrics").get_data(as_text=True)
    assert 'yiyang_job_queue_depth{queue="reports.zip"} 2.0' in text
    assert 'yiyang_jobs_failed{queue="escalate"} 1.0' in text
