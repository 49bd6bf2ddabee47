"""Grades and certificates: supersession on downgrade, revocation, signed QR payloads, the
public verification page, batch issuance from the CLI."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from sqlmodel import select

from audit.models import AuditEvent
from rating import operations as ops
from rating.cli import certificates_group
from rating.documents import verify_url
from rating.models import Certificate
from rating.signing import pack_token, unpack_token
from tests.conftest import api_token, login
from tests.rating.factories import pdf_text

STARS5 = {"facilities": 29, "operations": 28, "services": 38}
STARS4 = {"facilities": 27, "operations": 25, "services": 33}


def _graded(session, world, facility, answers, scheme="community-star", plan=None):
    with world["app"].app_context():
        return _grade(session, world, facility, answers, scheme, plan)


def _issue(session, world, grade):
    with world["app"].app_context():
        return ops.issue_certificate(session=session, actor=world["admin"], grade=grade)


def _grade(session, world, facility, answers, scheme, plan):
    inspection = ops.start_inspection(session=session, actor=world["inspector"], facility=facility,
                                      scheme=scheme, plan=plan)
    ops.save_answers(session=session, actor=world["inspector"], inspection=inspection, answers=answers,
                     version=inspection.version)
    ops.submit_inspection(session=session, actor=world["inspector"], inspection=inspection)
    return inspection, ops.approve_inspection(session=session, actor=world["admin"], inspection=inspection)


def test_five_stars_downgraded_old_certificate_superseded(client, rating_world, db_session):
    station = rating_world["station"]
    _, five = _graded(db_session, rating_world, station, STARS5)
    assert five.label == "五星级" and five.stars == 5
    old, _ = _issue(db_session, rating_world, five)
    check = client.get(f"/verify/{old.code}", headers={"Accept": "application/json"}).get_json()
    assert check["status"] == "valid" and check["grade"]["stars"] == 5

    _, four = _graded(db_session, rating_world, station, STARS4)
    assert four.code == 4
    db_session.refresh(five)
    assert five.superseded_by_id == four.id
    check = client.get(f"/verify/{old.code}", headers={"Accept": "application/json"}).get_json()
    assert check["status"] == "superseded"
    html = client.get(f"/verify/{old.code}").get_data(as_text=True)
    assert "已被新等级取代" in html
    # a superseded grade gets no certificate; the new one does
    assert ops.issuable_grades(session=db_session, organisation_ids=[station.organisation_id]) == [four]


def test_expiry_is_computed_when_read(client, rating_world, db_session):
    _, grade = _graded(db_session, rating_world, rating_world["station"], STARS5)
    certificate, _ = _issue(db_session, rating_world, grade)
    assert grade.valid_until == grade.valid_from.replace(year=grade.valid_from.year + 1) - timedelta(days=1)
    status, _ = ops.certificate_status(certificate=certificate, grade=grade, facility=rating_world["station"],
                                       today=grade.valid_until + timedelta(days=1))
    assert status == "expired"


def test_revocation_needs_a_reason_and_is_audited(client, rating_world, db_session):
    inspection, grade = _graded(db_session, rating_world, rating_world["station"], STARS5)
    admin = api_token(client, rating_world["admin"])
    issued = client.post("/api/v1/certificates", json={"inspection_id": inspection.id}, headers=admin).get_json()
    url = f"/api/v1/certificates/{issued['id']}/revoke"
    assert client.post(url, json={"reason": "  "}, headers=admin).status_code == 422
    assert client.post(url, json={"reason": "x"}, headers=api_token(client, rating_world["inspector"])).status_code == 403
    revoked = client.post(url, json={"reason": "提供虚假材料，经查属实"}, headers=admin)
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    code = issued["verify_url"].rsplit("/", 1)[1]
    body = client.get(f"/verify/{code}", headers={"Accept": "application/json"}).get_json()
    assert body["status"] == "revoked" and body["reason"] == "提供虚假材料，经查属实"
    event = db_session.exec(select(AuditEvent).where(AuditEvent.action == "rating.certificate.revoke")).one()
    assert event.reason == "提供虚假材料，经查属实" and event.target_id == str(issued["id"])


def test_tampered_qr_payload_is_not_genuine(client, rating_world, db_session):
    _, grade = _graded(db_session, rating_world, rating_world["station"], STARS5)
    certificate, _ = _issue(db_session, rating_world, grade)
    with client.application.test_request_context():
        qr = verify_url(certificate)
    path = qr.split("127.0.0.1:5000", 1)[1]
    genuine = client.get(path, headers={"Accept": "application/json"}).get_json()
    assert genuine["status"] == "valid" and genuine["genuine"] is True

    text, signature = unpack_token(path.split("d=", 1)[1])
    altered = json.loads(text)
    altered["g"] = 9
    altered["u"] = "2099-12-31"
    forged = pack_token(json.dumps(altered, sort_keys=True, separators=(",", ":"), ensure_ascii=False), signature)
    body = client.get(f"/verify/{certificate.code}?d={forged}", headers={"Accept": "application/json"})
    assert body.status_code == 200
    assert body.get_json()["status"] == "not_genuine" and body.get_json()["genuine"] is False
    assert "非真实证书" in client.get(f"/verify/{certificate.code}?d={forged}").get_data(as_text=True)
    # a well-formed token signed by another key, and garbage, are rejected too
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = base64.urlsafe_b64encode(Ed25519PrivateKey.generate().sign(text.encode())).rstrip(b"=").decode()
    assert client.get(f"/verify/{certificate.code}?d={pack_token(text, other)}",
                      headers={"Accept": "application/json"}).get_json()["status"] == "not_genuine"
    assert client.get(f"/verify/{certificate.code}?d=garbage",
                      headers={"Accept": "application/json"}).get_json()["status"] == "not_genuine"
    # a row edited in the database no longer matches its signature
    certificate.payload = certificate.payload.replace('"u":"', '"u":"1')
    db_session.add(certificate)
    db_session.flush()
    assert client.get(f"/verify/{certificate.code}", headers={"Accept": "application/json"}).get_json()["status"] == "not_genuine"


def test_unknown_code_is_404(client, rating_world):
    page = client.get("/verify/no-such-certificate-code")
    assert page.status_code == 404 and "查无此证书" in page.get_data(as_text=True)
    body = client.get("/verify/no-such-certificate-code", headers={"Accept": "application/json"})
    assert body.status_code == 404 and body.get_json()["status"] == "unknown"


def _docs_example() -> dict:
    """The offline check printed in docs/rating.md, run as it stands."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "rating.md").read_text()
    code = text.split("### 离线核验二维码", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert len(code.strip().splitlines()) <= 12
    namespace: dict = {}
    exec(compile(code, "docs/rating.md", "exec"), namespace)
    return namespace


def test_public_key_endpoint_and_the_documented_offline_check(client, rating_world, db_session):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    _, grade = _graded(db_session, rating_world, rating_world["station"], STARS5)
    certificate, _ = _issue(db_session, rating_world, grade)
    published = client.get("/api/v1/certificates/public-key")  # no login
    assert published.status_code == 200
    jwk, pem = published.get_json()["jwk"], published.get_json()["pem"]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and len(jwk["x"]) == 43
    with client.application.test_request_context():
        qr = verify_url(certificate)
        printed = verify_url(certificate, with_payload=False)
    assert "d=" not in printed and len(printed.rsplit("/", 1)[1]) <= 24
    check = _docs_example()["check"]
    payload = check(qr, jwk)
    assert payload["c"] == certificate.code and payload["s"] == certificate.serial and payload["g"] == grade.code
    assert payload["f"] == rating_world["station"].name and payload["u"] == grade.valid_until.isoformat()
    # the PEM is the same key
    text, signature = unpack_token(qr.split("d=", 1)[1])
    load_pem_public_key(pem.encode()).verify(base64.urlsafe_b64decode(signature + "=="), text.encode())
    forged = pack_token(text.replace('"g":', '"g":1'), signature)
    with pytest.raises(InvalidSignature):
        check(f"{printed}?d={forged}", jwk)
    # compact: the whole QR URL fits a version-15 QR code at level M (412 bytes) with room to spare
    assert len(qr.encode()) < 380, len(qr.encode())


def test_printed_certificate_shows_the_short_url_only(client, rating_world, db_session):
    from rating.documents import certificate_context

    _, grade = _graded(db_session, rating_world, rating_world["station"], STARS5)
    certificate, _ = _issue(db_session, rating_world, grade)
    with client.application.test_request_context():
        context = certificate_context(db_session, certificate)
    assert context["verify_url"].endswith(f"/verify/{certificate.code}") and "?d=" in context["qr_url"]
    login(client, rating_world["admin"])
    text = pdf_text(client.get(f"/rating/certificates/{certificate.id}/pdf").data).replace("\n", "")
    assert certificate.code in text and certificate.signature not in text and "d=" not in text


def test_codes_are_unguessable(client, rating_world, db_session):
    _, grade = _graded(db_session, rating_world, rating_world["station"], STARS5)
    certificate, _ = _issue(db_session, rating_world, grade)
    assert len(certificate.code) >= 24 and certificate.serial not in certificate.code


def test_batch_issue_cli_issues_nothing_twice(app, runner, client, rating_world, db_session, tmp_path):
    plan = ops.create_plan(session=db_session, actor=rating_world["admin"], organisation_id=rating_world["city"].id,
                           name="第一轮", scheme="community-star", method="manual",
                           facility_ids=[rating_world["station"].id])
    _graded(db_session, rating_world, rating_world["station"], STARS5, plan=plan)
    result = runner.invoke(certificates_group, ["issue", "--plan", str(plan.id), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "已发放 1 张证书" in result.output
    pdfs = list(tmp_path.glob("*.pdf"))
    assert len(pdfs) == 1 and "和平社区养老服务站" in pdf_text(pdfs[0].read_bytes())
    again = runner.invoke(certificates_group, ["issue", "--plan", str(plan.id)])
    assert again.exit_code == 0 and "没有待发的证书" in again.output
    assert len(db_session.exec(select(Certificate)).all()) == 1


def test_batch_issue_from_the_plan_page(client, rating_world, db_session):

    plan = ops.create_plan(session=db_session, actor=rating_world["admin"], organisation_id=rating_world["city"].id,
                           name="第二轮", scheme="community-star", method="manual",
                           facility_ids=[rating_world["station"].id])
    _graded(db_session, rating_world, rating_world["station"], STARS5, plan=plan)
    login(client, rating_world["admin"])
    page = client.get(f"/rating/plans/{plan.id}")
    assert "1 张待发" in page.get_data(as_text=True)
    for _ in range(2):
        assert client.post(f"/rating/plans/{plan.id}/issue").status_code == 302
    assert len(db_session.exec(select(Certificate)).all()) == 1


def test_disqualification_revokes_the_certificate(client, rating_world, db_session):
    _, grade = _graded(db_session, rating_world, rating_world["station"], STARS5)
    certificate, _ = _issue(db_session, rating_world, grade)
    ops.disqualify_facility(session=db_session, actor=rating_world["admin"], facility=rating_world["station"],
                            reason="复查仍不合格：取消服务提供资格")
    body = client.get(f"/verify/{certificate.code}", headers={"Accept": "application/json"}).get_json()
    assert body["status"] == "revoked" and "取消服务提供资格" in body["reason"]


def test_medal_certificate_pdf(client, rating_world, db_session):
    center = rating_world["station"]
    center.kind = "community_center"
    _, grade = _graded(db_session, rating_world, center, {"facilities": 28, "operations": 28, "services": 36},
                       scheme="medal-example")
    assert grade.medal == "gold" and grade.label == "金牌"
    certificate, _ = _issue(db_session, rating_world, grade)

    login(client, rating_world["admin"])
    text = pdf_text(client.get(f"/rating/certificates/{certificate.id}/pdf").data)
    assert "和平社区养老服务站" in text and "金牌" in text


def test_public_pages_never_create_a_key(client, rating_world, db_session, tmp_path, monkeypatch):
    """An instance whose key is gone: the verify page says "not genuine" and the key endpoint 404s,
    but neither creates a key that would make every certificate "not genuine" for good."""
    from rating.signing import KEY_FILE

    _, grade = _graded(db_session, rating_world, rating_world["station"], STARS5)
    certificate, _ = _issue(db_session, rating_world, grade)
    with client.application.test_request_context():
        qr = verify_url(certificate)
    monkeypatch.delenv("YIYANG_SIGNING_KEY", raising=False)
    monkeypatch.setattr(client.application, "instance_path", str(tmp_path))
    body = client.get(qr.split("127.0.0.1:5000", 1)[1], headers={"Accept": "application/json"}).get_json()
    assert body["status"] == "not_genuine"
    assert client.get("/api/v1/certificates/public-key").status_code == 404
    assert not (tmp_path / KEY_FILE).exists()


def test_unknown_code_json_follows_the_request_language(client, rating_world):
    json_en = {"Accept": "application/json", "Accept-Language": "en"}
    english = client.get("/verify/no-such-certificate-code", headers=json_en)
    body = english.get_json()
    assert english.status_code == 404 and body["status"] == "unknown"
    assert body["status_label"] == "No such certificate" and "certificate" in body["reason"]
    assert not any("\u4e00" <= c <= "\u9fff" for c in body["status_label"] + body["reason"])
    chinese = client.get("/verify/no-such-certificate-code",
                         headers={"Accept": "application/json", "Accept-Language": "zh-CN"}).get_json()
    assert chinese["status_label"] == "查无此证书" and chinese["reason"] == "没有这个编号的证书：请核对链接或二维码。"
    page = client.get("/verify/no-such-certificate-code?lang=en").get_data(as_text=True)
    assert body["reason"] in page  # the JSON says what the English page says
    chosen = client.get("/verify/no-such-certificate-code", headers={"Accept": "application/json"}).get_json()
    assert chosen["status_label"] == "No such certificate"  # the page's choice (?lang=en) holds for JSON too
