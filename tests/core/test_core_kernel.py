"""The write kernel: one DomainError family answered once (page or JSON, in the reader's language),
one unit of work per request, unique-constraint races answered 409, SQLite write requests that
take the write lock up front, times shown in the organisation's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Blueprint
from sqlalchemy import text
from sqlmodel import select

from accounts.operations import AccountError
from assessment.operations import AssessmentError, ConflictError, DuplicateElderError
from audit.models import AuditEvent
from core.api import ApiError
from core.auth import public
from core.db import bump_version
from core.errors import DomainError, EditConflict
from core.validation import InputTooLong
from rating.operations import RatingError, VersionConflict
from reports.errors import RenderError
from tests.conftest import api_token, login
from tests.factories import UserFactory, make_id_number


def test_every_refusal_is_one_family():
    for error in (AssessmentError("x"), ConflictError(3), RatingError("x"), VersionConflict(3),
                  AccountError(["x"]), ApiError(422, "x", "x"), EditConflict(3), InputTooLong([]),
                  RenderError("x")):
        assert isinstance(error, DomainError) and error.status and error.code
    assert all(isinstance(e, EditConflict) for e in (ConflictError(3), VersionConflict(3)))
    assert issubclass(DuplicateElderError, AssessmentError)
    assert ConflictError(4).extra() == {"version": 4}


_probe = Blueprint("kernel_probe", __name__)


@_probe.route("/kernel-probe/<what>", methods=["POST"])
@public
def _probe_view(what: str):
    from core.db import get_session
    from core.unitofwork import keep_writes

    get_session().execute(text("INSERT INTO kernel_probe (note) VALUES (:n)"), {"n": what})
    if what == "refused-but-redirected":
        try:
            raise AssessmentError("不行")
        except AssessmentError:
            return "", 302, {"Location": "/"}
    if what == "kept":
        keep_writes()
        raise AssessmentError("不行，但记下这次尝试")
    if what == "field":
        raise RatingError([{"item": "opened_on", "message": "开业日期不能晚于今天"}])
    return "ok"


@pytest.fixture(scope="module")
def probe_app(database_url):
    """An app of this module's own, with a probe route that writes and then succeeds or refuses."""
    from app import create_app

    instance = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "probe",
                           "DATA_KEY": "probe", "WTF_CSRF_ENABLED": False, "PROPAGATE_UNEXPECTED": True,
                           "SERVER_NAME": "localhost"})
    instance.register_blueprint(_probe)
    yield instance
    instance.extensions["yiyang.engine"].dispose()


@pytest.fixture()
def probe(probe_app, db_session):
    probe_app.config["DB_SESSION_FACTORY"] = lambda: db_session
    db_session.execute(text("CREATE TABLE IF NOT EXISTS kernel_probe (note VARCHAR(40))"))
    db_session.flush()
    yield probe_app.test_client(), lambda: sorted(r[0] for r in db_session.execute(text("SELECT note FROM kernel_probe")))
    probe_app.config["DB_SESSION_FACTORY"] = None


def test_the_unit_of_work_commits_success_and_drops_refusals(probe):
    client, notes = probe
    assert client.post("/kernel-probe/fine").status_code == 200
    assert client.post("/kernel-probe/refused-but-redirected").status_code == 302
    assert client.post("/kernel-probe/kept").status_code == 422
    assert client.post("/kernel-probe/field").status_code == 422
    assert notes() == ["fine", "kept"]


def test_a_refusal_answers_json_with_fields_and_a_page_in_chinese(probe):
    client, _notes = probe
    page = client.post("/kernel-probe/field")
    assert page.status_code == 422 and "开业日期不能晚于今天" in page.get_data(as_text=True)
    as_json = client.post("/kernel-probe/field", headers={"Accept": "application/json"})
    assert as_json.get_json() == {"error": "invalid_input", "message": "开业日期不能晚于今天",
                                  "errors": [{"item": "opened_on", "message": "开业日期不能晚于今天"}]}
    english = client.post("/kernel-probe/field?lang=en", headers={"Accept": "application/json"})
    assert english.get_json()["message"] == "The opening date cannot be later than today"


def test_the_api_speaks_the_language_the_client_asks_for(client, org_tree):
    user = UserFactory(organisation=org_tree["district1"], roles="assessor")
    headers = {**api_token(client, user), "Accept-Language": "en"}
    response = client.post("/api/v1/elders", json={"name": "x"}, headers=headers)
    assert response.status_code == 422
    messages = [e["message"] for e in response.get_json()["errors"]]
    assert response.get_json()["message"] == "Invalid input"
    assert messages and all(m.startswith("Missing required field") for m in messages)
    chinese = client.post("/api/v1/elders", json={"name": "x"}, headers=api_token(client, user)).get_json()
    assert chinese["message"] == "输入有误" and chinese["errors"][0]["message"].startswith("缺少必填字段")


