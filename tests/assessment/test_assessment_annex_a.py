"""GB/T 42195 Annex A information items in the form, the blank paper form and a coma skipping B."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from forms.definition import field_name
from tests.assessment.test_assessment_pages import _register, _section_data, _start, _version
from tests.conftest import login

INFO_TITLES = ("评估原因", "文化程度", "居住情况（多选）", "婚姻状况", "医疗费用支付方式（多选）", "经济来源（多选）",
               "信息提供者姓名", "联系人姓名", "药品名称", "压力性损伤", "义齿佩戴情况", "清理呼吸道无效")


def _client(app, user):
    client = app.test_client()
    login(client, user)
    return client


def test_information_items_are_in_the_form_and_on_the_blank_paper_form(app, people, gbt):
    c = _client(app, people["assessor1"])
    aid = _start(c, _register(c, people["district"]))
    html = c.get(f"/assessments/{aid}/fill?section=A").get_data(as_text=True)
    for title in INFO_TITLES:
        assert title in html, title
    for item_id in ("A.1.2", "A.2.4", "A.2.10", "A.4.2.1.name", "A.5.12"):
        assert f'name="{field_name(item_id)}"' in html, item_id
    assert "联系人电话（A.3.4）取自老年人档案" in html
    blank = c.get("/assessments/forms/gbt42195-2022.pdf")
    assert blank.status_code == 200
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(blank.data)).pages)
    text = re.sub(r"\s+", "", text)
    for title in INFO_TITLES + ("A.5.11", "A.2.13", "与配偶居住", "城乡居民基本医疗保险"):
        assert re.sub(r"\s+", "", title) in text, title


def test_a_coma_is_submitted_without_the_b_items(app, people, gbt):
    c = _client(app, people["assessor1"])
    aid = _start(c, _register(c, people["district"]))
    html = c.get(f"/assessments/{aid}/fill?section=A").get_data(as_text=True)
    answers = {"A.5.11": True, "A.2.9": "primary", "A.2.10": ["spouse", "children"], "A.3.1": "李明"}
    data = {**_section_data(gbt.section("A"), answers), "version": _version(html), "section": "A",
            "go": "review"}
    saved = c.post(f"/assessments/{aid}/fill?section=A", data=data)
    assert saved.status_code == 302 and "/review" in saved.headers["Location"], saved.get_data(as_text=True)[:2000]
    review = c.get(f"/assessments/{aid}/review").get_data(as_text=True)
    assert "必填项未作答" not in review
    version = int(re.search(r'name="version" value="(\d+)"', review).group(1))
    submitted = c.post(f"/assessments/{aid}/submit", data={"version": version})
    assert submitted.status_code == 302, submitted.get_data(as_text=True)[:2000]
    result = c.get(f"/assessments/{aid}").get_data(as_text=True)
    assert "能力完全丧失" in result
    pdf = c.get(f"/assessments/{aid}/report.pdf")
    text = re.sub(r"\s+", "", "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.data)).pages))
    assert "与配偶居住、与子女居住" in text and "小学" in text
