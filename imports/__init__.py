"""Bulk import of elders, facilities and users from spreadsheets (docs/import.md).

Each domain package says what one row of its kind is in its own `imports` module
(`assessment/imports.py`, `rating/imports.py`, `accounts/imports.py`) with one `Importer`
subclass registered by `register(...)`; this package reads the file (core.tabular), runs the
checks batch by batch, finds duplicates within the file, inserts the valid rows in the caller's
transaction and audits the import once. The CLI (`yiyang import`), the API
(`POST /api/v1/imports/{kind}`), the page (`/imports/`) and the job (`imports.commit`) all call
`runner.run_import`.
"""

from __future__ import annotations

import importlib

from imports.registry import IMPORTERS, Importer, register

PACKAGES = ("assessment", "rating", "accounts")

__all__ = ["IMPORTERS", "Importer", "load_importers", "register"]


def load_importers() -> None:
    """Import each domain's `imports` module once (each registers its kind)."""
    for package in PACKAGES:
        try:
            importlib.import_module(f"{package}.imports")
        except ModuleNotFoundError as exc:
            if exc.name != f"{package}.imports":
                raise
