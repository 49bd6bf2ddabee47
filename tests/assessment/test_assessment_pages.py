"""The whole flow through the pages (test client): register, fill with autosave and resume,
conflict, double submit, signatures, review lock, amendment, lists; other organisations get 404."""

from __future__ import annotations

import re
from typing import Any

import pytest

from forms.definition import field_name
from tests.assessment.conftest import OTHER_ID_NUMBER, full_answers
from tests.conftest import login

ELDER_FORM = {"name": "赵桂兰", "gender": "female", "birth_date": "1880-01-01", "id_number": OTHER_ID_NUMBER,
              "phone": "13700001234", "address": "东城区和平街 2 号", "community": "和平社区",
              "legal_basis": "consent", "consent_by": "赵桂兰本人", "consent_at": "2025-01-02"}


def _client(app, user):
    client = app.test_client()
    login(client, user)
    return client


def _register(client, district) -> int:
    response = client.post("/elders/new", data={**ELDER_FORM, "organisation_id": district.id})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def _start(client, elder_id, instrument="gbt42195-2022") -> int:
    response = client.post(f"/elders/{elder_id}/assessments",
                           data={"instrument": instrument, "reason": "initial", "place": "家中"})
    assert response.status_code == 302
    return int(re.search(r"/assessments/(\d+)/fill", response.headers["Location"]).group(1))


def _version(html: str) -> int:
    return int(re.search(r'id="version" name="version" type="hidden" value="(\d+)"', html).group(1))


def _section_data(section, answers) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for item in section.items:
        if item.id in answers:
            value = answers[item.id]
            data[field_name(item.id)] = value if not isinstance(value, bool) else str(value).lower()
    return data


def _fill_all(client, aid, definition, answers) -> None:
    sections = [s for s in definition.sections if s.items]
    page = client.get(f"/assessments/{aid}/fill?section={sections[0].id}")
    for index, section in enumerate(sections):
        html = page.get_data(as_text=True)
        assert page.status_code == 200, html[:1000]
        last = index == len(sections) - 1
        data = {**_section_data(section, answers), "version": _version(html), "section": section.id,
                "go": "review" if last else "next"}
        response = client.post(f"/assessments/{aid}/fill?section={section.id}", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:3000]
        page = client.get(response.headers["Location"])


@pytest.fixture()
def browsers(app, people) -> dict[str, Any]:
    return {name: _client(app, people[name]) for name in ("assessor1", "assessor2", "reviewer", "admin",
                                                          "outsider")}


def test_register_search_and_duplicate(browsers, people, db_session):
    c = browsers["assessor1"]
    elder_id = _register(c, people["district"])
    page = c.get(f"/elders/{elder_id}").get_data(as_text=True)
    assert "440524********0014" in page and OTHER_ID_NUMBER not in page
    assert "13700001234" not in page
    for q in ("桂兰", OTHER_ID_NUMBER, "440524********0014"):
        listing = c.post("/elders", data={"q": q}).get_data(as_text=True)
        assert f"/elders/{elder_id}" in listing, q
    again = c.post("/elders/new", data={**ELDER_FORM, "organisation_id": people["district"].id})
    assert again.status_code == 422 and "已登记" in again.get_data(as_text=True)
    bad = c.post("/elders/new", data={**ELDER_FORM, "id_number": OTHER_ID_NUMBER[:-1] + "5",
                                      "organisation_id": people["district"].id})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "校验位" in html and OTHER_ID_NUMBER[:-1] + "5" in html  # typed value kept
    revealed = browsers["reviewer"].post(f"/elders/{elder_id}/reveal", data={"field": "id_number"})
    assert OTHER_ID_NUMBER in revealed.get_data(as_text=True)
    assert c.post(f"/elders/{elder_id}/reveal", data={"field": "id_number"}).status_code == 403


