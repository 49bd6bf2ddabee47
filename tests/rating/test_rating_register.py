"""The public register (信息公开): no login, nothing personal, disqualified facilities with their
reasons, filters, keyset paging, both languages, and the public rate limit."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from rating import operations as ops
from rating.models import Facility
from rating.state import refresh_facility_state
from tests.conftest import login
from tests.factories import UserFactory
from tests.rating.factories import FacilityFactory

STARS5 = {"facilities": 29, "operations": 28, "services": 38}
STARS4 = {"facilities": 27, "operations": 25, "services": 33}
PLANTED = ("王巡查", "13912345678", "赵燚", "025-8888 6666", "幸福路 9 号 3 单元", "11010519491231002X")


def _graded(session: Any, world: dict[str, Any], facility: Facility, answers: dict[str, Any],
            inspector: Any = None, certificate: bool = True) -> Any:
    with world["app"].app_context():
        inspection = ops.start_inspection(session=session, actor=inspector or world["inspector"], facility=facility,
                                          scheme="community-star")
        ops.save_answers(session=session, actor=inspector or world["inspector"], inspection=inspection,
                         answers=answers, version=inspection.version,
                         notes={"facilities.F1": "检查员王巡查 13912345678 现场记录"})
        ops.submit_inspection(session=session, actor=inspector or world["inspector"], inspection=inspection)
        grade = ops.approve_inspection(session=session, actor=world["admin"], inspection=inspection)
        if certificate:
            ops.issue_certificate(session=session, actor=world["admin"], grade=grade)
        return grade


def _disqualified(session: Any, world: dict[str, Any], name: str, district: str = "渝中区") -> Facility:
    facility = FacilityFactory(organisation=world["district1"], name=name, district=district, kind="station")
    with world["app"].app_context():
        ops.disqualify_facility(session=session, actor=world["admin"], facility=facility,
                                reason="复查仍不合格：取消服务提供资格")
    refresh_facility_state(session, facility.id)
    return facility


def test_register_shows_grades_and_certificates_and_nothing_personal(client, rating_world, db_session):
    inspector = UserFactory(organisation=rating_world["city"], roles="inspector", display_name="王巡查 13912345678")
    facility = FacilityFactory(organisation=rating_world["district1"], name="康乐社区养老服务站", kind="station",
                               district="江北区", operator="赵燚 025-8888 6666", address="幸福路 9 号 3 单元")
    grade = _graded(db_session, rating_world, facility, STARS5, inspector=inspector)
    ungraded = FacilityFactory(organisation=rating_world["district1"], name="尚未评定养老院")
    refresh_facility_state(db_session, ungraded.id)
    page = client.get("/rating/register")  # no login
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "康乐社区养老服务站" in html and "五星级" in html and grade.valid_until.isoformat() in html
    assert "尚未评定养老院" not in html
    code = db_session.get(type(grade), grade.id)  # the certificate's code is linked to the verify page
    from sqlmodel import select

    from rating.models import Certificate
    certificate = db_session.exec(select(Certificate).where(Certificate.grade_id == code.id)).one()
    assert f'href="/verify/{certificate.code}"' in html
    api = client.get("/api/v1/public/register")
    body = api.get_data(as_text=True)
    assert api.status_code == 200
    item = next(i for i in api.get_json()["items"] if i["name"] == "康乐社区养老服务站")
    assert item["verify_url"].endswith(f"/verify/{certificate.code}") and item["grade"]["stars"] == 5
    assert set(item) == {"id", "name", "kind", "district", "grade", "valid_until", "is_expired", "verify_url",
                         "disqualified"}
    for planted in PLANTED:
        assert planted not in html and planted not in body, planted
    assert client.get(urlsplit(item["verify_url"]).path).status_code == 200


def test_disqualified_facilities_show_why_and_filters_work(client, rating_world, db_session):
    _disqualified(db_session, rating_world, "失格养老服务站")
    graded = FacilityFactory(organisation=rating_world["district2"], name="合格养老服务站", kind="station",
                             district="南岸区")
    _graded(db_session, rating_world, graded, STARS4, certificate=False)
    html = client.get("/rating/register").get_data(as_text=True)
    assert "失格养老服务站" in html and "复查仍不合格：取消服务提供资格" in html and "已取消服务提供资格" in html
    assert "未发证" in html
    only = client.get("/api/v1/public/register?status=disqualified").get_json()["items"]
    assert [i["name"] for i in only] == ["失格养老服务站"] and only[0]["grade"] is None
    assert only[0]["disqualified"]["reason"] == "复查仍不合格：取消服务提供资格"
    assert [i["name"] for i in client.get("/api/v1/public/register?district=南岸区").get_json()["items"]] == ["合格养老服务站"]
    assert [i["name"] for i in client.get("/api/v1/public/register?grade=community-star:4").get_json()["items"]] == ["合格养老服务站"]
    assert client.get("/api/v1/public/register?grade=community-star:5").get_json()["items"] == []
    assert client.get("/api/v1/public/register?kind=institution").get_json()["items"] == []
    assert client.get("/api/v1/public/register?grade=nonsense").get_json()["items"] == []
    assert client.get("/api/v1/public/register?status=everything").get_json()["items"] == []
    assert client.get("/api/v1/public/register?limit=0").status_code == 422
    assert client.get("/rating/register?cursor=nonsense").status_code == 422


def test_register_pages_by_keyset_without_loss_or_repeat(client, rating_world, db_session):
    names = [f"分页养老服务站{n:02d}" for n in range(7)]
    for name in names:
        _disqualified(db_session, rating_world, name)
    seen: list[str] = []
    url = "/api/v1/public/register?limit=3&status=disqualified"
    pages = 0
    while url:
        body = client.get(url).get_json()
        assert len(body["items"]) <= 3
        seen += [i["name"] for i in body["items"]]
        pages += 1
        url = f"/api/v1/public/register?limit=3&status=disqualified&cursor={body['next_cursor']}" if body["next_cursor"] else ""
    assert seen == sorted(names) and pages == 3
    first = client.get("/rating/register?limit=3&status=disqualified").get_data(as_text=True)
    assert 'rel="next"' in first and names[0] in first and names[3] not in first


def test_register_in_english(client, rating_world, db_session):
    facility = FacilityFactory(organisation=rating_world["district1"], name="Harmony Station", kind="station")
    _graded(db_session, rating_world, facility, STARS5)
    html = client.get("/rating/register?lang=en").get_data(as_text=True)
    assert "Five stars" in html and "Verify certificate" in html and ">五星级" not in html
    assert "Public register of grades" in html


def test_register_is_rate_limited(client, rating_world, app):
    app.config["PUBLIC_REQUESTS_PER_MINUTE"] = 3
    try:
        assert all(client.get("/rating/register").status_code == 200 for _ in range(3))
        refused = client.get("/rating/register")
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
        api = client.get("/api/v1/public/register")  # the same bucket as the page
        assert api.status_code == 429 and api.get_json()["error"] == "rate_limited"
        assert client.get("/verify/unknown-code").status_code == 404  # a bucket of its own
    finally:
        app.config["PUBLIC_REQUESTS_PER_MINUTE"] = 120


def test_staff_see_the_register_too(client, rating_world):
    login(client, rating_world["inspector"])
    assert client.get("/rating/register").status_code == 200


def test_published_plans_page_links_the_register_and_pages(client, rating_world):
    page = client.get("/rating/published")
    assert page.status_code == 200 and 'href="/rating/register"' in page.get_data(as_text=True)
    assert client.get("/rating/published?cursor=nonsense").status_code == 422
    assert 'href="/rating/published"' in client.get("/rating/register").get_data(as_text=True)
