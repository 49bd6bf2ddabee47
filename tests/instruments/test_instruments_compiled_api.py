"""GET /api/v1/definitions/{id}/{version}/compiled: the definition compiled for the browser's engine."""

from __future__ import annotations

from typing import Any

import instruments
from scoring.compiled import FORMAT
from tests.conftest import api_token
from tests.factories import UserFactory


def test_compiled_definition_is_served_with_its_checksum_as_etag(client: Any, db_session: Any,
                                                                 org_tree: dict[str, Any]) -> None:
    user = UserFactory(username="compiled_assessor", roles="assessor", organisation=org_tree["district1"])
    headers = api_token(client, user)
    pack = instruments.builtin_packs()[("barthel", "1")]
    response = client.get("/api/v1/definitions/barthel/1/compiled", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert (body["format"], body["id"], body["version"], body["checksum"]) == (FORMAT, "barthel", "1",
                                                                               pack.checksum)
    assert response.headers["ETag"] == f'"{pack.checksum}.{FORMAT}"'
    assert "no-cache" in response.headers["Cache-Control"]
    again = client.get("/api/v1/definitions/barthel/1/compiled",
                       headers={**headers, "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and not again.data


def test_compiled_definition_needs_a_login_and_an_existing_version(client: Any, db_session: Any,
                                                                   org_tree: dict[str, Any]) -> None:
    assert client.get("/api/v1/definitions/barthel/1/compiled").status_code == 401
    user = UserFactory(username="compiled_reader", roles="reviewer", organisation=org_tree["district1"])
    headers = api_token(client, user)
    missing = client.get("/api/v1/definitions/barthel/99/compiled", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    assert client.get("/api/v1/definitions/nothing/1/compiled", headers=headers).status_code == 404


def test_compiled_definition_is_in_the_openapi_document(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/definitions/{definition_id}/{version}/compiled"]


def test_another_organisations_draft_is_not_served(client: Any, db_session: Any,
                                                    org_tree: dict[str, Any]) -> None:
    from instruments import registry

    text = registry.source_of(registry.get_entry(db_session, "barthel", "1"))
    assert 'version: "1"' in text
    draft = registry.store(db_session, text.replace('version: "1"', 'version: "77"', 1),
                           organisation_id=org_tree["other"].id)
    assert draft.status == "draft"
    own = UserFactory(username="compiled_other", roles="assessor", organisation=org_tree["other"])
    stranger = UserFactory(username="compiled_stranger", roles="assessor", organisation=org_tree["district1"])
    assert client.get("/api/v1/definitions/barthel/77/compiled", headers=api_token(client, own)).status_code == 200
    refused = client.get("/api/v1/definitions/barthel/77/compiled", headers=api_token(client, stranger))
    assert refused.status_code == 404
