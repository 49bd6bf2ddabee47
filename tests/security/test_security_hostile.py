"""A corpus of hostile strings in every text field of elders and facilities: stored or refused
with a clear error, never a server error, always escaped in pages, never breaking a PDF."""

from __future__ import annotations

from typing import Any

import pytest
from markupsafe import escape

from tests.conftest import api_token, login
from tests.factories import UserFactory, make_id_number

HOSTILE = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "javascript:alert(document.cookie)",
    "'; DROP TABLE elder; --",
    "1 OR 1=1 /* */ UNION SELECT password_hash FROM user_account",
    "{{ 7*7 }} {% raw %}",
    "\u202eRTL覆盖\u202c 名字",
    "控制\x00字符\x07\x1b[31m",
    "张\u200b三\ufeff",
    "𠮷野家 😀",
    "<style>@import url(http://127.0.0.1:9/x.css)</style>",
    "A" * 100_000,
]
MARKERS = ["<script>alert", "<img src=x", "onmouseover='alert", "<style>@import"]


def _assert_escaped(page: str) -> None:
    for marker in MARKERS:
        assert marker not in page, f"unescaped: {marker}"


@pytest.mark.parametrize("field", ["name", "address", "community", "contact_name"])
def test_hostile_elder_fields(client: Any, org_tree: dict[str, Any], field: str) -> None:
    user = UserFactory(organisation=org_tree["district1"], roles="assessor")
    headers = api_token(client, user)
    login(client, user)
    stored = 0
    for n, value in enumerate(HOSTILE):
        body = {"name": f"测试{n}", "gender": "female", "birth_date": "1941-03-05",
                "id_number": make_id_number("1941-03-05", n), "phone": "13800138000", "address": "和平街道1号"}
        body[field] = value
        response = client.post("/api/v1/elders", json=body, headers=headers)
        assert response.status_code < 500, (value[:40], response.status_code)
        stored += response.status_code == 201
        if response.status_code != 201:
            assert response.get_json()["errors"], "a refusal must say what is wrong"
            continue
        elder_id = response.get_json()["id"]
        page = client.get(f"/elders/{elder_id}")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        _assert_escaped(text)
        if len(value) < 200 and "\x00" not in value:
            assert str(escape(value))[:20] in text, "the value is shown, escaped"
        listing = client.get("/elders?q=" + "测试").get_data(as_text=True)
        _assert_escaped(listing)
    assert stored >= len(HOSTILE) // 2, "most hostile strings are legitimate text and must be stored"


def test_hostile_facility_fields(client: Any, org_tree: dict[str, Any]) -> None:
    admin = UserFactory(organisation=org_tree["city"], roles="admin inspector")
    headers = api_token(client, admin)
    login(client, admin)
    stored = 0
    for n, value in enumerate(HOSTILE):
        for field in ("name", "address", "district"):
            body = {"name": f"机构{n}", "kind": "institution", "district": "东城区", "address": "和平街道1号",
                    "beds": 80, "opened_on": "2015-06-01"}
            body[field] = value
            response = client.post("/api/v1/facilities", json=body, headers=headers)
            assert response.status_code < 500, (field, value[:40], response.status_code)
            stored += response.status_code == 201
            if response.status_code != 201:
                assert response.get_json()["errors"]
                continue
            page = client.get(f"/rating/facilities/{response.get_json()['id']}")
            assert page.status_code == 200
            _assert_escaped(page.get_data(as_text=True))
    assert stored >= len(HOSTILE), "most hostile strings are legitimate text and must be stored"


def test_hostile_user_display_names(client: Any, org_tree: dict[str, Any]) -> None:
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    login(client, admin)
    for n, value in enumerate(HOSTILE):
        response = client.post("/admin/users/new", data={
            "username": f"hostile{n}", "display_name": value, "password": "Long-Enough-99",
            "organisation_id": org_tree["district1"].id, "roles": ["assessor"]})
        assert response.status_code < 500, (value[:40], response.status_code)
        page = client.get("/admin/users").get_data(as_text=True)
        _assert_escaped(page)


def test_hostile_text_never_breaks_a_pdf() -> None:
    from io import BytesIO

    from pypdf import PdfReader

    from reports import render_pdf
    from reports.samples import certificate_context

    for value in HOSTILE:
        context = certificate_context()
        context["facility"] = {**context["facility"], "name": value[:300]}
        pdf = render_pdf("certificate.html", context, timeout_s=60)
        reader = PdfReader(BytesIO(pdf))
        assert len(reader.pages) >= 1
        extracted = "".join(page.extract_text() for page in reader.pages)
        if value.isascii() and value.isprintable() and len(value) < 200:
            # markup arrives as visible text: it was escaped, not interpreted
            assert value[:8] in extracted, value
