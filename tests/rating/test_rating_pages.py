"""The tablet pages: registry, checklist with autosave and photos, result, dashboard."""

from __future__ import annotations

import io

from PIL import Image
from sqlmodel import select

from rating.models import EvidencePhoto, Inspection
from tests.conftest import login
from tests.rating.factories import STAR_FAIL


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_facility_registry_pages(client, rating_world):
    login(client, rating_world["inspector"])
    assert "阳光养老院" in client.get("/rating/facilities").get_data(as_text=True)
    bad = client.post("/rating/facilities/new", data={"name": "", "kind": "institution", "beds": "x",
                                                       "address": "保留我"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "请填写机构名称" in html and "床位数" in html and "保留我" in html
    ok = client.post("/rating/facilities/new", data={"name": "新登记养老院", "kind": "institution", "beds": "40",
                                                     "opened_on": "2020-01-01", "filing_status": "filed"})
    assert ok.status_code == 302
    page = client.get(ok.headers["Location"]).get_data(as_text=True)
    assert "新登记养老院" in page and "未评定" in page and "开始检查" in page


def test_checklist_autosave_photos_and_submit(client, rating_world, db_session, tmp_path):
    login(client, rating_world["inspector"])
    started = client.post(f"/rating/facilities/{rating_world['station'].id}/inspect", data={"scheme": "community-star"})
    assert started.status_code == 302
    url = started.headers["Location"]
    inspection = db_session.exec(select(Inspection)).one()
    page = client.get(url).get_data(as_text=True)
    assert "autosave" in page and "facilities.F1" in page and "js/form.js" in page and "<script>" not in page

    form = {"version": str(inspection.version), "q_facilities_F1": "fail", "q_facilities_F2": "4",
            "n_facilities_F1": "助餐区未设置", "q_services": "20"}
    saved = client.post(f"/rating/inspections/{inspection.id}/autosave", data=form)
    assert saved.status_code == 200, saved.get_json()
    body = saved.get_json()
    assert body["version"] == inspection.version and body["status"] == "in_progress"
    assert set(body) == {"version", "status", "problems", "relevant", "saved_at"}
    assert inspection.answers == {"facilities.F1": "fail", "facilities.F2": 4, "services": 20}
    assert inspection.notes == {"facilities.F1": "助餐区未设置"}
    # The same save again (a retried or flushed copy of the save that landed) is not a conflict.
    again = client.post(f"/rating/inspections/{inspection.id}/autosave", data=form)
    assert again.status_code == 200 and again.get_json()["version"] == inspection.version
    # A stale save that changes something is: 409 with the current version and the server's answers.
    stale = client.post(f"/rating/inspections/{inspection.id}/autosave", data={**form, "q_facilities_F2": "3"})
    assert stale.status_code == 409
    assert stale.get_json()["version"] == inspection.version
    assert stale.get_json()["answers"] == {"facilities.F1": "fail", "facilities.F2": 4, "services": 20}

    big = _png(3000, 2000)
    uploaded = client.post(f"/rating/inspections/{inspection.id}/photos",
                           data={"item": "facilities.F1", "photo": (io.BytesIO(big), "scene.png", "image/png")},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 302
    photo = db_session.exec(select(EvidencePhoto)).one()
    assert photo.item_id == "facilities.F1" and photo.content_type == "image/jpeg"
    served = client.get(f"/rating/photos/{photo.id}")
    assert served.status_code == 200
    assert max(Image.open(io.BytesIO(served.data)).size) == 1600
    junk = client.post(f"/rating/inspections/{inspection.id}/photos",
                       data={"item": "facilities.F1", "photo": (io.BytesIO(b"not an image"), "x.png", "image/png")},
                       content_type="multipart/form-data", follow_redirects=True)
    assert "不是有效的图片" in junk.get_data(as_text=True)

    full = {"version": str(inspection.version), "then": "submit"}
    full.update({"q_" + k.replace(".", "_"): str(v) for k, v in STAR_FAIL.items() if k != "services"})
    full["q_services"] = "20"
    full["n_facilities_F1"] = "助餐区未设置"
    done = client.post(f"/rating/inspections/{inspection.id}/save", data=full)
    assert done.status_code == 302
    result = client.get(url).get_data(as_text=True)
    assert "不合格" in result and "评定说明" in result and "整改通知书" in result
    # submitting again (double tap) changes nothing
    assert client.post(f"/rating/inspections/{inspection.id}/submit").status_code == 302
    notice = client.get(f"/rating/inspections/{inspection.id}/notice.pdf")
    assert notice.status_code == 200 and notice.mimetype == "application/pdf"

    actions = client.get("/rating/actions?which=open").get_data(as_text=True)
    assert "和平社区养老服务站" in actions and "助餐区未设置" in actions


def test_submit_problems_listed_on_the_page(client, rating_world, db_session):
    login(client, rating_world["inspector"])
    started = client.post(f"/rating/facilities/{rating_world['home'].id}/inspect", data={"scheme": "gbt37276-2018"})
    inspection = db_session.exec(select(Inspection)).one()
    response = client.post(f"/rating/inspections/{inspection.id}/save",
                           data={"version": str(inspection.version), "q_environment": "100", "then": "submit"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "设施设备" in html and "运营管理" in html and 'value="100"' in html
    assert started.status_code == 302


def test_admin_dashboard_and_certificate_pages(client, rating_world, db_session):
    from rating import operations as ops

    with rating_world["app"].app_context():
        inspection = ops.start_inspection(session=db_session, actor=rating_world["inspector"],
                                          facility=rating_world["station"], scheme="community-star")
        ops.save_answers(session=db_session, actor=rating_world["inspector"], inspection=inspection,
                         answers={"facilities": 28, "operations": 28, "services": 38}, version=inspection.version)
        ops.submit_inspection(session=db_session, actor=rating_world["inspector"], inspection=inspection)
    login(client, rating_world["admin"])
    assert client.post(f"/rating/inspections/{inspection.id}/approve").status_code == 302
    dashboard = client.get("/rating/dashboard").get_data(as_text=True)
    assert "<svg" in dashboard and "五星级" in dashboard and "90 天内到期" in dashboard
    certificates = client.get("/rating/certificates").get_data(as_text=True)
    assert "1 张待发" in certificates
    assert client.post("/rating/certificates/issue-all").status_code == 302
    page = client.get("/rating/certificates").get_data(as_text=True)
    assert "有效" in page
    assert client.get("/rating/plans").status_code == 200
    assert client.get("/rating/plans/new").status_code == 200
    assert client.get("/rating/inspections").status_code == 200
    assert client.post("/rating/dashboard/escalate").status_code == 302


def test_published_plans_are_public(client, rating_world, db_session):
    from rating import operations as ops

    plan = ops.create_plan(session=db_session, actor=rating_world["admin"], organisation_id=rating_world["city"].id,
                           name="公开抽查", scheme="community-star", method="count", count=1, seed="public-seed")
    assert "公开抽查" not in client.get("/rating/published").get_data(as_text=True)
    ops.publish_plan(session=db_session, actor=rating_world["admin"], plan=plan)
    page = client.get("/rating/published").get_data(as_text=True)
    assert "公开抽查" in page and "public-seed" in page and "和平社区养老服务站" in page and "结果尚未公开" in page


def test_operator_organisation_link_and_operator_view(client, rating_world, db_session):
    from tests.factories import OrganisationFactory, UserFactory

    operator_org = OrganisationFactory(name="和平社会工作服务社", kind="operator", parent=rating_world["district2"])
    login(client, rating_world["admin"])
    station = rating_world["station"]
    edited = client.post(f"/rating/facilities/{station.id}/edit", data={
        "name": station.name, "kind": "station", "beds": "10", "filing_status": "filed",
        "operator_organisation_id": str(operator_org.id)})
    assert edited.status_code == 302 and station.operator_organisation_id == operator_org.id
    client.post("/logout")
    operator = UserFactory(organisation=operator_org, roles="operator")
    login(client, operator)
    assert client.get("/rating/actions").status_code == 200
    assert client.get("/rating/facilities").status_code == 403


def test_two_edits_of_one_facility_never_both_win(client, rating_world, db_session):
    from tests.conftest import login

    facility = rating_world["home"]
    login(client, rating_world["admin"])
    form = {"name": facility.name, "kind": facility.kind, "district": facility.district,
            "address": facility.address, "beds": str(facility.beds), "operator": "",
            "filing_status": facility.filing_status, "opened_on": facility.opened_on.isoformat(),
            "version": str(facility.version)}
    first = client.post(f"/rating/facilities/{facility.id}/edit", data={**form, "beds": "120"})
    assert first.status_code == 302
    second = client.post(f"/rating/facilities/{facility.id}/edit", data={**form, "address": "新地址 9 号"})
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "刚被其他人修改过" in page and "新地址 9 号" in page  # what they typed is kept
    db_session.expire_all()
    assert facility.beds == 120 and facility.address != "新地址 9 号"
    resent = client.post(f"/rating/facilities/{facility.id}/edit",
                         data={**form, "address": "新地址 9 号", "beds": "120", "version": str(facility.version)})
    assert resent.status_code == 302
