"""双随机: targets and two inspectors drawn at random; the recorded seed repeats the draw."""

from __future__ import annotations

from rating import operations as ops
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
                                                             "method": "count", "count": 1, "seed": "abc"})
    assert made.status_code == 201 and made.get_json()["target_ids"] == [rating_world["station"].id]
    assert made.get_json()["repeatable"] is True
