"""Pages for elders and assessments (one blueprint)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("assessment", __name__)
