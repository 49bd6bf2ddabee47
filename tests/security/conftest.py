"""The security tests reuse the assessment and rating fixtures."""

from tests.assessment.conftest import elder, gbt, people  # noqa: F401
from tests.rating.conftest import rating_world  # noqa: F401
