"""The models and the Alembic migrations describe the same schema."""

from __future__ import annotations

import contextlib
import importlib

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from core.db import MIGRATIONS_DIR, alembic_config


def _all_models() -> None:
    for module in ("core.models", "accounts.models", "audit.models", "assessment.models", "rating.models",
                   "instruments.models"):
        with contextlib.suppress(ModuleNotFoundError):
            importlib.import_module(module)


def test_models_and_migrations_do_not_drift(app):
    _all_models()
    engine = app.extensions["yiyang.engine"]
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], f"models differ from migrations; add a revision: {diff}"


def test_database_is_at_every_head(app):
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    engine = app.extensions["yiyang.engine"]
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    assert current == set(script.get_heads())
    assert MIGRATIONS_DIR.is_dir()
