"""Drawn signatures: bound to the answers' hash like the password signature (a drawing made before
an answer changes is void and never printed), the assessor's mark only over their own password
signature, refused when blank or not a PNG, audited, scoped, and placed in its box of the report."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from sqlmodel import select

from assessment.models import DrawnSignature
from audit.models import AuditEvent
from tests.assessment.conftest import full_answers
from tests.conftest import TEST_PASSWORD, api_token, login


def drawing(width: int = 600, height: int = 200, stroke: bool = True) -> str:
    """A canvas export: a transparent PNG with a black scribble (or nothing on it)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    if stroke:
        ImageDraw.Draw(image).line([(20, 150), (200, 40), (380, 160), (560, 50)], fill=(17, 17, 17, 255), width=6)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.fixture()
def filled(app, db_session, people, elder, gbt) -> Any:
    from assessment import operations as ops

    with app.test_request_context():
        assessment = ops.start_assessment(session=db_session, actor=people["assessor1"], elder=elder,
                                          definition=gbt, reason="initial")
        ops.save_answers(session=db_session, actor=people["assessor1"], assessment=assessment, definition=gbt,
                         answers=full_answers(gbt), version=assessment.version)
    return assessment


def _boxes(box: Any, path: tuple[Any, ...] = ()) -> Any:
    yield box, path
    for child in getattr(box, "children", []) or []:
        yield from _boxes(child, (*path, box))


def _classes(box: Any) -> set[str]:
    element = getattr(box, "element", None)
    return set((element.get("class") or "").split()) if element is not None else set()