def test_autosave_resume_conflict_and_double_submit(browsers, people, gbt):
    c, c2 = browsers["assessor1"], browsers["assessor2"]
    aid = _start(c, _register(c, people["district"]))
    first = c.get(f"/assessments/{aid}/fill")
    assert first.status_code == 302 and "section=A" in first.headers["Location"]  # a new draft: first page
    page = c.get(first.headers["Location"]).get_data(as_text=True)
    assert 'id="client-logic"' in page and "<progress" in page
    b1 = gbt.section("B1")
    saved = c.post(f"/assessments/{aid}/autosave",
                   data={"version": _version(page), "section": "B1", field_name("B.1.1"): "4",
                         field_name("B.1.2"): "99"})
    assert saved.status_code == 200, saved.get_json()
    body = saved.get_json()
    assert body["version"] == 2 and [p["item"] for p in body["problems"]] == ["B.1.2"]
    # Reopening resumes on the section the assessor was working on, with the answers saved.
    resumed = c.get(f"/assessments/{aid}/fill")
    assert "section=B1" in resumed.headers["Location"]
    html = c.get(resumed.headers["Location"]).get_data(as_text=True)
    assert 'checked id="q_B_1_1-0"' in html  # option 4, the first
    # A second assessor with the old version gets a conflict, not a silent overwrite.
    stale = c2.post(f"/assessments/{aid}/autosave", data={"version": 1, "section": "B1",
                                                          field_name("B.1.1"): "0"})
    assert stale.status_code == 409 and stale.get_json()["version"] == 2
    conflict_page = c2.post(f"/assessments/{aid}/fill?section=B1",
                            data={"version": 1, "section": "B1", "go": "next", field_name("B.1.1"): "3"})
    text = conflict_page.get_data(as_text=True)
    assert conflict_page.status_code == 409 and "其他人修改" in text
    assert re.search(r'checked id="q_B_1_1-1"', text)  # what they chose (3) is kept on the page
    assert _version(text) == 2
    # Fill everything and submit twice: one submission.
    _fill_all(c, aid, gbt, full_answers(gbt))
    review = c.get(f"/assessments/{aid}/review")
    assert review.status_code == 200
    version = int(re.search(r'name="version" value="(\d+)"', review.get_data(as_text=True)).group(1))
    one = c.post(f"/assessments/{aid}/submit", data={"version": version})
    two = c.post(f"/assessments/{aid}/submit", data={"version": version})
    assert one.status_code == two.status_code == 302
    result = c.get(f"/assessments/{aid}").get_data(as_text=True)
    assert 'id="final-level"' in result and "能力完好" in result and "<svg" in result
    assert b1.title.zh in result and 'style="' not in result.split("<main", 1)[1]


