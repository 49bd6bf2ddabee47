"""Writes of the rating package: keyword-only, typed, take the session, flush, never commit."""

from rating.operations.actions import (
    display_status,
    escalate_overdue,
    is_due_soon,
    is_overdue,
    submit_evidence,
    verify_action,
)
from rating.operations.certificates import (
    build_payload,
    certificate_status,
    check_token,
    grade_status,
    issuable_grades,
    issue_batch,
    issue_certificate,
    public_verification,
    revoke_certificate,
    verification,
)
from rating.operations.facilities import (
    RatingError,
    create_facility,
    disqualify_facility,
    known_facts,
    merge_facts,
    update_facility,
)
from rating.operations.inspections import (
    VersionConflict,
    approve_inspection,
    create_reinspection,
    definition_of,
    rectification_days,
    return_inspection,
    save_answers,
    save_photo,
    start_inspection,
    submit_inspection,
)
from rating.operations.plans import (
    create_plan,
    draw,
    draw_plan,
    eligible_facility_ids,
    inspector_pool_ids,
    publish_plan,
    redraw_matches,
    seed_commitment,
    start_plan_inspections,
    verify_draw,
)
from rating.operations.rewards import delete_grade_reward, save_grade_rewards

__all__ = [
    "RatingError", "VersionConflict", "approve_inspection", "build_payload", "certificate_status",
    "check_token", "create_facility", "create_plan", "create_reinspection", "definition_of", "delete_grade_reward",
    "disqualify_facility", "display_status", "draw", "draw_plan", "eligible_facility_ids", "escalate_overdue",
    "grade_status", "inspector_pool_ids", "is_due_soon", "is_overdue", "issuable_grades",
    "issue_batch", "issue_certificate", "known_facts", "merge_facts", "public_verification", "publish_plan",
    "rectification_days", "return_inspection", "redraw_matches", "revoke_certificate", "save_answers",
    "save_grade_rewards", "save_photo",
    "seed_commitment",
    "start_inspection", "start_plan_inspections", "submit_evidence", "submit_inspection",
    "update_facility", "verification", "verify_action", "verify_draw",
]
