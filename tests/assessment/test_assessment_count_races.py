"""Two reviewers approving two assessments of the same district, day and level at the same
moment, with real threads on a real database: the counter the statistics read
(stats_assessment_day) counts both — its upsert adds to the committed count, never overwrites."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from assessment.models import AssessmentDayCount
from tests.assessment.conftest import full_answers
from tests.factories import OrganisationFactory, UserFactory, make_id_number
from tests.race import (
    PASSWORD,
    race_app,
    race_database,
    seeded,
    signed_in_api,
    slow_commits,
    together,
)

GBT = "gbt42195-2022"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_two_approvals_at_once_both_count(kind, tmp_path, monkeypatch):
    with race_database(kind, tmp_path) as url:
        app = race_app(url)
        with seeded(app):
            district = OrganisationFactory(name="计数竞争区", kind="district")
            assessors = [UserFactory(organisation=district, roles="assessor") for _ in range(2)]
            reviewers = [UserFactory(organisation=district, roles="reviewer") for _ in range(2)]
        gbt = app.extensions["yiyang.definitions"][GBT]
        api = [signed_in_api(app, user) for user in assessors]
        waiting = []
        for serial in (301, 302):  # two elders, each with an assessment signed by both assessors
            client, headers = api[0]
            elder = client.post("/api/v1/elders", headers=headers, json={
                "name": "计数老人", "gender": "female", "birth_date": "1941-03-03",
                "id_number": make_id_number("1941-03-03", serial), "address": "同时路 2 号"})
            assert elder.status_code == 201, elder.get_json()
            created = client.post("/api/v1/assessments", headers=headers,
                                  json={"elder_id": elder.get_json()["id"], "instrument": GBT, "reason": "首次评估"})
            aid = created.get_json()["id"]
            client.put(f"/api/v1/assessments/{aid}/answers", json={"answers": full_answers(gbt), "version": 1},
                       headers=headers)
            assert client.post(f"/api/v1/assessments/{aid}/submit", headers=headers).status_code == 200
            for signer_client, signer_headers in api:
                signed = signer_client.post(f"/api/v1/assessments/{aid}/sign", json={"password": PASSWORD},
                                            headers=signer_headers)
                assert signed.status_code == 200, signed.get_json()
            waiting.append(aid)
        approvers = [signed_in_api(app, user) for user in reviewers]

        def approve(index: int) -> int:
            client, headers = approvers[index]
            response = client.post(f"/api/v1/assessments/{waiting[index]}/sign", json={"password": PASSWORD},
                                   headers=headers)
            return int(response.status_code)

        with slow_commits(monkeypatch):  # both read and write before either commits
            assert together(lambda: approve(0), lambda: approve(1)) == [200, 200]
        with Session(app.extensions["yiyang.engine"]) as session:
            rows = session.exec(select(AssessmentDayCount).where(AssessmentDayCount.organisation_id == district.id)).all()
            assert sum(r.count for r in rows) == 2
            assert len(rows) == 1  # same district, day and level: one counter, counted twice
        app.extensions["yiyang.engine"].dispose()
