"""Pages for elders and assessments: registry, the section-per-page form with autosave, result,
signing, review, amendment, reassessment lists, entitlements and documents.

Views are thin: parse, call an operation, commit once, redirect.

One blueprint `bp` (common.py); each module adds the routes of one resource."""

from assessment import inbox  # noqa: F401  (importing registers the inbox counters)
from assessment.views import elders, evidence, fill, lists, records  # noqa: F401  (importing registers the routes)
from assessment.views.common import bp

__all__ = ["bp"]
