"""The offline bundle of an inspection and its photo upload: scoped, and a photo resent with its
Idempotency-Key is stored once."""

from __future__ import annotations

import io

from sqlmodel import func, select

from tests.conftest import api_token


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _start(client, world, headers) -> int:
    created = client.post("/api/v1/inspections", headers=headers,
                          json={"facility_id": world["station"].id, "scheme": "community-star"})
    assert created.status_code in (200, 201), created.get_json()
    return created.get_json()["id"]


def test_the_inspection_bundle_is_scoped(client, rating_world):
    mine = api_token(client, rating_world["inspector"])
    iid = _start(client, rating_world, mine)
    bundle = client.get(f"/api/v1/inspections/{iid}/offline", headers=mine)
    assert bundle.status_code == 200
    body = bundle.get_json()
    assert body["kind"] == "inspection" and body["pages"] == [f"/rating/inspections/{iid}"]
    assert body["photos"] == f"/api/v1/inspections/{iid}/photos"
    assert body["definition"]["sections"] and body["definition"]["notes"]
    outsider = api_token(client, rating_world["outsider"])
    assert client.get(f"/api/v1/inspections/{iid}/offline", headers=outsider).status_code == 404
    assert client.post(f"/api/v1/inspections/{iid}/photos?item=x", headers=outsider, data=_png(),
                       content_type="image/png").status_code == 404


def test_a_photo_resent_with_its_key_is_stored_once(client, rating_world, db_session):
    from rating.models import EvidencePhoto

    mine = api_token(client, rating_world["inspector"])
    iid = _start(client, rating_world, mine)
    item = next(i for s in client.get(f"/api/v1/inspections/{iid}/offline", headers=mine).get_json()
                ["definition"]["sections"] for i in s["items"] if i["type"] != "section_score")["id"]
    sent = {**mine, "Idempotency-Key": "photo-1"}
    first = client.post(f"/api/v1/inspections/{iid}/photos?item={item}", headers=sent, data=_png(),
                        content_type="image/png")
    again = client.post(f"/api/v1/inspections/{iid}/photos?item={item}", headers=sent, data=_png(),
                        content_type="image/png")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    count = db_session.exec(select(func.count()).select_from(EvidencePhoto)
                            .where(EvidencePhoto.inspection_id == iid)).one()
    assert count == 1
    bad = client.post(f"/api/v1/inspections/{iid}/photos?item={item}", headers=mine, data=b"not an image",
                      content_type="text/plain")
    assert bad.status_code == 422
    missing = client.post(f"/api/v1/inspections/{iid}/photos", headers=mine, data=_png(), content_type="image/png")
    assert missing.status_code == 422


def test_a_stale_save_of_the_facts_is_a_conflict_that_shows_the_servers_facts_and_notes(client, rating_world):
    """The facts (vetoes, first application) are under the version check like the answers: a save
    from an old version that changes only the facts is refused, and the 409 carries the server's
    facts and notes beside its answers, so the device can ask (offline-form.js)."""
    mine = api_token(client, rating_world["inspector"])
    iid = _start(client, rating_world, mine)
    version = client.get(f"/api/v1/inspections/{iid}", headers=mine).get_json()["version"]
    theirs = client.put(f"/api/v1/inspections/{iid}/answers", headers=mine,
                        json={"answers": {}, "facts": {"first_application": True}, "notes": {"x": "对方"},
                              "version": version})
    assert theirs.status_code == 200, theirs.get_json()
    stale = client.put(f"/api/v1/inspections/{iid}/answers", headers=mine,
                       json={"answers": {}, "facts": {"veto": []}, "version": version})
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["error"] == "conflict" and body["version"] == theirs.get_json()["version"]
    assert body["facts"] == {"first_application": True} and body["notes"] == {"x": "对方"}
    # The same stale save carrying the server's facts changes nothing: not a conflict.
    same = client.put(f"/api/v1/inspections/{iid}/answers", headers=mine,
                      json={"answers": {}, "facts": {"first_application": True}, "notes": {"x": "对方"},
                            "version": version})
    assert same.status_code == 200, same.get_json()
