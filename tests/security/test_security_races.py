"""One of a kind under concurrency, on SQLite and PostgreSQL with real threads through the API.

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
from sqlalchemy import func
from sqlmodel import Session, select

from tests.conftest import TEST_PASSWORD
from tests.race import race_app as make_race_app
from tests.race import race_database

N = 4
RACERS = ("admin", "inspector", "assessor1", "assessor2")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def race_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """An app with real per-request sessions on a database of its own: a SQLite file (the
    default install) and a PostgreSQL schema."""
    with race_database(request.param, tmp_path_factory.mktemp("security-race")) as url:
        previous = os.environ.get("YIYANG_INSTANCE_PATH")
        os.environ["YIYANG_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="yiyang-race-")
        try:
            app = make_race_app(url, PROPAGATE_UNEXPECTED=False)
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


def meet_after(app: Any, monkeypatch: pytest.MonkeyPatch, target: Any, name: str, *,
               first_call_only: bool = False) -> None:
    """Make every thread call `target.name`, then wait for the others before going on: all of them
    have read the record before any of them writes.

    On SQLite a write request holds the database's write lock from its first read (`BEGIN
    IMMEDIATE`, core/db.py), so no two of them can both have read before one writes: the threads
    still start together and queue on that lock, and the gate would only wait for threads that
    cannot arrive."""
    if app.config["DATABASE_URL"].startswith("sqlite"):
        return
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


def one_won(app: Any, responses: list[Any], success: int) -> None:
    """On PostgreSQL all of them read before any writes: one succeeds, the others are 409. On
    SQLite they queue on the write lock, so the later ones find the work done: a 409 or the same
    answer again (the counts in each test show that the work was done once)."""
    statuses = sorted(r.status_code for r in responses)
    bodies = [r.get_json() for r in responses]
    if app.config["DATABASE_URL"].startswith("sqlite"):
        assert success in statuses and set(statuses) <= {success, 200, 409}, (statuses, bodies)
    else:
        assert statuses == sorted([success] + [409] * (N - 1)), (statuses, bodies)


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
    meet_after(race_app, monkeypatch, inspections, "missing_sections")
    responses = at_once(race_app, lambda c, i: c.post(f"/api/v1/inspections/{iid}/submit",
                                                   headers=world["per_thread"]["inspector"][i]))
    one_won(race_app, responses, 200)
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
    meet_after(race_app, monkeypatch, INSPECTION, "require")
    responses = at_once(race_app, lambda c, i: c.post(f"/api/v1/inspections/{iid}/approve",
                                                   headers=world["per_thread"]["admin"][i]))
    one_won(race_app, responses, 200)
    assert count(race_app, Grade, Grade.inspection_id == iid) == 1
    monkeypatch.undo()
    # Certificate issue at once: one certificate, the others 409.
    from rating.models import Certificate
    from rating.workflow import GRADE

    meet_after(race_app, monkeypatch, GRADE, "require")
    responses = at_once(race_app, lambda c, i: c.post("/api/v1/certificates", json={"inspection_id": iid},
                                                   headers=world["per_thread"]["admin"][i]))
    one_won(race_app, responses, 201)
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
    meet_after(race_app, monkeypatch, ASSESSMENT, "require")
    responses = at_once(race_app, lambda c, i: c.post(f"/api/v1/assessments/{aid}/amend", json={"reason": "补充病史"},
                                                   headers=world["per_thread"]["assessor1"][i]))
    one_won(race_app, responses, 201)
    assert count(race_app, Assessment, Assessment.amends_id == aid) == 1


def test_double_tap_on_start_opens_one_draft(race_app, world, monkeypatch):
    from assessment.models import Assessment
    from assessment.operations import assessments

    meet_after(race_app, monkeypatch, assessments, "open_assessment_of", first_call_only=True)
    responses = at_once(race_app, lambda c, i: c.post("/api/v1/assessments", headers=world["per_thread"]["assessor2"][i],
                                                   json={"elder_id": world["elder"].id, "instrument": "barthel"}))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201], [r.get_json() for r in responses]
    assert len({r.get_json()["id"] for r in responses}) == 1
    assert count(race_app, Assessment, Assessment.elder_id == world["elder"].id,
                 Assessment.instrument_id == "barthel") == 1


def test_concurrent_registration_of_one_person_is_409_not_500(race_app, world, monkeypatch):
    from assessment.models import Elder
    from assessment.operations import elders

    meet_after(race_app, monkeypatch, elders, "_find_duplicate", first_call_only=True)
    body = {"name": "钱明", "gender": "male", "birth_date": "1880-01-01", "id_number": "440524188001010014"}
    responses = at_once(race_app, lambda c, i: c.post("/api/v1/elders", json=body, headers=world["per_thread"]["assessor1"][i]))
    one_won(race_app, responses, 201)
    assert count(race_app, Elder, Elder.name == "钱明") == 1


def test_double_tap_on_reassess_now_opens_one_draft(race_app, world, monkeypatch):
    """"立即复评" tapped on four tablets of one assessor at once: one draft, every tap opens it."""
    from assessment.models import Assessment
    from assessment.operations import assessments
    from tests.factories import make_id_number
    from tests.race import signed_in_browser

    body = {"name": "孙立即", "gender": "female", "birth_date": "1938-06-01", "id_number": make_id_number("1938-06-01", 27)}
    registered = race_app.test_client().post("/api/v1/elders", json=body, headers=world["tokens"]["assessor1"])
    assert registered.status_code == 201, registered.get_json()
    elder_id = registered.get_json()["id"]
    browsers = [signed_in_browser(race_app, world["people"]["assessor1"]) for _ in range(N)]
    meet_after(race_app, monkeypatch, assessments, "open_assessment_of", first_call_only=True)
    responses = at_once(race_app, lambda c, i: browsers[i].post(f"/elders/{elder_id}/reassess"))
    assert [r.status_code for r in responses] == [302] * N, [r.get_data(as_text=True)[:300] for r in responses]
    assert len({r.headers["Location"] for r in responses}) == 1
    assert count(race_app, Assessment, Assessment.elder_id == elder_id) == 1
