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


RESCORE_KINDS = ("assessment", "inspection")


def _rescore_inputs(kind: str, record: Any) -> tuple[str, str, dict[str, Any], dict[str, Any] | None]:
    """(definition id, the record's version, answers, facts) of an assessment or an inspection.
    An inspection is scored with the facts it was submitted with (the known ones and the
    inspector's, merged as at submission)."""
    if kind == "assessment":
        return record.instrument_id, record.instrument_version, dict(record.answers or {}), None
    from rating.operations.facilities import merge_facts  # the submission's rule, not a copy

    facts = merge_facts(dict(record.auto_facts or {}), dict(record.facts or {}))
    return record.scheme, record.scheme_version, dict(record.answers or {}), facts


def rescore_record(session: Session, kind: str, record: Any, version: str, *, actor: Any) -> Rescore:
    """Score an assessment's or an inspection's answers under another version of its definition;
    kept beside the record's own result, which does not change."""
    if kind not in RESCORE_KINDS:
        raise ValueError(f"unknown record kind {kind}")
    definition_id, from_version, answers, facts = _rescore_inputs(kind, record)
    definition = registry.get_definition(session, definition_id, version)
    result: dict[str, Any] | None = None
    errors: list[Any] | None = None
    try:
        result = score(definition, answers, facts).to_dict()
    except AnswerError as exc:
        errors = exc.errors
    rescore = Rescore(record_kind=kind, record_id=record.id, definition_id=definition_id,
                      from_version=from_version, to_version=definition.version,
                      result=result, errors=errors, created_by_id=getattr(actor, "id", None))
    session.add(rescore)
    session.flush()
    outcome = (result or {}).get("level") or (result or {}).get("grade")
    record_event(session=session, action="instruments.rescore", target=record, actor=actor,
                 changes={"new": {"version": definition.version, "rescore_id": rescore.id, "result": outcome}})
    return rescore


__all__ = ["RegistryAccessError", "import_upload", "RESCORE_KINDS", "rescore_record", "set_status", "visible_row"]
