"""Operations without pages: registry encryption, duplicates, locking, signing, amendment."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from assessment import operations as ops
from assessment import queries
from assessment.models import Assessment
from assessment.state import refresh_elder_state
from core.crypto import FieldCipher
from tests.assessment.conftest import ID_NUMBER, full_answers
from tests.factories import TEST_PASSWORD


def test_sensitive_fields_are_encrypted_with_a_lookup_hash(app, db_session, elder):
    row = db_session.execute(text("SELECT id_number_enc, id_number_masked, phone_enc, phone_masked "
                                  "FROM elder WHERE id = :id"), {"id": elder.id}).one()
    assert ID_NUMBER not in str(row) and "13812345678" not in str(row)
    assert row.id_number_masked == "110105********002X"
    assert row.phone_masked == "138****5678"
    assert FieldCipher(app.config["DATA_KEY"]).decrypt(row.id_number_enc) == ID_NUMBER


def test_a_second_registration_is_caught(app, db_session, people, elder):
    data = ops.ElderInput(name="王秀英（重复）", gender="female", birth_date=date(1949, 12, 31),
                          id_number=ID_NUMBER.lower())
    with app.test_request_context(), pytest.raises(ops.DuplicateElderError):
        ops.register_elder(session=db_session, actor=people["assessor1"], organisation=people["district"],
                           data=data, cipher=FieldCipher(app.config["DATA_KEY"]),
                           duplicate_scope=[people["district"].id])


def test_stale_version_is_a_conflict(app, db_session, people, elder, gbt):
    with app.test_request_context():
        a = ops.start_assessment(session=db_session, actor=people["assessor1"], elder=elder,
                                 definition=gbt, reason="首次评估")
        ops.save_answers(session=db_session, actor=people["assessor1"], assessment=a, definition=gbt,
                         answers={"B.1.1": 10}, version=1)
        assert a.version == 2
        with pytest.raises(ops.ConflictError) as caught:
            ops.save_answers(session=db_session, actor=people["assessor2"], assessment=a,
                             definition=gbt, answers={"B.1.1": 0}, version=1)
        assert caught.value.current_version == 2
        assert a.answers == {"B.1.1": 10}


def test_concurrent_writer_loses_in_the_database(app, db_session, people, elder, gbt):
    with app.test_request_context():
        a = ops.start_assessment(session=db_session, actor=people["assessor1"], elder=elder,
                                 definition=gbt, reason="initial")
        # Someone else saved meanwhile: the row is at version 2, this object still says 1.
        db_session.execute(text("UPDATE assessment SET version = 2 WHERE id = :id"), {"id": a.id})
        with pytest.raises(ops.ConflictError):
            ops.save_answers(session=db_session, actor=people["assessor1"], assessment=a,
                             definition=gbt, answers={"B.1.1": 10}, version=1)


def test_full_workflow_sign_review_amend(app, db_session, people, elder, gbt):
    with app.test_request_context():
        a = ops.start_assessment(session=db_session, actor=people["assessor1"], elder=elder,
                                 definition=gbt, reason="initial")
        ops.save_answers(session=db_session, actor=people["assessor1"], assessment=a, definition=gbt,
                         answers=full_answers(gbt), version=a.version)
        ops.submit_assessment(session=db_session, actor=people["assessor1"], assessment=a, definition=gbt)
        again = ops.submit_assessment(session=db_session, actor=people["assessor1"], assessment=a,
                                      definition=gbt)
        assert again is a and a.status == "submitted"
        assert a.result["level"]["code"] == 0
        with pytest.raises(ops.AssessmentError):
            ops.sign_assessment(session=db_session, actor=people["assessor1"], assessment=a,
                                password="wrong", required_signatures=2)
        ops.sign_assessment(session=db_session, actor=people["assessor1"], assessment=a,
                            password=TEST_PASSWORD, required_signatures=2)
        with pytest.raises(ops.AssessmentError, match="已经签过"):
            ops.sign_assessment(session=db_session, actor=people["assessor1"], assessment=a,
                                password=TEST_PASSWORD, required_signatures=2)
        with pytest.raises(ops.AssessmentError):  # the reviewer waits for the second assessor
            ops.sign_assessment(session=db_session, actor=people["reviewer"], assessment=a,
                                password=TEST_PASSWORD, required_signatures=2)
        ops.sign_assessment(session=db_session, actor=people["assessor2"], assessment=a,
                            password=TEST_PASSWORD, required_signatures=2)
        assert a.status == "signed"
        sig = ops.sign_assessment(session=db_session, actor=people["reviewer"], assessment=a,
                                  password=TEST_PASSWORD, required_signatures=2)
        assert a.status == "approved" and a.is_locked and sig.answers_hash == a.answers_hash
        with pytest.raises(ops.AssessmentError):
            ops.save_answers(session=db_session, actor=people["assessor1"], assessment=a,
                             definition=gbt, answers={"B.1.1": 0}, version=a.version)
        with pytest.raises(ops.AssessmentError, match="原因"):
            ops.amend_assessment(session=db_session, actor=people["assessor1"], assessment=a, reason=" ")
        b = ops.amend_assessment(session=db_session, actor=people["assessor1"], assessment=a,
                                 reason="进食项记录错误")
        assert b.revision == 2 and b.status == "draft" and b.answers == a.answers
        ops.save_answers(session=db_session, actor=people["assessor1"], assessment=b, definition=gbt,
                         answers={"B.1.1": 0}, version=b.version)
        diff = ops.answer_differences(gbt, a.answers, b.answers)
        assert [d["item"] for d in diff] == ["B.1.1"]
        assert [x.id for x in queries.history_of(db_session, b)] == [a.id, b.id]


def test_due_lists_and_entitlement_lookup(app, db_session, people, elder, gbt):
    with app.test_request_context():
        a = ops.start_assessment(session=db_session, actor=people["assessor1"], elder=elder,
                                 definition=gbt, reason="initial")
        a.status, a.result = "approved", {"level": {"code": 2, "label": "中度"}}
        a.approved_at = datetime(2024, 1, 15, tzinfo=UTC)
        db_session.add(a)
        refresh_elder_state(db_session, elder.id)  # the approval was written by hand, not by sign_assessment
        soon, overdue = queries.reassessment_due(db_session, people["assessor1"], today=date(2025, 1, 1))
        assert [e.elder.id for e in soon] == [elder.id] and overdue == []
        soon, overdue = queries.reassessment_due(db_session, people["assessor1"], today=date(2025, 2, 1))
        assert soon == [] and [e.due_on for e in overdue] == [date(2025, 1, 15)]
        assert queries.reassessment_due(db_session, people["outsider"], today=date(2025, 2, 1)) == ([], [])
        ops.set_entitlement(session=db_session, actor=people["admin"], organisation=people["city"],
                            instrument_id=gbt.id, level_code=2, services=["助餐", "上门护理"],
                            monthly_subsidy_fen=30000)
        found = queries.entitlement_for(db_session, a)
        assert found is not None and found.services == ["助餐", "上门护理"]
        ops.start_assessment(session=db_session, actor=people["assessor1"], elder=elder,
                             definition=gbt, reason="immediate")
        assert queries.reassessment_due(db_session, people["assessor1"], today=date(2025, 2, 1)) == ([], [])


def test_search_by_name_masked_and_full_id(app, db_session, people, elder):
    with app.test_request_context():
        user = people["assessor1"]
        assert queries.search_elders(db_session, user, "秀英") == [elder]
        assert queries.search_elders(db_session, user, ID_NUMBER.lower()) == [elder]
        assert queries.search_elders(db_session, user, "110105********002X") == [elder]
        assert queries.search_elders(db_session, user, "440524188001010014") == []
        assert queries.search_elders(db_session, people["outsider"], "秀英") == []


def test_assessment_model_defaults(db_session):
    assert Assessment(organisation_id=1, elder_id=1, instrument_id="x", instrument_version="1",
                      reason="initial").is_editable
