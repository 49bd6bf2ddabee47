"""No Chinese on English pages but user data: every text node of an English page that holds Chinese
must sit inside an element marked lang="zh-CN" (what a person typed, the official wording of a
standard), as the browser test tests/forms/test_forms_browser.py checks on the checklist. The
records here are named in ASCII, so any Chinese left is a label the catalog did not translate."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from typing import Any

from sqlmodel import select

from core.reasons import REINSPECTION_FAILED, system_reason
from rating import operations as ops
from rating.models import Certificate
from rating.state import refresh_facility_state
from tests.conftest import login
from tests.factories import OrganisationFactory, UserFactory
from tests.imports.conftest import to_csv
from tests.rating.factories import FacilityFactory
from tests.rating.test_rating_register import STARS5, _graded

HAN = re.compile(r"[\u4e00-\u9fff]")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Unmarked(HTMLParser):
    """Text with Chinese whose nearest lang attribute is not zh (scripts and styles skipped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append((tag, dict(attrs).get("lang")))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not HAN.search(data) or any(tag in ("script", "style", "title") for tag, _l in self.stack):
            return
        lang = next((lang for _t, lang in reversed(self.stack) if lang), "")
        if not lang.startswith("zh"):
            self.found.append(data.strip()[:60])


def unmarked_chinese(html: str) -> list[str]:
    parser = _Unmarked()
    parser.feed(html)
    return parser.found


def _world(app: Any) -> dict[str, Any]:
    city = OrganisationFactory(name="Sample City", kind="city")
    district = OrganisationFactory(name="East District", kind="district", parent=city)
    return {"app": app, "city": city, "district1": district,
            "admin": UserFactory(organisation=city, roles="admin", display_name="Admin"),
            "inspector": UserFactory(organisation=city, roles="inspector", display_name="Inspector")}


def test_pages_touched_by_grades_reasons_and_imports_have_no_unmarked_chinese(client, app, db_session):
    world = _world(app)
    graded = FacilityFactory(organisation=world["district1"], name="Harmony Station", kind="station",
                             district="East", address="1 Main St", operator="Harmony Ltd")
    grade = _graded(db_session, world, graded, STARS5)
    failed = FacilityFactory(organisation=world["district1"], name="Closed Home", kind="station", district="East",
                             address="2 Main St", operator="Closed Ltd")
    with app.app_context():
        ops.disqualify_facility(session=db_session, actor=world["admin"], facility=failed,
                                reason=system_reason(REINSPECTION_FAILED, inspection=5))
    refresh_facility_state(db_session, failed.id)
    certificate = db_session.exec(select(Certificate).where(Certificate.grade_id == grade.id)).one()
    login(client, world["admin"])
    client.get("/?lang=en")
    pages = ["/rating/facilities", f"/rating/facilities/{graded.id}", f"/rating/facilities/{failed.id}",
             "/rating/certificates", f"/rating/certificates/{certificate.id}", "/rating/dashboard", "/stats",
             "/rating/register", "/admin/audit/", "/admin/users", "/admin/users/new", "/imports/users"]
    answers = {path: client.get(path) for path in pages}
    assert all(r.status_code == 200 for r in answers.values()), {p: r.status_code for p, r in answers.items()}
    answers["user refused"] = client.post("/admin/users/new", data={"username": "li min", "password": "123",
                                                                    "organisation_id": world["city"].id})
    answers["users dry run"] = client.post("/imports/users", content_type="multipart/form-data", data={
        "file": (io.BytesIO(to_csv([["li min", "", "Nowhere", "cook", "123"], ["ok_user", "", "", "assessor", ""]],
                                   header=["username", "name", "organisation", "roles", "password"])), "users.csv")})
    assert answers["user refused"].status_code == 422 and answers["users dry run"].status_code == 200
    client.get("/logout")
    answers["verify"] = client.get(f"/verify/{certificate.code}")
    problems = {name: found for name, r in answers.items() if (found := unmarked_chinese(r.get_data(as_text=True)))}
    assert not problems, problems
