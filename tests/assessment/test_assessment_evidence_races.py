"""Evidence under concurrency, with real threads on a SQLite file and on PostgreSQL: a photo sent
while the assessment is being submitted is either kept before the submission or refused (never
added to a submitted record); the same visit report or the same elder's drawing sent twice at
once makes one row, and no racer gets a 500."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, func, select

from assessment.models import Assessment, AssessmentPhoto, AssessmentVisit, DrawnSignature
from core.timeutil import aware
from tests.assessment.conftest import full_answers
from tests.factories import OrganisationFactory, UserFactory, make_id_number
from tests.race import race_app, race_database, seeded, signed_in_api, slow_commits, together

GBT = "gbt42195-2022"
_SERIAL = iter(range(300, 999))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with race_database(request.param, tmp_path_factory.mktemp("evidence-race")) as url:
        app = race_app(url)
        with seeded(app):
            district = OrganisationFactory(name="证据竞争区", kind="district")
            assessors = [UserFactory(organisation=district, roles="assessor") for _ in range(2)]
        yield {"app": app, "assessors": assessors}
        app.extensions["yiyang.engine"].dispose()


def _draft(client: Any, headers: dict[str, str], answers: dict[str, Any] | None = None) -> int:
    body = {"name": "证据老人", "gender": "male", "birth_date": "1940-02-02",
            "id_number": make_id_number("1940-02-02", next(_SERIAL))}
    elder = client.post("/api/v1/elders", json=body, headers=headers)
    assert elder.status_code == 201, elder.get_json()
    created = client.post("/api/v1/assessments", headers=headers, json={"elder_id": elder.get_json()["id"],
                                                                        "instrument": GBT})
    aid = int(created.get_json()["id"])
    if answers:
        saved = client.put(f"/api/v1/assessments/{aid}/answers", json={"answers": answers, "version": 1},
                           headers=headers)
        assert saved.status_code == 200, saved.get_json()
    return aid


def _png(width: int = 60) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (width, 40), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(2, 30), (width - 2, 5)], fill=(0, 0, 0, 255), width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _count(app: Any, model: Any, *where: Any) -> int:
    with Session(app.extensions["yiyang.engine"]) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def test_a_photo_racing_the_submission_is_kept_before_it_or_refused(world, monkeypatch):
    app = world["app"]
    (one, h1), (two, h2) = (signed_in_api(app, u) for u in world["assessors"])
    gbt = app.extensions["yiyang.definitions"][GBT]
    aid = _draft(one, h1, full_answers(gbt))
    item = next(iter(gbt.items))
    with slow_commits(monkeypatch):
        photo, submit = together(
            lambda: two.post(f"/api/v1/assessments/{aid}/items/{item}/photos", headers=h2,
                             data={"photo": (io.BytesIO(_png()), "p.png", "image/png")}),
            lambda: one.post(f"/api/v1/assessments/{aid}/submit", json={"version": 2}, headers=h1))
    assert submit.status_code == 200, submit.get_json()
    assert photo.status_code in (201, 409), photo.get_json()
    with Session(app.extensions["yiyang.engine"]) as session:
        assessment = session.get(Assessment, aid)
        photos = list(session.exec(select(AssessmentPhoto).where(AssessmentPhoto.assessment_id == aid)))
    assert len(photos) == (1 if photo.status_code == 201 else 0)
    assert all(aware(p.created_at) <= aware(assessment.submitted_at) for p in photos)


def test_the_same_visit_report_twice_at_once_makes_one_record(world, monkeypatch):
    app = world["app"]
    (one, h1), (two, _h2) = (signed_in_api(app, u) for u in world["assessors"])
    gbt = app.extensions["yiyang.definitions"][GBT]
    aid = _draft(one, h1)
    body = {"client_id": "v-race", "started_at": "2026-03-02T09:00:00+08:00", "ended_at": "2026-03-02T09:20:00+08:00",
            "sections": {gbt.sections[0].id: 600}, "location": {"status": "denied"}}
    url = f"/api/v1/assessments/{aid}/visit"
    other, h1b = signed_in_api(app, world["assessors"][0])
    with slow_commits(monkeypatch):
        answers = together(lambda: one.post(url, json=body, headers=h1), lambda: other.post(url, json=body, headers=h1b))
    assert sorted(a.status_code for a in answers) == [200, 200], [a.get_json() for a in answers]
    assert _count(app, AssessmentVisit, AssessmentVisit.assessment_id == aid) == 1


def test_the_elder_signing_twice_at_once_keeps_one_drawing(world, monkeypatch):
    app = world["app"]
    (one, h1), (two, h2) = (signed_in_api(app, u) for u in world["assessors"])
    aid = _draft(one, h1)
    url = f"/api/v1/assessments/{aid}/drawn-signatures"

    def draw(client: Any, headers: dict[str, str], width: int) -> Any:
        image = "data:image/png;base64," + base64.b64encode(_png(width)).decode()
        return client.post(url, json={"role": "elder", "image": image}, headers=headers)

    with slow_commits(monkeypatch):
        answers = together(lambda: draw(one, h1, 60), lambda: draw(two, h2, 80))
    statuses = sorted(a.status_code for a in answers)
    assert statuses in ([201, 201], [201, 409]), [a.get_json() for a in answers]
    assert _count(app, DrawnSignature, DrawnSignature.assessment_id == aid) == 1
