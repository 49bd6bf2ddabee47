"""双随机: targets and two inspectors drawn at random with a seed the server draws and commits to
before the candidates are fixed; the revealed seed repeats the draw."""

from __future__ import annotations

import hashlib

import pytest
from sqlmodel import select

from audit.models import AuditEvent
from rating import operations as ops
from rating.models import InspectionPlan
from tests.conftest import login
from tests.factories import UserFactory
from tests.rating.factories import FacilityFactory


def test_draw_is_a_pure_function_of_its_inputs():
    candidates, pool = list(range(1, 15)), [101, 102, 103, 104, 105]
    first = ops.draw(candidates, pool, seed="2026-round-1", method="count", count=2)
    assert first == ops.draw(list(reversed(candidates)), list(reversed(pool)), seed="2026-round-1",
                             method="count", count=2)
    assert len(first[0]) == 2 and len(first[1]) == 2
    draws = {tuple(ops.draw(candidates, pool, seed=f"s{i}", method="share", share=0.3)[0]) for i in range(20)}
    assert len(draws) > 1 and all(len(d) == 5 for d in draws)  # ceil(14 × 30%)


def test_random_plan_repeated_from_its_seed_gives_the_same_draw(client, rating_world, db_session):
    for i in range(12):
        FacilityFactory(organisation=rating_world["district1"], name=f"抽查对象{i}")
    for _ in range(4):
        UserFactory(organisation=rating_world["district2"], roles="inspector")
    plan = ops.create_plan(session=db_session, actor=rating_world["admin"], organisation_id=rating_world["city"].id,
                           name="双随机抽查", scheme="gbt37276-2018", method="share", share=0.3)
    assert plan.seed and len(plan.inspector_ids) == 2 and set(plan.inspector_ids) <= set(plan.inspector_pool_ids)
    assert len(plan.target_ids) == 4  # ceil(13 institutions × 30%); the station is not eligible
    assert rating_world["station"].id not in plan.candidate_ids
    assert ops.redraw_matches(plan)
    again = ops.create_plan(session=db_session, actor=rating_world["admin"], organisation_id=rating_world["city"].id,
                            name="同一种子重抽", scheme="gbt37276-2018", method="share", share=0.3, seed=plan.seed)
    assert (again.target_ids, again.inspector_ids) == (plan.target_ids, plan.inspector_ids)
    other = ops.create_plan(session=db_session, actor=rating_world["admin"], organisation_id=rating_world["city"].id,
                            name="另一种子", scheme="gbt37276-2018", method="count", count=3, seed="other-seed")
    assert len(other.target_ids) == 3

    started = ops.start_plan_inspections(session=db_session, actor=rating_world["admin"], plan=plan)
    assert len(started) == 4 and all(i.inspector_ids == plan.inspector_ids for i in started)
    assert ops.start_plan_inspections(session=db_session, actor=rating_world["admin"], plan=plan) == []


def test_plan_api_and_errors(client, rating_world):
    from tests.conftest import api_token

    admin = api_token(client, rating_world["admin"])
    bad = client.post("/api/v1/plans", headers=admin, json={"name": "", "scheme": "gbt37276-2018", "method": "share", "share": 3})
    assert bad.status_code == 422
    assert {e["item"] for e in bad.get_json()["errors"]} >= {"name", "share"}
    made = client.post("/api/v1/plans", headers=admin, json={"name": "抽查", "scheme": "community-star",
                                                             "method": "count", "count": 1})
    assert made.status_code == 201 and made.get_json()["target_ids"] == [rating_world["station"].id]
    assert made.get_json()["repeatable"] is True


