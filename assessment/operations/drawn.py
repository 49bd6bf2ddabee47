"""Signatures drawn on the tablet (static/js/signature.js): the elder's or guardian's signature,
and the visible mark of an assessor's or the reviewer's password signature.

The password signature (operations.assessments.sign_assessment) stays the act of signing: it
proves who signed. A drawn mark of a user is accepted only from that user and only while their
password signature covers the current answers; it is printed in their box of the report. The
elder's or guardian's drawing is taken by an assessor during the visit. Every drawing keeps the
answers' hash (answers_digest) it was drawn over, as a password signature does: when an answer
changes afterwards it is void (`is_current` false), shown as such and never printed.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from sqlmodel import Session, select

from accounts.models import User
from assessment.models import Assessment, AssessmentSignature, DrawnSignature, Elder
from assessment.operations.assessments import answers_digest
from assessment.operations.errors import AssessmentError
from audit import record_event
from core.i18n import N_
from core.images import ImageRefused, clean_drawing
from core.once import add_once
from core.storage import delete_after_commit
from core.timeutil import utcnow

DATA_URL_PREFIX = "data:image/png;base64,"
MAX_DATA_URL = 1_500_000  # characters: a 1 MB PNG in base64; a drawn signature is far smaller
PERSON_ROLES = ("elder", "guardian")


def _refuse(message: str, *, status: int = 422, item: str = "signature") -> AssessmentError:
    return AssessmentError(message, status=status, code="invalid_signature",
                           errors=[{"item": item, "message": message}])


def png_from_data_url(text: Any) -> bytes:
    """The PNG bytes of a canvas's `toDataURL("image/png")`, or a 422 naming `signature`."""
    if not isinstance(text, str) or not text.startswith(DATA_URL_PREFIX) or len(text) > MAX_DATA_URL:
        raise _refuse(N_("签名应为画布导出的 PNG 图片"))
    try:
        return base64.b64decode(text[len(DATA_URL_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise _refuse(N_("签名应为画布导出的 PNG 图片")) from None


def drawn_signatures_of(session: Session, assessment: Assessment) -> list[DrawnSignature]:
    """The drawings of an assessment (one per signer: a handful)."""
    stmt = select(DrawnSignature).where(DrawnSignature.assessment_id == assessment.id)
    return list(session.exec(stmt.order_by(DrawnSignature.drawn_at, DrawnSignature.id)))  # type: ignore[arg-type]


def is_current(drawing: DrawnSignature, assessment: Assessment) -> bool:
    """Whether the drawing covers the answers as they are now (else it is void)."""
    return drawing.answers_hash == answers_digest(assessment)


def add_drawn_signature(*, session: Session, actor: User, storage: Any, assessment: Assessment, role: str,
                        data: bytes, signer_name: str = "") -> DrawnSignature:
    """Keep a drawn signature bound to the current answers' hash; drawing again replaces the
    signer's previous one. `role` is elder or guardian (drawn by the elder with an assessor), or
    "self" for the actor's own mark, which needs their password signature over these answers."""
    digest = answers_digest(assessment)
    if role in PERSON_ROLES:
        if not actor.has_role("assessor") or assessment.status == "approved":
            raise _refuse(N_("评估已锁定，不能再签名。"), status=409)
        name = signer_name.strip()[:100]
        if role == "elder" and not name:
            elder = session.get(Elder, assessment.elder_id)
            name = elder.name if elder else ""
        if not name:
            raise _refuse(N_("请填写代理人姓名"), item="signer_name")
        signer_key, user_id, shown_role = role, None, role
    elif role == "self":
        signature = session.exec(select(AssessmentSignature).where(
            AssessmentSignature.assessment_id == assessment.id, AssessmentSignature.user_id == actor.id)).first()
        if signature is None or signature.answers_hash != digest:
            raise _refuse(N_("请先用密码签名，再手写签名。"), status=409)
        name, signer_key, user_id, shown_role = actor.display_name or actor.username, f"user:{actor.id}", actor.id, signature.role
    else:
        raise _refuse(N_("签名人应为 elder（老年人）或 guardian（代理人）"), item="role")
    try:
        png, _size = clean_drawing(data)
    except ImageRefused as refused:
        raise _refuse(str(refused)) from None
    previous = session.exec(select(DrawnSignature).where(DrawnSignature.assessment_id == assessment.id,
                                                         DrawnSignature.signer_key == signer_key)).first()
    replaced = None
    if previous is not None:
        replaced = previous.id
        old_key = previous.storage_key
        session.delete(previous)
        session.flush()
        delete_after_commit(session, storage, old_key)  # once the replacement commits
    drawing = DrawnSignature(organisation_id=assessment.organisation_id, assessment_id=assessment.id or 0,
                             signer_key=signer_key, role=shown_role, signer_name=name, user_id=user_id,
                             stored_name=f"{uuid.uuid4().hex}.png", answers_hash=digest, drawn_by_id=actor.id,
                             drawn_at=utcnow())
    storage.put(drawing.storage_key, png, "image/png")  # core.storage
    if not add_once(session, drawing):  # the same signer drew at the same moment elsewhere
        storage.delete(drawing.storage_key)
        raise _refuse(N_("同一签名人刚刚签过名，请刷新后查看。"), status=409)
    record_event(session=session, action="assessment.drawn_signature.add", target=assessment, actor=actor,
                 changes={"new": {"role": shown_role, "signer": signer_key, "answers_hash": digest,
                                  "replaces": replaced}})
    return drawing
