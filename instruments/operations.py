"""Registry changes made by people (pages and API): import, publish, retire, re-score; audited.

Drafts belong to the uploader's organisation subtree; published and shipped versions are shared
by everyone. Operations flush; the caller commits once.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from audit import record_event
from scoring import AnswerError, score

from . import registry
from .files import read_definition_bytes
from .models import DefinitionVersion, Rescore


class RegistryAccessError(LookupError):
    """No such version, or a draft of another organisation."""


def visible_row(session: Session, definition_version_id: int, user: Any,
                row: DefinitionVersion | None = None) -> DefinitionVersion:
    """The registry row if this user may see it (RegistryAccessError otherwise)."""
    from accounts.queries import visible_org_ids

    row = row or session.get(DefinitionVersion, definition_version_id)
    if row is None:
        raise RegistryAccessError(definition_version_id)
    if row.status == "draft" and row.organisation_id is not None and \
            row.organisation_id not in visible_org_ids(session, user):
        raise RegistryAccessError(definition_version_id)
    return row


def import_upload(session: Session, data: bytes, filename: str, *, actor: Any, note: str = "",
                  publish: bool = False) -> DefinitionVersion:
    """Store an uploaded YAML or XLSX file as a draft (or published); DefinitionError lists every
    problem and nothing is stored."""
    _definition, text = read_definition_bytes(data, filename)
    registry.seed_builtin(session)
    row = registry.store(session, text, user_id=getattr(actor, "id", None), note=note, publish=publish,
                         organisation_id=getattr(actor, "organisation_id", None))
    record_event(session=session, action="instruments.import", target=row, actor=actor,
                 changes={"new": {"id": row.definition_id, "version": row.version, "status": row.status,
                                  "checksum": row.checksum, "file": filename[:200]}})
    return row


def set_status(session: Session, row: DefinitionVersion, status: str, *, actor: Any) -> DefinitionVersion:
    """Publish or retire one version (RegistryError when the move is not allowed)."""
    before = row.status
    change = registry.publish_version if status == "published" else registry.retire_version
    row = change(session, row.definition_id, row.version, user_id=getattr(actor, "id", None))
    if row.status != before:
        record_event(session=session, action=f"instruments.{'publish' if status == 'published' else 'retire'}",
                     target=row, actor=actor, changes={"old": {"status": before}, "new": {"status": row.status}})
    return row


def rescore_assessment(session: Session, assessment: Any, version: str, *, actor: Any) -> Rescore:
    """Score an assessment's answers under another version; kept beside the record's own result,
    which does not change."""
    definition = registry.get_definition(session, assessment.instrument_id, version)
    result: dict[str, Any] | None = None
    errors: list[Any] | None = None
    try:
        result = score(definition, assessment.answers or {}).to_dict()
    except AnswerError as exc:
        errors = exc.errors
    rescore = Rescore(record_kind="assessment", record_id=assessment.id, definition_id=assessment.instrument_id,
                      from_version=assessment.instrument_version, to_version=definition.version,
                      result=result, errors=errors, created_by_id=getattr(actor, "id", None))
    session.add(rescore)
    session.flush()
    record_event(session=session, action="instruments.rescore", target=assessment, actor=actor,
                 changes={"new": {"version": definition.version, "rescore_id": rescore.id,
                                  "level": (result or {}).get("level")}})
    return rescore


__all__ = ["RegistryAccessError", "import_upload", "rescore_assessment", "set_status", "visible_row"]
