"""Photos of assessment items: the one upload path (core.photos) through the API and the pages,
cleaned (no GPS, capture time kept), refused with a clear 4xx, scoped, audited, replayed once,
deleted only while draft, printed as thumbnails in the report."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest
from sqlmodel import func, select

from assessment.models import AssessmentPhoto
from audit.models import AuditEvent
from tests.assessment.conftest import full_answers
from tests.conftest import api_token, login


def jpeg_with_gps(width: int = 2400, height: int = 1800) -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "Tablet maker"  # Make
    exif[0x0132] = "2026:03:01 09:15:00"  # DateTime
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (39.0, 54.0, 27.0)
    gps[3], gps[4] = "E", (116.0, 23.0, 17.0)
    out = io.BytesIO()
    Image.new("RGB", (width, height), (120, 160, 200)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def png(width: int = 40, height: int = 30) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 10)).save(out, format="PNG")
    return out.getvalue()


def bomb() -> bytes:
    """A PNG whose header claims 13,000 × 13,700 pixels (178 Mpx) in a few KB."""
    header = struct.pack(">IIBBBBB", 13000, 13700, 1, 0, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress(b"\x00" * (1 + 13000 // 8) * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


@pytest.fixture()
def draft(app, db_session, people, elder, gbt) -> Any:
    from assessment import operations as ops

    with app.test_request_context():
        return ops.start_assessment(session=db_session, actor=people["assessor1"], elder=elder, definition=gbt,
                                    reason="initial")


def _upload(client, assessment_id, item, data, name="p.jpg", mime="image/jpeg", headers=None):
    return client.post(f"/api/v1/assessments/{assessment_id}/items/{item}/photos", headers=headers or {},
                       data={"photo": (io.BytesIO(data), name, mime)}, content_type="multipart/form-data")


def test_api_upload_cleans_the_photo_lists_serves_and_audits_it(app, client, db_session, people, draft, gbt):
    from PIL import Image

    headers = api_token(client, people["assessor1"])
    item = next(iter(gbt.items))
    answer = _upload(client, draft.id, item, jpeg_with_gps(), headers=headers)
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["item"] == item and body["content_type"] == "image/jpeg"
    photo = db_session.get(AssessmentPhoto, body["id"])
    with app.app_context():
        from core.storage import get_storage

        kept = get_storage().get(photo.storage_key)
    image = Image.open(io.BytesIO(kept))
    exif = image.getexif()
    assert max(image.size) == 1600  # resized
    assert 0x8825 not in exif and 0x010F not in exif  # no GPS block, no maker
    assert exif.get(0x0132) == "2026:03:01 09:15:00"  # the capture time is evidence: kept
    listed = client.get(f"/api/v1/assessments/{draft.id}/photos", headers=headers).get_json()["photos"]
    assert [p["id"] for p in listed] == [body["id"]]
    login(client, people["assessor1"])
    served = client.get(body["url"])
    assert served.status_code == 200 and served.data == kept and served.mimetype == "image/jpeg"
    event = db_session.exec(select(AuditEvent).where(AuditEvent.action == "assessment.photo.add")).one()
    assert event.changes["new"]["item"] == item
    png_answer = _upload(client, draft.id, item, png(), name="p.png", mime="image/png", headers=headers)
    assert png_answer.status_code == 201 and png_answer.get_json()["content_type"] == "image/jpeg"


def test_bad_photos_are_refused_with_a_clear_4xx_and_nothing_is_kept(client, db_session, people, draft, gbt,
                                                                    monkeypatch):
    import core.photos

    monkeypatch.setattr(core.photos, "PHOTO_MAX_BYTES", 64 * 1024)  # the 10 MB rule, without sending 10 MB
    headers = api_token(client, people["assessor1"])
    item = next(iter(gbt.items))
    cases = {
        "bomb": (_upload(client, draft.id, item, bomb(), name="b.png", mime="image/png", headers=headers), 422),
        "junk": (_upload(client, draft.id, item, b"not a picture", headers=headers), 422),
        "type": (_upload(client, draft.id, item, png(), name="x.gif", mime="image/gif", headers=headers), 422),
        "big": (_upload(client, draft.id, item, png(800, 800) + b"0" * (64 * 1024), headers=headers), 413),
        "item": (_upload(client, draft.id, "no-such-item", png(), mime="image/png", headers=headers), 422),
    }
    for name, (answer, status) in cases.items():
        assert answer.status_code == status, (name, answer.get_json())
        body = answer.get_json()
        assert body["errors"] and body["errors"][0]["item"] in ("photo", "item") and body["message"], name
    assert "5000" in cases["bomb"][0].get_json()["errors"][0]["message"]
    assert "10 MB" in cases["big"][0].get_json()["errors"][0]["message"]
    assert db_session.exec(select(func.count()).select_from(AssessmentPhoto)).one() == 0


def test_a_replayed_upload_with_the_same_key_makes_one_photo(client, db_session, people, draft, gbt):
    headers = {**api_token(client, people["assessor1"]), "Idempotency-Key": "outbox-photo-1"}
    item = next(iter(gbt.items))
    data = png()
    first = _upload(client, draft.id, item, data, name="p.png", mime="image/png", headers=headers)
    again = _upload(client, draft.id, item, data, name="p.png", mime="image/png", headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json() == first.get_json()
    assert db_session.exec(select(func.count()).select_from(AssessmentPhoto)).one() == 1


def page_csrf(app, client) -> str:
    """A CSRF token signed as a page signs it (the suite turns the form check off, not the API's)."""
    with client.session_transaction() as state:
        state["csrf_token"] = "a" * 40
    with app.test_request_context():
        from flask import session
        from flask_wtf.csrf import generate_csrf

        session["csrf_token"] = "a" * 40
        return generate_csrf()


def test_the_page_session_may_send_an_idempotency_key_too(app, client, db_session, people, draft, gbt):
    """The fill page's script uploads with the login cookie and the CSRF header: its key counts."""
    login(client, people["assessor1"])
    token = page_csrf(app, client)
    headers = {"X-CSRFToken": token, "Idempotency-Key": "page-photo-1"}
    item = gbt.sections[0].items[0].id
    first = _upload(client, draft.id, item, png(), name="p.png", mime="image/png", headers=headers)
    again = _upload(client, draft.id, item, png(), name="p.png", mime="image/png", headers=headers)
    assert first.status_code == again.status_code == 201, first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert db_session.exec(select(func.count()).select_from(AssessmentPhoto)).one() == 1


def test_other_organisations_get_404_and_delete_only_while_draft(app, client, db_session, people, draft, gbt):
    from assessment import operations as ops

    mine = api_token(client, people["assessor1"])
    item = next(iter(gbt.items))
    photo_id = _upload(client, draft.id, item, png(), mime="image/png", headers=mine).get_json()["id"]
    outsider = api_token(client, people["outsider"])
    assert _upload(client, draft.id, item, png(), mime="image/png", headers=outsider).status_code == 404
    assert client.get(f"/api/v1/assessments/{draft.id}/photos", headers=outsider).status_code == 404
    assert client.delete(f"/api/v1/assessments/{draft.id}/photos/{photo_id}", headers=outsider).status_code == 404
    second = _upload(client, draft.id, item, png(), mime="image/png", headers=mine).get_json()["id"]
    assert client.delete(f"/api/v1/assessments/{draft.id}/photos/{second}", headers=mine).status_code == 204
    assert db_session.get(AssessmentPhoto, second) is None
    assert db_session.exec(select(AuditEvent).where(AuditEvent.action == "assessment.photo.delete")).one()
    with app.test_request_context():
        ops.save_answers(session=db_session, actor=people["assessor1"], assessment=draft, definition=gbt,
                         answers=full_answers(gbt), version=draft.version)
        ops.submit_assessment(session=db_session, actor=people["assessor1"], assessment=draft, definition=gbt)
    late = client.delete(f"/api/v1/assessments/{draft.id}/photos/{photo_id}", headers=mine)
    assert late.status_code == 409 and db_session.get(AssessmentPhoto, photo_id) is not None
    refused = _upload(client, draft.id, item, png(), mime="image/png", headers=mine)
    assert refused.status_code == 409


def test_fill_page_offers_the_camera_and_the_page_route_uploads(client, db_session, people, draft, gbt):
    login(client, people["assessor1"])
    section = gbt.sections[0]
    page = client.get(f"/assessments/{draft.id}/fill?section={section.id}").get_data(as_text=True)
    assert 'accept="image/*" capture="environment"' in page and "js/photos.js" in page
    item = section.items[0].id
    sent = client.post(f"/assessments/{draft.id}/photos", data={
        "item": item, "photo": (io.BytesIO(png()), "p.png", "image/png")},
        content_type="multipart/form-data")
    assert sent.status_code == 302 and f"section={section.id}" in sent.headers["Location"]
    photo = db_session.exec(select(AssessmentPhoto)).one()
    page = client.get(f"/assessments/{draft.id}/fill?section={section.id}").get_data(as_text=True)
    assert f"/assessments/{draft.id}/photos/{photo.id}" in page
    review = client.get(f"/assessments/{draft.id}/review").get_data(as_text=True)
    assert f"/assessments/{draft.id}/photos/{photo.id}" in review


def test_report_pdf_prints_the_item_photo_as_a_thumbnail(app, db_session, people, draft, gbt):
    from pypdf import PdfReader

    from assessment.documents import report_context
    from assessment.operations import evidence
    from core.storage import get_storage
    from reports import render_pdf

    item = gbt.sections[-1].items[-1].id
    with app.test_request_context():
        evidence.add_photo(session=db_session, actor=people["assessor1"], storage=get_storage(), assessment=draft,
                           definition=gbt, item_id=item, data=png(400, 300), content_type="image/png")
        context = report_context(db_session, draft, gbt)
    row = next(a for s in context["sections"] for a in s["answers"] if a["item_id"] == item)
    assert len(row["photos"]) == 1 and row["photos"][0].startswith("data:image/jpeg;base64,")
    pdf = PdfReader(io.BytesIO(render_pdf("assessment_report.html", context)))
    images = [image for page in pdf.pages for image in page.images]
    assert any(image.image.size[0] <= 320 and image.image.size == (320, 240) for image in images)