def laid_out_signatures(context: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(alt, gap to the box's line, box width) of every drawn signature as WeasyPrint lays out the report."""
    from reports._weasyprint import weasyprint
    from reports.fetcher import TEMPLATE_DIR, SafeURLFetcher
    from reports.render import document_html

    html = document_html("assessment_report.html", context)
    document = weasyprint.HTML(string=html, base_url=TEMPLATE_DIR.as_uri() + "/", url_fetcher=SafeURLFetcher()).render()
    found = []
    for page in document.pages:
        boxes = list(_boxes(page._page_box))
        lines = [b for b, _p in boxes if "line" in _classes(b) and getattr(b, "element_tag", "") == "div"]
        for box, path in boxes:
            if getattr(box, "element_tag", "") == "img" and "drawn" in _classes(box) and type(box).__name__.endswith("ReplacedBox"):
                cell = next(p for p in reversed(path) if "signature" in _classes(p))
                line = next(b for b in lines if cell.position_x <= b.position_x < cell.position_x + cell.width
                            and b.position_y >= box.position_y)
                gap = line.position_y - (box.position_y + box.height)
                found.append((box.element.get("alt"), gap, cell.width))
    return found


def test_elder_signature_is_void_once_an_answer_changes(app, client, db_session, people, filled, gbt):
    from assessment import operations as ops
    from assessment.documents import report_context

    login(client, people["assessor1"])
    review = client.get(f"/assessments/{filled.id}/review").get_data(as_text=True)
    assert 'class="pad-canvas"' in review and "js/signature.js" in review
    sent = client.post(f"/assessments/{filled.id}/drawn-signatures",
                       data={"role": "elder", "signer_name": "", "image": drawing()})
    assert sent.status_code == 302
    saved = db_session.exec(select(DrawnSignature)).one()
    assert saved.role == "elder" and saved.signer_name == "王秀英" and saved.answers_hash == ops.answers_digest(filled)
    with app.test_request_context():
        assert report_context(db_session, filled, gbt)["elder_signature"]["name"] == "王秀英"
        item = next(i for i in gbt.items.values() if i.type == "single_choice" and i.options)
        ops.save_answers(session=db_session, actor=people["assessor1"], assessment=filled, definition=gbt,
                         answers={item.id: item.options[-1].value}, version=filled.version)
        context = report_context(db_session, filled, gbt)
    assert context["elder_signature"] is None  # drawn before the change: void, not printed
    assert laid_out_signatures(context) == []
    page = client.get(f"/assessments/{filled.id}/review").get_data(as_text=True)
    assert "答案已变更，签名失效" in page
    event = db_session.exec(select(AuditEvent).where(AuditEvent.action == "assessment.drawn_signature.add")).one()
    assert event.changes["new"]["role"] == "elder"


def test_assessor_mark_goes_with_the_password_signature_and_stands_in_its_box(app, client, db_session, people,
                                                                               filled, gbt):
    from assessment import operations as ops
    from assessment.documents import report_context

    login(client, people["assessor1"])
    client.post(f"/assessments/{filled.id}/drawn-signatures",
                data={"role": "guardian", "signer_name": "王小明", "image": drawing(580, 200)})
    with app.test_request_context():
        ops.submit_assessment(session=db_session, actor=people["assessor1"], assessment=filled, definition=gbt)
    blank = client.post(f"/assessments/{filled.id}/sign", data={"password": TEST_PASSWORD,
                                                                "drawn": drawing(stroke=False)})
    assert blank.status_code == 422 and "空白" in blank.get_data(as_text=True)
    signed = client.post(f"/assessments/{filled.id}/sign", data={"password": TEST_PASSWORD, "drawn": drawing()})
    assert signed.status_code == 302, signed.get_data(as_text=True)[:300]
    mark = db_session.exec(select(DrawnSignature).where(DrawnSignature.user_id == people["assessor1"].id)).one()
    assert mark.role == "assessor" and mark.signer_key == f"user:{people['assessor1'].id}"
    with app.test_request_context():
        context = report_context(db_session, filled, gbt)
    assert context["assessors"][0]["drawn"].startswith("data:image/png;base64,")
    assert context["elder_signature"]["role"] == "代理人" and context["elder_signature"]["name"] == "王小明"
    placed = laid_out_signatures(context)
    alts = sorted(alt for alt, _gap, _width in placed)
    assert alts == sorted([f"评估员签名：{people['assessor1'].display_name}", "代理人签名：王小明"])
    for alt, gap, cell_width in placed:
        assert abs(gap) < 1, (alt, gap)  # standing on its signature line, in its own box
        assert cell_width > 100
    from pypdf import PdfReader

    from reports import render_pdf

    pdf = PdfReader(io.BytesIO(render_pdf("assessment_report.html", context)))
    page = next(p for p in pdf.pages if "老年人或代理人签字" in p.extract_text())
    assert sorted(i.image.size for i in page.images if i.image.size[1] == 200) == [(580, 200), (600, 200)]


def test_api_refuses_marks_without_a_password_signature_bad_images_and_other_organisations(client, people, filled):
    headers = api_token(client, people["assessor1"])
    url = f"/api/v1/assessments/{filled.id}/drawn-signatures"
    early = client.post(url, json={"role": "self", "image": drawing()}, headers=headers)
    assert early.status_code == 409 and early.get_json()["errors"][0]["item"] == "signature"
    not_png = client.post(url, json={"role": "elder", "image": "data:image/png;base64,aGVsbG8="}, headers=headers)
    assert not_png.status_code == 422
    guardian = client.post(url, json={"role": "guardian", "image": drawing()}, headers=headers)
    assert guardian.status_code == 422 and guardian.get_json()["errors"][0]["item"] == "signer_name"
    ok = client.post(url, json={"role": "elder", "image": drawing()}, headers=headers)
    assert ok.status_code == 201 and ok.get_json()["current"] is True
    again = client.post(url, json={"role": "elder", "image": drawing(500, 180)}, headers=headers)
    assert again.status_code == 201  # drawing again replaces the elder's drawing
    listed = client.get(url, headers=headers).get_json()["drawn_signatures"]
    assert [d["id"] for d in listed] == [again.get_json()["id"]]
    outsider = api_token(client, people["outsider"])
    assert client.post(url, json={"role": "elder", "image": drawing()}, headers=outsider).status_code == 404
    assert client.get(url, headers=outsider).status_code == 404
