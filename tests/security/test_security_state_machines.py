"""Property tests of the workflows: whatever order people try steps in, no state is skipped.

Hypothesis draws sequences of actions (save, submit, each person signs, reopen, return, amend;
for inspections save, submit, approve, return) and applies them through the operations. After
every step the record may only have moved along an edge of the production tables
(assessment.workflow, rating.workflow), and a refused step changes nothing."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessment import operations as aops
from assessment.models import Assessment
from assessment.workflow import ASSESSMENT_EDGES
from rating.workflow import INSPECTION_EDGES
from tests.assessment.conftest import full_answers
from tests.conftest import TEST_PASSWORD

ASSESSMENT_STEPS = ["save", "save_partial", "submit", "sign_a1", "sign_a2", "sign_reviewer", "reopen", "amend",
                    "return"]


def test_assessment_states_follow_the_workflow(app, db_session, people, elder, gbt):
    answers = full_answers(gbt)
    actors = {"sign_a1": people["assessor1"], "sign_a2": people["assessor2"], "sign_reviewer": people["reviewer"]}

    @given(st.lists(st.sampled_from(ASSESSMENT_STEPS), min_size=1, max_size=12))
    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(steps: list[str]) -> None:
        savepoint = db_session.begin_nested()
        try:
            with app.test_request_context():
                assessment = aops.start_assessment(session=db_session, actor=people["assessor1"], elder=elder,
                                                   definition=gbt, reason="initial")
                for step in steps:
                    before = (assessment.status, assessment.version)
                    try:
                        _apply(step, assessment, answers, actors, people, gbt, db_session)
                    except aops.AssessmentError:
                        assert (assessment.status, assessment.version) == before, f"refused {step} changed the record"
                        continue
                    assert (before[0], assessment.status) in ASSESSMENT_EDGES, (step, before[0], assessment.status)
                    if assessment.status == "approved":
                        signatures = aops.signatures_of(db_session, assessment)
                        assert sum(s.role == "assessor" for s in signatures) >= 2
                        assert any(s.role == "reviewer" for s in signatures)
                        assert assessment.result is not None
        finally:
            savepoint.rollback()

    run()


def _apply(step: str, assessment: Assessment, answers: dict[str, Any], actors: dict[str, Any],
           people: dict[str, Any], gbt: Any, session: Any) -> None:
    if step in ("save", "save_partial"):
        chosen = answers if step == "save" else dict(list(answers.items())[:5])
        aops.save_answers(session=session, actor=people["assessor1"], assessment=assessment, definition=gbt,
                          answers=chosen, version=assessment.version)
    elif step == "submit":
        aops.submit_assessment(session=session, actor=people["assessor1"], assessment=assessment, definition=gbt,
                               version=assessment.version)
    elif step.startswith("sign_"):
        aops.sign_assessment(session=session, actor=actors[step], assessment=assessment, password=TEST_PASSWORD,
                             required_signatures=2)
    elif step == "return":
        aops.return_assessment(session=session, actor=people["reviewer"], assessment=assessment,
                               reason="第 3 项与现场不符")
        assert assessment.status == "draft"
        assert not aops.signatures_of(session, assessment), "a return clears the signatures"
    elif step == "reopen":
        aops.reopen_assessment(session=session, actor=people["assessor1"], assessment=assessment)
    elif step == "amend":
        amendment = aops.amend_assessment(session=session, actor=people["assessor1"], assessment=assessment,
                                          reason="补充资料")
        assert assessment.status == "approved", "only a locked assessment can be amended"
        assert amendment.status == "draft" and amendment.amends_id == assessment.id




def test_inspection_states_follow_the_workflow(app, db_session, rating_world):
    from rating.operations import inspections as iops
    from rating.operations.facilities import RatingError
    from tests.rating.factories import GBT_LEVEL4

    @given(st.lists(st.sampled_from(["save", "save_empty", "submit", "approve", "return"]), min_size=1, max_size=8))
    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(steps: list[str]) -> None:
        savepoint = db_session.begin_nested()
        try:
            with app.test_request_context():
                inspection = iops.start_inspection(session=db_session, actor=rating_world["inspector"],
                                                   facility=rating_world["home"], scheme="gbt37276-2018")
                for step in steps:
                    before = (inspection.status, inspection.version)
                    try:
                        if step.startswith("save"):
                            iops.save_answers(session=db_session, actor=rating_world["inspector"],
                                              inspection=inspection,
                                              answers=GBT_LEVEL4 if step == "save" else {},
                                              facts={"veto": []}, version=inspection.version)
                        elif step == "submit":
                            iops.submit_inspection(session=db_session, actor=rating_world["inspector"],
                                                   inspection=inspection)
                        elif step == "return":
                            iops.return_inspection(session=db_session, actor=rating_world["admin"],
                                                   inspection=inspection, reason="照片不清楚，请补拍")
                        else:
                            iops.approve_inspection(session=db_session, actor=rating_world["admin"],
                                                    inspection=inspection)
                    except RatingError:
                        assert (inspection.status, inspection.version) == before, f"refused {step} changed it"
                        continue
                    assert (before[0], inspection.status) in INSPECTION_EDGES, (step, before[0], inspection.status)
                    if inspection.status == "approved":
                        assert inspection.result and inspection.result["grade"]["code"] == 4
        finally:
            savepoint.rollback()

    run()
