"""Writes for elders and assessments. Keyword-only, typed, take the session, flush, never commit.

The request handler (view, API, CLI) commits once. Every mutation is audit-logged; sensitive
values never reach the log (audit masks them, and we pass only masked forms).
"""

from assessment.operations.assessments import (  # noqa: F401
    amend_assessment,
    answer_differences,
    answers_digest,
    open_assessment,
    parse_reason,
    reopen_assessment,
    return_assessment,
    save_answers,
    sign_assessment,
    signatures_of,
    signing_step,
    start_assessment,
    submit_assessment,
)
from assessment.operations.elders import (  # noqa: F401
    ElderInput,
    elder_input_problems,
    register_elder,
    reveal_elder_field,
    update_elder,
)
from assessment.operations.entitlements import (  # noqa: F401
    set_entitlement,
)
from assessment.operations.errors import (  # noqa: F401
    MAX_ANSWER_TEXT,
    AssessmentError,
    ConflictError,
    DuplicateElderError,
)
