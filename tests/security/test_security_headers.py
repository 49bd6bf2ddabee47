"""Documents, exports and photos carry personal data: no response but the static files may be
kept in a browser or proxy cache."""

from __future__ import annotations

from tests.conftest import login


def test_pdfs_are_not_cached_but_static_files_may_be(client, people):
    login(client, people["assessor1"])
    pdf = client.get("/assessments/forms/gbt42195-2022.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Cache-Control"] == "no-store"
    css = client.get("/static/css/app.css")
    assert css.status_code == 200
    assert "no-store" not in css.headers.get("Cache-Control", "")
    css.close()


def test_a_wrong_method_on_the_api_is_a_405_with_allow(client):
    response = client.delete("/api/v1/openapi.json")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET"}
    assert response.get_json()["error"] == "method_not_allowed"


def test_the_openapi_document_lists_the_errors_every_operation_may_answer(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert {"404", "409", "422", "429", "503"} <= set(operation["responses"]), (method, path)


def test_pages_and_answers_with_personal_data_are_not_cached(client, people, elder):
    from tests.conftest import api_token

    headers = api_token(client, people["assessor1"])
    answer = client.get(f"/api/v1/elders/{elder.id}", headers=headers)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    export = client.get("/api/v1/exports/elders.csv", headers=headers)
    assert export.status_code == 200 and "no-store" in export.headers["Cache-Control"]
    export.close()
    login(client, people["assessor1"])
    page = client.get(f"/elders/{elder.id}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