def test_signing_review_amendment_and_report(browsers, people, gbt, db_session):
    from assessment.models import Assessment

    c = browsers["assessor1"]
    aid = _start(c, _register(c, people["district"]))
    answers = full_answers(gbt, pick="last")
    answers["A.4.1"] = ["F00-F03"]
    _fill_all(c, aid, gbt, answers)
    version = db_session.get(Assessment, aid).version
    assert c.post(f"/assessments/{aid}/submit", data={"version": version}).status_code == 302
    wrong = c.post(f"/assessments/{aid}/sign", data={"password": "wrong"})
    assert wrong.status_code == 403 and "密码不正确" in wrong.get_data(as_text=True)
    assert c.post(f"/assessments/{aid}/sign", data={"password": "Correct-Horse-42"}).status_code == 302
    early = browsers["reviewer"].post(f"/assessments/{aid}/sign", data={"password": "Correct-Horse-42"})
    assert early.status_code == 403
    assert browsers["assessor2"].post(f"/assessments/{aid}/sign",
                                      data={"password": "Correct-Horse-42"}).status_code == 302
    assert browsers["reviewer"].post(f"/assessments/{aid}/sign",
                                     data={"password": "Correct-Horse-42"}).status_code == 302
    page = c.get(f"/assessments/{aid}").get_data(as_text=True)
    assert "已审核锁定" in page and page.count("有效") >= 3
    assert c.get(f"/assessments/{aid}/fill").status_code == 302  # locked: back to the result
    refused = c.post(f"/assessments/{aid}/amend", data={"reason": ""})
    assert refused.status_code == 422 and "原因" in refused.get_data(as_text=True)
    amended = c.post(f"/assessments/{aid}/amend", data={"reason": "诊断录入错误"})
    new_id = int(re.search(r"/assessments/(\d+)/fill", amended.headers["Location"]).group(1))
    a4 = gbt.section("A")
    html = c.get(f"/assessments/{new_id}/fill?section=A").get_data(as_text=True)
    data = {**_section_data(a4, {**answers, "A.4.1": []}), "version": _version(html), "section": "A",
            "go": "save"}
    assert c.post(f"/assessments/{new_id}/fill?section=A", data=data).status_code == 302
    diff = c.get(f"/assessments/{new_id}/diff").get_data(as_text=True)
    assert "A.4.1" in diff and "痴呆" in diff and "诊断录入错误" in diff
    old = c.get(f"/assessments/{aid}").get_data(as_text=True)
    assert "已审核锁定" in old
    pdf = c.get(f"/assessments/{aid}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    blank = c.get("/assessments/forms/gbt42195-2022.pdf")
    assert blank.status_code == 200 and blank.data.startswith(b"%PDF")


def test_second_instrument_through_the_pages(browsers, people, app):
    definition = app.extensions["yiyang.definitions"]["mzt039-2013"]
    c = browsers["assessor1"]
    aid = _start(c, _register(c, people["district"]), instrument="mzt039-2013")
    _fill_all(c, aid, definition, full_answers(definition))
    review = c.get(f"/assessments/{aid}/review").get_data(as_text=True)
    version = int(re.search(r'name="version" value="(\d+)"', review).group(1))
    response = c.post(f"/assessments/{aid}/submit", data={"version": version})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert 'id="final-level"' in c.get(f"/assessments/{aid}").get_data(as_text=True)


def test_lists_entitlements_and_one_tap_reassessment(browsers, people, gbt, db_session):
    from datetime import UTC, datetime

    from assessment.models import Assessment
    from assessment.state import refresh_elder_state

    c = browsers["assessor1"]
    elder_id = _register(c, people["district"])
    aid = _start(c, elder_id)
    a = db_session.get(Assessment, aid)
    a.status, a.result, a.approved_at = "approved", {"level": {"code": 1, "label": "能力轻度受损"}}, datetime(2020, 1, 1, tzinfo=UTC)
    db_session.add(a)
    refresh_elder_state(db_session, a.elder_id)  # approved by hand here, not through sign_assessment
    assert "赵桂兰" in c.get("/assessments/due?kind=overdue").get_data(as_text=True)
    assert "赵桂兰" not in c.get("/assessments/due?kind=soon").get_data(as_text=True)
    admin = browsers["admin"]
    form = {"instrument": gbt.id, **{f"services_{lv.code}": "" for lv in gbt.levels},
            **{f"subsidy_{lv.code}": "0" for lv in gbt.levels}}
    form.update({"services_1": "助餐、日间照料", "subsidy_1": "150"})
    assert admin.post("/assessments/entitlements", data=form).status_code == 302
    assert "助餐" in admin.get(f"/assessments/entitlements?instrument={gbt.id}").get_data(as_text=True)
    result = c.get(f"/assessments/{aid}").get_data(as_text=True)
    assert "助餐、日间照料" in result and "150.00 元" in result
    tap = c.post(f"/elders/{elder_id}/reassess")
    new_id = int(re.search(r"/assessments/(\d+)/fill", tap.headers["Location"]).group(1))
    assert db_session.get(Assessment, new_id).reason == "immediate"
    assert "赵桂兰" not in c.get("/assessments/due").get_data(as_text=True)
    assert c.get("/assessments").status_code == 200


def test_other_organisation_gets_404_on_every_page(browsers, people, gbt):
    c = browsers["assessor1"]
    elder_id = _register(c, people["district"])
    aid = _start(c, elder_id)
    other = browsers["outsider"]
    urls = [("get", f"/elders/{elder_id}"), ("get", f"/elders/{elder_id}/edit"),
            ("post", f"/elders/{elder_id}/edit"), ("post", f"/elders/{elder_id}/reveal"),
            ("post", f"/elders/{elder_id}/assessments"), ("post", f"/elders/{elder_id}/reassess"),
            ("get", f"/assessments/{aid}"), ("get", f"/assessments/{aid}/fill"),
            ("post", f"/assessments/{aid}/fill"), ("post", f"/assessments/{aid}/autosave"),
            ("get", f"/assessments/{aid}/review"), ("post", f"/assessments/{aid}/submit"),
            ("post", f"/assessments/{aid}/sign"), ("post", f"/assessments/{aid}/reopen"),
            ("post", f"/assessments/{aid}/amend"), ("get", f"/assessments/{aid}/diff"),
            ("get", f"/assessments/{aid}/report.pdf")]
    for method, url in urls:
        response = getattr(other, method)(url, data={"version": 1, "password": "Correct-Horse-42"})
        assert response.status_code == 404, (method, url, response.status_code)
    assert "赵桂兰" not in other.get("/elders").get_data(as_text=True)
    assert "赵桂兰" not in other.get("/assessments").get_data(as_text=True)


def test_home_and_menu_lead_to_the_assessment_pages(browsers):
    home = browsers["assessor1"].get("/").get_data(as_text=True)
    for url in ("/elders", "/assessments", "/assessments/due"):
        assert f'href="{url}"' in home or f'href="http://localhost{url}"' in home, url
    assert "/assessments/entitlements" in browsers["admin"].get("/").get_data(as_text=True)
    assert browsers["assessor1"].get("/assessments/entitlements").status_code == 403


def test_two_edits_of_one_elder_never_both_win(client, people, elder, db_session):
    login(client, people["assessor1"])
    form = {"name": elder.name, "gender": elder.gender, "birth_date": elder.birth_date.isoformat(),
            "id_number": "", "phone": "", "address": elder.address, "community": "", "contact_name": "",
            "contact_phone": "", "legal_basis": elder.legal_basis, "consent_by": "", "consent_at": "",
            "organisation_id": str(elder.organisation_id), "version": str(elder.version)}
    first = client.post(f"/elders/{elder.id}/edit", data={**form, "address": "第一位的地址 1 号"})
    assert first.status_code == 302, first.get_data(as_text=True)[-1500:]
    second = client.post(f"/elders/{elder.id}/edit", data={**form, "address": "第二位的地址 2 号"})
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "刚被其他人修改过" in page and "第二位的地址 2 号" in page
    db_session.expire_all()
    assert elder.address == "第一位的地址 1 号"
