"""Invariants of the rating records, checked after a restore (`yiyang restore`)."""

from __future__ import annotations

from sqlmodel import Session, select

from rating.models import Certificate
from rating.signing import verify_signature


def check(session: Session) -> list[str]:
    """Every issued certificate's signed payload still verifies with the signing key."""
    return [f"证书 {c.serial} 的签名无法验证" for c in session.exec(select(Certificate))
            if not verify_signature(c.payload, c.signature)]


def count_verified(session: Session) -> int:
    return sum(1 for c in session.exec(select(Certificate)) if verify_signature(c.payload, c.signature))
