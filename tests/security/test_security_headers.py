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
