"""Bad input from outside is a 4xx naming the field, never a 500, and changes nothing: facility
fields of the wrong type, text no database can store, photos that are bombs or carry a path in
their item field, unknown checklist items, an unreadable body on verification."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlmodel import func, select

from tests.conftest import api_token, login
from tests.factories import UserFactory


@pytest.mark.parametrize("patch", [{"beds": 10**30}, {"kind": ["institution"]}, {"filing_status": {"x": 1}},
                                   {"name": {"zh": "x"}}, {"beds": -1}, {"address": 12}])
def test_facility_fields_of_the_wrong_type_are_named(client, org_tree, patch):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    body = {"name": "坏输入养老院", "kind": "institution", **patch}
    response = client.post("/api/v1/facilities", headers=api_token(client, admin), json=body)
    assert response.status_code == 422, response.get_json()
    assert next(iter(patch)) in {e["item"] for e in response.get_json()["errors"]}


def test_lone_surrogates_and_nul_in_query_strings_are_refused(client, org_tree):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    headers = {**api_token(client, admin), "Content-Type": "application/json"}
    raw = '{"name": "\\ud800坏", "kind": "institution"}'
    response = client.post("/api/v1/facilities", headers=headers, data=raw)
    assert response.status_code == 422 and response.get_json()["errors"][0]["item"] == "name"
    assert client.get("/api/v1/facilities", headers=headers, query_string={"q": "a\x00b"}).status_code == 422
    login(client, admin)
    assert client.get("/elders", query_string={"q": "\x00"}).status_code == 400


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (width, height)).save(out, format="PNG")
    return out.getvalue()


def _bomb() -> bytes:
    """A PNG whose header claims 13,000 × 13,700 pixels (178 Mpx) in a few KB."""
    import struct
    import zlib

    width, height = 13000, 13700
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + width // 8) * 64)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def _inspection(client: Any, rating_world: dict[str, Any], db_session: Any) -> Any:
    from rating.models import Inspection

    login(client, rating_world["inspector"])
    started = client.post(f"/rating/facilities/{rating_world['station'].id}/inspect", data={"scheme": "community-star"})
    assert started.status_code == 302
    return db_session.exec(select(Inspection)).one()


def test_photos_that_are_bombs_or_name_no_item_are_refused_and_nothing_is_kept(client, rating_world, db_session):
    from rating.models import EvidencePhoto

    inspection = _inspection(client, rating_world, db_session)
    url = f"/rating/inspections/{inspection.id}/photos"
    bomb = client.post(url, data={"item": "", "photo": (io.BytesIO(_bomb()), "bomb.png", "image/png")},
                       content_type="multipart/form-data", follow_redirects=True)
    assert "像素过多" in bomb.get_data(as_text=True)
    crlf = client.post(url, data={"item": "x\r\nSet-Cookie: a=b",
                                  "photo": (io.BytesIO(_png(20, 20)), "a.png", "image/png")},
                       content_type="multipart/form-data", follow_redirects=True)
    assert "没有这个检查项" in crlf.get_data(as_text=True)
    assert db_session.exec(select(func.count()).select_from(EvidencePhoto)).one() == 0


def _jpeg_with_gps() -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "ACME"  # Make
    exif[0xA431] = "SERIAL-123"  # BodySerialNumber
    exif[306] = "2026:11:30 10:15:00"
    gps = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_stored_photos_keep_no_gps_or_device_but_keep_the_time():
    from PIL import Image

    from core.images import clean_photo

    cleaned = clean_photo(_jpeg_with_gps())
    kept = Image.open(io.BytesIO(cleaned)).getexif()
    assert dict(kept) == {306: "2026:11:30 10:15:00"}
    assert b"SERIAL-123" not in cleaned and b"ACME" not in cleaned


def test_unknown_checklist_items_photos_after_submission_and_unreadable_verification(client, rating_world,
                                                                                      db_session):
    from rating.models import CorrectiveAction, EvidencePhoto
    from tests.rating.factories import STAR_FAIL

    inspection = _inspection(client, rating_world, db_session)
    headers = api_token(client, rating_world["inspector"])
    saved = client.put(f"/api/v1/inspections/{inspection.id}/answers", headers=headers,
                       json={"answers": {"no.such.item": 1}, "version": inspection.version})
    assert saved.status_code == 422
    assert saved.get_json()["errors"][0]["item"] == "no.such.item"
    assert "no.such.item" not in inspection.answers
    full = {"version": str(inspection.version), "then": "submit", "q_services": "20"}
    full.update({"q_" + k.replace(".", "_"): str(v) for k, v in STAR_FAIL.items() if k != "services"})
    assert client.post(f"/rating/inspections/{inspection.id}/save", data=full).status_code == 302
    late = client.post(f"/rating/inspections/{inspection.id}/photos",
                       data={"item": "", "photo": (io.BytesIO(_png(20, 20)), "a.png", "image/png")},
                       content_type="multipart/form-data", follow_redirects=True)
    text = late.get_data(as_text=True)
    assert "不能再添加照片" in text
    assert db_session.exec(select(func.count()).select_from(EvidencePhoto)).one() == 0
    action = db_session.exec(select(CorrectiveAction)).first()
    assert action is not None
    admin = api_token(client, rating_world["admin"])
    unreadable = client.post(f"/api/v1/actions/{action.id}/verify", headers={**admin, "Content-Type": "text/plain"},
                             data="accept")
    assert unreadable.status_code == 422
    db_session.refresh(action)
    assert action.status != "closed"


def test_percent_and_underscore_in_a_search_are_letters_not_wildcards(client, org_tree):
    from tests.factories import make_id_number

    admin = UserFactory(organisation=org_tree["city"], roles="admin assessor")
    headers = api_token(client, admin)
    for serial, name in enumerate(("百分%比", "下划_线", "普通人"), start=301):
        body = {"name": name, "gender": "female", "birth_date": "1940-01-01",
                "id_number": make_id_number("1940-01-01", serial), "organisation_id": org_tree["city"].id}
        assert client.post("/api/v1/elders", json=body, headers=headers).status_code == 201
        facility = {"name": f"{name}养老院", "kind": "institution"}
        assert client.post("/api/v1/facilities", json=facility, headers=headers).status_code == 201
    for path, suffix in (("/api/v1/elders", ""), ("/api/v1/facilities", "养老院")):
        for q, expected in (("%", {"百分%比"}), ("_", {"下划_线"}), ("%比", {"百分%比"})):
            found = client.get(path, query_string={"q": q}, headers=headers)
            assert found.status_code == 200, found.get_json()
            assert {item["name"] for item in found.get_json()["items"]} == {e + suffix for e in expected}, (path, q)


def test_an_uploaded_photo_however_small_is_stored_without_its_metadata(client, rating_world, db_session):
    from PIL import Image

    from rating.models import EvidencePhoto

    inspection = _inspection(client, rating_world, db_session)
    sent = _jpeg_with_gps()
    assert b"SERIAL-123" in sent and len(sent) < 4096
    uploaded = client.post(f"/rating/inspections/{inspection.id}/photos",
                           data={"item": "", "photo": (io.BytesIO(sent), "tiny.jpg", "image/jpeg")},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 302
    photo = db_session.exec(select(EvidencePhoto)).one()
    stored = client.get(f"/rating/photos/{photo.id}")
    assert stored.status_code == 200 and "no-store" in stored.headers["Cache-Control"]
    kept = stored.get_data()
    stored.close()
    assert b"SERIAL-123" not in kept and b"ACME" not in kept
    assert 0x8825 not in Image.open(io.BytesIO(kept)).getexif()