def test_a_unique_constraint_race_is_a_409_not_a_500(client, org_tree, db_session, monkeypatch):
    """Two requests created the same row at once: the loser's INSERT meets the constraint."""
    from assessment.models import Entitlement

    admin = UserFactory(organisation=org_tree["district1"], roles="admin")
    login(client, admin)
    db_session.add(Entitlement(organisation_id=admin.organisation_id, instrument_id="barthel", level_code=1))
    db_session.flush()
    from sqlmodel import Session

    real_exec = Session.exec

    def blind_exec(self, statement, *args, **kwargs):  # the loser did not see the winner's row
        if "FROM entitlement" in str(statement):
            return real_exec(self, select(Entitlement).where(Entitlement.id == -1))
        return real_exec(self, statement, *args, **kwargs)

    monkeypatch.setattr(Session, "exec", blind_exec)
    response = client.post("/assessments/entitlements", data={"instrument": "barthel", "services_1": "助餐",
                                                               "subsidy_1": "10"})
    assert response.status_code == 409
    assert "重复" in response.get_data(as_text=True)


def test_bump_version_is_one_conditional_update(db_session, org_tree):
    from rating.models import Facility

    facility = Facility(organisation_id=org_tree["district1"].id, name="锁", kind="station")
    db_session.add(facility)
    db_session.flush()
    bump_version(db_session, facility, 1)
    assert facility.version == 2
    db_session.execute(text("UPDATE rating_facility SET version = 5 WHERE id = :i"), {"i": facility.id})
    with pytest.raises(EditConflict) as caught:
        bump_version(db_session, facility, 2)  # the copy in memory says 2, the row says 5
    assert caught.value.current_version == 5 and facility.version == 5


def test_answer_autosaves_are_audited_in_neither_domain(client, org_tree, db_session):
    """The decision in docs/architecture.md: drafts' autosaves are not audited; state changes are."""
    from tests.rating.factories import FacilityFactory

    admin = UserFactory(organisation=org_tree["city"], roles="admin inspector assessor")
    headers = api_token(client, admin)
    facility = FacilityFactory(organisation=org_tree["district1"])
    inspection = client.post("/api/v1/inspections", headers=headers,
                             json={"facility_id": facility.id, "scheme": "gbt37276-2018"}).get_json()
    elder = client.post("/api/v1/elders", headers=headers, json={
        "name": "审计", "gender": "male", "birth_date": "1940-01-01", "address": "x",
        "organisation_id": org_tree["district1"].id,
        "id_number": make_id_number("1940-01-01", 5)}).get_json()
    assessment = client.post("/api/v1/assessments", headers=headers, json={"elder_id": elder["id"]}).get_json()
    before = db_session.exec(select(AuditEvent)).all()
    saved = client.put(f"/api/v1/inspections/{inspection['id']}/answers", headers=headers,
                       json={"answers": {"environment": 50}, "version": inspection["version"]})
    assert saved.status_code == 200
    saved = client.put(f"/api/v1/assessments/{assessment['id']}/answers", headers=headers,
                       json={"answers": {}, "version": assessment["version"]})
    assert saved.status_code == 200
    assert len(db_session.exec(select(AuditEvent)).all()) == len(before)


def test_sqlite_write_requests_take_the_write_lock_first(tmp_path):
    from core.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'lock.sqlite'}")
    seen: list[str] = []
    from sqlalchemy import event

    @event.listens_for(engine, "before_cursor_execute")
    def _log(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with engine.execution_options(sqlite_begin="IMMEDIATE").connect() as conn, conn.begin():
        conn.execute(text("SELECT 1"))
    with engine.connect() as conn, conn.begin():
        conn.execute(text("SELECT 1"))
    assert "BEGIN IMMEDIATE" in seen and "BEGIN" in seen
    engine.dispose()


def test_times_show_in_the_organisations_time_zone(app):
    from core.i18n import local_date, local_time

    late = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)
    with app.app_context():
        assert local_time(late) == "2026-12-02 01:30" and local_date(late) == "2026-12-02"
        app.config["TIMEZONE"] = "UTC"
        try:
            assert local_time(late, seconds=True) == "2026-12-01 17:30:00"
        finally:
            app.config["TIMEZONE"] = "Asia/Shanghai"

