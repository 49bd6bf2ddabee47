"""Inspection photos after submission: the approval page shows them, the rectification notice
prints them as thumbnails under the item's finding (core.photos, the path shared with assessments)."""

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


def test_approval_page_and_notice_show_the_item_photos(client, rating_world, db_session):
    from pypdf import PdfReader

    login(client, rating_world["inspector"])
    client.post(f"/rating/facilities/{rating_world['station'].id}/inspect", data={"scheme": "community-star"})
    inspection = db_session.exec(select(Inspection)).one()
    sent = client.post(f"/rating/inspections/{inspection.id}/photos", content_type="multipart/form-data",
                       data={"item": "facilities.F1", "photo": (io.BytesIO(_png(800, 600)), "f1.png", "image/png")})
    assert sent.status_code == 302
    photo = db_session.exec(select(EvidencePhoto)).one()
    full = {"version": str(inspection.version), "then": "submit", "q_services": "20", "n_facilities_F1": "助餐区未设置"}
    full.update({"q_" + k.replace(".", "_"): str(v) for k, v in STAR_FAIL.items() if k != "services"})
    assert client.post(f"/rating/inspections/{inspection.id}/save", data=full).status_code == 302
    login(client, rating_world["admin"])
    page = client.get(f"/rating/inspections/{inspection.id}").get_data(as_text=True)
    assert f"/rating/photos/{photo.id}" in page  # the approver sees the evidence next to the item
    notice = client.get(f"/rating/inspections/{inspection.id}/notice.pdf")
    assert notice.status_code == 200
    images = [image for page in PdfReader(io.BytesIO(notice.data)).pages for image in page.images]
    assert [image.image.size for image in images if image.image.size == (320, 240)]
