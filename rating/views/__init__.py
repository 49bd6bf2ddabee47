"""Pages for facility inspection and grading, and the public certificate verification page.
Views are thin: parse, call an operation, commit once, redirect.

One blueprint `bp` (common.py); each module adds the routes of one resource."""

from rating import inbox  # noqa: F401  (importing registers the inbox counters)
from rating.views import (  # noqa: F401  (importing registers the routes)
    actions,
    certificates,
    facilities,
    inspections,
    overview,
    plans,
    register,
    rewards,
)
from rating.views.common import bp

__all__ = ["bp"]
