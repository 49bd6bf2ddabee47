"""Over-long text is refused with the field and its limit, on every database."""

from __future__ import annotations

import pytest

from accounts.models import Organisation
from core.validation import InputTooLong
from tests.conftest import api_token
from tests.factories import UserFactory, make_id_number


def test_flush_refuses_over_long_text_naming_field_and_limit(db_session):
    db_session.add(Organisation(name="长" * 201, kind="district"))
    with pytest.raises(InputTooLong) as caught:
        db_session.flush()
    assert caught.value.errors == [{"item": "name", "message": "name 最多 200 个字符，现在是 201 个。"}]
    db_session.rollback()


def test_api_answers_422_with_the_field(client, org_tree):
    user = UserFactory(organisation=org_tree["district1"], roles="assessor")
    response = client.post("/api/v1/elders", headers=api_token(client, user), json={
        "name": "张三", "gender": "male", "birth_date": "1940-01-01", "address": "路" * 5000,
        "id_number": make_id_number("1940-01-01", 3)})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["item"] == "address"


def test_nul_characters_are_refused_not_crashed_on(client, org_tree):
    user = UserFactory(organisation=org_tree["district1"], roles="assessor")
    response = client.post("/api/v1/elders", headers=api_token(client, user), json={
        "name": "张\x00三", "gender": "male", "birth_date": "1940-01-01",
        "id_number": make_id_number("1940-01-01", 4)})
    assert response.status_code == 422 and response.get_json()["errors"][0]["item"] == "name"
    page = client.post("/login", data={"username": "x\x00", "password": "whatever-123"})
    assert page.status_code == 400 and "控制字符" in page.get_data(as_text=True)
