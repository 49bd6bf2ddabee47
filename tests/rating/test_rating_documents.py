"""The printed rating documents: the certificate's short verification link stays inside its
frame (checked in WeasyPrint's layout tree); the rectification notice lists the failed items
with their texts in the document's language; an empty notice is never issued."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from rating import operations as ops
from rating.documents import NoticeRefused, certificate_context, notice_context
from rating.models import CorrectiveAction, Inspection
from reports import layout_document
from scoring import Definition
from tests.conftest import api_token, login
from tests.rating.factories import GBT_LEVEL4, STAR_FAIL, pdf_text
from tests.rating.test_rating_workflow import _submitted

STARS5 = {"facilities": 29, "operations": 28, "services": 38}


def _certificate(session: Any, world: dict[str, Any]) -> Any:
    with world["app"].app_context():
        inspection = ops.start_inspection(session=session, actor=world["inspector"], facility=world["station"],
                                          scheme="community-star")
        ops.save_answers(session=session, actor=world["inspector"], inspection=inspection, answers=STARS5,
                         version=inspection.version)
        ops.submit_inspection(session=session, actor=world["inspector"], inspection=inspection)
        grade = ops.approve_inspection(session=session, actor=world["admin"], inspection=inspection)
        certificate, _created = ops.issue_certificate(session=session, actor=world["admin"], grade=grade)
    return certificate


def _classes(box: Any) -> list[str]:
    element = getattr(box, "element", None)
    return (element.get("class") or "").split() if element is not None else []


def _walk(box: Any) -> Any:
    """Every box under `box`, through absolutely positioned ones (descendants() stops there)."""
    yield box
    for child in getattr(box, "children", ()):
        yield from _walk(child)


def _url_layout(context: dict[str, Any]) -> tuple[Any, list[Any], Any]:
    """(frame box, the text boxes of the printed URL, page box) of the certificate's one page."""
    document = layout_document("certificate.html", context)
    assert len(document.pages) == 1
    page = document.pages[0]._page_box
    boxes = list(_walk(page))
    frame = next(b for b in boxes if "frame" in _classes(b))
    texts = [b for b in boxes if "url" in _classes(b) and hasattr(b, "text") and b.text.strip()]
    return frame, texts, page


@pytest.mark.parametrize("public_url", ["", "https://ylfw.mzj.example.gov.cn",
                                        "https://yanglao-fuwu-zhiliang-pingding.minzhengju.example-city.gov.cn/public/zhengshu"])
def test_certificate_link_is_short_and_inside_its_frame(client, rating_world, db_session, public_url):
    certificate = _certificate(db_session, rating_world)
    before = client.application.config["PUBLIC_URL"]
    client.application.config["PUBLIC_URL"] = public_url
    try:
        with client.application.test_request_context():
            context = certificate_context(db_session, certificate)
    finally:
        client.application.config["PUBLIC_URL"] = before  # the app is shared by the session's tests
    printed = context["verify_url"]
    assert printed == f"{public_url}/verify/{certificate.code}" and "?" not in printed
    assert len(certificate.code) <= 24
    frame, texts, page = _url_layout(context)
    assert "".join(t.text for t in texts).replace(" ", "") == printed  # the whole link is printed
    left, right = frame.border_box_x(), frame.border_box_x() + frame.border_width()
    top, bottom = frame.border_box_y(), frame.border_box_y() + frame.border_height()
    for text in texts:
        assert left <= text.position_x and text.position_x + text.width <= right, (text.text, printed)
        assert top <= text.position_y and text.position_y + text.height <= bottom, (text.text, printed)
    assert bottom <= page.margin_height()
    if not public_url:  # the short link is one line
        assert len({round(t.position_y) for t in texts}) == 1


def test_certificate_pdf_prints_the_short_link_not_the_payload(client, rating_world, db_session):
    certificate = _certificate(db_session, rating_world)
    login(client, rating_world["admin"])
    text = pdf_text(client.get(f"/rating/certificates/{certificate.id}/pdf").data).replace("\n", "")
    assert f"/verify/{certificate.code}" in text and "?d=" not in text and certificate.signature not in text


def _flat(pdf: bytes) -> str:
    """The PDF's text without whitespace (table cells wrap anywhere)."""
    return "".join(pdf_text(pdf).split())


def _scheme_items(session: Any, iid: int) -> tuple[Definition, list[CorrectiveAction]]:
    inspection = session.get(Inspection, iid)
    actions = list(session.exec(select(CorrectiveAction).where(CorrectiveAction.inspection_id == iid)))
    return ops.definition_of(inspection), actions


def test_notice_lists_failed_items_with_their_texts_in_both_languages(client, rating_world, db_session):
    inspector = api_token(client, rating_world["inspector"])
    iid = _submitted(client, inspector, rating_world["station"], "community-star", STAR_FAIL,
                     notes={"facilities.F1": "康复区被改作仓库"})
    definition, actions = _scheme_items(db_session, iid)
    failed = [definition.item(a.item_id) for a in actions if a.item_id]
    assert failed and any(a.is_rectification for a in actions)
    zh = client.get(f"/api/v1/inspections/{iid}/notice.pdf", headers=inspector)
    assert zh.status_code == 200 and zh.mimetype == "application/pdf"
    text = _flat(zh.data)
    for item in failed:
        assert item.title.zh in text and item.id in text
    assert "康复区被改作仓库" in text and "综合评定结果不合格" in text and "Rectification Notice" not in text
    en = client.get(f"/api/v1/inspections/{iid}/notice.pdf?lang=en", headers=inspector)
    assert en.status_code == 200
    text_en = _flat(en.data)
    assert "RectificationNotice" in text_en and "Overallresultbelowthepassmark" in text_en
    assert "页" not in text_en
    for item in failed:  # the English text, and the Chinese (official) wording under it
        assert "".join(item.title.en.split()) in text_en and item.title.zh in text_en
    login(client, rating_world["inspector"])
    page = client.get(f"/rating/inspections/{iid}/notice.pdf")
    assert page.mimetype == "application/pdf" and failed[0].title.zh in _flat(page.data)


def test_an_empty_notice_is_refused_by_the_one_function(client, rating_world, db_session):
    inspector = api_token(client, rating_world["inspector"])
    iid = _submitted(client, inspector, rating_world["home"], "gbt37276-2018", GBT_LEVEL4)
    inspection = db_session.get(Inspection, iid)
    with client.application.test_request_context(), pytest.raises(NoticeRefused) as refused:
        notice_context(db_session, inspection, [])
    assert refused.value.code == "nothing_to_rectify" and refused.value.status == 409
    assert "不出具整改通知书" in refused.value.message
    english = client.get(f"/api/v1/inspections/{iid}/notice.pdf", headers=inspector | {"Accept-Language": "en"})
    assert english.status_code == 409 and english.get_json()["error"] == "nothing_to_rectify"
    assert "不出具" not in english.get_json()["message"]


def test_no_notice_before_submission(client, rating_world, db_session):
    inspector = api_token(client, rating_world["inspector"])
    started = client.post("/api/v1/inspections", json={"facility_id": rating_world["station"].id,
                                                       "scheme": "community-star"}, headers=inspector).get_json()
    refused = client.get(f"/api/v1/inspections/{started['id']}/notice.pdf", headers=inspector)
    assert refused.status_code == 409 and "提交后" in refused.get_json()["message"]
    login(client, rating_world["inspector"])
    page = client.get(f"/rating/inspections/{started['id']}/notice.pdf", follow_redirects=True)
    assert page.mimetype == "text/html" and "检查提交后才能生成整改通知书" in page.get_data(as_text=True)