def test_the_client_never_chooses_the_seed(client, rating_world):
    from tests.conftest import api_token

    admin = api_token(client, rating_world["admin"])
    for seed in ("abc", {"x": 1}, 7):
        refused = client.post("/api/v1/plans", headers=admin, json={"name": "抽查", "scheme": "community-star",
                                                                    "method": "count", "count": 1, "seed": seed})
        assert refused.status_code == 422 and [e["item"] for e in refused.get_json()["errors"]] == ["seed"]
    openapi = client.get("/api/v1/openapi.json").get_json()
    assert "seed" not in openapi["paths"]["/api/v1/plans"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
    login(client, rating_world["admin"])
    assert 'name="seed"' not in client.get("/rating/plans/new").get_data(as_text=True)


@pytest.mark.parametrize(("body", "field"), [
    ({"method": "share", "share": "0.3"}, "share"),
    ({"method": "count", "count": "2"}, "count"),
    ({"method": "count", "count": 1.5}, "count"),
    ({"method": "count", "count": True}, "count"),
    ({"method": "manual", "facility_ids": 5}, "facility_ids"),
    ({"method": "manual", "facility_ids": {"a": 1}}, "facility_ids"),
    ({"method": "manual", "facility_ids": ["1"]}, "facility_ids"),
    ({"method": "manual", "facility_ids": [10**30]}, "facility_ids"),
    ({"method": ["count"], "count": 1}, "method"),
    ({"method": "count", "count": 1, "draw": "yes"}, "draw"),
])
def test_bad_plan_input_is_a_422_naming_the_field(client, rating_world, body, field):
    from tests.conftest import api_token

    response = client.post("/api/v1/plans", headers=api_token(client, rating_world["admin"]),
                           json={"name": "抽查", "scheme": "community-star", **body})
    assert response.status_code == 422 and field in {e["item"] for e in response.get_json()["errors"]}


def test_the_seed_is_committed_before_the_candidates_are_fixed(client, rating_world, db_session):
    """Commit, then a facility registers, then the draw: the draw sees it, the revealed seed
    matches the commitment published at creation, and a tampered seed fails verification."""
    from tests.conftest import api_token

    admin = api_token(client, rating_world["admin"])
    made = client.post("/api/v1/plans", headers=admin, json={"name": "先承诺后抽取", "scheme": "gbt37276-2018",
                                                             "method": "share", "share": 1, "draw": False}).get_json()
    commitment = made["seed_commitment"]
    assert len(commitment) == 64 and made["seed"] is None and made["target_ids"] == [] and made["repeatable"] is False
    created = db_session.exec(select(AuditEvent).where(AuditEvent.action == "rating.plan.create",
                                                       AuditEvent.target_id == str(made["id"]))).one()
    assert created.changes["new"]["seed_commitment"] == commitment and "seed" not in created.changes["new"]
    late = FacilityFactory(organisation=rating_world["district1"], name="承诺之后登记的机构")
    for _ in range(2):
        UserFactory(organisation=rating_world["district2"], roles="inspector")
    drawn = client.post(f"/api/v1/plans/{made['id']}/draw", headers=admin).get_json()
    assert drawn["seed_commitment"] == commitment and hashlib.sha256(drawn["seed"].encode()).hexdigest() == commitment
    assert late.id in drawn["candidate_ids"] and late.id in drawn["target_ids"] and drawn["repeatable"] is True
    assert client.post(f"/api/v1/plans/{made['id']}/draw", headers=admin).status_code == 409  # no second draw
    plan = db_session.get(InspectionPlan, made["id"])
    assert ops.verify_draw(plan)
    plan.seed = "chosen-offline"
    assert not ops.verify_draw(plan)


def test_an_undrawn_plan_cannot_start_inspections(client, rating_world, db_session):
    plan = ops.create_plan(session=db_session, actor=rating_world["admin"], organisation_id=rating_world["city"].id,
                           name="未抽取", scheme="community-star", method="count", count=1, draw_now=False)
    with pytest.raises(ops.RatingError):
        ops.start_plan_inspections(session=db_session, actor=rating_world["admin"], plan=plan)
    login(client, rating_world["admin"])
    page = client.get(f"/rating/plans/{plan.id}").get_data(as_text=True)
    assert plan.seed_commitment in page and plan.seed not in page and "现在抽取" in page
    assert client.post(f"/rating/plans/{plan.id}/draw").status_code == 302
    assert plan.seed in client.get(f"/rating/plans/{plan.id}").get_data(as_text=True)


def test_the_plan_page_publishes_the_commitment_first_and_draws_on_a_second_step(client, rating_world, db_session):
    login(client, rating_world["admin"])
    made = client.post("/rating/plans/new", data={"name": "季度抽查", "scheme": "community-star",
                                                  "method": "count", "count": "1"})
    assert made.status_code == 302
    plan = db_session.exec(select(InspectionPlan).where(InspectionPlan.name == "季度抽查")).one()
    assert plan.drawn_at is None and plan.target_ids == [] and plan.seed_commitment
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert plan.seed_commitment in page and plan.seed not in page and "现在抽取" in page
    drawn = client.post(f"/rating/plans/{plan.id}/draw", follow_redirects=True).get_data(as_text=True)
    db_session.refresh(plan)
    assert plan.drawn_at is not None and plan.target_ids == [rating_world["station"].id]
    assert plan.seed in drawn and ops.verify_draw(plan)
