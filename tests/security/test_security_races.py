"""One of a kind under concurrency, on PostgreSQL with real threads through the API.

Each test lets N requests read the record at the same moment (a barrier placed right after the
read-side checks, before the write), then lets them write: the database must let exactly one
win; the others answer 409 (or, for "开始评估", get the same draft), never 500, and nothing is
written twice. The app here uses real per-request sessions on a schema of its own, because the
rest of the suite runs inside one rolled-back transaction that threads cannot share."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, text
from sqlmodel import Session, select

from core.db import make_engine, upgrade_database
from tests.conftest import PG_URL, TEST_PASSWORD

N = 4
RACERS = ("admin", "inspector", "assessor1", "assessor2")


@pytest.fixture(scope="module")
def race_app() -> Iterator[Any]:
    if not PG_URL:
        pytest.skip("race tests need PostgreSQL: set YIYANG_TEST_DATABASE_URL")
    from app import create_app

    schema = f"race_{os.getpid()}"
    admin_engine = make_engine(PG_URL)
    with admin_engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    upgrade_database(url)
    previous = os.environ.get("YIYANG_INSTANCE_PATH")
    os.environ["YIYANG_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="yiyang-race-")
    try:
        app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "race-secret",
                          "DATA_KEY": "race-data-key", "WTF_CSRF_ENABLED": False, "PROPAGATE_UNEXPECTED": False,
                          "SERVER_NAME": "localhost"})
    finally:
        if previous is None:
            os.environ.pop("YIYANG_INSTANCE_PATH", None)
        else:
            os.environ["YIYANG_INSTANCE_PATH"] = previous
    with app.app_context():  # the signing key exists before the threads sign with it
        from rating.signing import private_key

        private_key()
    try:
        yield app
    finally:
        app.extensions["yiyang.engine"].dispose()
        with admin_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin_engine.dispose()


@pytest.fixture(scope="module")
def world(race_app: Any) -> dict[str, Any]:
    """Committed people, an elder and facilities (the threads' sessions must see them)."""
    from assessment import operations as aops
    from core.crypto import FieldCipher
    from tests import factories
    from tests.factories import OrganisationFactory, UserFactory
    from tests.rating.factories import FacilityFactory

    engine = race_app.extensions["yiyang.engine"]
    with Session(engine, expire_on_commit=False) as session:
        factories.bind(session)
        try:
            city = OrganisationFactory(name="竞争市", kind="city")
            district = OrganisationFactory(name="竞争区", kind="district", parent=city)
            people = {
                "admin": UserFactory(organisation=city, roles="admin"),
                "admin2": UserFactory(organisation=city, roles="admin"),
                "inspector": UserFactory(organisation=city, roles="inspector"),
                "assessor1": UserFactory(organisation=district, roles="assessor"),
                "assessor2": UserFactory(organisation=district, roles="assessor"),
                "reviewer": UserFactory(organisation=city, roles="reviewer"),
            }
            with race_app.test_request_context():
                elder = aops.register_elder(
                    session=session, actor=people["assessor1"], organisation=district,
                    data=aops.ElderInput(name="赵桂兰", gender="female", birth_date=date(1949, 12, 31),
                                         id_number="11010519491231002X"),
                    cipher=FieldCipher(race_app.config["DATA_KEY"]), duplicate_scope=[district.id or 0])
            facilities = [FacilityFactory(organisation=district, name=f"竞争服务站{i}", kind="station", beds=10)
                          for i in range(4)]
            session.commit()
        finally:
            factories.bind(None)
    client = race_app.test_client()
    tokens, per_thread = {}, {}
    for name, user in people.items():
        # One token per thread: a request records its token's last use, so requests sharing one
        # token would queue on that row instead of racing on the record under test.
        headers = []
        for _ in range(N if name in RACERS else 1):
            response = client.post("/api/v1/auth/login", json={"username": user.username, "password": TEST_PASSWORD})
            headers.append({"Authorization": f"Bearer {response.get_json()['token']}"})
        tokens[name], per_thread[name] = headers[0], headers
    return {"people": people, "tokens": tokens, "per_thread": per_thread, "elder": elder, "facilities": facilities,
            "district": district}


def at_once(app: Any, request: Callable[[Any, int], Any]) -> list[Any]:
    """Run `request(client, thread number)` in N threads at once; their responses."""
    results: list[Any] = [None] * N
    start = threading.Barrier(N, timeout=20)

    def run(index: int) -> None:
        client = app.test_client()
        start.wait()
        results[index] = request(client, index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(N)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a request hung"
    return results


def meet_after(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, *, first_call_only: bool = False) -> None:
    """Make every thread call `target.name`, then wait for the others before going on: all of them
    have read the record before any of them writes."""
    real = getattr(target, name)
    gate = threading.Barrier(N, timeout=20)
    seen = threading.local()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        if not (first_call_only and getattr(seen, "done", False)):
            seen.done = True
            gate.wait()
        return result

    monkeypatch.setattr(target, name, wrapper)


def count(app: Any, model: Any, *where: Any) -> int:
    with Session(app.extensions["yiyang.engine"]) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def _inspection(app: Any, world: dict[str, Any], facility: Any, answers: dict[str, Any], submit: bool) -> int:
    client, headers = app.test_client(), world["tokens"]["inspector"]
    body = client.post("/api/v1/inspections", json={"facility_id": facility.id, "scheme": "community-star"},
                       headers=headers).get_json()
    saved = client.put(f"/api/v1/inspections/{body['id']}/answers", headers=headers,
                       json={"answers": answers, "facts": {"veto": []}, "version": body["version"]})
    assert saved.status_code == 200, saved.get_json()
    if submit:
        assert client.post(f"/api/v1/inspections/{body['id']}/submit", headers=headers).status_code == 200
    return int(body["id"])


def test_four_concurrent_submits_make_one_submission(race_app, world, monkeypatch):
    from audit.models import AuditEvent
    from rating.models import CorrectiveAction
    from rating.operations import inspections
    from tests.rating.factories import STAR_FAIL

    iid = _inspection(race_app, world, world["facilities"][0], STAR_FAIL, submit=False)
    meet_after(monkeypatch, inspections, "missing_sections")
    responses = at_once(race_app, lambda c, i: c.post(f"/api/v1/inspections/{iid}/submit",
                                                   headers=world["per_thread"]["inspector"][i]))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409, 409], [r.get_json() for r in responses]
    findings = len(next(r for r in responses if r.status_code == 200).get_json()["actions"])
    assert findings > 0
    assert count(race_app, CorrectiveAction, CorrectiveAction.inspection_id == iid) == findings
    assert count(race_app, AuditEvent, AuditEvent.action == "rating.inspection.submit",
                 AuditEvent.target_id == str(iid)) == 1


def test_concurrent_approvals_award_one_grade(race_app, world, monkeypatch):
    from rating.models import Grade
    from rating.workflow import INSPECTION
    from tests.rating.factories import STAR_PASS

    iid = _inspection(race_app, world, world["facilities"][1], STAR_PASS, submit=True)
    meet_after(monkeypatch, INSPECTION, "require")
    responses = at_once(race_app, lambda c, i: c.post(f"/api/v1/inspections/{iid}/approve",
                                                   headers=world["per_thread"]["admin"][i]))
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409], [r.get_json() for r in responses]
    assert count(race_app, Grade, Grade.inspection_id == iid) == 1
    monkeypatch.undo()
    # Certificate issue at once: one certificate, the others 409.
    from rating.models import Certificate
    from rating.workflow import GRADE

    meet_after(monkeypatch, GRADE, "require")
    responses = at_once(race_app, lambda c, i: c.post("/api/v1/certificates", json={"inspection_id": iid},
                                                   headers=world["per_thread"]["admin"][i]))
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409], [r.get_json() for r in responses]
    grade_id = next(r for r in responses if r.status_code == 201).get_json()["grade_id"]
    assert count(race_app, Certificate, Certificate.grade_id == grade_id) == 1


def test_concurrent_amendments_open_one(race_app, world, monkeypatch):
    from assessment.models import Assessment
    from assessment.workflow import ASSESSMENT
    from tests.assessment.conftest import full_answers

    client, tokens = race_app.test_client(), world["tokens"]
    gbt = race_app.extensions["yiyang.definitions"]["gbt42195-2022"]
    created = client.post("/api/v1/assessments", headers=tokens["assessor1"],
                          json={"elder_id": world["elder"].id, "instrument": "gbt42195-2022"}).get_json()
    aid = created["id"]
    client.put(f"/api/v1/assessments/{aid}/answers", json={"answers": full_answers(gbt), "version": 1},
               headers=tokens["assessor1"])
    assert client.post(f"/api/v1/assessments/{aid}/submit", headers=tokens["assessor1"]).status_code == 200
    for who in ("assessor1", "assessor2", "reviewer"):
        signed = client.post(f"/api/v1/assessments/{aid}/sign", json={"password": TEST_PASSWORD}, headers=tokens[who])
        assert signed.status_code == 200, signed.get_json()
    meet_after(monkeypatch, ASSESSMENT, "require")
    responses = at_once(race_app, lambda c, i: c.post(f"/api/v1/assessments/{aid}/amend", json={"reason": "补充病史"},
                                                   headers=world["per_thread"]["assessor1"][i]))
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409], [r.get_json() for r in responses]
    assert count(race_app, Assessment, Assessment.amends_id == aid) == 1


def test_double_tap_on_start_opens_one_draft(race_app, world, monkeypatch):
    from assessment.models import Assessment
    from assessment.operations import assessments

    meet_after(monkeypatch, assessments, "open_assessment_of", first_call_only=True)
    responses = at_once(race_app, lambda c, i: c.post("/api/v1/assessments", headers=world["per_thread"]["assessor2"][i],
                                                   json={"elder_id": world["elder"].id, "instrument": "barthel"}))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201], [r.get_json() for r in responses]
    assert len({r.get_json()["id"] for r in responses}) == 1
    assert count(race_app, Assessment, Assessment.elder_id == world["elder"].id,
                 Assessment.instrument_id == "barthel") == 1


def test_concurrent_registration_of_one_person_is_409_not_500(race_app, world, monkeypatch):
    from assessment.models import Elder
    from assessment.operations import elders

    meet_after(monkeypatch, elders, "_find_duplicate", first_call_only=True)
    body = {"name": "钱明", "gender": "male", "birth_date": "1880-01-01", "id_number": "440524188001010014"}
    responses = at_once(race_app, lambda c, i: c.post("/api/v1/elders", json=body, headers=world["per_thread"]["assessor1"][i]))
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409], [r.get_json() for r in responses]
    assert count(race_app, Elder, Elder.name == "钱明") == 1
